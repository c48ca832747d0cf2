package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Lingering close, as nginx's lingering_close: after an early answer (413, 429, 503, ...)
// the rest of the body is read and discarded, at most this much and for at most this long,
// before the connection closes. Clients such as Python's urllib and requests write the whole
// body before they read; closing on them with unread data makes the kernel reset the
// connection, and they see ConnectionResetError instead of the JSON answer.
const (
	lingerBytes   = 128 << 20
	lingerTimeout = 10 * time.Second
	// lingerDraining replaces lingerTimeout once shutdown has begun.
	lingerDraining = time.Second
)

const bodyKey = "coldserve.body"

// guardBody owns the request body: it refuses a declared Content-Length over --payload-limit
// before reading, caps what is read at the limit, bounds the time the body may take to arrive
// (--body-read-timeout), registers the read so that shutdown can cut it, and after the
// handler lingers over what the client still sends.
func (s *Server) guardBody() gin.HandlerFunc {
	limit := s.opts.PayloadLimit
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody {
			c.Next()
			return
		}
		b := &guardedBody{orig: r.Body}
		c.Set(bodyKey, b)
		rc := http.NewResponseController(c.Writer)
		if r.ContentLength > limit {
			s.fail(c, errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
				"request body is %d bytes, larger than the payload limit of %d bytes", r.ContentLength, limit))
		} else {
			if t := s.opts.Timeouts.BodyRead; t > 0 {
				_ = rc.SetReadDeadline(time.Now().Add(t))
				// Once the body is in, the read deadline must not cut the connection's
				// background read, which is how a client that goes away cancels its request.
				b.onEOF = func() { _ = rc.SetReadDeadline(time.Time{}) }
			}
			s.reading.add(b, rc)
			r.Body = http.MaxBytesReader(c.Writer, b, limit)
			c.Next()
			s.reading.remove(b)
		}
		s.linger(c, b, rc)
	}
}

// linger reads and discards what is left of an unread body (see lingerBytes), unless the
// client waits for 100 Continue (it then sends nothing) or the body was cut for being slow.
func (s *Server) linger(c *gin.Context, b *guardedBody, rc *http.ResponseController) {
	if b.done() || b.timedOut.Load() ||
		(b.read.Load() == 0 && strings.EqualFold(c.Request.Header.Get("Expect"), "100-continue")) {
		return
	}
	c.Writer.Flush() // the answer first, for clients that read while they send
	wait := lingerTimeout
	if s.active.IsRetired() {
		wait = lingerDraining
	}
	_ = rc.SetReadDeadline(time.Now().Add(wait))
	_, _ = io.CopyN(io.Discard, b.orig, lingerBytes)
}

// bodyOf returns the request's guarded body, or nil for a request without one.
func bodyOf(c *gin.Context) *guardedBody {
	if v, ok := c.Get(bodyKey); ok {
		return v.(*guardedBody)
	}
	return nil
}

// guardedBody wraps the connection's body: it records how much was read and whether the end
// was reached, and fails with errShuttingDownBody once shutdown has cut it.
type guardedBody struct {
	orig     io.ReadCloser
	onEOF    func()
	read     atomic.Int64
	eof      atomic.Bool
	cut      atomic.Bool
	timedOut atomic.Bool
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.cut.Load() {
		return 0, errShuttingDownBody
	}
	n, err := b.orig.Read(p)
	b.read.Add(int64(n))
	var timeout interface{ Timeout() bool }
	switch {
	case err == io.EOF:
		b.eof.Store(true)
		if b.onEOF != nil {
			b.onEOF()
		}
	case err != nil && b.cut.Load():
		return n, errShuttingDownBody
	case errors.As(err, &timeout) && timeout.Timeout():
		b.timedOut.Store(true)
	}
	return n, err
}

func (b *guardedBody) Close() error { return b.orig.Close() }

// done reports whether the whole body has been read.
func (b *guardedBody) done() bool { return b.eof.Load() }

// bodyReads are the request bodies being read now: requests not yet admitted, which shutdown
// refuses instead of waiting for a slow client to finish sending.
type bodyReads struct {
	mu    sync.Mutex
	reads map[*guardedBody]*http.ResponseController
}

func (r *bodyReads) add(b *guardedBody, rc *http.ResponseController) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reads == nil {
		r.reads = map[*guardedBody]*http.ResponseController{}
	}
	r.reads[b] = rc
}

func (r *bodyReads) remove(b *guardedBody) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.reads, b)
}

// cutAll makes every body read in progress fail now with errShuttingDownBody. Setting the
// connection's read deadline is what interrupts a read blocked on a slow client.
func (r *bodyReads) cutAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for b, rc := range r.reads {
		if !b.done() {
			b.cut.Store(true)
			_ = rc.SetReadDeadline(time.Now())
		}
	}
}
