package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Helpers that build checkpoint files by hand, for tests that need files HF would never write.

// copyCheckpoint copies config.json and the weights files of src into a fresh temp dir.
func copyCheckpoint(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if n != "config.json" && !strings.HasSuffix(n, ".safetensors") && !strings.HasSuffix(n, ".bin") && n != "model.safetensors.index.json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// writeConfig writes cfg as dir/config.json.
func writeConfig(t *testing.T, dir string, cfg Config) {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeRawSafetensors writes a safetensors file from a literal header and data section.
func writeRawSafetensors(t *testing.T, path, header string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	buf.Write(data)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTensors writes tensors (stored names) as an F32 safetensors file, without validation.
func writeTensors(t *testing.T, path string, tensors map[string]*Tensor) {
	t.Helper()
	var buf bytes.Buffer
	if err := writeSafetensors(&buf, tensors); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// truncateFile cuts path to keep bytes.
func truncateFile(t *testing.T, path string, keep int64) {
	t.Helper()
	if err := os.Truncate(path, keep); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// allocatedDuring reports the bytes the Go heap allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// pickleBuilder writes protocol-2 pickles of state dicts the way torch.save does.
type pickleBuilder struct{ bytes.Buffer }

func (p *pickleBuilder) global(module, name string) { fmt.Fprintf(p, "c%s\n%s\n", module, name) }
func (p *pickleBuilder) str(s string) {
	p.WriteByte('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
}
func (p *pickleBuilder) int(n int) {
	p.WriteByte('J')
	binary.Write(p, binary.LittleEndian, int32(n))
}
func (p *pickleBuilder) intTuple(xs []int) {
	p.WriteByte('(')
	for _, x := range xs {
		p.int(x)
	}
	p.WriteByte('t')
}

// pklTensor describes one state-dict entry: a view onto storage key.
type pklTensor struct {
	name, storage, storageClass string
	storageNumel, offset        int
	size, stride                []int
}

// stateDictPickle returns a torch.save-style pickle of entries.
func stateDictPickle(entries []pklTensor) []byte {
	var p pickleBuilder
	p.WriteString("\x80\x02")
	p.global("collections", "OrderedDict")
	p.WriteString(")R(")
	for _, e := range entries {
		p.str(e.name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.WriteString("((")
		p.str("storage")
		p.global("torch", e.storageClass)
		p.str(e.storage)
		p.str("cpu")
		p.int(e.storageNumel)
		p.WriteString("tQ")
		p.int(e.offset)
		p.intTuple(e.size)
		p.intTuple(e.stride)
		p.WriteByte(0x89) // False: requires_grad
		p.global("collections", "OrderedDict")
		p.WriteString(")R") // backward hooks
		p.WriteString("tR")
	}
	p.WriteString("u.")
	return p.Bytes()
}

// zipRecord is one member of a torch.save archive.
type zipRecord struct {
	name     string
	data     []byte
	compress bool
}

// writeTorchZip writes records under "archive/" as torch.save does (stored, uncompressed).
func writeTorchZip(t *testing.T, path string, records []zipRecord) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range records {
		method := zip.Store
		if r.compress {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + r.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(r.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Bytes(vs ...[]float32) []byte {
	var out []byte
	for _, v := range vs {
		for _, x := range v {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
		}
	}
	return out
}

// headBin writes dir/pytorch_model.bin holding head's four classifier tensors, packing both
// biases into one storage (out_proj.bias at a storage offset), like tied or sliced tensors.
// edit may alter the entries or records before writing.
func headBin(t *testing.T, dir string, head map[string]*Tensor, edit func([]pklTensor, []zipRecord) ([]pklTensor, []zipRecord)) {
	t.Helper()
	dw, db := head["classifier.dense.weight"], head["classifier.dense.bias"]
	ow, ob := head["classifier.out_proj.weight"], head["classifier.out_proj.bias"]
	h, n := dw.Shape[0], ow.Shape[0]
	entries := []pklTensor{
		{"classifier.dense.weight", "0", "FloatStorage", h * h, 0, []int{h, h}, []int{h, 1}},
		{"classifier.dense.bias", "1", "FloatStorage", h + n, 0, []int{h}, []int{1}},
		{"classifier.out_proj.weight", "2", "FloatStorage", n * h, 0, []int{n, h}, []int{h, 1}},
		{"classifier.out_proj.bias", "1", "FloatStorage", h + n, h, []int{n}, []int{1}},
	}
	records := []zipRecord{
		{name: "byteorder", data: []byte("little")},
		{name: "data/0", data: f32Bytes(dw.Data)},
		{name: "data/1", data: f32Bytes(db.Data, ob.Data)},
		{name: "data/2", data: f32Bytes(ow.Data)},
	}
	if edit != nil {
		entries, records = edit(entries, records)
	}
	records = append([]zipRecord{{name: "data.pkl", data: stateDictPickle(entries)}}, records...)
	writeTorchZip(t, filepath.Join(dir, "pytorch_model.bin"), records)
}

// errorMentions fails t unless err is non-nil, satisfies check, and its message has every part.
func errorMentions(t *testing.T, err error, check func(error) bool, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	if check != nil && !check(err) {
		t.Errorf("error has the wrong type: %T %v", errors.Unwrap(err), err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// appendEntry adds a zero-filled tensor of dtype (elemSize bytes per element) to an existing
// safetensors file, rewriting its header; writeSafetensors can only write F32.
func appendEntry(t *testing.T, path, name, dtype string, shape []int, elemSize int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	data := raw[8+n:]
	size := numElements(shape) * elemSize
	entry, err := json.Marshal(safetensorsEntry{DType: dtype, Shape: shape, DataOffsets: []int64{int64(len(data)), int64(len(data) + size)}})
	if err != nil {
		t.Fatal(err)
	}
	header[name] = entry
	hdr, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	writeRawSafetensors(t, path, string(hdr), append(data, make([]byte, size)...))
}
