package weights

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// A safetensors file is: an 8-byte little-endian header length N, N bytes of JSON mapping each
// tensor name to {dtype, shape, data_offsets:[begin,end]} (offsets relative to the data section),
// then the data section. Nothing in it is executable, which is why HF prefers it to pickles.
//
// The reader trusts nothing: N is capped before anything is allocated, and every tensor's
// byte range must lie inside the file and match shape × dtype width, so a hostile or damaged file
// fails with a typed error instead of a huge allocation or a panic.

// maxSafetensorsHeader bounds the JSON header. Real headers are a few hundred bytes per tensor
// (roberta-base: ~20 KB); 100 MB leaves room for any model while refusing bogus lengths.
const maxSafetensorsHeader = 100 << 20

// maxTensorElements bounds a declared shape's product so it cannot overflow int arithmetic.
const maxTensorElements = 1 << 40

// rawTensor is one tensor as a checkpoint file declares it, not yet read.
type rawTensor struct {
	Name  string // key exactly as stored (may carry "roberta.")
	File  string
	DType string
	Shape []int
	// read fills dst (len = product of Shape) with the tensor converted to float32.
	read func(dst []float32) error
}

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// safetensorsFile is an open safetensors file with its parsed, checked header.
type safetensorsFile struct {
	f       *os.File
	tensors []rawTensor // in data-offset order
}

func (s *safetensorsFile) Close() error { return s.f.Close() }

type safetensorsEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// openSafetensors opens path and validates its header against the file size.
func openSafetensors(path string) (*safetensorsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	st, err := parseSafetensors(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return st, nil
}

func parseSafetensors(f *os.File, path string) (*safetensorsFile, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	size := info.Size()
	var lenBuf [8]byte
	if n, _ := f.ReadAt(lenBuf[:], 0); n < 8 {
		return nil, &TruncatedFileError{File: path, Want: 8, Got: size}
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxSafetensorsHeader {
		return nil, &HeaderError{File: path, Reason: fmt.Sprintf("declared header length %d exceeds the %d-byte limit", hlen, maxSafetensorsHeader)}
	}
	if int64(hlen) > size-8 {
		return nil, &TruncatedFileError{File: path, Want: 8 + int64(hlen), Got: size}
	}
	header := make([]byte, hlen)
	if _, err := f.ReadAt(header, 8); err != nil {
		return nil, &HeaderError{File: path, Reason: "cannot read header", Err: err}
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return nil, &HeaderError{File: path, Reason: "header is not a JSON object", Err: err}
	}
	dataStart := 8 + int64(hlen)
	dataLen := size - dataStart
	type span struct {
		begin, end int64
		name       string
	}
	var spans []span
	st := &safetensorsFile{f: f}
	for name, raw := range entries {
		if name == "__metadata__" {
			continue
		}
		var e safetensorsEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, &HeaderError{File: path, Tensor: name, Reason: "malformed entry", Err: err}
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0] {
			return nil, &HeaderError{File: path, Tensor: name, Reason: fmt.Sprintf("bad data_offsets %v", e.DataOffsets)}
		}
		numel := 1
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && numel > maxTensorElements/d) {
				return nil, &HeaderError{File: path, Tensor: name, Reason: fmt.Sprintf("bad shape %v", e.Shape)}
			}
			numel *= d
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if end > dataLen {
			return nil, &TruncatedFileError{File: path, Tensor: name, Want: dataStart + end, Got: size}
		}
		if es, known := dtypeSizes[e.DType]; known && end-begin != int64(numel)*int64(es) {
			return nil, &HeaderError{File: path, Tensor: name, Reason: fmt.Sprintf("data_offsets span %d bytes but shape %v of %s needs %d", end-begin, e.Shape, e.DType, int64(numel)*int64(es))}
		}
		spans = append(spans, span{begin, end, name})
		t := rawTensor{Name: name, File: path, DType: e.DType, Shape: e.Shape}
		if t.Shape == nil {
			t.Shape = []int{}
		}
		off := dataStart + begin
		t.read = func(dst []float32) error { return readFloat32(f, off, dst, t.DType, path, name) }
		st.tensors = append(st.tensors, t)
	}
	// Overlapping tensors would alias each other's bytes; the format forbids it.
	sort.Slice(spans, func(i, j int) bool { return spans[i].begin < spans[j].begin })
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, &HeaderError{File: path, Tensor: spans[i].name, Reason: "data overlaps tensor " + spans[i-1].name}
		}
	}
	order := make(map[string]int64, len(spans))
	for _, s := range spans {
		order[s.name] = s.begin
	}
	sort.Slice(st.tensors, func(i, j int) bool { return order[st.tensors[i].Name] < order[st.tensors[j].Name] })
	return st, nil
}
