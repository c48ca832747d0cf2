package weights

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// pytorch_model.bin (torch.save since PyTorch 1.6) is a zip archive:
//
//	<prefix>/data.pkl       the state dict, pickled: an OrderedDict of name -> tensor, where each
//	                        tensor is torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
//	                        and each storage is a persistent id ("storage", torch.FloatStorage,
//	                        "<key>", "cpu", numel) pointing at a record below
//	<prefix>/data/<key>     raw little-endian storage bytes, stored uncompressed
//	<prefix>/byteorder      "little" (absent in old files, which are little-endian)
//
// Python's torch.load executes whatever globals a pickle names, which is why pickled
// checkpoints are a code-execution risk. This reader never executes anything: gopickle only
// builds data, the stream is pre-scanned (scanPickle), and the class lookup answers only the
// allowed names below; any other global is a *UnsafePickleError naming it.

// torchStorageDTypes maps the allowed storage classes to safetensors dtype names.
var torchStorageDTypes = map[string]string{
	"FloatStorage": "F32", "HalfStorage": "F16", "BFloat16Storage": "BF16", "DoubleStorage": "F64",
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

// allowedGlobal is the complete allow-list of globals a state-dict pickle may name. Non-float
// storage classes are allowed because old checkpoints carry an int64 position_ids buffer; such
// tensors are skipped, never converted.
func allowedGlobal(module, name string) bool {
	switch module + "." + name {
	case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter":
		return true
	}
	_, isStorage := torchStorageDTypes[name]
	return module == "torch" && isStorage
}

// maxDataPkl bounds the pickle we read into memory; roberta-base's is about 30 KB.
const maxDataPkl = 64 << 20

// torchStorageType is what the unpickler returns for torch.FloatStorage and friends.
type torchStorageType struct{ dtype string }

// torchStorage is one persistent storage record, not yet read.
type torchStorage struct {
	dtype string
	key   string
	numel int
}

// torchTensor is a tensor view onto a storage, as _rebuild_tensor_v2 describes it.
type torchTensor struct {
	storage *torchStorage
	offset  int // in elements
	size    []int
	stride  []int
}

type rebuildTensorV2 struct{}

// Call receives (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
func (rebuildTensorV2) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*torchStorage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: first argument is %T, want a storage", args[0])
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: bad storage offset %v", args[1])
	}
	size, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2 size: %w", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2 stride: %w", err)
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", size, stride)
	}
	return &torchTensor{storage: st, offset: offset, size: size, stride: stride}, nil
}

type rebuildParameter struct{}

// Call receives (data, requires_grad, backward_hooks): an nn.Parameter is its tensor.
func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	t, ok := args[0].(*torchTensor)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter: argument is %T, want a tensor", args[0])
	}
	return t, nil
}

