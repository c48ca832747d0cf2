package weights

import (
	"path/filepath"
	"testing"
)

// TestPytorchBinStorageViews loads a hand-built torch.save archive whose two biases share one
// storage (the second at a storage offset), as sliced or tied tensors do.
func TestPytorchBinStorageViews(t *testing.T) {
	sent, err := LoadConfig(filepath.Join(tinySentimentDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeConfig(t, dir, sent)
	want := Generate(sent, 9, GenerateOptions{NumLabels: 3}).Tensors
	headBin(t, dir, want, nil)
	ck, err := LoadHead(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	head := map[string]*Tensor{}
	for _, k := range headKeys {
		head[k] = want[k]
	}
	sameTensors(t, ck.Tensors, head, nil)
}

// TestAllowedGlobals pins the allow-list: state-dict containers and storages only.
func TestAllowedGlobals(t *testing.T) {
	allowed := [][2]string{
		{"collections", "OrderedDict"}, {"torch._utils", "_rebuild_tensor_v2"}, {"torch._utils", "_rebuild_parameter"},
		{"torch", "FloatStorage"}, {"torch", "HalfStorage"}, {"torch", "BFloat16Storage"}, {"torch", "LongStorage"},
	}
	refused := [][2]string{
		{"os", "system"}, {"builtins", "eval"}, {"__builtin__", "object"}, {"copy_reg", "_reconstructor"},
		{"torch", "load"}, {"torch.storage", "_load_from_bytes"}, {"torch._utils", "_rebuild_qtensor"},
		{"numpy.core.multiarray", "_reconstruct"}, {"subprocess", "Popen"}, {"collections", "defaultdict"},
		{"torchx", "FloatStorage"},
	}
	for _, g := range allowed {
		if !allowedGlobal(g[0], g[1]) {
			t.Errorf("%s.%s refused, want allowed", g[0], g[1])
		}
	}
	for _, g := range refused {
		if allowedGlobal(g[0], g[1]) {
			t.Errorf("%s.%s allowed, want refused", g[0], g[1])
		}
	}
}
