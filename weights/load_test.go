package weights

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

const (
	tinyBinDir       = "../testdata/models/tiny-roberta-bin"
	tinyBF16Dir      = "../testdata/models/tiny-roberta-bf16-sharded"
	tinySentimentDir = "../testdata/models/tiny-roberta-sentiment"
)

// roundBF16 rounds a float32 to bfloat16 (nearest, ties to even) and widens it back,
// as torch's .to(torch.bfloat16) does for finite values.
func roundBF16(f float32) float32 {
	b := math.Float32bits(f)
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}

// sameTensors fails t unless got and want hold the same keys, shapes and bit-identical values
// (after mapping want's values through conv, if given).
func sameTensors(t *testing.T, got, want map[string]*Tensor, conv func(float32) float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d tensors, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("tensor %s missing", k)
			continue
		}
		if !slices.Equal(g.Shape, w.Shape) {
			t.Errorf("%s: shape %v, want %v", k, g.Shape, w.Shape)
			continue
		}
		for i, v := range w.Data {
			if conv != nil {
				v = conv(v)
			}
			if math.Float32bits(g.Data[i]) != math.Float32bits(v) {
				t.Errorf("%s[%d] = %.9g, want %.9g", k, i, g.Data[i], v)
				break
			}
		}
	}
}

// TestLoadMatchesWeightgen proves the readers and the weightgen port together: every test
// checkpoint was written by HF from weightgen weights, so reading it must give them back exactly.
func TestLoadMatchesWeightgen(t *testing.T) {
	cases := []struct {
		name, dir  string
		seed       uint64
		opts       GenerateOptions
		conv       func(float32) float32
		wantPooler bool
	}{
		{"safetensors", tinyDir, 0, GenerateOptions{}, nil, true},
		{"pytorch bin", tinyBinDir, 0, GenerateOptions{}, nil, true},
		{"bf16 sharded", tinyBF16Dir, 0, GenerateOptions{}, roundBF16, true},
		{"sequence classification", tinySentimentDir, 3, GenerateOptions{Prefix: "roberta.", NoPooler: true, NumLabels: 3}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := Load(t.Context(), tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			want := Generate(ck.Config, tc.seed, tc.opts)
			sameTensors(t, ck.Tensors, want.Tensors, tc.conv)
			if ck.HasPooler() != tc.wantPooler {
				t.Errorf("HasPooler = %v, want %v", ck.HasPooler(), tc.wantPooler)
			}
			if ck.HasHead() != (tc.opts.NumLabels > 0) {
				t.Errorf("HasHead = %v, want %v", ck.HasHead(), tc.opts.NumLabels > 0)
			}
			if ck.Source != tc.dir {
				t.Errorf("Source = %q, want %q", ck.Source, tc.dir)
			}
		})
	}
}

// TestLoadBinEqualsSafetensors: the same weights through both formats give identical
// tensors and therefore the same ID.
func TestLoadBinEqualsSafetensors(t *testing.T) {
	st, err := Load(t.Context(), tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Load(t.Context(), tinyBinDir)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, bin.Tensors, st.Tensors, nil)
	if st.ID() != bin.ID() {
		t.Errorf("ID differs: safetensors %s, bin %s", st.ID(), bin.ID())
	}
}

func TestLoadHead(t *testing.T) {
	head, err := LoadHead(t.Context(), tinySentimentDir)
	if err != nil {
		t.Fatal(err)
	}
	if !head.HasHead() || head.hasEncoder() || head.HasPooler() {
		t.Errorf("LoadHead: HasHead %v, encoder %v, pooler %v; want only the head", head.HasHead(), head.hasEncoder(), head.HasPooler())
	}
	if len(head.Tensors) != len(headKeys) {
		t.Errorf("LoadHead kept %d tensors, want %d", len(head.Tensors), len(headKeys))
	}
	full, err := Load(t.Context(), tinySentimentDir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*Tensor{}
	for _, k := range headKeys {
		want[k] = full.Tensors[k]
	}
	sameTensors(t, head.Tensors, want, nil)
	if got := head.Config.Labels(head.Tensors["classifier.out_proj.weight"].Shape[0]); !slices.Equal(got, []string{"negative", "neutral", "positive"}) {
		t.Errorf("labels = %v", got)
	}
	// A RobertaModel checkpoint has no head to load.
	_, err = LoadHead(t.Context(), tinyDir)
	var missing *MissingTensorError
	if !errors.As(err, &missing) || !slices.Contains(headKeys, missing.Tensor) {
		t.Errorf("LoadHead(t.Context(), tiny-roberta) = %v, want *MissingTensorError for a classifier tensor", err)
	}
}

// A cancelled admin request must stop its load: Load checks the context between tensors.
func TestLoadStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, load := range map[string]func(context.Context, string) (*Checkpoint, error){"Load": Load, "LoadHead": LoadHead} {
		t.Run(name, func(t *testing.T) {
			ck, err := load(ctx, tinySentimentDir)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, %v; want context.Canceled", ck, err)
			}
		})
	}
}
