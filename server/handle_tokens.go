package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
)

// handleTokenize answers POST /v1/tokenize.
//
//	@Summary		Tokenize texts and sentence pairs
//	@Description	Returns each input's tokens with ids, token strings, character offsets (Unicode code
//	@Description	points, as Python counts them) and whether they are special. A [text, text] pair is laid
//	@Description	out <s> A </s></s> B </s>; its tokens say which text they come from (sequence 0 or 1) and
//	@Description	count offsets within it. No truncation is applied.
//	@Tags			tokenizer
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.TokenizeRequest	true	"texts"
//	@Success		200		{object}	api.TokenizeResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON or empty inputs"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit or too many inputs"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet"
//	@Security		APIKey
//	@Router			/v1/tokenize [post]
func (s *Server) handleTokenize(c *gin.Context) {
	serveTokenizer(s, c, bind, func(req *api.TokenizeRequest) (any, error) {
		inputs := pairInputs(req.Inputs)
		toks, err := s.core.Tokenize(inputs, boolOr(req.AddSpecialTokens, true))
		if err != nil {
			return nil, err
		}
		return api.TokenizeResponse{Tokens: apiTokens(toks, inputs)}, nil
	})
}

// handleDecode answers POST /v1/decode.
//
//	@Summary		Decode token ids to text
//	@Description	Turns one id sequence, or a list of sequences, back into text.
//	@Tags			tokenizer
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.DecodeRequest	true	"token ids"
//	@Success		200		{object}	api.DecodeResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON, empty ids, an id outside the vocabulary"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit or too many sequences"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet"
//	@Security		APIKey
//	@Router			/v1/decode [post]
func (s *Server) handleDecode(c *gin.Context) {
	serveTokenizer(s, c, bind, func(req *api.DecodeRequest) (any, error) {
		texts, err := s.core.Decode(req.IDs, boolOr(req.SkipSpecialTokens, true))
		if err != nil {
			return nil, err
		}
		return api.DecodeResponse{Texts: texts}, nil
	})
}

// serveTokenizer runs a tokenizer route (tokenize, decode), which costs no forward pass and
// so no admission: a request sent before the model is loaded is refused before its body is
// read, then the body is bound into a Req with bindFn (strict or lenient), and answer's
// result or error is written.
func serveTokenizer[Req any](s *Server, c *gin.Context, bindFn func(*gin.Context, any) *Error, answer func(*Req) (any, error)) {
	if err := s.core.Ready(); err != nil {
		s.fail(c, httpError(err))
		return
	}
	var req Req
	if e := bindFn(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	out, err := answer(&req)
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, out)
}