func intTuple(v any) ([]int, error) {
	tup, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%T is not a tuple", v)
	}
	out := make([]int, tup.Len())
	for i := range out {
		n, ok := tup.Get(i).(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("element %d (%v) is not a non-negative int", i, tup.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

// openPytorchBin opens a torch.save zip and returns its tensors, unread, and a closer.
func openPytorchBin(file string) ([]rawTensor, func() error, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("open pytorch checkpoint: %w", err)
	}
	tensors, err := parsePytorchBin(f, file)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return tensors, f.Close, nil
}

func parsePytorchBin(f *os.File, file string) ([]rawTensor, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", file, err)
	}
	size := info.Size()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		var magic [4]byte
		n, _ := f.ReadAt(magic[:], 0)
		switch {
		case n == 4 && string(magic[:]) == "PK\x03\x04":
			// Zip entries are there but the central directory at the end is not.
			return nil, &TruncatedFileError{File: file, Got: size, Reason: "zip archive lacks its central directory: " + err.Error()}
		case n >= 2 && magic[0] == 0x80:
			return nil, &HeaderError{File: file, Reason: "legacy (pre-1.6) torch.save format is not supported; re-save it with a recent torch or as safetensors"}
		default:
			return nil, &HeaderError{File: file, Reason: "not a PyTorch zip archive", Err: err}
		}
	}
	records := map[string]*zip.File{}
	var pkl *zip.File
	for _, zf := range zr.File {
		records[zf.Name] = zf
		if path.Base(zf.Name) == "constants.pkl" {
			return nil, &HeaderError{File: file, Reason: "TorchScript archives are not supported"}
		}
		if path.Base(zf.Name) == "data.pkl" && strings.Count(zf.Name, "/") <= 1 {
			if pkl != nil {
				return nil, &HeaderError{File: file, Reason: "more than one data.pkl"}
			}
			pkl = zf
		}
	}
	if pkl == nil {
		return nil, &HeaderError{File: file, Reason: "no data.pkl in the archive"}
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo := records[prefix+"byteorder"]; bo != nil {
		order, err := readZipRecord(bo, 16)
		if err != nil {
			return nil, &HeaderError{File: file, Reason: "cannot read byteorder", Err: err}
		}
		if s := strings.TrimSpace(string(order)); s != "little" {
			return nil, &HeaderError{File: file, Reason: fmt.Sprintf("byte order %q is not supported (only little-endian)", s)}
		}
	}
	data, err := readZipRecord(pkl, maxDataPkl)
	if err != nil {
		return nil, &HeaderError{File: file, Reason: "cannot read " + pkl.Name, Err: err}
	}
	if err := scanPickle(data, file); err != nil {
		return nil, err
	}
	state, err := unpickleStateDict(data, file)
	if err != nil {
		return nil, err
	}
	var out []rawTensor
	for _, e := range state {
		t, err := pytorchRawTensor(f, size, file, prefix, records, e.name, e.tensor)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// readZipRecord reads a whole (small) record, refusing ones over limit bytes.
func readZipRecord(zf *zip.File, limit int64) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("record %s is %d bytes, over the %d-byte limit", zf.Name, zf.UncompressedSize64, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("record %s exceeds %d bytes", zf.Name, limit)
	}
	return data, nil
}

type stateEntry struct {
	name   string
	tensor *torchTensor
}

// unpickleStateDict runs the restricted unpickler and returns the state dict's entries in order.
func unpickleStateDict(data []byte, file string) (entries []stateEntry, err error) {
	// gopickle is not hardened against every malformed stream; a panic there is a bad file.
	defer func() {
		if r := recover(); r != nil {
			entries, err = nil, &HeaderError{File: file, Reason: fmt.Sprintf("malformed pickle: %v", r)}
		}
	}()
	storages := map[string]*torchStorage{}
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (any, error) {
		if !allowedGlobal(module, name) {
			return nil, &UnsafePickleError{File: file, Global: module + "." + name}
		}
		switch module + "." + name {
		case "torch._utils._rebuild_tensor_v2":
			return rebuildTensorV2{}, nil
		case "torch._utils._rebuild_parameter":
			return rebuildParameter{}, nil
		}
		return &torchStorageType{dtype: torchStorageDTypes[name]}, nil
	}
	u.PersistentLoad = func(pid any) (any, error) {
		tup, ok := pid.(*types.Tuple)
		if !ok || tup.Len() < 5 || tup.Get(0) != "storage" {
			return nil, fmt.Errorf("persistent id %v is not a storage reference", pid)
		}
		typ, ok1 := tup.Get(1).(*torchStorageType)
		key, ok2 := tup.Get(2).(string)
		numel, ok3 := tup.Get(4).(int)
		if !ok1 || !ok2 || !ok3 || numel < 0 {
			return nil, fmt.Errorf("persistent id %v: want (storage, <type>, key, location, numel)", pid)
		}
		if st, seen := storages[key]; seen {
			if st.dtype != typ.dtype || st.numel != numel {
				return nil, fmt.Errorf("storage %s referenced with two types or sizes", key)
			}
			return st, nil
		}
		st := &torchStorage{dtype: typ.dtype, key: key, numel: numel}
		storages[key] = st
		return st, nil
	}
	result, err := u.Load()
	if err != nil {
		var unsafe *UnsafePickleError
		if errors.As(err, &unsafe) { // gopickle returns class-lookup errors as is
			return nil, unsafe
		}
		return nil, &HeaderError{File: file, Reason: "cannot unpickle state dict", Err: err}
	}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return &HeaderError{File: file, Reason: fmt.Sprintf("state dict key %v is not a string", k)}
		}
		t, ok := v.(*torchTensor)
		if !ok {
			return &HeaderError{File: file, Tensor: name, Reason: fmt.Sprintf("value is %T, not a tensor", v)}
		}
		entries = append(entries, stateEntry{name, t})
		return nil
	}
	switch d := result.(type) {
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, &HeaderError{File: file, Reason: fmt.Sprintf("pickle holds %T, not a state dict", result)}
	}
	return entries, nil
}

