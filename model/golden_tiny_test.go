package model

import (
	"path/filepath"
	"testing"
)

// TestTinyGolden runs tiny.json's 81 texts through tiny-roberta in padded batches of
// similar length and compares every hidden state, each pooling and the sentiment head
// attached to this (foreign) encoder with HF's float64 outputs.
func TestTinyGolden(t *testing.T) {
	g := readGolden(t, "tiny.json")
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	// The sentiment head alone (LoadHead skips its encoder), attached to tiny-roberta.
	headCk, err := LoadHead(filepath.Join("..", "testdata", "models", "tiny-roberta-sentiment"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := NewHead(headCk)
	if err != nil {
		t.Fatal(err)
	}
	var hidden, cls, mean, pooler, logits maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 8, 1024) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			it := g.Items[i]
			name := "item " + itoa(i)
			rows := o.Hidden(j)
			if len(rows) != len(it.LastHiddenState) {
				t.Fatalf("%s: %d rows, want %d", name, len(rows), len(it.LastHiddenState))
			}
			for r := range rows {
				hidden.vec(name+" row "+itoa(r), rows[r], it.LastHiddenState[r])
			}
			for _, c := range []struct {
				p    Pooling
				want []float64
				d    *maxDiff
			}{{PoolCLS, it.CLS, &cls}, {PoolMean, it.Mean, &mean}, {PoolPooler, it.Pooler, &pooler}} {
				v, err := e.Pool(o, j, c.p, false)
				if err != nil {
					t.Fatalf("%s: pool %s: %v", name, c.p, err)
				}
				c.d.vec(name+" "+string(c.p), v, c.want)
			}
			logits.vec(name+" sentiment logits", head.Logits(rows[0]), it.HeadLogits["sentiment"])
		}
	}
	hidden.check(t, "last_hidden_state", 1e-5)
	cls.check(t, "cls", 1e-5)
	mean.check(t, "mean", 1e-5)
	pooler.check(t, "pooler", 1e-5)
	logits.check(t, "head_logits.sentiment", 1e-5)
}

// TestTinyFusedGolden: ColD Fusion's fuse step (equal-weight mean of weightgen seeds 0, 1
// and 2 in tiny-roberta's geometry), then the forward, against tiny_fused.json.
func TestTinyFusedGolden(t *testing.T) {
	g := readGolden(t, "tiny_fused.json")
	cfg := readConfig(t, "tiny-roberta")
	var cks []*Checkpoint
	for seed := uint64(0); seed < 3; seed++ {
		cks = append(cks, Weightgen(cfg, seed, WeightgenOptions{}))
	}
	fused, err := Fuse(cks, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := mustEncoder(t, fused, EncoderOptions{})
	var hidden, cls, mean, pooler maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 8, 1024) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			it := g.Items[i]
			name := "item " + itoa(i)
			rows := o.Hidden(j)
			if len(rows) != len(it.LastHiddenState) {
				t.Fatalf("%s: %d rows, want %d", name, len(rows), len(it.LastHiddenState))
			}
			for r := range rows {
				hidden.vec(name+" row "+itoa(r), rows[r], it.LastHiddenState[r])
			}
			for _, c := range []struct {
				p    Pooling
				want []float64
				d    *maxDiff
			}{{PoolCLS, it.CLS, &cls}, {PoolMean, it.Mean, &mean}, {PoolPooler, it.Pooler, &pooler}} {
				v, err := e.Pool(o, j, c.p, false)
				if err != nil {
					t.Fatalf("%s: pool %s: %v", name, c.p, err)
				}
				c.d.vec(name+" "+string(c.p), v, c.want)
			}
		}
	}
	hidden.check(t, "last_hidden_state", 1e-5)
	cls.check(t, "cls", 1e-5)
	mean.check(t, "mean", 1e-5)
	pooler.check(t, "pooler", 1e-5)
}

// TestTinyBF16Golden: the BF16 sharded checkpoint, widened to float32 at load, against
// tiny_bf16.json (HF's float64 forward from the same BF16-rounded weights).
func TestTinyBF16Golden(t *testing.T) {
	g := readGolden(t, "tiny_bf16.json")
	e := mustEncoder(t, loadModel(t, "tiny-roberta-bf16-sharded"), EncoderOptions{})
	var hidden, cls, mean maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 8, 1024) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			it := g.Items[i]
			name := "item " + itoa(i)
			rows := o.Hidden(j)
			if len(rows) != len(it.LastHiddenState) {
				t.Fatalf("%s: %d rows, want %d", name, len(rows), len(it.LastHiddenState))
			}
			for r := range rows {
				hidden.vec(name+" row "+itoa(r), rows[r], it.LastHiddenState[r])
			}
			for _, c := range []struct {
				p    Pooling
				want []float64
				d    *maxDiff
			}{{PoolCLS, it.CLS, &cls}, {PoolMean, it.Mean, &mean}} {
				v, err := e.Pool(o, j, c.p, false)
				if err != nil {
					t.Fatalf("%s: pool %s: %v", name, c.p, err)
				}
				c.d.vec(name+" "+string(c.p), v, c.want)
			}
		}
	}
	hidden.check(t, "last_hidden_state", 1e-5)
	cls.check(t, "cls", 1e-5)
	mean.check(t, "mean", 1e-5)
}
