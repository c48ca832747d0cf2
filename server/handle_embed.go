package server

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// handleEmbed answers POST /v1/embed.
//
//	@Summary		Embed texts
//	@Description	Runs the encoder on each input and pools its token vectors into one vector (mean, cls or
//	@Description	pooler), or returns every token's vector with pooling "none" (tokens are then always
//	@Description	included). Concurrent requests are batched; batching never changes a vector.
//	@Tags			inference
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.EmbedRequest	true	"texts and options"
//	@Success		200		{object}	api.EmbedResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty inputs, unknown pooling"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit, too many inputs or tokens"
//	@Failure		422		{object}	api.ErrorResponse	"input too long with truncate: false"
//	@Failure		408		{object}	api.ErrorResponse	"the body did not arrive within the body read timeout"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		429		{object}	api.ErrorResponse	"overloaded: the queue has no room (see Retry-After)"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet or shutting down"
//	@Failure		504		{object}	api.ErrorResponse	"the request took longer than the request timeout"
//	@Security		APIKey
//	@Router			/v1/embed [post]
func (s *Server) handleEmbed(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req api.EmbedRequest
		if e := bind(c, &req); e != nil {
			return 0, nil, nil, e
		}
		trunc, e := truncation(req.Truncate, req.TruncationDirection, "")
		if e != nil {
			return 0, nil, nil, e
		}
		inputs := sequences(req.Inputs)
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: inputs, Pooling: req.Pooling,
			Normalize: req.Normalize, Dimensions: req.Dimensions, Truncation: trunc,
			ReturnTokens: req.ReturnTokens, Classify: req.Classify, Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		resp := api.EmbedResponse{
			Model:           out.Model,
			Checkpoint:      out.Checkpoint,
			Pooling:         string(out.Pooling),
			Dimensions:      out.Dimensions,
			Usage:           usage(out.Stats),
			Embeddings:      out.Vectors,
			Tokens:          apiTokens(out.Tokens, inputs),
			Classifications: headScores(out.Classifications),
		}
		if out.TokenVectors != nil {
			resp.Embeddings = out.TokenVectors
		}
		return len(req.Inputs), resp, &out.Stats, nil
	})
}
