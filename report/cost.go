package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// modeKind is one latency configuration: an architecture and a content kind.
type modeKind struct{ mode, kind string }

func (k modeKind) String() string { return k.mode + " " + k.kind }

// modeKinds lists the configurations in the latency results, modes in the
// usual order and text before image.
func (r *results) modeKinds() []modeKind {
	var all []modeKind
	for _, l := range r.lat {
		all = append(all, modeKind{l.Mode, l.Kind})
	}
	for _, s := range r.samples {
		all = append(all, modeKind{s.Mode, s.Kind})
	}
	for _, b := range r.bytes {
		all = append(all, modeKind{b.Mode, b.Kind})
	}
	var out []modeKind
	for _, m := range order(all, func(k modeKind) string { return k.mode }, knownModes...) {
		for _, k := range order(all, func(k modeKind) string { return k.kind }, knownKinds...) {
			if slices.Contains(all, modeKind{m, k}) {
				out = append(out, modeKind{m, k})
			}
		}
	}
	return out
}

// p50 returns the median of a stage, and whether it was measured.
func (r *results) stat(k modeKind, stage string) (latencyRow, bool) {
	for _, l := range r.lat {
		if l.Mode == k.mode && l.Kind == k.kind && l.Stage == stage {
			return l, true
		}
	}
	return latencyRow{}, false
}

