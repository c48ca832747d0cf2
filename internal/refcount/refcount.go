// Package refcount counts users of something that can be retired and says when the last one
// is gone: the server counts the requests its gate admitted, the inference core the requests
// using a served snapshot.
package refcount

import "sync"

// Counter counts users of something that can be retired.
// Once retired, Acquire fails, and the channel returned by Retire is closed when the last
// user releases it. A served snapshot counts its requests, so that lanes only a replaced
// snapshot held are closed without failing a request that was using them; the server counts
// the requests its gate admitted, so that shutdown knows when every one has its answer.
type Counter struct {
	mu      sync.Mutex
	n       int
	retired bool
	zero    chan struct{}
}

// Acquire registers a user; false when the snapshot is retired (load the current one instead).
func (r *Counter) Acquire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retired {
		return false
	}
	r.n++
	return true
}

// Release ends a use started by a successful acquire.
func (r *Counter) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	if r.retired && r.n == 0 && r.zero != nil {
		close(r.zero)
		r.zero = nil
	}
}

// Retire stops new uses and returns a channel closed once no use is left.
func (r *Counter) Retire() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	done := make(chan struct{})
	if r.retired {
		close(done) // already retired: the first retire's caller owns the wait
		return done
	}
	r.retired = true
	if r.n == 0 {
		close(done)
	} else {
		r.zero = done
	}
	return done
}

// IsRetired reports whether retire has been called.
func (r *Counter) IsRetired() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retired
}

// Count is the number of users now.
func (r *Counter) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
