package server

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/inference"
)

// The middleware chain, outermost first: recovery, observe, guardBody (payload limit, body
// read timeout, lingering close), gate (shutdown), then per route admit (concurrency and
// queue capacity, before the body is read) for the inference routes, or the admin token.

// recovery turns a panic in a handler into a JSON 500 without a stack trace for the client; the
// stack goes to the log. http.ErrAbortHandler keeps its meaning (abort the connection silently).
func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			s.log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			s.fail(c, internalError(fmt.Errorf("panic: %v", p)))
		}()
		c.Next()
	}
}

// probeRoutes are polled by orchestrators every few seconds; their answers, 503 during
// start-up and shutdown included, are expected and logged at debug level only.
var probeRoutes = map[string]bool{"/healthz": true, "/readyz": true}

// observe records coldserve_http_* metrics and writes one access-log line per request: debug
// for successes and probes, warn for 4xx (except 404 and 429) and 503, error for other 5xx.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		labels := []string{route, c.Request.Method, strconv.Itoa(status)}
		s.metrics.httpRequests.WithLabelValues(labels...).Inc()
		s.metrics.httpDuration.WithLabelValues(labels...).Observe(elapsed.Seconds())
		attrs := []any{"method", c.Request.Method, "path", clip(c.Request.URL.Path), "status", status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "bytes", c.Writer.Size()}
		switch {
		case probeRoutes[route]:
			s.log.Debug("request", attrs...)
		case status >= 500 && status != http.StatusServiceUnavailable:
			s.log.Error("request", attrs...)
		case status >= 400 && status != http.StatusNotFound && status != http.StatusTooManyRequests:
			s.log.Warn("request", attrs...)
		default:
			s.log.Debug("request", attrs...)
		}
	}
}

// gate admits requests while the server runs and refuses them with 503 shutting_down once
// shutdown has begun; Serve waits for the admitted ones before it closes connections, and
// for arrivals to stop (see settle). It also bounds how long any answer may take to write.
func (s *Server) gate() gin.HandlerFunc {
	return func(c *gin.Context) {
		s.lastArrival.Store(time.Now().UnixNano())
		if !s.active.Acquire() {
			s.fail(c, errShuttingDown)
			return
		}
		defer s.active.Release()
		if t := s.opts.Timeouts; t.Write > 0 && t.Request > 0 {
			// An outer bound for routes that do not go through respond, which tightens it.
			_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(t.Request + t.Write))
		}
		c.Next()
	}
}

// admit is the inference routes' admission control, applied before the body is read. A
// request beyond --max-concurrent-requests is refused with 429 at once. Otherwise the core
// reserves room in the queue the request will use for an estimate of its tokens made from its
// size, and it is refused with 429 when there is none. Parsing and tokenizing cost more than a
// forward pass of a short text, so refusing after them would let retrying clients take the
// CPU the passes need; and reserving, rather than only checking, keeps concurrent requests
// from all passing the check at once and then all being refused after the work.
func (s *Server) admit(w inference.Workload) gin.HandlerFunc {
	return func(c *gin.Context) {
		select {
		case s.inference <- struct{}{}:
			defer func() { <-s.inference }()
		default:
			s.refuse(c, errorf(http.StatusTooManyRequests, CodeOverloaded,
				"the server is overloaded: %d requests are in progress (--max-concurrent-requests), retry after Retry-After seconds",
				cap(s.inference)))
			return
		}
		res, err := s.core.Reserve(w, s.estimateTokens(c.Request))
		if err != nil {
			s.refuse(c, httpError(err))
			return
		}
		defer res.Release() // a no-op once the request was submitted
		c.Set(admissionKey, res)
		c.Next()
	}
}

const admissionKey = "coldserve.admission"

// bytesPerToken is the estimate admission reserves with: English in byte-level BPE averages
// four to five bytes of text per token, and the JSON around the texts adds bytes, so a body's
// size over five rarely exceeds its tokens by much, and rarely falls far short.
const bytesPerToken = 5

// estimateTokens guesses a request's tokens from its declared size, before reading it. A
// chunked body of unknown size reserves nothing and is checked against the queue exactly
// once tokenized.
func (s *Server) estimateTokens(r *http.Request) int {
	if r.ContentLength <= 0 {
		return 0
	}
	return int(min(r.ContentLength/bytesPerToken, int64(s.opts.MaxRequestTokens)))
}

// admissionOf is the room admit reserved for the request, or nil.
func admissionOf(c *gin.Context) *inference.Reservation {
	if v, ok := c.Get(admissionKey); ok {
		return v.(*inference.Reservation)
	}
	return nil
}

// refuse answers an inference request that admission turned away, counting it in te_request_*.
func (s *Server) refuse(c *gin.Context, e *Error) {
	if s.core.Ready() == nil {
		e.RetryAfter = retryAfter(s.core.QueueDrain())
	}
	s.metrics.requestCount.WithLabelValues("unknown").Inc()
	s.metrics.requestFailure.WithLabelValues(e.Code).Inc()
	s.metrics.refused.WithLabelValues(inference.StageAdmission).Inc()
	s.fail(c, e)
}

// fail answers err as {"error": {"code", "message"}} and stops the handler chain. Causes of 5xx
// answers are logged (the client only sees the generic message).
func (s *Server) fail(c *gin.Context, err *Error) {
	if err.Status >= 500 && err.Status != http.StatusServiceUnavailable && err.Err != nil {
		s.log.Error("request failed", "path", clip(c.Request.URL.Path), "code", err.Code, "err", err.Err)
	}
	if err.Status == http.StatusTooManyRequests || err.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(max(1, err.RetryAfter)))
	}
	if b := bodyOf(c); b != nil && !b.done() {
		// The client may still be sending: guardBody reads the rest before the connection
		// closes, so that the client reads this answer instead of a reset.
		c.Header("Connection", "close")
	}
	switch route := c.FullPath(); {
	case openAIPaths[route]:
		s.respond(c, err.Status, openAIError(err))
	case teiPaths[route]:
		status, body := teiError(err)
		s.respond(c, status, body)
	default:
		s.respond(c, err.Status, err.Body())
	}
	c.Abort()
}

// respond writes v as JSON within the write timeout: a client that does not read its answer
// holds the connection and the rendered body only that long.
func (s *Server) respond(c *gin.Context, status int, v any) {
	if t := s.opts.Timeouts.Write; t > 0 {
		_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(t))
	}
	if s.active.IsRetired() {
		c.Header("Connection", "close") // no keep-alive while draining
	}
	c.PureJSON(status, v)
}

// retryAfter turns a queue's drain estimate into Retry-After seconds: the time the engine
// needs for what waits, at least 1 and at most a minute.
func retryAfter(drain time.Duration) int {
	secs := int(drain.Seconds() + 0.999)
	return min(max(secs, 1), 60)
}

// noRoute and noMethod answer unknown routes and methods in the error shape.
func (s *Server) noRoute(c *gin.Context) {
	s.fail(c, errorf(http.StatusNotFound, CodeNotFound, "no route %s %s", clip(c.Request.Method), clip(c.Request.URL.Path)))
}

func (s *Server) noMethod(c *gin.Context) {
	s.fail(c, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method %s is not allowed on %s", clip(c.Request.Method), clip(strings.TrimSpace(c.Request.URL.Path))))
}
