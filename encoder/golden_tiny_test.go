package encoder

import (
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/weights"
)

// tinyCompare is how closely every tiny golden must match: every hidden state and the
// poolings, within 1e-5, in padded batches of similar length.
func tinyCompare(poolings ...Pooling) goldenCompare {
	return goldenCompare{maxBatch: 8, maxTokens: 1024, poolings: poolings, tol: 1e-5}
}

// TestTinyGolden runs tiny.json's 81 texts through tiny-roberta in padded batches of
// similar length and compares every hidden state, each pooling and the sentiment head
// attached to this (foreign) encoder with HF's float64 outputs.
func TestTinyGolden(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	// The sentiment head alone (LoadHead skips its encoder), attached to tiny-roberta.
	headCk, err := weights.LoadHead(t.Context(), filepath.Join("..", "testdata", "models", "tiny-roberta-sentiment"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := NewHead(headCk)
	if err != nil {
		t.Fatal(err)
	}
	c := tinyCompare(PoolCLS, PoolMean, PoolPooler)
	c.heads = map[string]*Head{"sentiment": head}
	compareGolden(t, readGolden(t, "tiny.json"), e, c)
}

// TestTinyFusedGolden: ColD Fusion's fuse step (equal-weight mean of weightgen seeds 0, 1
// and 2 in tiny-roberta's geometry), then the forward, against tiny_fused.json.
func TestTinyFusedGolden(t *testing.T) {
	cfg := readConfig(t, "tiny-roberta")
	var cks []*weights.Checkpoint
	for seed := uint64(0); seed < 3; seed++ {
		cks = append(cks, weights.Generate(cfg, seed, weights.GenerateOptions{}))
	}
	fused, err := weights.Fuse(cks, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := mustEncoder(t, fused, EncoderOptions{})
	compareGolden(t, readGolden(t, "tiny_fused.json"), e, tinyCompare(PoolCLS, PoolMean, PoolPooler))
}

// TestTinyBF16Golden: the BF16 sharded checkpoint, widened to float32 at load, against
// tiny_bf16.json (HF's float64 forward from the same BF16-rounded weights).
func TestTinyBF16Golden(t *testing.T) {
	e := mustEncoder(t, loadModel(t, "tiny-roberta-bf16-sharded"), EncoderOptions{})
	compareGolden(t, readGolden(t, "tiny_bf16.json"), e, tinyCompare(PoolCLS, PoolMean))
}
