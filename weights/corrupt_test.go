package weights

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLoadCorruptInputs feeds the loader damaged and hostile checkpoints. Each must fail with its
// typed error, and the message must name the file or tensor at fault.
func TestLoadCorruptInputs(t *testing.T) {
	cfg := tinyConfig(t)
	st := func(dir string) string { return filepath.Join(dir, "model.safetensors") }
	// weightgenDir writes config and F32 weights (after edit) without SaveDir's validation.
	weightgenDir := func(t *testing.T, c Config, edit func(map[string]*Tensor)) string {
		dir := t.TempDir()
		writeConfig(t, dir, c)
		tensors := Generate(cfg, 0, GenerateOptions{}).Tensors
		if edit != nil {
			edit(tensors)
		}
		writeTensors(t, st(dir), tensors)
		return dir
	}
	headOnlyDir := func(t *testing.T) string {
		dir := t.TempDir()
		sent, err := LoadConfig(filepath.Join(tinySentimentDir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeConfig(t, dir, sent)
		return dir
	}
	headTensors := func() map[string]*Tensor {
		return Generate(cfg, 3, GenerateOptions{NumLabels: 3}).Tensors
	}

	cases := []struct {
		name  string
		setup func(t *testing.T) (dir string, mention []string)
		load  func(context.Context, string) (*Checkpoint, error) // Load if nil
		check func(error) bool
	}{
		{"truncated safetensors", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			truncateFile(t, st(dir), fileSize(t, st(dir))-100)
			return dir, []string{st(dir), "tensor "}
		}, nil, isType[*TruncatedFileError]},
		{"file shorter than the length prefix", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			truncateFile(t, st(dir), 5)
			return dir, []string{st(dir)}
		}, nil, isType[*TruncatedFileError]},
		{"header cut short", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			truncateFile(t, st(dir), 200)
			return dir, []string{st(dir)}
		}, nil, isType[*TruncatedFileError]},
		{"header JSON garbage", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), "{not json at all", make([]byte, 64))
			return dir, []string{st(dir)}
		}, nil, isType[*HeaderError]},
		{"entry malformed", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), `{"pooler.dense.bias":{"dtype":"F32","shape":[32],"data_offsets":[0]}}`, make([]byte, 128))
			return dir, []string{st(dir), "pooler.dense.bias"}
		}, nil, isType[*HeaderError]},
		{"offsets beyond file", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), `{"pooler.dense.bias":{"dtype":"F32","shape":[32],"data_offsets":[0,128]}}`, make([]byte, 64))
			return dir, []string{st(dir), "pooler.dense.bias"}
		}, nil, isType[*TruncatedFileError]},
		{"offsets disagree with shape", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), `{"pooler.dense.bias":{"dtype":"F32","shape":[32],"data_offsets":[0,64]}}`, make([]byte, 128))
			return dir, []string{st(dir), "pooler.dense.bias"}
		}, nil, isType[*HeaderError]},
		{"overlapping tensors", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), `{"a":{"dtype":"F32","shape":[32],"data_offsets":[0,128]},"b":{"dtype":"F32","shape":[32],"data_offsets":[64,192]}}`, make([]byte, 192))
			return dir, []string{st(dir), "overlaps"}
		}, nil, isType[*HeaderError]},
		{"negative dimension", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			writeRawSafetensors(t, st(dir), `{"pooler.dense.bias":{"dtype":"F32","shape":[-32],"data_offsets":[0,0]}}`, nil)
			return dir, []string{st(dir), "pooler.dense.bias"}
		}, nil, isType[*HeaderError]},
		{"wrong shape vs config", func(t *testing.T) (string, []string) {
			wide := cfg
			wide.IntermediateSize = 128
			return weightgenDir(t, wide, nil), []string{"encoder.layer.0.intermediate.dense.bias", "[64]", "[128]", "model.safetensors"}
		}, nil, isType[*ShapeError]},
		{"NaN weight", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) {
				m["encoder.layer.1.attention.self.key.weight"].Data[17] = float32(math.NaN())
			}), []string{"encoder.layer.1.attention.self.key.weight", "17"}
		}, nil, isType[*NonFiniteError]},
		{"infinite weight", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) {
				m["embeddings.word_embeddings.weight"].Data[3] = float32(math.Inf(-1))
			}), []string{"embeddings.word_embeddings.weight"}
		}, nil, isType[*NonFiniteError]},
		{"missing tensor", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) {
				delete(m, "encoder.layer.1.output.LayerNorm.bias")
			}), []string{"encoder.layer.1.output.LayerNorm.bias"}
		}, nil, isType[*MissingTensorError]},
		{"half a pooler", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) { delete(m, "pooler.dense.bias") }), []string{"pooler.dense.bias"}
		}, nil, isType[*MissingTensorError]},
		{"half a head", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) {
				h := headTensors()
				m["classifier.dense.weight"], m["classifier.dense.bias"] = h["classifier.dense.weight"], h["classifier.dense.bias"]
			}), []string{"classifier.out_proj.weight"}
		}, nil, isType[*MissingTensorError]},
		{"head wider than id2label", func(t *testing.T) (string, []string) {
			two := cfg
			two.ID2Label = map[string]string{"0": "no", "1": "yes"}
			return weightgenDir(t, two, func(m map[string]*Tensor) {
				for k, v := range headTensors() {
					m[k] = v
				}
			}), []string{"classifier.out_proj.weight", "2 labels"}
		}, nil, isType[*ShapeError]},
		{"unsupported dtype", func(t *testing.T) (string, []string) {
			dir := weightgenDir(t, cfg, func(m map[string]*Tensor) { delete(m, "embeddings.LayerNorm.bias") })
			appendEntry(t, st(dir), "embeddings.LayerNorm.bias", "I32", []int{32}, 4)
			return dir, []string{"embeddings.LayerNorm.bias", "I32", st(dir)}
		}, nil, isType[*UnsupportedDTypeError]},
		{"missing config.json", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			os.Remove(filepath.Join(dir, "config.json"))
			return dir, []string{"config.json"}
		}, nil, func(err error) bool { return isType[*ConfigError](err) && errors.Is(err, fs.ErrNotExist) }},
		{"no weights file", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyDir)
			os.Remove(st(dir))
			return dir, []string{dir, "model.safetensors"}
		}, nil, func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{"duplicate tensor under two names", func(t *testing.T) (string, []string) {
			return weightgenDir(t, cfg, func(m map[string]*Tensor) {
				m["roberta.pooler.dense.bias"] = m["pooler.dense.bias"]
			}), []string{"pooler.dense.bias"}
		}, nil, isType[*HeaderError]},
		{"shard outside the directory", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyBF16Dir)
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"pooler.dense.bias":"../model.safetensors"}}`), 0o644)
			return dir, []string{"model.safetensors.index.json", "pooler.dense.bias"}
		}, nil, isType[*HeaderError]},
		{"shard lacks a listed tensor", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyBF16Dir)
			os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"pooler.dense.bias":"model-00002-of-00002.safetensors","extra.weight":"model-00001-of-00002.safetensors"}}`), 0o644)
			return dir, []string{"extra.weight", "model-00001-of-00002.safetensors"}
		}, nil, isType[*MissingTensorError]},
		{"truncated shard", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyBF16Dir)
			p := filepath.Join(dir, "model-00001-of-00002.safetensors")
			truncateFile(t, p, fileSize(t, p)/2)
			return dir, []string{p}
		}, nil, isType[*TruncatedFileError]},
		{"truncated pytorch_model.bin", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyBinDir)
			p := filepath.Join(dir, "pytorch_model.bin")
			truncateFile(t, p, fileSize(t, p)/2)
			return dir, []string{p}
		}, nil, isType[*TruncatedFileError]},
		{"pytorch_model.bin not a zip", func(t *testing.T) (string, []string) {
			dir := copyCheckpoint(t, tinyBinDir)
			p := filepath.Join(dir, "pytorch_model.bin")
			os.WriteFile(p, []byte("this is not a checkpoint at all"), 0o644)
			return dir, []string{p}
		}, nil, isType[*HeaderError]},
		{"pytorch_model.bin corrupt pickle", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02(X\x05\x00\x00\x00abc")}})
			return dir, []string{"pytorch_model.bin"}
		}, LoadHead, isType[*HeaderError]},
		{"pickle calls a non-callable", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02K\x01)R.")}})
			return dir, []string{"pytorch_model.bin", "unpickle"}
		}, LoadHead, isType[*HeaderError]},
		{"pickle is not a state dict", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02].")}})
			return dir, []string{"pytorch_model.bin", "not a state dict"}
		}, LoadHead, isType[*HeaderError]},
		{"state dict value is not a tensor", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02}X\x05\x00\x00\x00aboutK\x01s.")}})
			return dir, []string{"pytorch_model.bin", "about"}
		}, LoadHead, isType[*HeaderError]},
		{"pickle names os.system", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")}})
			return dir, []string{"os.system", "pytorch_model.bin"}
		}, LoadHead, isType[*UnsafePickleError]},
		{"pickle names builtins.eval via STACK_GLOBAL", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x8c\x041+1\x94\x85R.")}})
			return dir, []string{"builtins.eval"}
		}, LoadHead, isType[*UnsafePickleError]},
		{"pickle names copy_reg._reconstructor", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: []byte("\x80\x02ccopy_reg\n_reconstructor\n.")}})
			return dir, []string{"copy_reg._reconstructor"}
		}, LoadHead, isType[*UnsafePickleError]},
		{"non-contiguous tensor", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				e[0].stride = []int{1, 32} // a transposed view
				return e, r
			})
			return dir, []string{"classifier.dense.weight", "non-contiguous"}
		}, LoadHead, isType[*HeaderError]},
		{"view beyond its storage", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				e[3].offset = 33
				return e, r
			})
			return dir, []string{"classifier.out_proj.bias", "exceeds"}
		}, LoadHead, isType[*HeaderError]},
		{"storage record of the wrong size", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				r[1].data = r[1].data[:100]
				return e, r
			})
			return dir, []string{"classifier.dense.weight"}
		}, LoadHead, isType[*HeaderError]},
		{"compressed storage record", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				r[3].compress = true
				return e, r
			})
			return dir, []string{"classifier.out_proj.weight", "compressed"}
		}, LoadHead, isType[*HeaderError]},
		{"big-endian storages", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				r[0].data = []byte("big")
				return e, r
			})
			return dir, []string{"pytorch_model.bin", "big"}
		}, LoadHead, isType[*HeaderError]},
		{"integer storage for a weight", func(t *testing.T) (string, []string) {
			dir := headOnlyDir(t)
			headBin(t, dir, headTensors(), func(e []pklTensor, r []zipRecord) ([]pklTensor, []zipRecord) {
				e[2].storageClass = "IntStorage"
				return e, r
			})
			return dir, []string{"classifier.out_proj.weight", "I32"}
		}, LoadHead, isType[*UnsupportedDTypeError]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, mention := tc.setup(t)
			load := tc.load
			if load == nil {
				load = Load
			}
			ck, err := load(t.Context(), dir)
			if err == nil {
				t.Fatalf("loaded %d tensors, want an error", len(ck.Tensors))
			}
			errorMentions(t, err, tc.check, mention...)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false: front ends would not map it", err)
			}
		})
	}
}

