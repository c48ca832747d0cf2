package server

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/model"
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
	m, unlock, ok := beginAdmin(s, c, &req, func(req *api.HeadRequest) *Error {
		if req.Name == "" || req.Source == "" {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "name and source are required")
		}
		if err := checkHeadName(req.Name); err != nil {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "%v", err)
		}
		return nil
	})
	if !ok {
		return
	}
	defer unlock()
	if _, dup := m.heads[req.Name]; dup {
		s.fail(c, errorf(http.StatusConflict, CodeHeadExists, "head %q is already loaded: DELETE /admin/heads/%s first", req.Name, req.Name))
		return
	}
	res, e := s.resolve(c, req.Source, req.Revision)
	if e != nil {
		s.fail(c, e)
		return
	}
	next := m.clone()
	var added []*lane
	newLane := func(ck *model.Checkpoint, tok *codec) (*lane, error) {
		l, err := next.newLane(ck, tok)
		if err != nil {
			return nil, err
		}
		next.lanes = append(next.lanes, l)
		added = append(added, l)
		return l, nil
	}
	closeAdded := func() {
		for _, l := range added {
			_ = l.eng.Close(context.Background())
		}
	}
	mainEnc := m.main.eng.Current()
	if err := next.loadHead(HeadSpec{Name: req.Name, Dir: res.Dir}, mainEnc.CheckpointID(), mainEnc.Config().VocabSize,
		m.main.tok, newLane, s.log); err != nil {
		closeAdded()
		s.rejected(c, req.Source, sourceError(err))
		return
	}
	for _, l := range added {
		if err := probe(c.Request.Context(), l); err != nil {
			closeAdded()
			s.rejected(c, req.Source, sourceError(err))
			return
		}
	}
	slices.Sort(next.headNames)
	s.publish(m, next)
	h := next.heads[req.Name]
	s.log.Info("admin: head added", "head", req.Name, "source", req.Source, "own_encoder", h.lane != next.main,
		"request_id", c.GetString(requestIDKey))
	s.respond(c, http.StatusOK, api.HeadResponse{Name: req.Name, Checkpoint: h.lane.eng.Current().CheckpointID(),
		Labels: h.head.Labels(), OwnEncoder: h.lane != next.main, Heads: next.headNames})
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
	name := c.Param("name")
	m, unlock, e := s.lockAdmin()
	if e != nil {
		s.fail(c, e)
		return
	}
	defer unlock()
	h, ok := m.heads[name]
	if !ok {
		s.fail(c, errorf(http.StatusNotFound, CodeUnknownHead, "unknown head %q", clip(name)))
		return
	}
	next := m.clone()
	delete(next.heads, name)
	next.headNames = slices.DeleteFunc(next.headNames, func(n string) bool { return n == name })
	used := false
	for _, other := range next.heads {
		used = used || other.lane == h.lane
	}
	if h.lane != m.main && !used {
		next.lanes = slices.DeleteFunc(next.lanes, func(l *lane) bool { return l == h.lane })
	}
	s.publish(m, next)
	s.log.Info("admin: head removed", "head", name, "request_id", c.GetString(requestIDKey))
	s.respond(c, http.StatusOK, api.HeadResponse{Name: name, Checkpoint: h.lane.eng.Current().CheckpointID(),
		Labels: h.head.Labels(), OwnEncoder: h.lane != m.main, Heads: next.headNames})
}

// clone copies the snapshot's head tables so that a modified copy can be published; lanes
// (engines, encoders) are shared.
func (m *served) clone() *served {
	return &served{
		name: m.name, main: m.main, lanes: slices.Clone(m.lanes), heads: maps.Clone(m.heads),
		headNames: slices.Clone(m.headNames), maxInputTokens: m.maxInputTokens,
		encOpts: m.encOpts, maxBatchTokens: m.maxBatchTokens, queue: m.queue, batchWait: m.batchWait, obs: m.obs, log: m.log,
		startInfo: m.startInfo,
	}
}

// publish makes next the served snapshot and retires old; lanes old had and next has not are
// drained and closed once the last request using old has finished.
func (s *Server) publish(old, next *served) {
	s.model.Store(next)
	var gone []*lane
	for _, l := range old.lanes {
		if !slices.Contains(next.lanes, l) {
			gone = append(gone, l)
		}
	}
	done := old.refs.Retire()
	if len(gone) == 0 {
		return
	}
	go func() {
		<-done
		for _, l := range gone {
			if err := l.eng.Close(context.Background()); err != nil {
				s.log.Error("admin: close a removed head's encoder", "err", err)
			}
		}
	}()
}
