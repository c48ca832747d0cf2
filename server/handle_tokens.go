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
	if err := s.core.Ready(); err != nil {
		s.fail(c, httpError(err))
		return
	}
	var req api.TokenizeRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	inputs := pairInputs(req.Inputs)
	toks, err := s.core.Tokenize(inputs, boolOr(req.AddSpecialTokens, true))
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, api.TokenizeResponse{Tokens: apiTokens(toks, inputs)})
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
	if err := s.core.Ready(); err != nil {
		s.fail(c, httpError(err))
		return
	}
	var req api.DecodeRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	texts, err := s.core.Decode(req.IDs, boolOr(req.SkipSpecialTokens, true))
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, api.DecodeResponse{Texts: texts})
}
