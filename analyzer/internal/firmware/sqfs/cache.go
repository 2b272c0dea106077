package sqfs

import (
	"errors"
	"sync"
)

// errLoadFailed is what waiters of a cache entry see when its load panicked.
var errLoadFailed = errors.New("internal error while loading")

// cache is a bounded LRU of values computed from a key (an image position
// or an inode reference). Concurrent requests for a missing key wait for one
// load instead of repeating it. Errors are cached too: a corrupt block stays
// corrupt.
type cache[V any] struct {
	mu    sync.Mutex
	max   int // cost budget
	used  int
	items map[uint64]*centry[V]
	head  centry[V] // sentinel of the recency list; head.next is the newest
}

type centry[V any] struct {
	key        uint64
	val        V
	err        error
	cost       int
	done       chan struct{} // closed when val and err are set
	prev, next *centry[V]
}

func newCache[V any](maxCost int) *cache[V] {
	c := &cache[V]{max: maxCost, items: make(map[uint64]*centry[V])}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// get returns the value for key, calling load (outside the lock) when it is
// missing. load returns the value and its cost against the budget.
func (c *cache[V]) get(key uint64, load func() (V, int, error)) (V, error) {
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		if e.prev != nil { // loaded: refresh its place
			c.unlink(e)
			c.pushFront(e)
		}
		c.mu.Unlock()
		<-e.done
		return e.val, e.err
	}
	// Waiters see errLoadFailed if load panics: the panic goes to this
	// caller, never a hang to the others.
	e := &centry[V]{key: key, done: make(chan struct{}), err: errLoadFailed}
	c.items[key] = e
	c.mu.Unlock()

	func() {
		defer close(e.done)
		val, cost, err := load()
		e.val, e.err, e.cost = val, err, max(cost, 64)
	}()

	c.mu.Lock()
	c.pushFront(e)
	c.used += e.cost
	for c.used > c.max && c.head.prev != e {
		old := c.head.prev
		c.unlink(old)
		delete(c.items, old.key)
		c.used -= old.cost
	}
	c.mu.Unlock()
	return e.val, e.err
}

func (c *cache[V]) unlink(e *centry[V]) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *cache[V]) pushFront(e *centry[V]) {
	e.prev, e.next = &c.head, c.head.next
	e.next.prev = e
	c.head.next = e
}
