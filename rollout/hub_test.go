package rollout

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/hub/hubtest"
	"github.com/coldserve/coldserve/internal/fixture"
)

// A moving Hub revision is resolved again at every poll: a new commit rolls out by itself, an
// unchanged one costs no download, and a ref moved back to a cached commit swaps back without
// one. Polls are driven one by one (the Hub's HTTP connections cannot live in a synctest bubble).
func TestMovingHubRevisionRollsOut(t *testing.T) {
	fake := hubtest.New(t)
	commit := func(weights string) string {
		return fake.AddCommit("org/iter", "main", map[string][]byte{
			"config.json": []byte(`{"model_type": "roberta"}`), "model.safetensors": []byte(weights)})
	}
	first := commit("first weights")
	root := t.TempDir()
	sources := &checkpoint.Resolver{Roots: []string{root}, AllowHub: true,
		Hub: &hub.Client{Endpoint: fake.URL, CacheDir: filepath.Join(t.TempDir(), "hub")}}
	core := &fakeCore{sources: sources, served: info(root), ready: true}
	cm := fixture.NewConfigMap(t, "checkpoint.yaml", "source: org/iter\nrevision: main\n")
	r, err := New(Options{File: cm.Path(), Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	step := func(wantCommit string, wantSwaps int, download bool) {
		t.Helper()
		gets := fake.ContentGETs("model.safetensors")
		r.poll(ctx, core)
		st := r.Status()
		if st.State != StateConverged || st.Commit != wantCommit || filepath.Base(core.served.Dir) != wantCommit {
			t.Fatalf("state %s at commit %s serving %s, want %s (last attempt %+v)", st.State, st.Commit, core.served.Dir, wantCommit, st.LastAttempt)
		}
		if got := core.swapCount(); got != wantSwaps {
			t.Fatalf("%d swaps, want %d", got, wantSwaps)
		}
		if got := fake.ContentGETs("model.safetensors") > gets; got != download {
			t.Fatalf("downloaded the weights: %v, want %v", got, download)
		}
	}
	step(first, 1, true)
	for range 3 {
		step(first, 1, false)
	}
	second := commit("second weights")
	step(second, 2, true)
	step(second, 2, false)
	fake.SetRef("org/iter", "main", first)
	step(first, 3, false)
}
