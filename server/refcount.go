package server

import "sync"

// refCount counts users of something that can be retired, and says when the last one is gone.
// Once retired, acquire fails, and the channel returned by retire is closed when the last
// user releases it. A served snapshot counts its requests, so that lanes only a replaced
// snapshot held are closed without failing a request that was using them; the server counts
// the requests its gate admitted, so that shutdown knows when every one has its answer.
type refCount struct {
	mu      sync.Mutex
	n       int
	retired bool
	zero    chan struct{}
}

// acquire registers a user; false when the snapshot is retired (load the current one instead).
func (r *refCount) acquire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retired {
		return false
	}
	r.n++
	return true
}

// release ends a use started by a successful acquire.
func (r *refCount) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	if r.retired && r.n == 0 && r.zero != nil {
		close(r.zero)
		r.zero = nil
	}
}

// retire stops new uses and returns a channel closed once no use is left.
func (r *refCount) retire() <-chan struct{} {
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

// isRetired reports whether retire has been called.
func (r *refCount) isRetired() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retired
}

// count is the number of users now.
func (r *refCount) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
