package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
)

// handleClassify answers POST /v1/classify.
//
//	@Summary		Classify texts with a finetuned head
//	@Description	Runs the head's encoder on each input and applies the classification head to the <s>
//	@Description	row. Labels come from the head's id2label and are sorted by descending score (softmax,
//	@Description	or sigmoid for multi-label heads; logits with raw_scores).
//	@Tags			inference
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.ClassifyRequest	true	"texts, head and options"
//	@Success		200		{object}	api.ClassifyResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty inputs, bad top_k, head missing while several are loaded"
//	@Failure		404		{object}	api.ErrorResponse	"unknown head"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit, too many inputs or tokens"
//	@Failure		408		{object}	api.ErrorResponse	"the body did not arrive within the body read timeout"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		429		{object}	api.ErrorResponse	"overloaded: the queue has no room (see Retry-After)"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet or shutting down"
//	@Failure		504		{object}	api.ErrorResponse	"the request took longer than the request timeout"
//	@Router			/v1/classify [post]
func (s *Server) handleClassify(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, m *served, adm *admission) (any, *stats, *Error) {
		var req api.ClassifyRequest
		if e := bind(c, &req); e != nil {
			return nil, nil, e
		}
		st := &stats{inputs: len(req.Inputs)}
		if e := s.checkInputs(len(req.Inputs), "inputs"); e != nil {
			return nil, st, e
		}
		h, e := m.resolveHead(req.Head)
		if e != nil {
			return nil, st, e
		}
		labels := h.head.Labels()
		k := len(labels)
		if req.TopK != nil {
			if *req.TopK < 1 {
				return nil, st, errorf(http.StatusBadRequest, CodeInvalidArgument, "top_k must be at least 1, got %d", *req.TopK)
			}
			k = min(k, *req.TopK)
		}
		out, e := s.compute(ctx, m, adm, h.lane, req.Inputs, true)
		if e != nil {
			return nil, &out.stats, e
		}
		resp := api.ClassifyResponse{
			Model:      m.name,
			Checkpoint: out.res.Forwarder.CheckpointID(),
			Head:       h.name,
			Results:    make([][]api.LabelScore, len(out.res.Rows)),
		}
		for i, row := range out.res.Rows {
			hidden := row.Output.Hidden(row.Index)
			logits := h.head.Logits(hidden[0])
			if logits == nil {
				return nil, &out.stats, internalError(fmt.Errorf("head %s: the encoder rows do not match its width", h.name))
			}
			scores := logits
			if !req.RawScores {
				scores = h.head.Scores(logits)
			}
			ranked := make([]api.LabelScore, len(scores))
			for j, sc := range scores {
				ranked[j] = api.LabelScore{Label: labels[j], Score: sc}
			}
			sort.SliceStable(ranked, func(a, b int) bool { return ranked[a].Score > ranked[b].Score })
			resp.Results[i] = ranked[:k]
		}
		return resp, &out.stats, nil
	})
}

// resolveHead finds the requested head; the name may be omitted when exactly one is loaded.
func (m *served) resolveHead(name string) (*servedHead, *Error) {
	if name == "" {
		switch len(m.headNames) {
		case 0:
			return nil, errorf(http.StatusNotFound, CodeUnknownHead,
				"no classification head is loaded: serve a *ForSequenceClassification checkpoint or add --head NAME=DIR")
		case 1:
			return m.heads[m.headNames[0]], nil
		default:
			return nil, errorf(http.StatusBadRequest, CodeMissingHead,
				"several heads are loaded, name one in \"head\": %s", strings.Join(m.headNames, ", "))
		}
	}
	h, ok := m.heads[name]
	if !ok {
		if len(m.headNames) == 0 {
			return nil, errorf(http.StatusNotFound, CodeUnknownHead, "unknown head %q: no classification head is loaded", clip(name))
		}
		return nil, errorf(http.StatusNotFound, CodeUnknownHead, "unknown head %q (loaded: %s)", clip(name), strings.Join(m.headNames, ", "))
	}
	return h, nil
}