// TestHugeDeclaredLengthsDoNotAllocate: a forged length must be refused before any buffer of
// that size exists, both in a safetensors header and inside a pickle.
func TestHugeDeclaredLengthsDoNotAllocate(t *testing.T) {
	const budget = 4 << 20 // far below every forged length
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		load  func(context.Context, string) (*Checkpoint, error)
		check func(error) bool
	}{
		{"header length 2^62", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b := binary.LittleEndian.AppendUint64(nil, 1<<62)
			os.WriteFile(p, append(b, "{}"...), 0o644)
		}, Load, isType[*HeaderError]},
		{"header length under the cap but past the file end", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b := binary.LittleEndian.AppendUint64(nil, 90<<20)
			os.WriteFile(p, append(b, "{}"...), 0o644)
		}, Load, isType[*TruncatedFileError]},
		{"pickle string of 2^40 bytes", func(t *testing.T, dir string) {
			pkl := append([]byte("\x80\x04\x8d"), binary.LittleEndian.AppendUint64(nil, 1<<40)...)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: append(pkl, "abc."...)}})
		}, LoadHead, isType[*HeaderError]},
		{"pickle string of 3 GB", func(t *testing.T, dir string) {
			pkl := append([]byte("\x80\x02X"), binary.LittleEndian.AppendUint32(nil, 3<<30)...)
			writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), []zipRecord{{name: "data.pkl", data: append(pkl, "abc."...)}})
		}, LoadHead, isType[*HeaderError]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sent, err := LoadConfig(filepath.Join(tinySentimentDir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			writeConfig(t, dir, sent)
			tc.setup(t, dir)
			var loadErr error
			n := allocatedDuring(func() { _, loadErr = tc.load(t.Context(), dir) })
			errorMentions(t, loadErr, tc.check, dir)
			if n > budget {
				t.Errorf("allocated %d bytes refusing the file, want < %d", n, budget)
			}
		})
	}
}

