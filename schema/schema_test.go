package schema

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/corpus"
	"scanlab/internal/golden"
	"scanlab/observe"
)

// codec is one file's writer and reader, for tests that cover every file.
type codec struct {
	spec  Spec
	write func(dir string) error      // writes the file's golden rows into dir
	copy  func(src, dst string) error // reads the file from src and writes it to dst
}

func csvCodec[R any](f *File[R], rows []R) codec {
	return codec{
		spec:  f,
		write: func(dir string) error { return f.WriteFile(dir, rows) },
		copy: func(src, dst string) error {
			got, err := f.ReadFile(src)
			if err != nil {
				return err
			}
			return f.WriteFile(dst, got)
		},
	}
}

var nan = math.NaN()

// codecs lists every CSV and lines file with rows that exercise each
// column: absent optional values, fractions at both ends, large and small
// numbers.
func codecs() []codec {
	cov := CoverageRow{Mode: "serverscan", Class: corpus.ClassKnownImage, Pathway: scanlab.ServerHash, Items: 48, Detected: 48, Recall: 1, MedianToDetection: Some(1),
		Distinct: 12, Senders: 9, RecallLo: 0.95, RecallHi: 1}
	none := CoverageRow{Mode: "e2ee", Class: corpus.ClassHarmfulText, Pathway: AnyPathway, Items: 0, Detected: 0, Recall: 0, RecallLo: nan, RecallHi: nan}
	meta := CoverageRow{Mode: "e2ee", Class: corpus.ClassHarmfulText, Pathway: scanlab.ServerMetadata, Items: 77, Detected: 37, Recall: 37.0 / 77,
		MedianToDetection: Some(1), Distinct: 65, Senders: 17, RecallLo: 0.2, RecallHi: 0.73, PreventedAfterFlag: 30, FlaggedUnseen: 7}
	return []codec{
		csvCodec(Coverage, []CoverageRow{cov, none, meta}),
		csvCodec(CoverageSweeps, []CoverageSweepRow{{cov, BaseVariant}, {none, Variant{"modified-clients", "0.05;t=5"}}}),
		csvCodec(Accounts, []AccountsRow{
			{Mode: "clientscan", Variant: BaseVariant, Group: GroupOffender, Accounts: 375, Flagged: 300, FlaggedLo: 0.755, FlaggedHi: 0.84,
				FlaggedMetadata: 250, FlaggedContent: 120, Reported: 20, MedianDaysToFlag: 3.25, MedianMessagesToFlag: Some(2)},
			{Mode: "e2ee", Variant: Variant{"stealth", "1"}, Group: GroupLookalike, Accounts: 800, Flagged: 0, FlaggedLo: 0, FlaggedHi: 0.0046,
				MedianDaysToFlag: nan},
		}),
		csvCodec(Prevention, []PreventionRow{{"serverscan", Variant{"dm-policy", "contacts-only"}, 440, 330, 110, 98, 5926, 448, 12, 0.7, 0.8}}),
		csvCodec(Pooled, []PooledRow{
			{Mode: "serverscan", Variant: BaseVariant, Items: 3154, Senders: 375, Caught: 2334, Rate: 0.74, Lo: 0.68, Hi: 0.81, Loss: nan, LossLo: nan, LossHi: nan},
			{Mode: "e2ee", Variant: Variant{"stealth", "1"}, Items: 3154, Senders: 375, Caught: 347, Rate: 0.11, Lo: 0.08, Hi: 0.16, Loss: 0.85, LossLo: 0.77, LossHi: 0.9},
		}),
		csvCodec(Sensitivity, []SensitivityRow{{"e2ee", "groomer", 0.5, 3, 0.8, 0.75, 0.6, 0.86, 0.001, 0.004, 30, 200, 7000, 0.61, 0.91}}),
		csvCodec(Texts, []TextsRow{{Set: "held-out", Category: "grooming", Items: 250, Templates: 20, Flagged: 95, Rate: 0.38, Lo: 0.2, Hi: 0.55}}),
		csvCodec(Evasion, []EvasionRow{
			{Algo: "pdq", Transform: "crop0.05", Strength: 0.05, Threshold: 31, Items: 411, Matched: 0, Recall: 0, PSNR: nan, SSIM: nan, Success: nan, SuccessJPEG95: nan},
			{Algo: "pdq", Transform: "noop", Strength: nan, Threshold: 31, Items: 411, Matched: 411, Recall: 1, PSNR: math.Inf(1), SSIM: nan, Success: nan, SuccessJPEG95: nan},
			{Algo: "phash", Transform: "attack-evade", Strength: 35, Threshold: 31, Items: 24, Matched: 0, Recall: 0, PSNR: 37.62, SSIM: 0.9826, Queries: Some(50), Success: 1, SuccessJPEG95: 0.9167},
		}),
		csvCodec(ThornMetric, []ThornMetricRow{
			{Algo: "pdq", Transform: "noise0.2", Strength: 0.2, Items: 411, Threshold: Some(72), Recall: 100, Precision: 100, ThornRecall: 99.222, ThornThreshold: Some(66)},
			{Algo: "pdq", Transform: "blur0.5", Strength: 0.5, Items: 411, Recall: 0, Precision: nan, ThornRecall: nan},
		}),
		csvCodec(ImageRate, []ImageRateRow{
			{Benign: "generated", Hash: "pdq", Drawn: 5000, Distinct: 5000, Images: 4987, Matches: 0, ListSize: 68, ListSources: 10, Threshold: 31,
				Rate: 0, Lo: 0, Hi: 0.000739448, Upper95: 0.000600535},
			{Benign: "real-leave-scene-out", Hash: "pdq", Drawn: 68, Distinct: 68, Images: 68, Matches: 2, ListSize: 68, ListSources: 10, Threshold: 31,
				Rate: 2.0 / 68, Lo: 0.00357857, Hi: 0.102181, Upper95: 0.0899},
		}),
		csvCodec(Distances, []DistanceRow{{Set: "nearest/generated", Distance: 84, Count: 3}, {Set: "pairs/generated", Distance: 128, Count: 1_234_567_890_123}}),
		csvCodec(DistanceSummary, []DistanceSummaryRow{
			{Set: "pairs/generated", N: 339150, Min: 70, P01: 100, P50: 128, Mean: 127.8123, SD: 8.01, AtMostThreshold: 0, Threshold: 31},
			{Set: "same-scene/real", N: 0, Min: 256, P01: 256, P50: 256, Threshold: 31},
		}),
		csvCodec(TailFits, []TailFitRow{
			{Pairs: "pairs/generated", N: 339150, Model: "binomial", Mean: 127.8, SD: 8.1, EffectiveBits: 249, Log10PPair: -31.25, ListSize: 1_000_000,
				Log10PImage: -25.25, PImage: math.Pow(10, -25.25)},
			{Pairs: "pairs/real", N: 2278, Model: "exponential", Mean: 124, SD: 11, Log10PPair: -400.5, ListSize: 68,
				Log10PImage: -398.667, PImage: 0},
		}),
		csvCodec(TailChecks, []TailCheckRow{{Pairs: "pairs/generated", Distance: 97, Count: 33, Observed: 33.0 / 339150,
			Hypergeometric: 1.2e-5, Normal: 8e-5, Binomial: 7.7e-5, LowerTail: 9e-5, Exponential: 0}}),
		csvCodec(Curve, []CurveRow{
			{Library: 1000, T: 1, PImage: 1e-9, Basis: "sweep", Log10PAccount: -12.301, PAccount: math.Pow(10, -12.301)},
			{Library: 100_000, T: 50, PImage: 3e-8, Basis: "apple-neuralhash-measured", Log10PAccount: -372.8, PAccount: 0},
		}),
		csvCodec(SafeRates, []SafeRateRow{{Library: 10_000, T: 30, Target: 1e-12, Log10MaxPImage: -4.75, MaxPImage: math.Pow(10, -4.75)}}),
		csvCodec(Faults, faultRows()),
		csvCodec(FaultTimings, []FaultTimingRow{{"full-disk", "serverscan", 12, 2.65}, {"corrupt-page", "e2ee", 0, 61.4}}),
		csvCodec(Latency, []LatencyRow{{"e2ee", "text", "wire", 200, 110.9, 140.6, 177.6}}),
		csvCodec(LatencySamples, []LatencySampleRow{{"e2ee", "image", 7, "total", 9_600_123}}),
		csvCodec(Bytes, []BytesRow{{"clientscan", "image", 200, 86329, 88997, 86864}}),
		csvCodec(Load, loadRows()),
		csvCodec(LoadTimings, []LoadTimingRow{{"serverscan", 300, 0, 16, 18939, 88.08, 147.3, 110.4, 71, 2.06, 0}, {"e2ee", 300, 2500, 16, 2499, 7, 88.28, 129.3, 235.5, 13.37, 2}}),
		csvCodec(Scaling, []ScalingRow{
			{What: ScaleMatchPacked, Key: "list_size", X: 1e6, Value: 3012.5, Unit: "us/query"},
			{What: "psi-table-bytes", Key: "list_size", X: 1e5, Value: 7.26013e6, Unit: "bytes"},
		}),
		csvCodec(BelowThreshold, []BelowThresholdRow{
			{Calibration: "about-t", Rate: 0.05, Budget: "uniform", BudgetMax: Some(60), Library: 100_000, K: 1, T: 30,
				MeanSynthetic: 30, ClosedForm: 0.016393, Simulated: -0.0035, SimulatedLo: -0.0398, SimulatedHi: 0.032948, Trials: 1000},
			{Calibration: "proportional", Rate: 0.05, Budget: "none", Library: 100, K: 30, T: 30,
				MeanSynthetic: 4.999, ClosedForm: 1, Simulated: 1, SimulatedLo: 0.996176, SimulatedHi: 1, Trials: 1000},
		}),
		csvCodec(Visibility, []VisibilityRow{
			{Mode: "e2ee", Party: observe.Provider, Item: observe.MatchVerdict, Recovered: 2.0 / 3, Route: "relay memory; database file"},
			{Mode: "e2ee", Party: observe.DBThief, Item: observe.ListedImage, Recovered: 0},
			{Mode: "e2ee", Party: observe.ProviderActive, Item: observe.Text, Recovered: 1, Route: "ghost device the provider added to the recipient's account",
				Attack: observe.GhostDevice, Defence: observe.KeyTransparency, Log: observe.SplitView},
		}),
		csvCodec(Active, []ActiveRow{
			{Mode: "e2ee", Attack: observe.KeySubstitution, Defence: observe.NoDefence, Share: nan, Pairs: 6, Detected: 0, Rate: 0, Lo: 0, Hi: 0.4593,
				DetectedBy: Nobody, Recovered: "text;image;image-hash", Text: 1},
			{Mode: "clientscan", Attack: observe.GhostDevice, Defence: observe.SafetyNumbers, Share: 0.1, Pairs: 100, Detected: 9, Rate: 0.09, Lo: 0.042, Hi: 0.164,
				DetectedBy: "sender;recipient", When: observe.AtComparison, Recovered: "text", Text: 1},
			{Mode: "e2ee", Attack: observe.GhostDevice, Defence: observe.KeyTransparencyGossip, Log: observe.SplitView, Share: nan, Pairs: 6, Detected: 6, Rate: 1, Lo: 0.5407, Hi: 1,
				DetectedBy: "auditor", When: observe.AtAudit, Text: 0.5},
		}),
		csvCodec(Platforms, []PlatformRow{
			{Platform: "X", Variant: PlatformVariantBase, Measure: "recovered-text", Party: observe.Provider, Value: 0.75, Lo: nan, Hi: nan, N: 40},
			{Platform: "Signal", Variant: "dm_minors=no-one", Measure: "wire-bytes-image-encrypted", Value: 90211, Lo: nan, Hi: nan, N: 50},
			{Platform: "TikTok", Variant: "scan_hash=false", Measure: "recovered-contact-graph", Party: observe.DBThief, Value: 0.2, Lo: 0.05, Hi: 0.45, N: 20},
			{Platform: "X", Variant: "offender_factor=3", Measure: MeasureHarmfulCaught, Value: 0.412, Lo: 0.35, Hi: 0.47, N: 3120},
			{Platform: "X", Variant: "dm_keep=0.5", Measure: MeasureInnocentFlagged, Value: 0.0012, Lo: 0.0003, Hi: 0.0031, N: 2850},
		}),
		csvCodec(PlatformTimings, []PlatformTimingRow{{"X", "encrypted", "text", 50, 812.4, 1650}}),
		{
			spec:  Canaries,
			write: func(dir string) error { return Canaries.WriteFile(dir, []string{"c4n4ry-0a1b", "c4n4ry-ffee"}) },
			copy: func(src, dst string) error {
				got, err := Canaries.ReadFile(src)
				if err != nil {
					return err
				}
				return Canaries.WriteFile(dst, got)
			},
		},
	}
}

