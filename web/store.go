package web

import (
	"crypto/rand"
	"sync"
	"time"

	"scanlab/demo"
)

// store keeps recent results under unguessable IDs, at most max of them
// and none older than age: a visitor finds a result only by its ID, and
// results are forgotten.
type store struct {
	max int
	age time.Duration
	now func() time.Time

	mu      sync.Mutex
	results map[string]stored
	order   []string // IDs, oldest first
}

type stored struct {
	res  *demo.Result
	made time.Time
}

func newStore(max int, age time.Duration) *store {
	return &store{max: max, age: age, now: time.Now, results: map[string]stored{}}
}

// put keeps r and returns its new ID: 128 random bits.
func (s *store) put(r *demo.Result) string {
	id := rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[id] = stored{res: r, made: s.now()}
	s.order = append(s.order, id)
	s.expire()
	return id
}

// get returns the result kept under id, if it is still kept.
func (s *store) get(id string) (*demo.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	e, ok := s.results[id]
	return e.res, ok
}

// expire forgets results beyond max and older than age; s.mu is held.
func (s *store) expire() {
	for len(s.order) > 0 {
		oldest := s.order[0]
		if len(s.order) <= s.max && s.now().Sub(s.results[oldest].made) < s.age {
			return
		}
		delete(s.results, oldest)
		s.order = s.order[1:]
	}
}
