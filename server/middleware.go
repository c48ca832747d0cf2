package server

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

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

// observe records coldserve_http_* metrics and writes one access-log line per request (debug
// level for successes, warn for 4xx except 404/429, error for 5xx).
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
		attrs := []any{"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "bytes", c.Writer.Size()}
		switch {
		case status >= 500:
			s.log.Error("request", attrs...)
		case status >= 400 && status != http.StatusNotFound && status != http.StatusTooManyRequests:
			s.log.Warn("request", attrs...)
		default:
			s.log.Debug("request", attrs...)
		}
	}
}

// limitBody enforces --payload-limit: a declared Content-Length over the limit is refused before
// reading, and the body reader fails with *http.MaxBytesError once it passes the limit.
func (s *Server) limitBody() gin.HandlerFunc {
	limit := s.opts.PayloadLimit
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			s.fail(c, errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
				"request body is %d bytes, larger than the payload limit of %d bytes", c.Request.ContentLength, limit))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// fail answers err as {"error": {"code", "message"}} and stops the handler chain. Causes of 5xx
// answers are logged (the client only sees the generic message).
func (s *Server) fail(c *gin.Context, err *Error) {
	if err.Status >= 500 && err.Err != nil {
		s.log.Error("request failed", "path", c.Request.URL.Path, "code", err.Code, "err", err.Err)
	}
	if err.Status == http.StatusTooManyRequests {
		c.Header("Retry-After", "1")
	}
	c.AbortWithStatusPureJSON(err.Status, err.Body())
}
