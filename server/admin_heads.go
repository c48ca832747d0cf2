package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// handleAddHead answers POST /admin/heads.
//
//	@Summary		Add a classification head at run time
//	@Description	A head-only checkpoint runs on the served encoder; a full finetuned
//	@Description	RobertaForSequenceClassification checkpoint runs on its own encoder (with its own
//	@Description	batching queue). Requests already running keep the heads they started with.
//	@Tags			admin
//	@Accept			json
//	@Produce		json
//	@Param			Authorization	header		string			true	"Bearer <admin token>"
//	@Param			request			body		api.HeadRequest	true	"head name and source"
//	@Success		200				{object}	api.HeadResponse
//	@Failure		400				{object}	api.ErrorResponse	"name or source missing"
//	@Failure		415				{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin disabled, or source outside --checkpoint-root"
//	@Failure		404				{object}	api.ErrorResponse	"source does not exist"
//	@Failure		409				{object}	api.ErrorResponse	"a head of that name exists, or another admin change is running"
//	@Failure		422				{object}	api.ErrorResponse	"not a usable head checkpoint"
//	@Router			/admin/heads [post]
func (s *Server) handleAddHead(c *gin.Context) {
	var req api.HeadRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	hc, err := s.core.AddHead(c.Request.Context(), inference.AddHeadRequest{Name: req.Name, Source: req.Source,
		Revision: req.Revision, Caller: caller(c)})
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, api.HeadResponse(*hc))
}

// handleRemoveHead answers DELETE /admin/heads/{name}.
//
//	@Summary		Remove a classification head
//	@Description	Requests already running finish with it; a head's own encoder is closed once they have.
//	@Tags			admin
//	@Produce		json
//	@Param			Authorization	header		string	true	"Bearer <admin token>"
//	@Param			name			path		string	true	"head name"
//	@Success		200				{object}	api.HeadResponse
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin API disabled"
//	@Failure		404				{object}	api.ErrorResponse	"no such head"
//	@Failure		409				{object}	api.ErrorResponse	"another admin change is running"
//	@Router			/admin/heads/{name} [delete]
func (s *Server) handleRemoveHead(c *gin.Context) {
	hc, err := s.core.RemoveHead(c.Param("name"), caller(c))
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, api.HeadResponse(*hc))
}
