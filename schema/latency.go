package schema

// Stages of one message's trip, in order, as the latency files name them.
var Stages = []string{
	"device-seal", // the sender's device scans (in clientscan) and encrypts
	"wire",        // the sealed envelope crosses TLS to the relay
	"relay-logic", // the mode's server logic: scanning in serverscan, vouchers in clientscan
	"relay-store", // the relay commits the envelope to its database
	"fetch",       // the recipient's device fetches it
	"device-open", // the recipient's device decrypts and verifies
	"total",       // from seal to open
}

// TotalStage is the stage that spans the whole trip.
const TotalStage = "total"

// LatencyRow is one row of latency/latency.csv: quantiles of one stage's
// time over the messages of one mode and kind, in microseconds.
type LatencyRow struct {
	Mode, Kind, Stage string
	Messages          int
	P50, P95, P99     float64 // µs
}

// Latency is latency/latency.csv.
var Latency = &File[LatencyRow]{
	Path: "latency/latency.csv",
	Doc:  "median, 95th and 99th percentile time of one stage, per mode and kind, in µs",
	Columns: []Column[LatencyRow]{
		Text("mode", func(r *LatencyRow) *string { return &r.Mode }),
		Enum("kind", func(r *LatencyRow) *string { return &r.Kind }, Kinds),
		Enum("stage", func(r *LatencyRow) *string { return &r.Stage }, Stages),
		Count("messages", func(r *LatencyRow) *int { return &r.Messages }),
		NonNegative("p50_us", Fixed(1), func(r *LatencyRow) *float64 { return &r.P50 }),
		NonNegative("p95_us", Fixed(1), func(r *LatencyRow) *float64 { return &r.P95 }),
		NonNegative("p99_us", Fixed(1), func(r *LatencyRow) *float64 { return &r.P99 }),
	},
}

// LatencySampleRow is one row of latency/latency-samples.csv: one stage of
// one message's trip, in nanoseconds.
type LatencySampleRow struct {
	Mode, Kind string
	Message    int // the message's index in the run
	Stage      string
	NS         int64
}

// LatencySamples is latency/latency-samples.csv.
var LatencySamples = &File[LatencySampleRow]{
	Path: "latency/latency-samples.csv",
	Doc:  "one stage of one message's trip, in ns",
	Columns: []Column[LatencySampleRow]{
		Text("mode", func(r *LatencySampleRow) *string { return &r.Mode }),
		Enum("kind", func(r *LatencySampleRow) *string { return &r.Kind }, Kinds),
		Count("message", func(r *LatencySampleRow) *int { return &r.Message }),
		Enum("stage", func(r *LatencySampleRow) *string { return &r.Stage }, Stages),
		Count64("ns", func(r *LatencySampleRow) *int64 { return &r.NS }),
	},
}

// BytesRow is one row of latency/bytes.csv: median sizes of one mode and
// kind's messages. Wire bytes count both directions of the TCP connection,
// TLS records included.
type BytesRow struct {
	Mode, Kind string
	Messages   int
	Body       int // sealed body, bytes
	WireSend   int // the sender's connection for the send, bytes
	WireFetch  int // the recipient's connection for fetch and acknowledgement, bytes
}

// Bytes is latency/bytes.csv.
var Bytes = &File[BytesRow]{
	Path: "latency/bytes.csv",
	Doc:  "median sealed-body and wire bytes of one mode and kind's messages",
	Columns: []Column[BytesRow]{
		Text("mode", func(r *BytesRow) *string { return &r.Mode }),
		Enum("kind", func(r *BytesRow) *string { return &r.Kind }, Kinds),
		Count("messages", func(r *BytesRow) *int { return &r.Messages }),
		Count("body_bytes_p50", func(r *BytesRow) *int { return &r.Body }),
		Count("wire_bytes_send_p50", func(r *BytesRow) *int { return &r.WireSend }),
		Count("wire_bytes_fetch_p50", func(r *BytesRow) *int { return &r.WireFetch }),
	},
}
