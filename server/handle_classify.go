package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// handleClassify answers POST /v1/classify.
//
//	@Summary		Classify texts and sentence pairs with finetuned heads
//	@Description	Runs the head's encoder on each input (a text, or a [premise, hypothesis] pair encoded
//	@Description	<s> A </s></s> B </s>) and applies the classification head to the <s> row. Labels come
//	@Description	from the head's id2label and are sorted by descending score (softmax, or sigmoid for
//	@Description	multi-label heads; logits with raw_scores). With "heads", several heads score the inputs
//	@Description	at once, one forward pass per encoder, and the answer is keyed by head.
//	@Tags			inference
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.ClassifyRequest	true	"texts or pairs, heads and options"
//	@Success		200		{object}	api.ClassifyResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty inputs, bad top_k or truncation option, head missing while several are loaded"
//	@Failure		404		{object}	api.ErrorResponse	"unknown head"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit, too many inputs or tokens"
//	@Failure		408		{object}	api.ErrorResponse	"the body did not arrive within the body read timeout"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		422		{object}	api.ErrorResponse	"input too long with truncate: false"
//	@Failure		429		{object}	api.ErrorResponse	"overloaded: the queue has no room (see Retry-After)"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet or shutting down"
//	@Failure		504		{object}	api.ErrorResponse	"the request took longer than the request timeout"
//	@Security		APIKey
//	@Router			/v1/classify [post]
func (s *Server) handleClassify(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req api.ClassifyRequest
		if e := bind(c, &req); e != nil {
			return 0, nil, nil, e
		}
		if req.Head != "" && req.Heads != nil {
			return 0, nil, nil, errorf(http.StatusBadRequest, CodeInvalidArgument,
				"send \"head\" or \"heads\", not both")
		}
		trunc, e := truncation(req.Truncate, req.TruncationDirection, req.TruncationStrategy)
		if e != nil {
			return 0, nil, nil, e
		}
		heads := []string(req.Heads)
		if req.Head != "" {
			heads = []string{req.Head}
		}
		out, err := s.core.Classify(ctx, inference.ClassifyRequest{Inputs: pairInputs(req.Inputs), Heads: heads,
			TopK: req.TopK, RawScores: req.RawScores, Truncation: trunc, Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		resp := api.ClassifyResponse{Model: out.Model, Usage: usage(out.Stats)}
		if req.Heads != nil {
			resp.Heads = headScores(out.Heads)
		} else {
			h := out.Heads[0]
			resp.Checkpoint, resp.Head, resp.Results = h.Checkpoint, h.Head, labelScores(h.Results)
		}
		return len(req.Inputs), resp, &out.Stats, nil
	})
}

// handleRerank answers POST /v1/rerank.
//
//	@Summary		Rank texts against a query with a cross-encoder head
//	@Description	Scores each (query, text) pair with a classification head, encoded <s> query </s></s>
//	@Description	text </s>, and returns the texts by descending score: the sigmoid of a one-label head's
//	@Description	logit, or for a head of several labels the score of the label named in "label"
//	@Description	(entailment, say); the logit with raw_scores. All pairs share one batch.
//	@Tags			inference
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.RerankRequest	true	"query, texts and options"
//	@Success		200		{object}	api.RerankResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty texts, a label the head does not have, a head of several labels without label"
//	@Failure		404		{object}	api.ErrorResponse	"unknown head"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit, too many texts or tokens"
//	@Failure		422		{object}	api.ErrorResponse	"input too long with truncate: false"
//	@Failure		429		{object}	api.ErrorResponse	"overloaded: the queue has no room (see Retry-After)"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet or shutting down"
//	@Failure		504		{object}	api.ErrorResponse	"the request took longer than the request timeout"
//	@Security		APIKey
//	@Router			/v1/rerank [post]
func (s *Server) handleRerank(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req api.RerankRequest
		if e := bind(c, &req); e != nil {
			return 0, nil, nil, e
		}
		trunc, e := truncation(req.Truncate, req.TruncationDirection, req.TruncationStrategy)
		if e != nil {
			return 0, nil, nil, e
		}
		topN := 0
		if req.TopN != nil {
			if *req.TopN < 1 {
				return 0, nil, nil, errorf(http.StatusBadRequest, CodeInvalidArgument, "top_n must be at least 1, got %d", *req.TopN)
			}
			topN = *req.TopN
		}
		out, err := s.core.Rerank(ctx, inference.RerankRequest{Query: req.Query, Texts: req.Texts, Head: req.Head,
			Label: req.Label, TopN: topN, RawScores: req.RawScores, Truncation: trunc, Reserved: res})
		if err != nil {
			return len(req.Texts), nil, nil, err
		}
		resp := api.RerankResponse{Model: out.Model, Checkpoint: out.Checkpoint, Head: out.Head, Label: out.Label,
			Results: make([]api.RankedText, len(out.Ranks)), Usage: usage(out.Stats)}
		for i, r := range out.Ranks {
			resp.Results[i] = api.RankedText{Index: r.Index, Score: r.Score}
			if req.ReturnText {
				resp.Results[i].Text = &req.Texts[r.Index]
			}
		}
		return len(req.Texts), resp, &out.Stats, nil
	})
}

// handleZeroShot answers POST /v1/zero-shot.
//
//	@Summary		Zero-shot classification through an NLI head
//	@Description	As Hugging Face's zero-shot-classification pipeline: each input is paired with the
//	@Description	hypothesis of each candidate label (the template with {} replaced by the label) and
//	@Description	scored by an NLI head. Single-label: softmax of the entailment logits across the labels;
//	@Description	multi_label (or one label): per label, softmax over (contradiction, entailment). All pairs
//	@Description	share one batch.
//	@Tags			inference
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.ZeroShotRequest	true	"inputs, candidate labels and options"
//	@Success		200		{object}	api.ZeroShotResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty inputs or labels, a template without {}, a head that is not NLI"
//	@Failure		404		{object}	api.ErrorResponse	"unknown head"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit, too many pairs or tokens"
//	@Failure		429		{object}	api.ErrorResponse	"overloaded: the queue has no room (see Retry-After)"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet or shutting down"
//	@Failure		504		{object}	api.ErrorResponse	"the request took longer than the request timeout"
//	@Security		APIKey
//	@Router			/v1/zero-shot [post]
func (s *Server) handleZeroShot(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req api.ZeroShotRequest
		if e := bind(c, &req); e != nil {
			return 0, nil, nil, e
		}
		out, err := s.core.ZeroShot(ctx, inference.ZeroShotRequest{Inputs: req.Inputs, CandidateLabels: req.CandidateLabels,
			Template: req.HypothesisTemplate, MultiLabel: req.MultiLabel, Head: req.Head, Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		resp := api.ZeroShotResponse{Model: out.Model, Checkpoint: out.Checkpoint, Head: out.Head,
			Results: make([]api.ZeroShotResult, len(out.Results)), Usage: usage(out.Stats)}
		for i, r := range out.Results {
			resp.Results[i] = api.ZeroShotResult{Sequence: req.Inputs[i], Labels: r.Labels, Scores: r.Scores}
		}
		return len(req.Inputs), resp, &out.Stats, nil
	})
}
