package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/weights"
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
	m, unlock, ok := beginAdmin(s, c, &req, validateFuseRequest)
	if !ok {
		return
	}
	defer unlock()
	start := time.Now()
	dirs := make([]string, len(req.Sources))
	for i, src := range req.Sources {
		res, e := s.resolve(c, src, "")
		if e != nil {
			s.fail(c, e)
			return
		}
		dirs[i] = res.Dir
	}
	out := ""
	if req.Output != "" {
		var err error
		if out, err = s.sources().Output(req.Output); err != nil {
			var exists *checkpoint.OutputExistsError
			if errors.As(err, &exists) {
				s.fail(c, errorf(http.StatusConflict, CodeOutputExists, "%v", err))
				return
			}
			s.fail(c, sourceError(err))
			return
		}
	}
	ck, err := weights.FuseDirs(c.Request.Context(), dirs, req.Weights)
	if err != nil {
		s.fail(c, sourceError(err))
		return
	}
	source := "fuse(" + strings.Join(req.Sources, ", ") + ")"
	if req.Weights != nil {
		source = fmt.Sprintf("fuse(%s; weights %v)", strings.Join(req.Sources, ", "), req.Weights)
	}
	info := api.CheckpointInfo{Source: source, ID: ck.ID(), Digest: ck.Digest(), Dir: out}
	fillGeometry(&info, ck)
	resp := api.FuseResponse{Checkpoint: info, Output: out}
	rec := record{fuseDirs: dirs, fuseWeights: req.Weights}
	tokDir := dirs[0]
	if out != "" {
		if err := weights.WriteFused(out, ck, dirs[0]); err != nil {
			s.fail(c, internalError(err))
			return
		}
		rec = record{dir: out}
		s.log.Info("admin: fused checkpoint written", "output", out, "checkpoint", info.ID, "sources", req.Sources)
	}
	if req.Activate {
		who(c, &rec.entry)
		cand, e := s.prepare(c.Request.Context(), m, candidateSpec{ck: ck, info: info, tokenizerDir: tokDir,
			allowGeometry: req.AllowGeometryChange, rec: rec})
		if e != nil {
			s.rejected(c, source, e)
			return
		}
		act := s.activate(m, cand, "fuse", start, false)
		resp.Activation = &act
	}
	s.respond(c, http.StatusOK, resp)
}

// validateFuseRequest requires sources, one non-negative weight per source when weights are
// given, and something to do (an output, activation or both).
func validateFuseRequest(req *api.FuseRequest) *Error {
	switch {
	case len(req.Sources) == 0:
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "sources is empty: name the checkpoints to fuse")
	case req.Weights != nil && len(req.Weights) != len(req.Sources):
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "%d weights for %d sources", len(req.Weights), len(req.Sources))
	case req.Output == "" && !req.Activate:
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "nothing to do: set output, activate or both")
	}
	for i, w := range req.Weights {
		if !(w >= 0) {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "weight %d is %v: weights must be non-negative", i, w)
		}
	}
	return nil
}
