package inference

import (
	"errors"
	"testing"
)

// A drift gate holds a candidate whose vectors moved further than it allows, leaves the served
// checkpoint alone and reports the candidate's drift; a gate the candidate clears swaps it in.
// tiny (seed 0) and the fused seeds 0..2 have probe cosines far below 1 (about 0.5 to 0.7).
func TestSwapDriftGate(t *testing.T) {
	c := newAdminCore(t, checkpointRoot(t))
	ctx := t.Context()
	before, _, err := c.History()
	if err != nil {
		t.Fatal(err)
	}
	dry, err := c.Swap(ctx, SwapRequest{Source: "fused", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.Drift.Comparable || dry.Drift.Min >= 0.99 || dry.Drift.Min <= 0 {
		t.Fatalf("tiny → fused drift %+v: the test needs a comparable drift well below 1", dry.Drift)
	}
	gate := func(v float64) *float64 { return &v }

	for _, tc := range []struct {
		name string
		min  *float64
		kind error // nil: swapped
	}{
		{"out of range", gate(1.5), ErrInvalidInput},
		{"negative", gate(-0.1), ErrInvalidInput},
		{"above the drift", gate(dry.Drift.Min + 0.01), ErrDriftHeld},
		{"the whole range", gate(1), ErrDriftHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Swap(ctx, SwapRequest{Source: "fused", MinCosine: tc.min})
			if !errors.Is(err, tc.kind) {
				t.Fatalf("%v, want %v", err, tc.kind)
			}
			if now, _, _ := c.History(); now != before {
				t.Fatalf("a held or refused candidate replaced the served checkpoint: %+v", now)
			}
			var held *DriftError
			if errors.As(err, &held) {
				if held.Candidate.ID != dry.Checkpoint.ID || held.Drift != dry.Drift || held.MinCosine != *tc.min {
					t.Errorf("held %+v, want candidate %s with drift %+v", held, dry.Checkpoint.ID, dry.Drift)
				}
			}
		})
	}
	act, err := c.Swap(ctx, SwapRequest{Source: "fused", MinCosine: gate(dry.Drift.Min - 0.01)})
	if err != nil || !act.Swapped || act.Checkpoint.ID != dry.Checkpoint.ID {
		t.Fatalf("a candidate above the gate: %+v, %v", act, err)
	}
}
