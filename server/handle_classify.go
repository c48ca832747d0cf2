package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
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
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req api.ClassifyRequest
		if e := bind(c, &req); e != nil {
			return 0, nil, nil, e
		}
		out, err := s.core.Classify(ctx, inference.ClassifyRequest{Inputs: req.Inputs, Head: req.Head, TopK: req.TopK,
			RawScores: req.RawScores, Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		resp := api.ClassifyResponse{Model: out.Model, Checkpoint: out.Checkpoint, Head: out.Head,
			Results: make([][]api.LabelScore, len(out.Results))}
		for i, ranked := range out.Results {
			resp.Results[i] = make([]api.LabelScore, len(ranked))
			for j, ls := range ranked {
				resp.Results[i][j] = api.LabelScore(ls)
			}
		}
		return len(req.Inputs), resp, &out.Stats, nil
	})
}
