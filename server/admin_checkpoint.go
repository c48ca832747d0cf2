package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/weights"
)

// handleCheckpointStatus answers GET /admin/checkpoint.
//
//	@Summary		Current checkpoint and history
//	@Description	The served checkpoint and every activation (start-up load, swap, fuse, rollback), oldest
//	@Description	first, with who asked (request id, client address). History keeps metadata only.
//	@Tags			admin
//	@Produce		json
//	@Param			Authorization	header		string	true	"Bearer <admin token>"
//	@Success		200				{object}	api.CheckpointStatus
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin API disabled (no --admin-token)"
//	@Failure		503				{object}	api.ErrorResponse	"model not loaded yet"
//	@Router			/admin/checkpoint [get]
func (s *Server) handleCheckpointStatus(c *gin.Context) {
	if _, e := s.ready(); e != nil {
		s.fail(c, e)
		return
	}
	cur, _ := s.admin.last(0)
	s.respond(c, http.StatusOK, api.CheckpointStatus{Current: cur.entry.Checkpoint, History: s.admin.entries()})
}

// handleCheckpointSwap answers POST /admin/checkpoint.
//
//	@Summary		Swap the served checkpoint under traffic
//	@Description	Loads the source while traffic continues on the current weights, validates it (files,
//	@Description	tensors, expected sha256, geometry, tokenizer, a finite probe forward pass), measures drift
//	@Description	(cosine of old vs new mean-pooled vectors on fixed probe texts) and swaps atomically:
//	@Description	requests already admitted finish on the old weights, and every response names its
//	@Description	checkpoint. dry_run does everything but the swap. A failure never replaces the served model.
//	@Tags			admin
//	@Accept			json
//	@Produce		json
//	@Param			Authorization	header		string					true	"Bearer <admin token>"
//	@Param			request			body		api.CheckpointRequest	true	"source and checks"
//	@Success		200				{object}	api.CheckpointResponse
//	@Failure		400				{object}	api.ErrorResponse	"malformed request or sha256"
//	@Failure		415				{object}	api.ErrorResponse	"Content-Type not JSON, or a Content-Encoding"
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin disabled, or source outside --checkpoint-root / Hub not allowed"
//	@Failure		404				{object}	api.ErrorResponse	"no such directory or Hub repo/revision"
//	@Failure		409				{object}	api.ErrorResponse	"another admin change is running"
//	@Failure		422				{object}	api.ErrorResponse	"invalid checkpoint, digest mismatch, geometry change, incompatible, non-finite probe"
//	@Failure		502				{object}	api.ErrorResponse	"the Hub failed"
//	@Router			/admin/checkpoint [post]
func (s *Server) handleCheckpointSwap(c *gin.Context) {
	var req api.CheckpointRequest
	m, unlock, ok := beginAdmin(s, c, &req, validateCheckpointRequest)
	if !ok {
		return
	}
	defer unlock()
	start := time.Now()
	ctx := c.Request.Context()
	res, e := s.resolve(c, req.Source, req.Revision)
	if e != nil {
		s.fail(c, e)
		return
	}
	ck, err := weights.Load(ctx, res.Dir)
	if err != nil {
		s.fail(c, sourceError(err))
		return
	}
	spec := candidateSpec{
		ck:            ck,
		info:          api.CheckpointInfo{Source: req.Source, Dir: res.Dir, Commit: res.Commit},
		tokenizerDir:  res.Dir,
		expectedSHA:   req.SHA256,
		allowGeometry: req.AllowGeometryChange,
		rec:           record{dir: res.Dir},
	}
	if res.Hub {
		spec.info.Revision = revisionOr(req.Revision)
	}
	who(c, &spec.rec.entry)
	cand, e := s.prepare(ctx, m, spec)
	if e != nil {
		s.rejected(c, req.Source, e)
		return
	}
	s.respond(c, http.StatusOK, s.activate(m, cand, "swap", start, req.DryRun))
}

// validateCheckpointRequest requires a source and a well-formed expected sha256.
func validateCheckpointRequest(req *api.CheckpointRequest) *Error {
	if req.Source == "" {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "source is required: a directory or a Hub id")
	}
	if req.SHA256 != "" {
		if _, err := weights.ParseExpected(req.SHA256); err != nil {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "%v", err)
		}
	}
	return nil
}

// handleRollback answers POST /admin/rollback.
//
//	@Summary		Go back to the previous checkpoint
//	@Description	Reloads the checkpoint that was served before the current one (from its directory, or by
//	@Description	fusing its sources again), checks that its digest is unchanged, probes it and swaps it in.
//	@Description	Two rollbacks in a row return to where you started.
//	@Tags			admin
//	@Produce		json
//	@Param			Authorization	header		string	true	"Bearer <admin token>"
//	@Success		200				{object}	api.CheckpointResponse
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin API disabled"
//	@Failure		409				{object}	api.ErrorResponse	"nothing to roll back to, source changed, or another change is running"
//	@Failure		422				{object}	api.ErrorResponse	"the previous checkpoint no longer loads"
//	@Router			/admin/rollback [post]
func (s *Server) handleRollback(c *gin.Context) {
	m, unlock, e := s.lockAdmin()
	if e != nil {
		s.fail(c, e)
		return
	}
	defer unlock()
	start := time.Now()
	prev, ok := s.admin.last(1)
	if !ok {
		s.fail(c, errorf(http.StatusConflict, CodeNoPrevious, "there is no previous checkpoint to roll back to"))
		return
	}
	var (
		ck  *weights.Checkpoint
		err error
	)
	tokDir := prev.dir
	if len(prev.fuseDirs) > 0 {
		ck, err = weights.FuseDirs(c.Request.Context(), prev.fuseDirs, prev.fuseWeights)
		tokDir = prev.fuseDirs[0]
	} else {
		ck, err = weights.Load(c.Request.Context(), prev.dir)
	}
	if err != nil {
		s.rejected(c, prev.entry.Checkpoint.Source, sourceError(err))
		return
	}
	if got := ck.Digest(); got != prev.entry.Checkpoint.Digest {
		s.fail(c, errorf(http.StatusConflict, CodeSourceChanged,
			"%s now holds weights sha256:%s, not the previous checkpoint's sha256:%s: swap explicitly with POST /admin/checkpoint",
			prev.entry.Checkpoint.Source, got, prev.entry.Checkpoint.Digest))
		return
	}
	rec := record{dir: prev.dir, fuseDirs: prev.fuseDirs, fuseWeights: prev.fuseWeights}
	who(c, &rec.entry)
	info := prev.entry.Checkpoint
	cand, e := s.prepare(c.Request.Context(), m, candidateSpec{ck: ck, info: info, tokenizerDir: tokDir,
		allowGeometry: true, rec: rec})
	if e != nil {
		s.rejected(c, info.Source, e)
		return
	}
	s.respond(c, http.StatusOK, s.activate(m, cand, "rollback", start, false))
}