func (r *results) writeCost(d *doc) error {
	d.p("## What it costs")
	if r.lat == nil && r.samples == nil && r.bytes == nil {
		d.skipped(latencyFile)
		return nil
	}
	d.p("The latency experiment sends messages one at a time from one device to another through the relay, over TLS on this machine's loopback interface, and times each stage of every message's trip.")
	keys := r.modeKinds()
	d.p("### Time per message")
	switch {
	case r.samples == nil:
		d.skipped(samplesFile)
	default:
		sent := r.totalSentences(keys)
		if len(sent) > 0 {
			d.headline(sent[0])
		}
		d.figure(r.latencyCDF(keys), "Distribution of end-to-end time per message, by mode and kind", sent...)
	}
	if r.lat == nil {
		d.skipped(latencyFile)
	} else {
		d.figure(r.stageBars(keys), "Median time of each stage of a message's trip, by mode and kind", r.stageSentences(keys)...)
		header := []string{"stage (median)"}
		for _, k := range keys {
			header = append(header, k.String())
		}
		var rows [][]string
		stages := order(r.lat, func(l latencyRow) string { return l.Stage }, knownStages...)
		for _, st := range stages {
			row := []string{st}
			for _, k := range keys {
				if l, ok := r.stat(k, st); ok {
					row = append(row, duration(l.P50))
				} else {
					row = append(row, "–")
				}
			}
			rows = append(rows, row)
		}
		for _, q := range []string{"p95", "p99"} {
			row := []string{"total (" + q + ")"}
			for _, k := range keys {
				l, ok := r.stat(k, "total")
				switch {
				case !ok:
					row = append(row, "–")
				case q == "p95":
					row = append(row, duration(l.P95))
				default:
					row = append(row, duration(l.P99))
				}
			}
			rows = append(rows, row)
		}
		row := []string{"messages"}
		for _, k := range keys {
			if l, ok := r.stat(k, "total"); ok {
				row = append(row, strconv.Itoa(l.Messages))
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
		d.p("Source: `%s`. Stage medians are taken separately, so they need not add up to the median total.", latencyFile)
		d.table(header, rows)
	}
	d.p("### Bytes per message")
	if r.bytes == nil {
		d.skipped(bytesFile)
		return nil
	}
	sent := r.bytesSentences()
	d.headline(sent...)
	d.figure(r.bytesBars(), "Bytes on the wire per message, by mode and kind", sent...)
	var rows [][]string
	for _, b := range r.bytes {
		rows = append(rows, []string{b.Mode, b.Kind, strconv.Itoa(b.Messages), count(b.Body), count(b.Send), count(b.Fetch), count(b.Send - b.Body)})
	}
	d.p("Source: `%s` (medians). Wire bytes count both directions of the TCP connection, TLS records included: the sender's for the send, the recipient's for the fetch and acknowledgement.", bytesFile)
	d.table([]string{"mode", "kind", "messages", "sealed body", "wire, send", "wire, fetch", "send − body"}, rows)
	return nil
}

// totalSentences describes the end-to-end times.
func (r *results) totalSentences(keys []modeKind) []string {
	var out []string
	var parts []string
	kinds := order(keys, func(k modeKind) string { return k.kind }, knownKinds...)
	for i, kind := range kinds {
		var vals, modes []string
		for _, k := range keys {
			if l, ok := r.stat(k, "total"); ok && k.kind == kind {
				vals = append(vals, duration(l.P50))
				modes = append(modes, k.mode)
			}
		}
		if len(vals) == 0 {
			continue
		}
		var s string
		for j := range vals {
			if j > 0 {
				if j == len(vals)-1 {
					s += " and "
				} else {
					s += ", "
				}
			}
			s += vals[j] + " in " + modes[j]
		}
		if i == 0 {
			parts = append(parts, fmt.Sprintf("the median end-to-end time of %s %s message was %s", article(kind), kind, s))
		} else {
			parts = append(parts, fmt.Sprintf("of %s %s message, %s", article(kind), kind, s))
		}
	}
	if len(parts) > 0 {
		s := parts[0]
		for _, p := range parts[1:] {
			s += "; " + p
		}
		out = append(out, upperFirst(s)+".")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var loK, hiK modeKind
	for _, k := range keys {
		if l, ok := r.stat(k, "total"); ok {
			if l.P99 < lo {
				lo, loK = l.P99, k
			}
			if l.P99 > hi {
				hi, hiK = l.P99, k
			}
		}
	}
	if !math.IsInf(lo, 0) {
		out = append(out, fmt.Sprintf("The slowest 1%% of messages (99th percentile) took from %s (%s) to %s (%s); each curve steps once per message measured.", duration(lo), loK, duration(hi), hiK))
	}
	return out
}

// upperFirst capitalises the first letter of a sentence.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// stageSentences describes which stage dominates and what the devices and
// the relay's scanning cost.
func (r *results) stageSentences(keys []modeKind) []string {
	var out []string
	type top struct {
		k     modeKind
		stage string
		v     float64
	}
	var tops []top
	for _, k := range keys {
		t := top{k: k, v: -1}
		for _, st := range knownStages[:len(knownStages)-1] {
			if l, ok := r.stat(k, st); ok && l.P50 > t.v {
				t.stage, t.v = st, l.P50
			}
		}
		if t.v >= 0 {
			tops = append(tops, t)
		}
	}
	if len(tops) > 0 {
		same := true
		lo, hi := tops[0].v, tops[0].v
		for _, t := range tops {
			same = same && t.stage == tops[0].stage
			lo, hi = math.Min(lo, t.v), math.Max(hi, t.v)
		}
		if same {
			out = append(out, fmt.Sprintf("The largest stage was %s in every mode and kind, with medians from %s to %s.", tops[0].stage, duration(lo), duration(hi)))
		} else {
			var parts []string
			for _, t := range tops {
				parts = append(parts, fmt.Sprintf("%s for %s (%s)", t.stage, t.k, duration(t.v)))
			}
			out = append(out, "The largest stage was "+andList(parts)+".")
		}
	}
	dev := func(k modeKind) (float64, bool) {
		s, ok1 := r.stat(k, "device-seal")
		o, ok2 := r.stat(k, "device-open")
		return s.P50 + o.P50, ok1 && ok2
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var loK, hiK modeKind
	for _, k := range keys {
		if v, ok := dev(k); ok {
			if v < lo {
				lo, loK = v, k
			}
			if v > hi {
				hi, hiK = v, k
			}
		}
	}
	if !math.IsInf(lo, 0) {
		s := fmt.Sprintf("Work on the two devices (seal plus open, medians) ranged from %s (%s) to %s (%s)", duration(lo), loK, duration(hi), hiK)
		if l, k, ok := r.maxStage(keys, "relay-logic"); ok {
			s += fmt.Sprintf(", and the relay's own logic, where server-side scanning runs, took at most %s (%s)", duration(l), k)
		}
		out = append(out, s+".")
	}
	return out
}

func (r *results) maxStage(keys []modeKind, stage string) (float64, modeKind, bool) {
	best, found := math.Inf(-1), false
	var bk modeKind
	for _, k := range keys {
		if l, ok := r.stat(k, stage); ok && l.P50 > best {
			best, bk, found = l.P50, k, true
		}
	}
	return best, bk, found
}

// latencyCDF draws the empirical distribution of end-to-end times: one step
// line per mode and kind, colour by mode, dashes by kind.
func (r *results) latencyCDF(keys []modeKind) figure {
	return figure{name: "latency-cdf", w: 8 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("End-to-end time per message (empirical CDF)", "time from seal to open (µs, log scale)", "share of messages at or below")
		addGrid(p, true)
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.Y.Tick.Marker = percentTicks{}
		modes := order(keys, func(k modeKind) string { return k.mode }, knownModes...)
		kinds := order(keys, func(k modeKind) string { return k.kind }, knownKinds...)
		for _, k := range keys {
			var xs []float64
			for _, s := range r.samples {
				if s.Mode == k.mode && s.Kind == k.kind && s.Stage == "total" && s.NS > 0 {
					xs = append(xs, s.NS/1e3)
				}
			}
			if len(xs) == 0 {
				continue
			}
			slices.Sort(xs)
			pts := plotter.XYs{{X: xs[0], Y: 0}}
			for i, x := range xs {
				pts = append(pts, plotter.XY{X: x, Y: float64(i+1) / float64(len(xs))})
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			l.StepStyle = plotter.PostStep
			l.Color = modeColour(k.mode, slices.Index(modes, k.mode))
			l.Width = vg.Points(1.8)
			l.Dashes = dashes[slices.Index(kinds, k.kind)%len(dashes)]
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s (n=%d)", k, len(xs)), l)
		}
		p.Y.Min, p.Y.Max = 0, 1
		drawWithLegend(p, c)
	}}
}

// stageBars stacks the median of each stage for every mode and kind.
func (r *results) stageBars(keys []modeKind) figure {
	stages := order(r.lat, func(l latencyRow) string { return l.Stage }, knownStages...)
	stages = slices.DeleteFunc(stages, func(s string) bool { return s == "total" })
	return figure{name: "latency-stages", w: 8 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("Where a message's time goes (median per stage, stacked)", "mode and content kind", "median time (ms)")
		addGrid(p, false)
		base := make([]float64, len(keys))
		var legend []*bars
		for si, st := range stages {
			b := &bars{width: 0.6, colour: seriesColour(si)}
			b.base = slices.Clone(base)
			for i, k := range keys {
				l, _ := r.stat(k, st)
				b.xs = append(b.xs, float64(i))
				b.ys = append(b.ys, l.P50/1e3)
				base[i] += l.P50 / 1e3
			}
			p.Add(b)
			legend = append(legend, b)
		}
		// Legend from the top of the stack down, as the bars read.
		for i := len(legend) - 1; i >= 0; i-- {
			p.Legend.Add(stages[i], legend[i])
		}
		var names []string
		for _, k := range keys {
			names = append(names, k.mode+"\n"+k.kind)
		}
		p.NominalX(names...)
		p.X.Min, p.X.Max = -0.5, float64(len(keys))-0.5
		p.Y.Min = 0
		p.Y.Max *= 1.05
		p.Y.Tick.Marker = niceTicks{}
		drawWithLegend(p, c)
	}}
}

// bytesBars shows body and wire bytes per message, one panel per kind
// because images are orders of magnitude larger than texts.
func (r *results) bytesBars() figure {
	kinds := order(r.bytes, func(b bytesRow) string { return b.Kind }, knownKinds...)
	modes := order(r.bytes, func(b bytesRow) string { return b.Mode }, knownModes...)
	series := []struct {
		name string
		get  func(bytesRow) float64
	}{
		{"sealed body", func(b bytesRow) float64 { return b.Body }},
		{"wire, send", func(b bytesRow) float64 { return b.Send }},
		{"wire, fetch", func(b bytesRow) float64 { return b.Fetch }},
	}
	return figure{name: "bytes", w: 9 * vg.Inch, h: 4.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, "Bytes per message: sealed body and on the wire (medians)")
		var plots []*plot.Plot
		for _, kind := range kinds {
			p := newPlot(kind+" messages", "mode", "bytes per message")
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, false)
			w := 0.8 / float64(len(series))
			for si, s := range series {
				b := &bars{width: w, colour: seriesColour(si + 1)}
				for i, m := range modes {
					for _, row := range r.bytes {
						if row.Mode == m && row.Kind == kind {
							b.xs = append(b.xs, float64(i)+(float64(si)-float64(len(series)-1)/2)*w)
							b.ys = append(b.ys, s.get(row))
						}
					}
				}
				p.Add(b)
				p.Legend.Add(s.name, b)
			}
			p.NominalX(modes...)
			p.X.Min, p.X.Max = -0.5, float64(len(modes))-0.5
			p.Y.Min = 0
			p.Y.Max *= 1.05
			p.Y.Tick.Marker = niceTicks{}
			plots = append(plots, p)
		}
		if len(plots) == 0 {
			return
		}
		drawPanels(plots, c)
	}}
}

