package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

// modeKind is one latency configuration: an architecture and a content kind.
type modeKind struct{ mode, kind string }

func (k modeKind) String() string { return modeName(k.mode) + ", " + k.kind }

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
	for _, m := range distinct(mapSlice(all, func(k modeKind) string { return k.mode })) {
		for _, k := range inOrder(mapSlice(all, func(k modeKind) string { return k.kind }), schema.Kinds) {
			if slices.Contains(all, modeKind{m, k}) {
				out = append(out, modeKind{m, k})
			}
		}
	}
	return out
}

// stat returns the quantiles of a stage, and whether it was measured.
func (r *results) stat(k modeKind, stage string) (schema.LatencyRow, bool) {
	for _, l := range r.lat {
		if l.Mode == k.mode && l.Kind == k.kind && l.Stage == stage {
			return l, true
		}
	}
	return schema.LatencyRow{}, false
}

// network describes where the relay ran, for prose and assumptions.
func (r *results) network() string {
	if addr := r.remoteRelay(); addr != "" {
		return "over TLS to a relay at " + addr + " (started elsewhere with scanlab relay), so wire times include that network"
	}
	return "over TLS on this machine's loopback interface, so wire times leave out real network latency"
}

func (r *results) writeCost(d *doc) error {
	d.h(2, "What it costs")
	if r.lat == nil && r.samples == nil && r.bytes == nil {
		d.skipped(schema.Latency.Path)
		return nil
	}
	d.p("The latency experiment sends messages one at a time from one phone to another through the relay and times each stage of every message's trip. It ran %s.", r.network())
	keys := r.modeKinds()
	d.h(3, "Time per message")
	sent := r.totalSentences(keys)
	if len(sent) > 0 {
		d.find(sent[0], "messages sent one at a time "+r.network()+".")
	}
	if r.samples == nil {
		d.skipped(schema.LatencySamples.Path)
		if len(sent) > 0 {
			d.p("%s", joinSentences(sent))
		}
	} else {
		d.figure(r.latencyCDF(keys), "Distribution of end-to-end time per message, by design and kind", sent...)
	}
	if r.lat == nil {
		d.skipped(schema.Latency.Path)
	} else {
		d.figure(r.stageBars(keys), "Median time of each stage of a message's trip, by design and kind", r.stageSentences(keys)...)
		d.p("Source: `%s`. Stage medians are taken separately, so they need not add up to the median total.", schema.Latency.Path)
		d.table(append([]string{"stage (median)"}, mapStrings(keys, modeKind.String)...), r.latencyTable(keys))
	}
	d.h(3, "Bytes per message")
	if r.bytes == nil {
		d.skipped(schema.Bytes.Path)
		return nil
	}
	sent = r.bytesSentences()
	for _, s := range sent {
		d.find(s, "medians over the run's messages; text bodies are the study's synthetic texts and images its generated photos.")
	}
	d.figure(r.bytesBars(), "Bytes on the wire per message, by design and kind", sent...)
	var rows [][]string
	for _, b := range r.bytes {
		rows = append(rows, []string{modeName(b.Mode), b.Kind, strconv.Itoa(b.Messages), count(float64(b.Body)), count(float64(b.WireSend)), count(float64(b.WireFetch)), count(float64(b.WireSend - b.Body))})
	}
	d.p("Source: `%s` (medians). Wire bytes count both directions of the TCP connection, TLS records included: the sender's for the send, the recipient's for the fetch and acknowledgement.", schema.Bytes.Path)
	d.table([]string{"design", "kind", "messages", "sealed body (bytes)", "wire, send (bytes)", "wire, fetch (bytes)", "send − body (bytes)"}, rows)
	return nil
}

