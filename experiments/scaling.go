package experiments

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/kms"
	"scanlab/perceptual"
	"scanlab/relay"
)

func init() {
	register(Experiment{
		Name:    "scaling",
		Summary: "cost as the hash list and the user base grow: match time, PSI table bytes, voucher cost, relay throughput",
		Run:     runScaling,
	})
}

// scalingRow is one measurement in long form: what was measured, at which
// parameter, its value and unit.
type scalingRow struct {
	what, param string
	value       float64
	unit        string
}

func runScaling(o Options, dir string) (map[string]any, error) {
	listSizes := []int{1_000, 10_000, 100_000, 1_000_000}
	psiSizes := []int{1_000, 10_000, 100_000}
	userCounts := []int{10, 100, 1000}
	queries := 200
	if o.Quick {
		listSizes = []int{1_000, 10_000, 100_000}
		psiSizes = []int{1_000, 10_000}
		userCounts = []int{10, 100}
		queries = 50
	}
	if o.Params["full"] == "true" {
		listSizes = append(listSizes, 10_000_000)
		psiSizes = append(psiSizes, 1_000_000)
		userCounts = append(userCounts, 10_000)
	}
	var rows []scalingRow
	results := map[string]any{}
	for _, n := range listSizes {
		o.progress("scaling: match against %d hashes", n)
		r, agree, err := scaleMatch(o.rng(fmt.Sprintf("scaling-list-%d", n)), n, queries)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
		results[fmt.Sprintf("index_agrees_with_linear_%d", n)] = agree
	}
	for _, n := range psiSizes {
		o.progress("scaling: PSI table of %d hashes", n)
		r, err := scalePSI(o.rng(fmt.Sprintf("scaling-psi-%d", n)), n)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	for i, u := range userCounts {
		// Every size with fsync on each commit (durable); the largest also
		// without, to show what durability costs.
		for _, noSync := range []bool{false, true} {
			if noSync && i != len(userCounts)-1 {
				continue
			}
			o.progress("scaling: relay throughput with %d users (fsync %v)", u, !noSync)
			r, lost, err := scaleRelay(o, u, noSync)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r...)
			results[fmt.Sprintf("lost_or_duplicated_%d_users_nosync_%v", u, noSync)] = lost
		}
	}
	var out [][]string
	for _, r := range rows {
		out = append(out, []string{r.what, r.param, strconv.FormatFloat(r.value, 'g', 6, 64), r.unit})
	}
	if err := writeCSV(filepath.Join(dir, "scaling.csv"), []string{"what", "param", "value", "unit"}, out); err != nil {
		return nil, err
	}
	return results, nil
}

func randomHash(r *rand.Rand) perceptual.Hash {
	var h perceptual.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}