// drawPanels draws plots side by side with the first plot's legend in a
// column on the right.
func drawPanels(plots []*plot.Plot, c draw.Canvas) {
	lg := plots[0].Legend
	lg.Left, lg.Top = true, true
	r := lg.Rectangle(c)
	lw := r.Max.X - r.Min.X + vg.Points(14)
	for _, p := range plots {
		p.Legend = plot.NewLegend()
	}
	area := draw.Crop(c, 0, -lw, 0, 0)
	t := draw.Tiles{Cols: len(plots), Rows: 1, PadX: vg.Points(18)}
	for i, p := range plots {
		p.Draw(t.At(area, i, 0))
	}
	lc := draw.Crop(c, c.Max.X-c.Min.X-lw+vg.Points(8), 0, 0, -vg.Points(24))
	lg.Draw(lc)
}

// niceTicks labels a linear axis at about six round values (1, 2, 2.5 or 5
// times a power of ten), formatted compactly (10k, 1M).
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return []plot.Tick{{Value: min, Label: humanNumber(min)}}
	}
	raw := (max - min) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / step); i*step <= max*(1+1e-9); i++ {
		v := i * step
		ticks = append(ticks, plot.Tick{Value: v, Label: humanNumber(v)})
	}
	return ticks
}

func (r *results) bytesSentences() []string {
	var out []string
	kinds := order(r.bytes, func(b bytesRow) string { return b.Kind }, knownKinds...)
	for _, kind := range kinds {
		var body, send []string
		var min, max bytesRow
		min.Send = math.Inf(1)
		max.Send = math.Inf(-1)
		for _, b := range r.bytes {
			if b.Kind != kind {
				continue
			}
			body = append(body, count(b.Body)+" bytes in "+b.Mode)
			send = append(send, count(b.Send))
			if b.Send < min.Send {
				min = b
			}
			if b.Send > max.Send {
				max = b
			}
		}
		s := fmt.Sprintf("%s %s message's sealed body was %s; sending it took %s bytes on the wire respectively", upperFirst(article(kind)), kind, andList(body), andList(send))
		if len(send) > 1 && min.Send > 0 {
			s += fmt.Sprintf(", so %s sent %s more than %s (%s bytes)", max.Mode, pct(max.Send/min.Send-1), min.Mode, count(max.Send-min.Send))
		}
		out = append(out, s+".")
	}
	return out
}
