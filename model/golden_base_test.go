package model

import (
	"strconv"
	"testing"
	"time"
)

// TestBaseGolden rebuilds the roberta-base geometry from weightgen seed 0 (~500 MB in
// memory) and compares base.json's 39 texts (one of 512 tokens) within 2e-4: selected
// token rows, cls, mean and pooler. It runs in ~10 s with OpenBLAS and ~40 s in the
// pure-Go build on 2 cores, so it is not skipped under -short.
func TestBaseGolden(t *testing.T) {
	g := readGolden(t, "base.json")
	start := time.Now()
	e := mustEncoder(t, Weightgen(RobertaBaseConfig(), 0, WeightgenOptions{}), EncoderOptions{})
	t.Logf("weightgen + NewEncoder: %v", time.Since(start))
	start = time.Now()
	var rows, cls, mean, pooler maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 16, 2048) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			it := g.Items[i]
			name := "item " + itoa(i)
			hidden := o.Hidden(j)
			if len(hidden) != len(it.IDs) {
				t.Fatalf("%s: %d rows, want %d", name, len(hidden), len(it.IDs))
			}
			if len(it.TokenRows) == 0 {
				t.Fatalf("%s: golden has no token_rows", name)
			}
			for k, want := range it.TokenRows {
				r, err := strconv.Atoi(k)
				if err != nil || r < 0 || r >= len(hidden) {
					t.Fatalf("%s: token row %q outside %d rows", name, k, len(hidden))
				}
				rows.vec(name+" row "+k, hidden[r], want)
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
	t.Logf("forward of %d texts: %v (%s BLAS)", len(g.Items), time.Since(start), blasName)
	rows.check(t, "token_rows", 2e-4)
	cls.check(t, "cls", 2e-4)
	mean.check(t, "mean", 2e-4)
	pooler.check(t, "pooler", 2e-4)
}
