package inference

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
	"weak"
)

// A change while another holds the admin lock is refused with ErrBusy and changes nothing.
func TestAdminConcurrentChange(t *testing.T) {
	c := newAdminCore(t, checkpointRoot(t))
	ctx := t.Context()
	before, _, _ := c.History()
	c.admin.mu.Lock()
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"swap", func() error { _, err := c.Swap(ctx, SwapRequest{Source: "fused"}); return err }},
		{"rollback", func() error { _, err := c.Rollback(ctx, Caller{}); return err }},
		{"fuse", func() error {
			_, err := c.Fuse(ctx, FuseRequest{Sources: []string{"tiny", "fused"}, Activate: true})
			return err
		}},
		{"add head", func() error { _, err := c.AddHead(ctx, AddHeadRequest{Name: "s", Source: "sentiment"}); return err }},
		{"remove head", func() error { _, err := c.RemoveHead("s", Caller{}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, ErrBusy) {
				t.Errorf("while busy: %v, want ErrBusy", err)
			}
		})
	}
	if now, _, _ := c.History(); now != before {
		t.Errorf("a refused change changed the served checkpoint: %+v", now)
	}
	c.admin.mu.Unlock()
	if _, err := c.Swap(ctx, SwapRequest{Source: "fused"}); err != nil {
		t.Fatalf("after the lock is free: %v", err)
	}
}

// After a swap, once the requests pinned to the old encoder are done, nothing keeps it alive:
// history holds metadata only, so the old weights are collected.
func TestSwapFreesOldWeights(t *testing.T) {
	c := newAdminCore(t, checkpointRoot(t))
	ctx := t.Context()
	embed := func() {
		t.Helper()
		if _, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{"hello"})}); err != nil {
			t.Fatal(err)
		}
	}
	embed() // a request pinned to the old encoder, finished
	old := weak.Make(c.model.Load().main.eng.Current())
	if _, err := c.Swap(ctx, SwapRequest{Source: "fused"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Swap(ctx, SwapRequest{Source: "tiny", DryRun: true}); err != nil { // drift reads the current one only
		t.Fatal(err)
	}
	embed()
	for i := 0; i < 20 && old.Value() != nil; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if old.Value() != nil {
		t.Fatal("the replaced encoder is still reachable after the swap and GC")
	}
	if c.model.Load().main.eng.Current() == nil {
		t.Fatal("no current encoder")
	}
}

// Admin requests are checked before the lock is taken, each refusal with its kind.
func TestAdminRefusals(t *testing.T) {
	c := newAdminCore(t, checkpointRoot(t))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		do   func() error
		kind error
	}{
		{"swap without source", func() error { _, err := c.Swap(ctx, SwapRequest{}); return err }, ErrInvalidInput},
		{"swap bad sha", func() error { _, err := c.Swap(ctx, SwapRequest{Source: "fused", SHA256: "xyz"}); return err }, ErrInvalidInput},
		{"rollback without previous", func() error { _, err := c.Rollback(ctx, Caller{}); return err }, ErrNoPrevious},
		{"fuse nothing to do", func() error { _, err := c.Fuse(ctx, FuseRequest{Sources: []string{"tiny"}}); return err }, ErrInvalidInput},
		{"fuse negative weight", func() error {
			_, err := c.Fuse(ctx, FuseRequest{Sources: []string{"tiny"}, Weights: []float64{-1}, Activate: true})
			return err
		}, ErrInvalidInput},
		{"head bad name", func() error { _, err := c.AddHead(ctx, AddHeadRequest{Name: "a/b", Source: "sentiment"}); return err }, ErrInvalidInput},
		{"head missing source", func() error { _, err := c.AddHead(ctx, AddHeadRequest{Name: "s", Source: "nope"}); return err }, ErrInvalidCheckpoint},
		{"remove unknown head", func() error { _, err := c.RemoveHead("nope", Caller{}); return err }, ErrUnknownHead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); !errors.Is(err, tc.kind) {
				t.Errorf("%v, want %v", err, tc.kind)
			}
		})
	}
}
