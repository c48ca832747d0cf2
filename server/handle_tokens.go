package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
)

// handleTokenize answers POST /v1/tokenize.
//
//	@Summary		Tokenize texts
//	@Description	Returns each input's tokens with ids, token strings, character offsets (Unicode code
//	@Description	points, as Python counts them) and whether they are special. No truncation is applied.
//	@Tags			tokenizer
//	@Accept			json
//	@Produce		json
//	@Param			request	body		api.TokenizeRequest	true	"texts"
//	@Success		200		{object}	api.TokenizeResponse
//	@Failure		400		{object}	api.ErrorResponse	"malformed JSON or empty inputs"
//	@Failure		415		{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		413		{object}	api.ErrorResponse	"body over the payload limit or too many inputs"
//	@Failure		503		{object}	api.ErrorResponse	"model not loaded yet"
//	@Router			/v1/tokenize [post]
func (s *Server) handleTokenize(c *gin.Context) {
	m, e := s.ready()
	if e != nil {
		s.fail(c, e)
		return
	}
	var req api.TokenizeRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	if e := s.checkInputs(len(req.Inputs), "inputs"); e != nil {
		s.fail(c, e)
		return
	}
	encs, err := m.main.tok.encode(req.Inputs, 0, boolOr(req.AddSpecialTokens, true))
	if err != nil {
		s.fail(c, internalError(err))
		return
	}
	resp := api.TokenizeResponse{Tokens: make([][]api.Token, len(encs))}
	for i, enc := range encs {
		resp.Tokens[i] = enc.tokens
	}
	s.respond(c, http.StatusOK, resp)
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
//	@Router			/v1/decode [post]
func (s *Server) handleDecode(c *gin.Context) {
	m, e := s.ready()
	if e != nil {
		s.fail(c, e)
		return
	}
	var req api.DecodeRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	if e := s.checkInputs(len(req.IDs), "ids"); e != nil {
		s.fail(c, e)
		return
	}
	skip := boolOr(req.SkipSpecialTokens, true)
	resp := api.DecodeResponse{Texts: make([]string, len(req.IDs))}
	for i, ids := range req.IDs {
		text, err := m.main.tok.decode(ids, skip)
		if err != nil {
			s.fail(c, errorf(http.StatusBadRequest, CodeInvalidArgument, "ids[%d]: %v", i, err))
			return
		}
		resp.Texts[i] = text
	}
	s.respond(c, http.StatusOK, resp)
}
