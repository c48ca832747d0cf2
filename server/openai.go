package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api/openai"
	"github.com/coldserve/coldserve/inference"
)

// openAIPaths are the routes that answer in OpenAI's wire format, errors included.
var openAIPaths = map[string]bool{"/v1/embeddings": true, "/embeddings": true}

// handleOpenAIEmbeddings answers POST /v1/embeddings (and /embeddings) as OpenAI's API does.
//
//	@Summary		Embed texts (OpenAI-compatible)
//	@Description	OpenAI's embeddings API: mean-pooled, L2-normalized vectors, as float arrays or, with
//	@Description	encoding_format base64 (what the OpenAI SDKs send by default), base64 of little-endian
//	@Description	float32. Unknown fields are ignored, as OpenAI-compatible servers do.
//	@Tags			openai
//	@Accept			json
//	@Produce		json
//	@Param			request	body		openai.EmbeddingsRequest	true	"input and options"
//	@Success		200		{object}	openai.EmbeddingsResponse
//	@Failure		400		{object}	openai.ErrorResponse	"malformed JSON, empty input, bad encoding_format or dimensions"
//	@Failure		413		{object}	openai.ErrorResponse	"too many inputs or tokens"
//	@Failure		429		{object}	openai.ErrorResponse	"overloaded (see Retry-After)"
//	@Failure		503		{object}	openai.ErrorResponse	"model not loaded yet or shutting down"
//	@Router			/v1/embeddings [post]
func (s *Server) handleOpenAIEmbeddings(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req openai.EmbeddingsRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		format, err := openai.ParseFormat(req.EncodingFormat)
		if err != nil {
			return 0, nil, nil, errorf(http.StatusBadRequest, CodeInvalidArgument, "%v", err)
		}
		texts := make([]string, len(req.Input))
		for i, in := range req.Input {
			if in.IsIDs() {
				// The core embeds texts; ids in the model's vocabulary are issue 12's open part.
				return 0, nil, nil, errorf(http.StatusBadRequest, CodeInvalidArgument,
					"input[%d]: token-id inputs are not supported yet: send text (LangChain: check_embedding_ctx_length=False)", i)
			}
			texts[i] = in.Text
		}
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: texts, Pooling: "mean", Normalize: req.Dimensions == nil,
			Truncate: true, Reserved: res})
		if err != nil {
			return len(texts), nil, nil, err
		}
		if req.Model != "" && req.Model != out.Model {
			s.log.Warn("an OpenAI request names another model; serving the loaded one", "model", clip(req.Model), "served", out.Model)
		}
		resp := openai.EmbeddingsResponse{Object: "list", Model: out.Model,
			Usage: openai.Usage{PromptTokens: out.Stats.Tokens, TotalTokens: out.Stats.Tokens}}
		for i, v := range out.Vectors {
			if req.Dimensions != nil {
				if v, err = truncateDims(v, *req.Dimensions); err != nil {
					return len(texts), nil, nil, err
				}
			}
			raw, err := encodeVector(v, format)
			if err != nil {
				return len(texts), nil, nil, err
			}
			resp.Data = append(resp.Data, openai.Embedding{Object: "embedding", Embedding: raw, Index: i})
		}
		return len(texts), resp, &out.Stats, nil
	})
}

// truncateDims keeps the first n dimensions of v and scales them to unit length (Matryoshka
// truncation as OpenAI's dimensions does it). v is not modified: the cache shares it.
func truncateDims(v []float32, n int) ([]float32, error) {
	if n < 1 || n > len(v) {
		return nil, errorf(http.StatusBadRequest, CodeInvalidArgument, "dimensions %d: want 1 to %d", n, len(v))
	}
	out := make([]float32, n)
	var sum float64
	for i, x := range v[:n] {
		out[i] = x
		sum += float64(x) * float64(x)
	}
	if norm := math.Sqrt(sum); norm > 0 {
		for i := range out {
			out[i] = float32(float64(out[i]) / norm)
		}
	}
	return out, nil
}

// encodeVector renders one embedding: a JSON float array, or a JSON string holding base64 of
// the little-endian float32 bytes, which the OpenAI SDKs decode.
func encodeVector(v []float32, f openai.Format) (json.RawMessage, error) {
	if f == openai.Float {
		return json.Marshal(v)
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// openAIError is err in OpenAI's shape, with the type OpenAI gives that status.
func openAIError(e *Error) openai.ErrorResponse {
	typ := "invalid_request_error"
	switch {
	case e.Status == http.StatusUnauthorized:
		typ = "authentication_error"
	case e.Status == http.StatusNotFound:
		typ = "not_found_error"
	case e.Status == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case e.Status >= 500:
		typ = "server_error"
	}
	code := e.Code
	return openai.ErrorResponse{Error: openai.ErrorBody{Message: inference.ClipN(e.Message, maxMessageBytes), Type: typ, Code: &code}}
}
