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
//	@Security		APIKey
//	@Router			/v1/embeddings [post]
//	@Router			/embeddings [post]
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
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: sequences(req.Input), Pooling: "mean", Normalize: true,
			Dimensions: req.Dimensions, Reserved: res})
		if err != nil {
			return len(req.Input), nil, nil, err
		}
		if req.Model != "" && req.Model != out.Model {
			s.log.Warn("an OpenAI request names another model; serving the loaded one", "model", clip(req.Model), "served", out.Model)
		}
		resp := openai.EmbeddingsResponse{Object: "list", Model: out.Model,
			Usage: openai.Usage{PromptTokens: out.Stats.Tokens, TotalTokens: out.Stats.Tokens}}
		for i, v := range out.Vectors {
			raw, err := encodeVector(v, format)
			if err != nil {
				return len(req.Input), nil, nil, err
			}
			resp.Data = append(resp.Data, openai.Embedding{Object: "embedding", Embedding: raw, Index: i})
		}
		return len(req.Input), resp, &out.Stats, nil
	})
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