// flipBits returns h with d distinct random bits flipped.
func flipBits(r *rand.Rand, h perceptual.Hash, d int) perceptual.Hash {
	for _, k := range r.Perm(8 * perceptual.Size)[:d] {
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

// scaleMatch times one query against n hashes with the multi-index and with
// a linear scan, and checks both give the same matches.
func scaleMatch(r *rand.Rand, n, queries int) ([]scalingRow, bool, error) {
	list := make([]perceptual.Hash, n)
	for i := range list {
		list[i] = randomHash(r)
	}
	// Half the queries are near-duplicates of list entries at distances 0..31.
	qs := make([]perceptual.Hash, queries)
	for i := range qs {
		if i%2 == 0 {
			qs[i] = flipBits(r, list[r.IntN(n)], r.IntN(32))
		} else {
			qs[i] = randomHash(r)
		}
	}
	t0 := time.Now()
	ix := perceptual.NewIndex(list)
	build := time.Since(t0)
	agree := true
	var idxTime, linTime time.Duration
	hits := 0
	for _, q := range qs {
		t := time.Now()
		a := ix.Match(q, 31)
		idxTime += time.Since(t)
		t = time.Now()
		b := perceptual.Linear(list, q, 31)
		linTime += time.Since(t)
		hits += len(a)
		if len(a) != len(b) {
			agree = false
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				agree = false
			}
		}
	}
	if !agree {
		return nil, false, fmt.Errorf("index and linear scan disagree at list size %d", n)
	}
	p := "list_size=" + strconv.Itoa(n)
	nq := float64(len(qs))
	return []scalingRow{
		{"match-index", p, float64(idxTime.Microseconds()) / nq, "us/query"},
		{"match-linear", p, float64(linTime.Microseconds()) / nq, "us/query"},
		{"index-speedup", p, float64(linTime) / float64(max(1, idxTime)), "x"},
		{"index-build", p, build.Seconds(), "s"},
		{"match-hits", p, float64(hits) / nq, "matches/query"},
	}, true, nil
}

// scalePSI builds the blinded PSI table for n hashes and measures its size
// and the device and server cost of one voucher.
func scalePSI(r *rand.Rand, n int) ([]scalingRow, error) {
	list := make([][]byte, n)
	for i := range list {
		h := randomHash(r)
		list[i] = h[:]
	}
	params := psi.Params{Threshold: 30, SyntheticRate: 0}
	t0 := time.Now()
	prov, err := psi.NewProvider(list, params)
	if err != nil {
		return nil, err
	}
	setup := time.Since(t0)
	srv := prov.NewServer()
	table, err := prov.Table().MarshalBinary()
	if err != nil {
		return nil, err
	}
	acct, err := psi.NewAccount(params)
	if err != nil {
		return nil, err
	}
	const vouchers = 20
	var dev, proc time.Duration
	vbytes := 0
	for i := range vouchers {
		el := list[r.IntN(n)]
		if i%2 == 1 {
			h := randomHash(r)
			el = h[:]
		}
		t := time.Now()
		v, err := acct.Voucher(prov.Table(), []byte(fmt.Sprintf("v%d", i)), el, make([]byte, 64))
		dev += time.Since(t)
		if err != nil {
			return nil, err
		}
		b, err := v.MarshalBinary()
		if err != nil {
			return nil, err
		}
		vbytes = len(b)
		t = time.Now()
		if _, err := srv.Process("acct", b); err != nil {
			return nil, err
		}
		proc += time.Since(t)
	}
	p := "list_size=" + strconv.Itoa(n)
	return []scalingRow{
		{"psi-table-bytes", p, float64(len(table)), "bytes"},
		{"psi-table-dropped", p, float64(prov.Dropped()), "entries"},
		{"psi-setup", p, setup.Seconds(), "s"},
		{"psi-voucher-device", p, float64(dev.Microseconds()) / vouchers, "us/voucher"},
		{"psi-voucher-server", p, float64(proc.Microseconds()) / vouchers, "us/voucher"},
		{"psi-voucher-bytes", p, float64(vbytes), "bytes"},
	}, nil
}

// scaleRelay connects users devices to one relay, has each send messages to
// random others concurrently, then delivers everything and checks that every
// message arrived exactly once.
func scaleRelay(o Options, users int, noSync bool) ([]scalingRow, int, error) {
	perUser := max(5, 2000/users)
	r := o.rng(fmt.Sprintf("scaling-relay-%d", users))
	state, cleanup, err := stateDir(o, fmt.Sprintf("scaling-relay-%d", users))
	if err != nil {
		return nil, 0, err
	}
	defer cleanup()
	keys, err := kms.New()
	if err != nil {
		return nil, 0, err
	}
	rl, err := relay.Start(relay.Config{DBPath: filepath.Join(state, "relay.db"), KMS: keys, NoSync: noSync})
	if err != nil {
		return nil, 0, err
	}
	defer rl.Close()
	clients := make([]*relay.Client, users)
	var wg sync.WaitGroup
	errs := make(chan error, users)
	sem := make(chan struct{}, 64)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := relay.Dial(rl.Addr(), rl.CA().Pool(), scanlab.UserID(fmt.Sprintf("user-%05d", i)), nil)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, 0, err
	default:
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	// Plan the traffic from the seed before timing anything.
	dest := make([][]int, users)
	for i := range dest {
		for range perUser {
			dest[i] = append(dest[i], r.IntN(users))
		}
	}
	body := []byte("a message of ordinary length for the throughput test, about a hundred bytes long.....")
	lat := make([][]int64, users)
	start := time.Now()
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, to := range dest[i] {
				e := scanlab.Envelope{ID: fmt.Sprintf("m-%d-%d", i, j), From: scanlab.UserID(fmt.Sprintf("user-%05d", i)), To: scanlab.UserID(fmt.Sprintf("user-%05d", to)), Sent: time.Now(), Body: body}
				t := time.Now()
				if _, err := clients[i].Send(e); err != nil {
					errs <- err
					return
				}
				lat[i] = append(lat[i], time.Since(t).Nanoseconds())
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return nil, 0, err
	default:
	}
	total := users * perUser
	// Deliver everything; count each message ID.
	seen := make(map[string]int, total)
	for i, c := range clients {
		for {
			ds, err := c.Fetch(1000)
			if err != nil {
				return nil, 0, err
			}
			if len(ds) == 0 {
				break
			}
			seqs := make([]uint64, len(ds))
			for k, d := range ds {
				if d.Envelope.To != scanlab.UserID(fmt.Sprintf("user-%05d", i)) {
					return nil, 0, fmt.Errorf("user %d received a message for %s", i, d.Envelope.To)
				}
				seen[d.Envelope.ID]++
				seqs[k] = d.Seq
			}
			if _, err := c.Ack(seqs...); err != nil {
				return nil, 0, err
			}
		}
	}
	lost := total - len(seen)
	for _, n := range seen {
		if n != 1 {
			lost++
		}
	}
	var all []int64
	for _, l := range lat {
		all = append(all, l...)
	}
	p := "users=" + strconv.Itoa(users)
	suffix := "" // durable: fsync on every commit
	if noSync {
		suffix = "-fsync-off"
	}
	return []scalingRow{
		{"relay-throughput" + suffix, p, float64(total) / elapsed.Seconds(), "messages/s"},
		{"relay-send-p50" + suffix, p, float64(quantile(all, 0.5)) / 1e3, "us"},
		{"relay-send-p99" + suffix, p, float64(quantile(all, 0.99)) / 1e3, "us"},
		{"relay-messages" + suffix, p, float64(total), "messages"},
		{"relay-lost-or-duplicated" + suffix, p, float64(lost), "messages"},
	}, lost, nil
}