// TestGoldenRoundTrip writes each file's rows, compares the bytes with
// testdata/golden, reads them back and writes them again: the second write
// must give the same bytes.
func TestGoldenRoundTrip(t *testing.T) {
	for _, c := range codecs() {
		t.Run("file="+c.spec.Name(), func(t *testing.T) {
			first, second := t.TempDir(), t.TempDir()
			if err := c.write(first); err != nil {
				t.Fatal(err)
			}
			got := readRel(t, first, c.spec.Name())
			golden.Check(t, filepath.Join("testdata", "golden", filepath.FromSlash(c.spec.Name())), got)
			if err := c.copy(first, second); err != nil {
				t.Fatal(err)
			}
			if again := readRel(t, second, c.spec.Name()); !bytes.Equal(again, got) {
				t.Errorf("read and written again, the file changed:\n got:\n%s\nwant:\n%s", again, got)
			}
		})
	}
}

// TestExperimentsOutput reads files the experiments wrote before the
// schema existed (testdata/written, cut from a default run) and writes
// them back: the bytes must not change, so switching the experiments to
// the schema changes no result file.
func TestExperimentsOutput(t *testing.T) {
	src := filepath.Join("testdata", "written")
	for _, c := range codecs() {
		t.Run("file="+c.spec.Name(), func(t *testing.T) {
			if c.spec == Platforms || c.spec == PlatformTimings {
				t.Skip("platforms files are newer than the written sample")
			}
			if c.spec == Active {
				t.Skip("active.csv is newer than the files cut into testdata/written")
			}
			if slices.Contains([]Spec{Load, LoadTimings, Faults, FaultTimings}, c.spec) {
				t.Skip("load and faults files are newer than the written sample")
			}
			dst := t.TempDir()
			if err := c.copy(src, dst); err != nil {
				t.Fatal(err)
			}
			want := readRel(t, src, c.spec.Name())
			if got := readRel(t, dst, c.spec.Name()); !bytes.Equal(got, want) {
				t.Errorf("written back, the file differs:\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	t.Run("file=manifest.json", func(t *testing.T) {
		ms, err := ReadManifests(src)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].Experiment != "coverage" || ms[0].Seed != 1 || ms[0].Deps["gonum.org/v1/plot"] == "" {
			t.Fatalf("ReadManifests = %+v, want the coverage manifest with its dependencies", ms)
		}
		dst := t.TempDir()
		if err := WriteManifest(filepath.Join(dst, "coverage"), ms[0]); err != nil {
			t.Fatal(err)
		}
		if got, want := readRel(t, dst, "coverage/manifest.json"), readRel(t, src, "coverage/manifest.json"); !bytes.Equal(got, want) {
			t.Errorf("manifest written back differs:\n got:\n%s\nwant:\n%s", got, want)
		}
	})
}

func readRel(t *testing.T, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEveryFileCovered requires a golden round trip for every file in
// Files, so that a new file cannot be added without one.
func TestEveryFileCovered(t *testing.T) {
	var tested []string
	for _, c := range codecs() {
		tested = append(tested, c.spec.Name())
	}
	for _, s := range Files() {
		if s.Name() == (manifestSpec{}).Name() {
			continue
		}
		if !slices.Contains(tested, s.Name()) {
			t.Errorf("%s has no round-trip test in codecs()", s.Name())
		}
		if s.Description() == "" {
			t.Errorf("%s has no description", s.Name())
		}
	}
}

func TestMalformed(t *testing.T) {
	const covHeader = "mode,class,pathway,items,detected,recall,median_messages_to_detection\n"
	cases := []struct {
		name, input, want string
	}{
		{"empty", "", "coverage.csv:1: empty file"},
		{"missing-column", "mode,class,pathway,items,detected\n", "coverage.csv:1: header lacks column recall, median_messages_to_detection"},
		{"unknown-column", strings.TrimSuffix(covHeader, "\n") + ",colour\n", `coverage.csv:1: unknown column "colour"`},
		{"repeated-column", "mode,mode\n", `coverage.csv:1: column "mode" appears twice`},
		{"short-row", covHeader + "e2ee,known-image,any,4,1,0.25,1\ne2ee,known-image\n", "coverage.csv:3: wrong number of fields"},
		{"not-a-count", covHeader + "e2ee,known-image,any,four,1,0.25,1\n", `coverage.csv:2: column items: "four" is not a count`},
		{"negative-count", covHeader + "e2ee,known-image,any,-4,1,0.25,1\n", `coverage.csv:2: column items: "-4" is not a count`},
		{"not-a-fraction", covHeader + "e2ee,known-image,any,4,1,1.25,1\n", "coverage.csv:2: column recall: 1.25 is outside [0, 1]"},
		{"not-finite", covHeader + "e2ee,known-image,any,4,1,NaN,1\n", `coverage.csv:2: column recall: "NaN" is not a number`},
		{"unknown-class", covHeader + "e2ee,cat-picture,any,4,1,0.25,1\n", `coverage.csv:2: column class: "cat-picture" is not one of known-image`},
		{"unknown-pathway", covHeader + "e2ee,known-image,telepathy,4,1,0.25,1\n", `column pathway: "telepathy" is not one of server-hash`},
		{"empty-mode", covHeader + ",known-image,any,4,1,0.25,1\n", "coverage.csv:2: column mode: empty"},
		{"detected-exceeds-items", covHeader + "e2ee,known-image,any,4,5,1,1\n", "coverage.csv:2: detected (5) exceeds items (4)"},
		{"bad-quote", covHeader + "e2ee,\"known-image,any,4,1,0.25,1\n", "coverage.csv:2: extraneous or missing \" in quoted-field"},
		{"line-after-quoted-newline", covHeader + "\"e2\nee\",known-image,any,4,1,0.25,1\ne2ee,known-image,any,4,9,0.25,1\n", "coverage.csv:4: detected (9) exceeds items (4)"},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			_, err := Coverage.Read(strings.NewReader(c.input), "coverage.csv")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Read error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestMalformedOtherFiles(t *testing.T) {
	cases := []struct {
		name, want string
		read       func() error
	}{
		{"active-detected-more-than-pairs", `active.csv:2: detected 7 of 6 pairs`, func() error {
			_, err := Active.Read(strings.NewReader("mode,attack,defence,log,share,pairs,detected,rate,ci_low,ci_high,detected_by,when,recovered,text\ne2ee,ghost-device,none,,,6,7,1,1,1,sender,before-send,,1\n"), "active.csv")
			return err
		}},
		{"active-detector", `active.csv:2: detected_by: "mallory" is not one of sender`, func() error {
			_, err := Active.Read(strings.NewReader("mode,attack,defence,log,share,pairs,detected,rate,ci_low,ci_high,detected_by,when,recovered,text\ne2ee,ghost-device,none,,,6,6,1,0.5,1,mallory,before-send,,1\n"), "active.csv")
			return err
		}},
		{"scaling-param", `scaling.csv:2: column param: "list_size" is not key=value`, func() error {
			_, err := Scaling.Read(strings.NewReader("what,param,value,unit\nmatch-index,list_size,5,us/query\n"), "scaling.csv")
			return err
		}},
		{"visibility-party", `visibility.csv:2: column party: "landlord" is not one of sender`, func() error {
			_, err := Visibility.Read(strings.NewReader("mode,party,item,recovered,route\ne2ee,landlord,text,0,\n"), "visibility.csv")
			return err
		}},
		{"latency-stage", `latency.csv:2: column stage: "teleport" is not one of device-seal`, func() error {
			_, err := Latency.Read(strings.NewReader("mode,kind,stage,messages,p50_us,p95_us,p99_us\ne2ee,text,teleport,1,1,1,1\n"), "latency.csv")
			return err
		}},
		{"prevention-sum", "prevention.csv:2: harmful_prevented (1) + harmful_delivered (1) ≠ harmful_attempts (3)", func() error {
			_, err := Prevention.Read(strings.NewReader(strings.Join(Prevention.Header(), ",")+"\ne2ee,base,default,3,1,1,0,5,0,0,,\n"), "prevention.csv")
			return err
		}},
		{"below-threshold-k-above-t", "below-threshold.csv:2: k (31) outside [1, t = 30]", func() error {
			return readBelowThreshold("about-t,0.05,uniform,60,1000,31,30,30,0.5,0.5,0.4,0.6,100")
		}},
		{"below-threshold-outside-interval", "below-threshold.csv:2: simulated 0.7 outside its interval [0.4, 0.6]", func() error {
			return readBelowThreshold("about-t,0.05,uniform,60,1000,5,30,30,0.5,0.7,0.4,0.6,100")
		}},
		{"below-threshold-advantage-range", "below-threshold.csv:2: column simulated_lo: -1.5 is outside [-1, 1]", func() error {
			return readBelowThreshold("about-t,0.05,uniform,60,1000,5,30,30,0.5,0.5,-1.5,0.6,100")
		}},
		{"below-threshold-bound-without-budget", `below-threshold.csv:2: budget "none" with budget_max`, func() error {
			return readBelowThreshold("proportional,0.05,none,60,1000,5,30,30,0.5,0.5,0.4,0.6,100")
		}},
		{"canaries-empty-line", "canaries.txt:2: empty line", func() error {
			_, err := Canaries.Read(strings.NewReader("a\n\nb\n"), "canaries.txt")
			return err
		}},
		{"canaries-long-line", "canaries.txt:2: line longer than 4096 bytes", func() error {
			_, err := Canaries.Read(strings.NewReader("a\n"+strings.Repeat("x", 5000)+"\n"), "canaries.txt")
			return err
		}},
		{"manifest-syntax", "manifest.json:3: invalid character", func() error {
			_, err := parseManifest([]byte("{\n  \"experiment\": \"coverage\",\n  \"seed\": one\n}\n"), "manifest.json")
			return err
		}},
		{"manifest-unknown-field", `manifest.json:2: json: unknown field "colour"`, func() error {
			_, err := parseManifest([]byte("{\"experiment\": \"coverage\",\n\"colour\": 1}\n"), "manifest.json")
			return err
		}},
		{"manifest-type", "manifest.json:2: json: cannot unmarshal string", func() error {
			_, err := parseManifest([]byte("{\"experiment\": \"coverage\",\n\"seed\": \"1\"}\n"), "manifest.json")
			return err
		}},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			err := c.read()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// readBelowThreshold reads one data line of privacy/below-threshold.csv.
func readBelowThreshold(line string) error {
	_, err := BelowThreshold.Read(strings.NewReader(strings.Join(BelowThreshold.Header(), ",")+"\n"+line+"\n"), "below-threshold.csv")
	return err
}

// TestTooLong checks the size bound with a reader that never ends.
func TestTooLong(t *testing.T) {
	defer func(n int64) { readLimit = n }(readLimit)
	readLimit = 1 << 16
	_, err := Canaries.Read(endless{}, "canaries.txt")
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("reading an endless file: error %v, want one saying it is too long", err)
	}
}

// endless is a reader of endless "a\n" lines.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "a\n"[i%2]
	}
	return len(p), nil
}

func TestOptionalColumn(t *testing.T) {
	type row struct {
		A  int
		Lo float64
	}
	f := &File[row]{Path: "x/x.csv", Columns: []Column[row]{
		Count("a", func(r *row) *int { return &r.A }),
		Optional(OptFraction("lo", Fixed(2), func(r *row) *float64 { return &r.Lo })),
	}}
	rows, err := f.Read(strings.NewReader("a\n3\n"), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].A != 3 || !math.IsNaN(rows[0].Lo) {
		t.Fatalf("rows = %+v, want a=3 and lo absent (NaN)", rows)
	}
	var b bytes.Buffer
	if err := f.Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	if b.String() != "a\n3\n" {
		t.Errorf("written %q, want the unused optional column left out", b.String())
	}
	b.Reset()
	if err := f.Write(&b, append(rows, row{A: 4, Lo: 0.5})); err != nil {
		t.Fatal(err)
	}
	if b.String() != "a,lo\n3,\n4,0.50\n" {
		t.Errorf("written %q, want the optional column once a row uses it", b.String())
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Coverage.ReadFile(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile of an empty directory: %v, want fs.ErrNotExist", err)
	}
}

func TestManifestRemoteRelay(t *testing.T) {
	m := Manifest{Experiment: "latency", Options: []byte(`{"relay":"relay.example:4433"}`), Start: time.Unix(0, 0).UTC()}
	if m.RemoteRelay() != "relay.example:4433" || (Manifest{}).RemoteRelay() != "" {
		t.Fatalf("RemoteRelay() wrong")
	}
}
