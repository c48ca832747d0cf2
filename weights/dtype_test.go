package weights

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},              // largest normal
		{0x0400, 1.0 / (1 << 14)},    // smallest normal
		{0x0001, 1.0 / (1 << 24)},    // smallest subnormal
		{0x03ff, 1023.0 / (1 << 24)}, // largest subnormal
		{0x8001, -1.0 / (1 << 24)},   // negative subnormal
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tc := range cases {
		if got := halfToFloat32(tc.h); got != tc.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("halfToFloat32(0x8000) = %v, want -0", got)
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(0x7e00) = %v, want NaN", got)
	}
}

// TestLoadHeadDTypes writes a head-only checkpoint in each float dtype the reader converts and
// checks the values come back exactly (they are chosen to be representable in every dtype).
func TestLoadHeadDTypes(t *testing.T) {
	sent, err := LoadConfig(filepath.Join(tinySentimentDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := sent.HiddenSize
	shapes := map[string][]int{
		"classifier.dense.weight": {h, h}, "classifier.dense.bias": {h},
		"classifier.out_proj.weight": {3, h}, "classifier.out_proj.bias": {3},
	}
	// value i of every tensor is (i mod 61 - 30)/64: exact in F16, BF16, F32 and F64.
	value := func(i int) float32 { return float32(i%61-30) / 64 }
	encoders := []struct {
		dtype  string
		size   int
		encode func([]byte, float32) []byte
	}{
		{"F16", 2, func(b []byte, v float32) []byte { return binary.LittleEndian.AppendUint16(b, float32ToHalfExact(v)) }},
		{"BF16", 2, func(b []byte, v float32) []byte {
			return binary.LittleEndian.AppendUint16(b, uint16(math.Float32bits(v)>>16))
		}},
		{"F32", 4, func(b []byte, v float32) []byte { return binary.LittleEndian.AppendUint32(b, math.Float32bits(v)) }},
		{"F64", 8, func(b []byte, v float32) []byte {
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
		}},
	}
	for _, enc := range encoders {
		t.Run(enc.dtype, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, sent)
			var data []byte
			entries := map[string]safetensorsEntry{}
			for _, k := range headKeys {
				start := len(data)
				for i := range numElements(shapes[k]) {
					data = enc.encode(data, value(i))
				}
				entries[k] = safetensorsEntry{DType: enc.dtype, Shape: shapes[k], DataOffsets: []int64{int64(start), int64(len(data))}}
			}
			header, err := json.Marshal(entries)
			if err != nil {
				t.Fatal(err)
			}
			writeRawSafetensors(t, filepath.Join(dir, "model.safetensors"), string(header), data)
			ck, err := LoadHead(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range headKeys {
				for i, v := range ck.Tensors[k].Data {
					if v != value(i) {
						t.Fatalf("%s[%d] = %v, want %v", k, i, v, value(i))
					}
				}
			}
		})
	}
}

// float32ToHalfExact encodes a float32 that is exactly representable as a normal binary16 (or 0).
func float32ToHalfExact(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	if b&0x7fffffff == 0 {
		return sign
	}
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}
