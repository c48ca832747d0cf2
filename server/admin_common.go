package server

import (
	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
)

// The admin handlers bind their request, call the core (which checks it, takes the admin lock
// and leaves the served model untouched on any failure) and convert the answer to api types.

// caller is who sent an admin request, for the core's history and logs.
func caller(c *gin.Context) inference.Caller {
	return inference.Caller{RequestID: c.GetString(requestIDKey), RemoteAddr: c.ClientIP()}
}

func apiActivation(a *inference.Activation) *api.CheckpointResponse {
	if a == nil {
		return nil
	}
	return &api.CheckpointResponse{
		Checkpoint:  api.CheckpointInfo(a.Checkpoint),
		Previous:    api.CheckpointInfo(a.Previous),
		LoadSeconds: a.LoadSeconds,
		Drift:       apiDrift(a.Drift),
		Swapped:     a.Swapped,
		DryRun:      a.DryRun,
	}
}

func apiDrift(d inference.Drift) api.Drift {
	return api.Drift{MeanCosine: d.Mean, MinCosine: d.Min, Probes: d.Probes, Comparable: d.Comparable}
}

func apiHistory(in []inference.HistoryEntry) []api.HistoryEntry {
	out := make([]api.HistoryEntry, len(in))
	for i, e := range in {
		out[i] = api.HistoryEntry{Checkpoint: api.CheckpointInfo(e.Checkpoint), Action: e.Action, LoadedAt: e.LoadedAt,
			RequestID: e.RequestID, RemoteAddr: e.RemoteAddr}
	}
	return out
}
