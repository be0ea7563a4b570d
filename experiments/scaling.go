package experiments

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/kms"
	"scanlab/perceptual"
	"scanlab/relay"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "scaling",
		Summary: "cost as the hash list and the user base grow: match time, PSI table bytes, voucher cost, relay throughput",
		Run:     runScaling,
	})
}

func runScaling(o Options, dir string) (map[string]any, error) {
	listSizes := []int{1_000, 10_000, 100_000, 1_000_000}
	psiSizes := []int{1_000, 10_000, 100_000}
	userCounts := []int{10, 100, 1000}
	queries := 200
	if o.Scale == Quick {
		listSizes = []int{1_000, 10_000, 100_000}
		psiSizes = []int{1_000, 10_000}
		userCounts = []int{10, 100}
		queries = 50
	}
	if o.Scale == Full {
		listSizes = append(listSizes, 10_000_000)
		psiSizes = append(psiSizes, 1_000_000)
		userCounts = append(userCounts, 10_000)
	}
	var rows []schema.ScalingRow
	results := map[string]any{}
	steps, step := len(listSizes)+len(psiSizes)+len(userCounts), 0
	for _, n := range listSizes {
		o.advance(step, steps)
		step++
		o.progress("scaling: match against %d hashes", n)
		r, agree, err := scaleMatch(o.rng(fmt.Sprintf("scaling-list-%d", n)), n, queries)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
		results[fmt.Sprintf("index_agrees_with_linear_%d", n)] = agree
	}
	for _, n := range psiSizes {
		o.advance(step, steps)
		step++
		o.progress("scaling: PSI table of %d hashes", n)
		r, err := scalePSI(o.rng(fmt.Sprintf("scaling-psi-%d", n)), n)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	for i, u := range userCounts {
		o.advance(step, steps)
		step++
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
	if err := schema.Scaling.WriteFile(o.Out, rows); err != nil {
		return nil, err
	}
	return results, nil
}

// flipBits returns h with d distinct random bits flipped.
func flipBits(r *rand.Rand, h perceptual.Hash, d int) perceptual.Hash {
	for _, k := range r.Perm(8 * perceptual.Size)[:d] {
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

// scaleMatch times one query against n hashes with the multi-index and with
// the fastest correct linear scan in the code (perceptual.Index.MatchLinear,
// the packed scan the benchmarks use — not the reference perceptual.Linear,
// several times slower), and checks both give the same matches.
func scaleMatch(r *rand.Rand, n, queries int) ([]schema.ScalingRow, bool, error) {
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
		b := ix.MatchLinear(q, 31)
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
	key, x := "list_size", float64(n)
	nq := float64(len(qs))
	return []schema.ScalingRow{
		{What: schema.ScaleMatchIndex, Key: key, X: x, Value: float64(idxTime.Microseconds()) / nq, Unit: "us/query"},
		{What: schema.ScaleMatchPacked, Key: key, X: x, Value: float64(linTime.Microseconds()) / nq, Unit: "us/query"},
		{What: "index-build", Key: key, X: x, Value: build.Seconds(), Unit: "s"},
		{What: "match-hits", Key: key, X: x, Value: float64(hits) / nq, Unit: "matches/query"},
	}, true, nil
}

// scalePSI builds the blinded PSI table for n hashes and measures its size
// and the device and server cost of one voucher.
func scalePSI(r *rand.Rand, n int) ([]schema.ScalingRow, error) {
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
	key, x := "list_size", float64(n)
	return []schema.ScalingRow{
		{What: "psi-table-bytes", Key: key, X: x, Value: float64(len(table)), Unit: "bytes"},
		{What: "psi-table-dropped", Key: key, X: x, Value: float64(prov.Dropped()), Unit: "entries"},
		{What: "psi-setup", Key: key, X: x, Value: setup.Seconds(), Unit: "s"},
		{What: "psi-voucher-device", Key: key, X: x, Value: float64(dev.Microseconds()) / vouchers, Unit: "us/voucher"},
		{What: "psi-voucher-server", Key: key, X: x, Value: float64(proc.Microseconds()) / vouchers, Unit: "us/voucher"},
		{What: "psi-voucher-bytes", Key: key, X: x, Value: float64(vbytes), Unit: "bytes"},
	}, nil
}

// scaleRelay connects users devices to one relay, has each send messages to
// random others concurrently, then delivers everything and checks that every
// message arrived exactly once.
func scaleRelay(o Options, users int, noSync bool) ([]schema.ScalingRow, int, error) {
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
	key, x := "users", float64(users)
	suffix := "" // durable: fsync on every commit
	if noSync {
		suffix = "-fsync-off"
	}
	return []schema.ScalingRow{
		{What: "relay-throughput" + suffix, Key: key, X: x, Value: float64(total) / elapsed.Seconds(), Unit: "messages/s"},
		{What: "relay-send-p50" + suffix, Key: key, X: x, Value: float64(quantile(all, 0.5)) / 1e3, Unit: "us"},
		{What: "relay-send-p99" + suffix, Key: key, X: x, Value: float64(quantile(all, 0.99)) / 1e3, Unit: "us"},
		{What: "relay-messages" + suffix, Key: key, X: x, Value: float64(total), Unit: "messages"},
		{What: "relay-lost-or-duplicated" + suffix, Key: key, X: x, Value: float64(lost), Unit: "messages"},
	}, lost, nil
}
