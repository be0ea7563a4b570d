package relay

import (
	"sync"
	"time"
)

// budget is the relay's global in-flight byte budget: every frame payload
// being read and every response being built is charged to it, so memory
// held for requests stays under a fixed bound whatever the number of
// connections.
type budget struct {
	mu    sync.Mutex
	used  int64
	limit int64
	wake  chan struct{} // closed and replaced whenever bytes are given back
}

func newBudget(limit int64) *budget {
	return &budget{limit: limit, wake: make(chan struct{})}
}

// take charges n bytes, waiting until they fit or deadline passes (false).
// A request larger than the whole budget waits for the budget to be empty.
func (b *budget) take(n int64, deadline time.Time) bool {
	if n <= 0 {
		return true
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.used+n <= b.limit || (b.used == 0 && n > b.limit) {
			b.used += n
			b.mu.Unlock()
			return true
		}
		wake := b.wake
		b.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return false
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-wake:
		case <-timer.C:
			return false
		}
	}
}

// give returns n bytes.
func (b *budget) give(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// inUse returns the bytes charged now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Rate is a token-bucket limit: Per events per second on average, bursts of
// up to Burst. A zero Rate means no limit.
type Rate struct {
	Per   float64
	Burst int
}

// limiter keeps one token bucket per key (a device credential or a target
// user's index, with a kind prefix). Buckets are kept while they are below
// full, so reconnecting does not refill them.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*tokens
	now     func() time.Time
}

type tokens struct {
	have float64
	at   time.Time
}

func newLimiter() *limiter {
	return &limiter{buckets: map[string]*tokens{}, now: time.Now}
}

// allow takes one token for key under rate r and says whether one was there.
func (l *limiter) allow(key string, r Rate) bool {
	if r.Per <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.buckets[key]
	if t == nil {
		t = &tokens{have: float64(r.Burst), at: now}
		l.buckets[key] = t
	}
	t.have = min(float64(r.Burst), t.have+now.Sub(t.at).Seconds()*r.Per)
	t.at = now
	if t.have < 1 {
		return false
	}
	t.have--
	return true
}

// prune forgets buckets that have refilled by now under the slowest rate
// they could be under: forgetting them changes nothing.
func (l *limiter) prune(slowest Rate) {
	if slowest.Per <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, t := range l.buckets {
		if t.have+now.Sub(t.at).Seconds()*slowest.Per >= float64(slowest.Burst) {
			delete(l.buckets, k)
		}
	}
}

// hub wakes long-polling fetches when mail arrives for their user.
type hub struct {
	mu      sync.Mutex
	waiting map[string]*watch
}

type watch struct {
	ch   chan struct{}
	refs int
}

func newHub() *hub { return &hub{waiting: map[string]*watch{}} }

// watch returns a channel closed at the next notify for key, and a release
// function the caller must call when it stops waiting.
func (h *hub) watch(key string) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.waiting[key]
	if w == nil {
		w = &watch{ch: make(chan struct{})}
		h.waiting[key] = w
	}
	w.refs++
	return w.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		w.refs--
		if w.refs == 0 && h.waiting[key] == w {
			delete(h.waiting, key)
		}
	}
}

// notify wakes everyone waiting on key.
func (h *hub) notify(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.waiting[key]; w != nil {
		close(w.ch)
		delete(h.waiting, key)
	}
}

// logGate lets at most one log line of a kind through per interval and
// counts the rest, so a flood (an accept loop at the file-descriptor limit,
// a connection storm) cannot flood the log.
type logGate struct {
	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
	every      time.Duration
}

func newLogGate(every time.Duration) *logGate {
	return &logGate{last: map[string]time.Time{}, suppressed: map[string]int{}, every: every}
}

// pass says whether a line of kind may be logged now, and how many were
// suppressed since the last one.
func (g *logGate) pass(kind string) (bool, int) {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.last[kind]) < g.every {
		g.suppressed[kind]++
		return false, 0
	}
	g.last[kind] = now
	n := g.suppressed[kind]
	g.suppressed[kind] = 0
	return true, n
}
