package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"scanlab"
	"scanlab/kms"
)

// BenchmarkEnqueueOnce measures group commit: 100 concurrent writers each
// storing records once (fsync on every commit unless fsync=false), as the
// relay does for 100 sending devices.
func BenchmarkEnqueueOnce(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("writers=100/fsync=%v", sync), func(b *testing.B) {
			k, _ := kms.New()
			s, err := Open(filepath.Join(b.TempDir(), "relay.db"), k, Options{NoSync: !sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			body := make([]byte, 150)
			var n atomic.Int64
			start := time.Now()
			b.ResetTimer()
			var wg sync2
			for w := range 100 {
				wg.Go(func() {
					for i := 0; n.Add(1) <= int64(b.N); i++ {
						if _, _, err := s.EnqueueOnce(scanlab.UserID(fmt.Sprint("u", w)), fmt.Sprint("m", i), scanlab.UserID(fmt.Sprint("r", i%100)), body); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			st := s.db.Stats()
			b.Logf("tx %d, write %v (%d pages), spill %v, rebalance %v", st.TxN, st.TxStats.GetWriteTime(), st.TxStats.GetWrite(), st.TxStats.GetSpillTime(), st.TxStats.GetRebalanceTime())
		})
	}
}

type sync2 = sync.WaitGroup
