package server

import (
	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/rollout"
)

// DeclaredCheckpoint reports how the served checkpoint converges on a declared one: package
// rollout's Reconciler, with --checkpoint-file. GET /admin/checkpoint shows its status.
type DeclaredCheckpoint interface {
	Status() rollout.Status
}

// apiDeclared converts a reconciler's status for GET /admin/checkpoint.
func apiDeclared(st rollout.Status) *api.DeclaredCheckpoint {
	out := &api.DeclaredCheckpoint{File: st.File, PollSeconds: st.Poll.Seconds(), State: st.State, Converged: st.Converged,
		Version: st.Version, Error: st.FileError}
	if d := st.Declared; d != nil {
		out.Desired = &api.Declaration{Source: d.Source, Revision: d.Revision, SHA256: d.SHA256, MinCosine: d.MinCosine,
			AllowGeometryChange: d.AllowGeometryChange, Commit: st.Commit, Dir: st.Dir}
	}
	if !st.RetryAt.IsZero() {
		at := st.RetryAt.UTC()
		out.RetryAt = &at
	}
	if a := st.LastAttempt; a != nil {
		out.LastAttempt = &api.CheckpointAttempt{At: a.At.UTC(), Seconds: a.Seconds, Result: a.Result, Reason: a.Reason,
			Source: a.Declaration.Source, Revision: a.Declaration.Revision, Version: a.Version}
		if a.Checkpoint != nil {
			ck := api.CheckpointInfo(*a.Checkpoint)
			out.LastAttempt.Checkpoint = &ck
		}
		if a.Drift != nil {
			d := apiDrift(*a.Drift)
			out.LastAttempt.Drift = &d
		}
	}
	return out
}
