package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// handleCheckpointStatus answers GET /admin/checkpoint.
//
//	@Summary		Current checkpoint and history
//	@Description	The served checkpoint and every activation (start-up load, swap, fuse, rollback), oldest
//	@Description	first, with who asked (request id, client address). History keeps metadata only.
//	@Description	With --checkpoint-file, "declared" shows the declared checkpoint (desired) against the
//	@Description	served one, whether they match, and the last attempt to converge with its outcome.
//	@Tags			admin
//	@Produce		json
//	@Param			Authorization	header		string	true	"Bearer <admin token>"
//	@Success		200				{object}	api.CheckpointStatus
//	@Failure		401				{object}	api.ErrorResponse	"missing or wrong token"
//	@Failure		403				{object}	api.ErrorResponse	"admin API disabled (no --admin-token)"
//	@Failure		503				{object}	api.ErrorResponse	"model not loaded yet"
//	@Router			/admin/checkpoint [get]
func (s *Server) handleCheckpointStatus(c *gin.Context) {
	cur, history, err := s.core.History()
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	st := api.CheckpointStatus{Current: api.CheckpointInfo(cur), History: apiHistory(history)}
	if d := s.opts.Admin.Declared; d != nil {
		st.Declared = apiDeclared(d.Status())
	}
	s.respond(c, http.StatusOK, st)
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
	if e := bind(c, &req); e != nil {
		s.fail(c, e)
		return
	}
	act, err := s.core.Swap(c.Request.Context(), inference.SwapRequest{Source: req.Source, Revision: req.Revision,
		SHA256: req.SHA256, AllowGeometryChange: req.AllowGeometryChange, DryRun: req.DryRun, Caller: caller(c)})
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, apiActivation(act))
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
	act, err := s.core.Rollback(c.Request.Context(), caller(c))
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	s.respond(c, http.StatusOK, apiActivation(act))
}