// latencyTable gives each stage's median per design and kind, then the
// total's tail and the message counts.
func (r *results) latencyTable(keys []modeKind) [][]string {
	var rows [][]string
	stages := inOrder(mapSlice(r.lat, func(l schema.LatencyRow) string { return l.Stage }), schema.Stages)
	for _, st := range stages {
		row := []string{stageName(st)}
		for _, k := range keys {
			if l, ok := r.stat(k, st); ok {
				row = append(row, duration(l.P50))
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
	}
	for _, q := range []struct {
		name string
		get  func(schema.LatencyRow) string
	}{
		{"total (95th percentile)", func(l schema.LatencyRow) string { return duration(l.P95) }},
		{"total (99th percentile)", func(l schema.LatencyRow) string { return duration(l.P99) }},
		{"messages", func(l schema.LatencyRow) string { return strconv.Itoa(l.Messages) }},
	} {
		row := []string{q.name}
		for _, k := range keys {
			if l, ok := r.stat(k, schema.TotalStage); ok {
				row = append(row, q.get(l))
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// totalSentences describes the end-to-end times: the medians per kind,
// then the tail.
func (r *results) totalSentences(keys []modeKind) []string {
	var parts []string
	for _, kind := range inOrder(mapSlice(keys, func(k modeKind) string { return k.kind }), schema.Kinds) {
		var vals, modes []string
		n := 0
		for _, k := range keys {
			if l, ok := r.stat(k, schema.TotalStage); ok && k.kind == kind {
				vals, modes, n = append(vals, duration(l.P50)), append(modes, modeName(k.mode)), l.Messages
			}
		}
		switch {
		case len(vals) == 0:
			continue
		case len(vals) > 1 && len(distinct(vals)) == 1:
			parts = append(parts, fmt.Sprintf("%s %s message took a median of %s from sealing to opening in every design (n = %d each)", article(kind), kind, vals[0], n))
		default:
			var each []string
			for j := range vals {
				each = append(each, vals[j]+" in "+modes[j])
			}
			parts = append(parts, fmt.Sprintf("%s %s message took a median of %s from sealing to opening (n = %d each)", article(kind), kind, andList(each), n))
		}
	}
	var out []string
	if len(parts) > 0 {
		out = append(out, upperFirst(strings.Join(parts, "; "))+".")
	}
	if s := r.tailSentence(keys); s != "" {
		out = append(out, s)
	}
	return out
}

// tailSentence gives the range of the 99th percentiles.
func (r *results) tailSentence(keys []modeKind) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	var loK, hiK modeKind
	for _, k := range keys {
		if l, ok := r.stat(k, schema.TotalStage); ok {
			if l.P99 < lo {
				lo, loK = l.P99, k
			}
			if l.P99 > hi {
				hi, hiK = l.P99, k
			}
		}
	}
	switch {
	case math.IsInf(lo, 0):
		return ""
	case lo == hi:
		return fmt.Sprintf("The slowest 1%% of messages (99th percentile) took %s.", duration(lo))
	}
	return fmt.Sprintf("The slowest 1%% of messages (99th percentile) took from %s (%s) to %s (%s).", duration(lo), loK, duration(hi), hiK)
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
		for _, st := range schema.Stages[:len(schema.Stages)-1] {
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
		switch {
		case same && lo == hi:
			out = append(out, fmt.Sprintf("The largest stage was %s in every design and kind, with a median of %s.", stageName(tops[0].stage), duration(lo)))
		case same:
			out = append(out, fmt.Sprintf("The largest stage was %s in every design and kind, with medians from %s to %s.", stageName(tops[0].stage), duration(lo), duration(hi)))
		default:
			var parts []string
			for _, t := range tops {
				parts = append(parts, fmt.Sprintf("%s for %s (%s)", stageName(t.stage), t.k, duration(t.v)))
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
// line per design and kind, colour by design, dashes by kind. The time
// axis is logarithmic only when the times span a factor of ten or more.
func (r *results) latencyCDF(keys []modeKind) figure {
	title := "How long does a message take from sender to recipient?"
	series := map[modeKind][]float64{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range r.samples {
		if s.Stage == schema.TotalStage && s.NS > 0 {
			k := modeKind{s.Mode, s.Kind}
			ms := float64(s.NS) / 1e6
			series[k] = append(series[k], ms)
			lo, hi = math.Min(lo, ms), math.Max(hi, ms)
		}
	}
	logX := hi >= 10*lo
	xlabel := "time from sealing to opening (ms)"
	if logX {
		xlabel = "time from sealing to opening (ms, log scale)"
	}
	modes := distinct(mapSlice(keys, func(k modeKind) string { return k.mode }))
	kinds := inOrder(mapSlice(keys, func(k modeKind) string { return k.kind }), schema.Kinds)
	return figure{name: "latency-cdf", title: title, w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, xlabel, "share of messages at or below that time")
		addGrid(p, true)
		if logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = logTicks{}
		} else {
			p.X.Tick.Marker = niceTicks{}
		}
		p.Y.Tick.Marker = percentTicks{}
		for _, k := range keys {
			xs := slices.Clone(series[k])
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
			p.Legend.Add(fmt.Sprintf("%s (n = %d)", k, len(xs)), l)
		}
		p.Y.Min, p.Y.Max = 0, 1
		drawWithLegend(p, c)
	}}
}

// stageBars stacks the median of each stage for every design and kind.
func (r *results) stageBars(keys []modeKind) figure {
	stages := inOrder(mapSlice(r.lat, func(l schema.LatencyRow) string { return l.Stage }), schema.Stages)
	stages = slices.DeleteFunc(stages, func(s string) bool { return s == schema.TotalStage })
	title := "Where does a message's time go?"
	return figure{name: "latency-stages", title: title, w: 9 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "design and content kind (n = messages)", "median time per stage, stacked (ms)")
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
			p.Legend.Add(stageName(stages[i]), legend[i])
		}
		var names []string
		for _, k := range keys {
			l, _ := r.stat(k, schema.TotalStage)
			names = append(names, modeName(k.mode)+"\n"+k.kind+", n = "+strconv.Itoa(l.Messages))
		}
		p.NominalX(names...)
		rotateXLabels(p)
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
	kinds := inOrder(mapSlice(r.bytes, func(b schema.BytesRow) string { return b.Kind }), schema.Kinds)
	modes := distinct(mapSlice(r.bytes, func(b schema.BytesRow) string { return b.Mode }))
	series := []struct {
		name string
		get  func(schema.BytesRow) int
	}{
		{"sealed body", func(b schema.BytesRow) int { return b.Body }},
		{"on the wire, sending", func(b schema.BytesRow) int { return b.WireSend }},
		{"on the wire, fetching", func(b schema.BytesRow) int { return b.WireFetch }},
	}
	title := "How many bytes does one message cost? (medians)"
	return figure{name: "bytes", title: title, w: 10 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		var plots []*plot.Plot
		for _, kind := range kinds {
			p := newPlot(kind+" messages", "design (n = messages)", "bytes per message")
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, false)
			w := 0.8 / float64(len(series))
			var ticks []string
			for _, m := range modes {
				n := 0
				for _, row := range r.bytes {
					if row.Mode == m && row.Kind == kind {
						n = row.Messages
					}
				}
				ticks = append(ticks, modeName(m)+"\nn = "+strconv.Itoa(n))
			}
			for si, s := range series {
				b := &bars{width: w, colour: seriesColour(si + 1)}
				for i, m := range modes {
					for _, row := range r.bytes {
						if row.Mode == m && row.Kind == kind {
							b.xs = append(b.xs, float64(i)+(float64(si)-float64(len(series)-1)/2)*w)
							b.ys = append(b.ys, float64(s.get(row)))
						}
					}
				}
				p.Add(b)
				p.Legend.Add(s.name, b)
			}
			p.NominalX(ticks...)
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

// niceTicks labels a linear axis at about six round values (1, 2, 2.5 or 5
// times a power of ten), formatted compactly (10k, 1M).
type niceTicks struct{}

// Ticks implements plot.Ticker.
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

// bytesSentences gives, per kind, the sealed body and send bytes of each
// design, and how much more the largest sent than the smallest.
func (r *results) bytesSentences() []string {
	var out []string
	for _, kind := range inOrder(mapSlice(r.bytes, func(b schema.BytesRow) string { return b.Kind }), schema.Kinds) {
		var rows []schema.BytesRow
		for _, b := range r.bytes {
			if b.Kind == kind {
				rows = append(rows, b)
			}
		}
		body := mapSlice(rows, func(b schema.BytesRow) string { return count(float64(b.Body)) + " bytes in " + modeName(b.Mode) })
		send := mapSlice(rows, func(b schema.BytesRow) string { return count(float64(b.WireSend)) })
		s := fmt.Sprintf("%s %s message's sealed body was %s; sending it took %s bytes on the wire", upperFirst(article(kind)), kind, andList(body), andList(send))
		if len(rows) > 1 {
			s += " respectively"
		}
		lo := slices.MinFunc(rows, func(a, b schema.BytesRow) int { return a.WireSend - b.WireSend })
		hi := slices.MaxFunc(rows, func(a, b schema.BytesRow) int { return a.WireSend - b.WireSend })
		if hi.WireSend > lo.WireSend && lo.WireSend > 0 {
			s += fmt.Sprintf(", so %s sent %s more than %s (%s bytes)", modeName(hi.Mode), pct(float64(hi.WireSend)/float64(lo.WireSend)-1), modeName(lo.Mode), count(float64(hi.WireSend-lo.WireSend)))
		}
		out = append(out, s+".")
	}
	return out
}

// stageNames are the plain names of a message's stages.
var stageNames = map[string]string{
	"device-seal": "sealing on the phone", "wire": "sending to the relay", "relay-logic": "provider's scanning and checks",
	"relay-store": "storing at the relay", "fetch": "fetching", "device-open": "opening on the phone", "total": "total",
}

func stageName(s string) string {
	if n, ok := stageNames[s]; ok {
		return n
	}
	return s
}
