package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
	"github.com/coldserve/coldserve/rollout"
)

// GET /admin/checkpoint shows the declared checkpoint against the served one with the last
// attempt, and /metrics names the served checkpoint and how the declaration fared, on the one
// registry the server and the reconciler share.
func TestDeclaredCheckpointStatus(t *testing.T) {
	root := checkpointRoot(t)
	sources := &checkpoint.Resolver{Roots: []string{root}}
	cm := fixture.NewConfigMap(t, "checkpoint.yaml", "source: tiny\n")
	reg := prometheus.NewRegistry()
	rec, err := rollout.New(rollout.Options{File: cm.Path(), Poll: 20 * time.Millisecond, Sources: sources,
		Registerer: reg, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, Options{Registry: reg, Admin: AdminOptions{Token: adminToken, Sources: sources, Declared: rec}},
		inference.ModelConfig{Dir: filepath.Join(root, "tiny"), Encoder: encoder.EncoderOptions{Workers: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx, srv.Core()); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	// status waits until the reconciler has read the file that declares source and reached state.
	status := func(want, source string) api.CheckpointStatus {
		t.Helper()
		var st api.CheckpointStatus
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			code, raw := adminDo(t, srv.Handler(), http.MethodGet, "/admin/checkpoint", nil)
			if code != http.StatusOK {
				t.Fatalf("status: %d %s", code, raw)
			}
			st = api.CheckpointStatus{}
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			if d := st.Declared; d != nil && d.State == want && (d.Desired == nil || d.Desired.Source == source) || time.Now().After(deadline) {
				break
			}
		}
		if st.Declared == nil || st.Declared.State != want {
			t.Fatalf("declared %+v, want state %s", st.Declared, want)
		}
		return st
	}
	metrics := func(current api.CheckpointInfo, converged int, ok, held, rejected int) {
		t.Helper()
		want := fmt.Sprintf(`
# HELP coldserve_checkpoint_converged 1 when the served checkpoint is the one --checkpoint-file declares, else 0 (pending, held, rejected, overridden by an admin change, or an unusable file).
# TYPE coldserve_checkpoint_converged gauge
coldserve_checkpoint_converged %d
# HELP coldserve_checkpoint_info The served checkpoint: its id (as in responses), source and Hub revision; the value is always 1.
# TYPE coldserve_checkpoint_info gauge
coldserve_checkpoint_info{id=%q,revision="",source=%q} 1
# HELP coldserve_checkpoint_swaps_total Attempts to serve the declared checkpoint, by result: ok (swapped in), held (below the min_cosine drift gate), rejected (did not resolve, load, validate or probe).
# TYPE coldserve_checkpoint_swaps_total counter
coldserve_checkpoint_swaps_total{result="held"} %d
coldserve_checkpoint_swaps_total{result="ok"} %d
coldserve_checkpoint_swaps_total{result="rejected"} %d
`, converged, current.ID, current.Source, held, ok, rejected)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "coldserve_checkpoint_converged",
			"coldserve_checkpoint_info", "coldserve_checkpoint_swaps_total"); err != nil {
			t.Error(err)
		}
	}

	st := status(rollout.StateConverged, "tiny")
	d := st.Declared
	if !d.Converged || d.Desired == nil || d.Desired.Source != "tiny" || d.Desired.Revision != "main" ||
		d.Desired.Dir != st.Current.Dir || d.LastAttempt != nil || d.File != cm.Path() || d.PollSeconds != 0.02 {
		t.Errorf("declared %+v (desired %+v), current %+v", d, d.Desired, st.Current)
	}
	metrics(st.Current, 1, 0, 0, 0)

	cm.Write(t, "source: fused\n")
	st = status(rollout.StateConverged, "fused")
	a := st.Declared.LastAttempt
	if a == nil || a.Result != rollout.ResultOK || a.Source != "fused" || a.Checkpoint == nil || a.Checkpoint.ID != st.Current.ID ||
		a.Drift == nil || !a.Drift.Comparable || a.Version != st.Declared.Version {
		t.Fatalf("last attempt %+v, current %+v", a, st.Current)
	}
	if last := st.History[len(st.History)-1]; last.Action != "swap" || last.RequestID != "checkpoint-file@"+st.Declared.Version {
		t.Errorf("history entry %+v", last)
	}
	fused := st.Current
	metrics(fused, 1, 1, 0, 0)

	cm.Write(t, "source: tiny\nmin_cosine: 0.99\n")
	st = status(rollout.StateHeld, "tiny")
	a = st.Declared.LastAttempt
	if st.Current.ID != fused.ID || st.Declared.Converged || a.Result != rollout.ResultHeld || a.Drift == nil ||
		a.Drift.MinCosine >= 0.99 || !strings.Contains(a.Reason, "drifts too far") || a.Checkpoint == nil {
		t.Fatalf("held: current %s, declared %+v, last attempt %+v", st.Current.ID, st.Declared, a)
	}
	metrics(fused, 0, 1, 1, 0)

	cm.Write(t, "source: ../outside\n")
	st = status(rollout.StateRejected, "../outside")
	a = st.Declared.LastAttempt
	if st.Current.ID != fused.ID || a.Result != rollout.ResultRejected || !strings.Contains(a.Reason, "checkpoint-root") ||
		st.Declared.RetryAt == nil || a.Checkpoint != nil {
		t.Fatalf("rejected: current %s, declared %+v, last attempt %+v", st.Current.ID, st.Declared, a)
	}
	metrics(fused, 0, 1, 1, 1)

	cm.Write(t, "source: [tiny]\n")
	st = status(rollout.StateInvalid, "")
	if st.Declared.Desired != nil || !strings.Contains(st.Declared.Error, "cannot unmarshal") || st.Current.ID != fused.ID {
		t.Fatalf("invalid file: %+v", st.Declared)
	}
}