// pytorchRawTensor checks a tensor view against its storage record and returns its reader.
func pytorchRawTensor(f *os.File, fileSize int64, file, prefix string, records map[string]*zip.File, name string, t *torchTensor) (rawTensor, error) {
	st := t.storage
	raw := rawTensor{Name: name, File: file, DType: st.dtype, Shape: t.size}
	es, ok := dtypeSizes[st.dtype]
	if !ok {
		return raw, &UnsupportedDTypeError{File: file, Tensor: name, DType: st.dtype}
	}
	rec := records[prefix+"data/"+st.key]
	if rec == nil {
		return raw, &HeaderError{File: file, Tensor: name, Reason: "storage record data/" + st.key + " is missing"}
	}
	if rec.Method != zip.Store {
		return raw, &HeaderError{File: file, Tensor: name, Reason: "storage record is compressed; torch.save stores them uncompressed"}
	}
	if rec.UncompressedSize64 != uint64(st.numel)*uint64(es) {
		return raw, &HeaderError{File: file, Tensor: name, Reason: fmt.Sprintf("storage record holds %d bytes, %d elements of %s need %d", rec.UncompressedSize64, st.numel, st.dtype, st.numel*es)}
	}
	numel := 1
	for _, d := range t.size {
		if d > 0 && numel > maxTensorElements/d {
			return raw, &HeaderError{File: file, Tensor: name, Reason: fmt.Sprintf("shape %v is too large", t.size)}
		}
		numel *= d
	}
	if numel > 0 && t.offset+numel > st.numel {
		return raw, &HeaderError{File: file, Tensor: name, Reason: fmt.Sprintf("view of %d elements at offset %d exceeds its storage of %d", numel, t.offset, st.numel)}
	}
	// Only row-major contiguous views can be copied as one run; dims of size 1 may carry any stride.
	want := 1
	for i := len(t.size) - 1; i >= 0; i-- {
		if t.size[i] != 1 && t.stride[i] != want {
			return raw, &HeaderError{File: file, Tensor: name, Reason: fmt.Sprintf("non-contiguous tensor (size %v, stride %v) is not supported; save it with .contiguous()", t.size, t.stride)}
		}
		want *= t.size[i]
	}
	dataOff, err := rec.DataOffset()
	if err != nil {
		return raw, &HeaderError{File: file, Tensor: name, Reason: "cannot locate storage record", Err: err}
	}
	if end := dataOff + int64(rec.UncompressedSize64); end > fileSize {
		return raw, &TruncatedFileError{File: file, Tensor: name, Want: end, Got: fileSize}
	}
	off := dataOff + int64(t.offset)*int64(es)
	raw.read = func(dst []float32) error { return readFloat32(f, off, dst, raw.DType, file, name) }
	return raw, nil
}
