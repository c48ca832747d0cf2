package server

import (
	"context"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/encoder"
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
//	@Router			/v1/embed [post]
func (s *Server) handleEmbed(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, m *served, adm *admission) (any, *stats, *Error) {
		var req api.EmbedRequest
		if e := bind(c, &req); e != nil {
			return nil, nil, e
		}
		st := &stats{inputs: len(req.Inputs)}
		if e := s.checkInputs(len(req.Inputs), "inputs"); e != nil {
			return nil, st, e
		}
		pooling := s.opts.DefaultPooling
		if req.Pooling != "" {
			p, err := encoder.ParsePooling(req.Pooling)
			if err != nil {
				return nil, st, errorf(http.StatusBadRequest, CodeInvalidArgument, "pooling: %v", err)
			}
			pooling = p
		}
		if pooling == encoder.PoolPooler && !m.main.eng.Current().HasPooler() {
			return nil, st, errorf(http.StatusBadRequest, CodeInvalidArgument,
				"pooling \"pooler\": this checkpoint has no pooler weights; use mean or cls")
		}
		truncate := boolOr(req.Truncate, true)
		if pooling != encoder.PoolNone && !req.ReturnTokens {
			// Pooled vectors only: the result cache applies.
			res, e := s.embedPooled(ctx, m, adm, req.Inputs, pooling, req.Normalize, truncate)
			if e != nil {
				return nil, &res.stats, e
			}
			return api.EmbedResponse{
				Model:      m.name,
				Checkpoint: res.checkpoint,
				Pooling:    string(pooling),
				Dimensions: res.dimensions,
				Usage:      api.Usage{PromptTokens: res.stats.tokens, TotalTokens: res.stats.tokens},
				Embeddings: res.vecs,
			}, &res.stats, nil
		}
		out, e := s.compute(ctx, m, adm, m.main, req.Inputs, truncate)
		if e != nil {
			return nil, &out.stats, e
		}
		enc := out.res.Forwarder
		resp := api.EmbedResponse{
			Model:      m.name,
			Checkpoint: enc.CheckpointID(),
			Pooling:    string(pooling),
			Dimensions: enc.Config().HiddenSize,
			Usage:      api.Usage{PromptTokens: out.stats.tokens, TotalTokens: out.stats.tokens},
		}
		if pooling == encoder.PoolNone {
			vecs := make([][][]float32, len(out.res.Rows))
			for i, row := range out.res.Rows {
				vecs[i] = tokenRows(row.Output.Hidden(row.Index), req.Normalize)
			}
			resp.Embeddings = vecs
		} else {
			vecs := make([][]float32, len(out.res.Rows))
			for i, row := range out.res.Rows {
				v, err := enc.Pool(row.Output, row.Index, pooling, req.Normalize)
				if err != nil {
					return nil, &out.stats, internalError(err)
				}
				vecs[i] = v
			}
			resp.Embeddings = vecs
		}
		if req.ReturnTokens || pooling == encoder.PoolNone {
			resp.Tokens = make([][]api.Token, len(out.encs))
			for i, e := range out.encs {
				resp.Tokens[i] = e.tokens
			}
		}
		return resp, &out.stats, nil
	})
}

// tokenRows returns a sequence's token vectors, L2-normalised copies when normalize is set
// (the encoder's rows are shared with batchmates and must not be modified).
func tokenRows(rows [][]float32, normalize bool) [][]float32 {
	if !normalize {
		return rows
	}
	out := make([][]float32, len(rows))
	for i, r := range rows {
		var ss float64
		for _, x := range r {
			ss += float64(x) * float64(x)
		}
		v := make([]float32, len(r))
		if ss > 0 {
			inv := 1 / math.Sqrt(ss)
			for j, x := range r {
				v[j] = float32(float64(x) * inv)
			}
		}
		out[i] = v
	}
	return out
}