// TestLoadSkipsBuffersAndMLMHead: position_ids (int64) and lm_head.* are skipped, reported by
// IgnoredKeys, and do not change the weights.
func TestLoadSkipsBuffersAndMLMHead(t *testing.T) {
	cfg := tinyConfig(t)
	dir := t.TempDir()
	writeConfig(t, dir, cfg)
	tensors := map[string]*Tensor{}
	for k, v := range Generate(cfg, 0, GenerateOptions{Prefix: "roberta."}).Tensors {
		tensors["roberta."+k] = v
	}
	tensors["lm_head.bias"] = &Tensor{Shape: []int{cfg.VocabSize}, Data: make([]float32, cfg.VocabSize)}
	writeTensors(t, filepath.Join(dir, "model.safetensors"), tensors)
	appendEntry(t, filepath.Join(dir, "model.safetensors"), "roberta.embeddings.position_ids", "I64", []int{1, 514}, 8)

	ck, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, ck.Tensors, Generate(cfg, 0, GenerateOptions{Prefix: "roberta."}).Tensors, nil)
	if got, want := ck.IgnoredKeys(), []string{"lm_head.bias", "roberta.embeddings.position_ids"}; !slices.Equal(got, want) {
		t.Errorf("IgnoredKeys = %v, want %v", got, want)
	}
}
