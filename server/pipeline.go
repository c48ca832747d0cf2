package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/inference"
)

// serveInference runs an embed or classify handler body under the request timeout, records
// te_request_* metrics, sets TEI's timing headers and writes the JSON answer or the error. A
// request sent before the model is loaded is refused before its body is parsed. body returns
// how many inputs the request had (0 when it did not parse), and the answer or the error.
func (s *Server) serveInference(c *gin.Context, body func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error)) {
	start := time.Now()
	if err := s.core.Ready(); err != nil {
		e := httpError(err)
		s.metrics.requestFailure.WithLabelValues(e.Code).Inc()
		s.fail(c, e)
		return
	}
	ctx := c.Request.Context()
	if t := s.opts.Timeouts.Request; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, inference.ErrTimeout)
		defer cancel()
	}
	ctx, giveUp := context.WithCancelCause(ctx)
	defer giveUp(nil)
	defer context.AfterFunc(s.giveUp, func() { giveUp(context.Cause(s.giveUp)) })()
	inputs, resp, st, err := body(ctx, admissionOf(c))
	method := "single"
	if inputs > 1 {
		method = "batch"
	}
	s.metrics.requestCount.WithLabelValues(method).Inc()
	if err != nil {
		e := httpError(err)
		s.metrics.requestFailure.WithLabelValues(e.Code).Inc()
		s.fail(c, e)
		return
	}
	total := time.Since(start)
	s.metrics.requestSuccess.WithLabelValues(method).Inc()
	s.metrics.requestDuration.Observe(total.Seconds())
	s.metrics.stages(st)
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	h := c.Writer.Header()
	h.Set("x-compute-type", "cpu")
	h.Set("x-compute-characters", strconv.Itoa(st.Chars))
	h.Set("x-compute-tokens", strconv.Itoa(st.Tokens))
	h.Set("x-total-time", ms(total))
	h.Set("x-tokenization-time", ms(st.Tokenize))
	h.Set("x-queue-time", ms(st.Queue))
	h.Set("x-inference-time", ms(st.Inference))
	s.respond(c, http.StatusOK, resp)
}

// boolOr returns *p, or def when the field was absent.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
