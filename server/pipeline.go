package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/model"
)

// checkInputs applies the rules shared by every route that takes "inputs".
func (s *Server) checkInputs(n int, what string) *Error {
	switch {
	case n == 0:
		return errorf(http.StatusBadRequest, CodeEmptyInput, "%s is empty: send a string or a non-empty list", what)
	case n > s.opts.MaxClientBatch:
		return errorf(http.StatusRequestEntityTooLarge, CodeTooManyInputs,
			"%d %s, more than the limit of %d per request (--max-client-batch)", n, what, s.opts.MaxClientBatch)
	}
	return nil
}

// computed is the outcome of the shared inference pipeline for one request.
type computed struct {
	encs  []encoding
	res   engine.Result[*model.Encoder, *model.Output]
	stats stats
}

// stats describe one embed/classify request for metrics and response headers.
type stats struct {
	inputs  int
	chars   int
	tokens  int
	lengths []int
	t       timings
}

// compute tokenizes texts on lane l (truncating to the model's limit, or answering 422 when
// truncate is false and an input is longer), runs them through l's engine and returns the rows.
// The request is pinned to the encoder current at admission; its result says which one. A
// full queue is checked before tokenizing, so that refusing costs little.
func (s *Server) compute(ctx context.Context, m *served, adm *admission, l *lane, texts []string, truncate bool) (*computed, *Error) {
	out := &computed{stats: stats{inputs: len(texts), t: timings{start: time.Now()}}}
	if !adm.holds(l) && l.eng.Full() {
		e := computeError(engine.ErrOverloaded)
		e.RetryAfter = retryAfter(l.eng.Backlog())
		s.metrics.refused.WithLabelValues("admission").Inc()
		return out, e
	}
	encs, err := l.tok.encode(texts, m.maxInputTokens, true)
	if err != nil {
		return out, internalError(err)
	}
	out.encs = encs
	out.stats.t.tokenize = time.Since(out.stats.t.start)

	ids := make([][]int32, len(out.encs))
	out.stats.lengths = make([]int, len(out.encs))
	for i, enc := range out.encs {
		if enc.dropped > 0 && !truncate {
			return out, errorf(http.StatusUnprocessableEntity, CodeInputTooLong,
				"input %d has %d tokens, more than the limit of %d (specials included): shorten it or send \"truncate\": true",
				i, enc.fullLength(), m.maxInputTokens)
		}
		ids[i] = enc.ids
		out.stats.lengths[i] = len(enc.ids)
		out.stats.tokens += len(enc.ids)
		out.stats.chars += utf8.RuneCountInString(texts[i])
	}
	if out.stats.tokens > s.opts.MaxRequestTokens {
		return out, errorf(http.StatusRequestEntityTooLarge, CodeTooManyTokens,
			"the inputs have %d tokens in all, more than the limit of %d per request (--max-request-tokens): split the request",
			out.stats.tokens, s.opts.MaxRequestTokens)
	}
	res, err := adm.submit(ctx, l, ids)
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), errRequestTimeout) {
			err = fmt.Errorf("%w: %w", errRequestTimeout, err)
		}
		e := computeError(err)
		if e.Status == http.StatusTooManyRequests {
			e.RetryAfter = retryAfter(l.eng.Backlog())
			stage := "queue_full"
			if errors.Is(err, engine.ErrQueueTimeout) {
				stage = "queue_wait"
			}
			s.metrics.refused.WithLabelValues(stage).Inc()
		}
		return out, e
	}
	out.res = res
	out.stats.t.queue = res.Queue
	out.stats.t.inference = res.Inference
	return out, nil
}

// serveInference runs an embed or classify handler body under the request timeout, records
// te_request_* metrics, sets TEI's timing headers and writes the JSON answer or the error.
func (s *Server) serveInference(c *gin.Context, body func(ctx context.Context, m *served, adm *admission) (any, *stats, *Error)) {
	start := time.Now()
	m, e := s.acquire()
	if e != nil {
		s.metrics.requestFailure.WithLabelValues(e.Code).Inc()
		s.fail(c, e)
		return
	}
	defer m.refs.Release()
	ctx := c.Request.Context()
	if t := s.opts.Timeouts.Request; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, errRequestTimeout)
		defer cancel()
	}
	resp, st, e := body(ctx, m, admissionOf(c))
	method := "single"
	if st != nil && st.inputs > 1 {
		method = "batch"
	}
	s.metrics.requestCount.WithLabelValues(method).Inc()
	if e != nil {
		s.metrics.requestFailure.WithLabelValues(e.Code).Inc()
		s.fail(c, e)
		return
	}
	total := time.Since(start)
	s.metrics.requestSuccess.WithLabelValues(method).Inc()
	s.metrics.requestDuration.Observe(total.Seconds())
	s.metrics.stages(st.t, st.lengths)
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	h := c.Writer.Header()
	h.Set("x-compute-type", "cpu")
	h.Set("x-compute-characters", strconv.Itoa(st.chars))
	h.Set("x-compute-tokens", strconv.Itoa(st.tokens))
	h.Set("x-total-time", ms(total))
	h.Set("x-tokenization-time", ms(st.t.tokenize))
	h.Set("x-queue-time", ms(st.t.queue))
	h.Set("x-inference-time", ms(st.t.inference))
	s.respond(c, http.StatusOK, resp)
}

// boolOr returns *p, or def when the field was absent.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
