package weights

import (
	"regexp"
	"sync"
	"testing"
)

func TestCheckpointID(t *testing.T) {
	cfg := tinyConfig(t)
	base := Generate(cfg, 0, GenerateOptions{})
	id := base.ID()
	if !regexp.MustCompile(`^sha256:[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("ID %q is not sha256:<12 hex>", id)
	}
	if again := Generate(cfg, 0, GenerateOptions{}).ID(); again != id {
		t.Errorf("same weights, different IDs: %s vs %s", again, id)
	}
	mutations := []struct {
		name   string
		mutate func(*Checkpoint)
	}{
		{"one value", func(c *Checkpoint) { c.Tensors["pooler.dense.bias"].Data[0] += 1e-7 }},
		{"shape only", func(c *Checkpoint) { c.Tensors["pooler.dense.weight"].Shape = []int{16, 64} }},
		{"key renamed", func(c *Checkpoint) {
			c.Tensors["pooler.dense.bias2"] = c.Tensors["pooler.dense.bias"]
			delete(c.Tensors, "pooler.dense.bias")
		}},
		{"tensor removed", func(c *Checkpoint) { delete(c.Tensors, "pooler.dense.bias") }},
		{"other seed", func(c *Checkpoint) { *c = *Generate(cfg, 1, GenerateOptions{}) }},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			c := Generate(cfg, 0, GenerateOptions{})
			m.mutate(c)
			if c.ID() == id {
				t.Errorf("ID unchanged after changing %s", m.name)
			}
		})
	}
}

// TestCheckpointIDCachedAndConcurrent: a loaded checkpoint computes its ID once, and concurrent
// callers (run with -race) all see the same value.
func TestCheckpointIDCachedAndConcurrent(t *testing.T) {
	ck, err := Load(t.Context(), tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	want := Generate(ck.Config, 0, GenerateOptions{}).ID()
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = ck.ID()
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if id != want {
			t.Errorf("goroutine %d: ID %s, want %s", i, id, want)
		}
	}
	// The cache is real: mutating a tensor (which callers must not do) does not change the ID.
	ck.Tensors["pooler.dense.bias"].Data[0]++
	if ck.ID() != want {
		t.Errorf("ID recomputed after first call")
	}
}
