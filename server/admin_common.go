package server

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/checkpoint"
)

// The admin handlers that change the served model share one flow: bind the JSON body, check
// it, take the admin lock (one change at a time), resolve sources to directories, and answer a
// refused candidate without touching what is served. The pieces of that flow live here.

// beginAdmin is the prologue of an admin handler with a JSON body: it binds the body into req,
// checks it with validate (nil: no checks beyond binding) and takes the admin lock. When ok is
// false it has already answered; otherwise the caller owns the lock and must call unlock.
func beginAdmin[T any](s *Server, c *gin.Context, req *T, validate func(*T) *Error) (m *served, unlock func(), ok bool) {
	if e := bind(c, req); e != nil {
		s.fail(c, e)
		return nil, nil, false
	}
	if validate != nil {
		if e := validate(req); e != nil {
			s.fail(c, e)
			return nil, nil, false
		}
	}
	m, unlock, e := s.lockAdmin()
	if e != nil {
		s.fail(c, e)
		return nil, nil, false
	}
	return m, unlock, true
}

// lockAdmin takes the admin lock (409 when another change holds it) and returns the served model.
func (s *Server) lockAdmin() (*served, func(), *Error) {
	m, e := s.ready()
	if e != nil {
		return nil, nil, e
	}
	if !s.admin.mu.TryLock() {
		return nil, nil, errorf(http.StatusConflict, CodeBusy,
			"another admin change (swap, rollback, fuse or head change) is running: retry when it has finished")
	}
	// Reload under the lock: a head change may have published a new snapshot meanwhile.
	if m, e = s.ready(); e != nil {
		s.admin.mu.Unlock()
		return nil, nil, e
	}
	return m, s.admin.mu.Unlock, nil
}

// sources is the configured resolver of admin sources, or the default one (local
// directories, no root, no Hub).
func (s *Server) sources() *checkpoint.Resolver {
	if r := s.admin.opts.Sources; r != nil {
		return r
	}
	return &checkpoint.Resolver{}
}

// resolve maps an admin source to a local directory, logging refused sources.
func (s *Server) resolve(c *gin.Context, source, revision string) (checkpoint.Resolved, *Error) {
	res, err := s.sources().Resolve(c.Request.Context(), source, revision)
	if err != nil {
		var forbidden *checkpoint.ForbiddenError
		if errors.As(err, &forbidden) {
			s.log.Warn("admin: refused checkpoint source", "source", clip(source), "reason", forbidden.Reason,
				"remote_addr", c.ClientIP(), "request_id", c.GetString(requestIDKey))
		}
		return res, sourceError(err)
	}
	return res, nil
}

// rejected answers a refused candidate and logs it: the served checkpoint is unchanged.
func (s *Server) rejected(c *gin.Context, source string, e *Error) {
	if e.Status < 500 {
		s.log.Warn("admin: checkpoint rejected; still serving the current one", "source", clip(source),
			"code", e.Code, "reason", e.Message, "request_id", c.GetString(requestIDKey))
	}
	s.fail(c, e)
}

func revisionOr(rev string) string {
	if rev == "" {
		return "main"
	}
	return rev
}
