package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// handleFuse answers POST /admin/fuse.
//
//	@Summary		ColD Fusion's fuse step
//	@Description	Averages the encoders of several checkpoints (weighted, default equal; heads are left
//	@Description	out). With output, writes a Hugging Face directory (config.json, model.safetensors, the
//	@Description	first source's tokenizer files) that transformers.AutoModel.from_pretrained loads; with
//	@Description	activate, swaps the fused model in like POST /admin/checkpoint (drift included).
//	@Tags			admin
//	@Accept			json
//	@Produce		json
//	@Param			Authorization	header		string			true	"Bearer <admin token>"
//	@Param			request			body		api.FuseRequest	true	"sources, weights, output, activate"
//	@Success		200				{object}	api.FuseResponse
//	@Failure		400				{object}	api.ErrorResponse	"no sources, weights do not match"
//	@Failure		415				{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin disabled, or a source/output outside --checkpoint-root"
//	@Failure		404				{object}	api.ErrorResponse	"a source does not exist"
//	@Failure		409				{object}	api.ErrorResponse	"output not empty, or another admin change is running"
//	@Failure		422				{object}	api.ErrorResponse	"a source is invalid or the geometries differ"
//	@Router			/admin/fuse [post]
func (s *Server) handleFuse(c *gin.Context) {
	var req api.FuseRequest
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	f, err := s.core.Fuse(c.Request.Context(), inference.FuseRequest{Sources: req.Sources, Weights: req.Weights,
		Output: req.Output, Activate: req.Activate, AllowGeometryChange: req.AllowGeometryChange, Caller: caller(c)})
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, api.FuseResponse{Checkpoint: api.CheckpointInfo(f.Checkpoint), Output: f.Output,
		Activation: apiActivation(f.Activation)})
}
