package weights

import (
	"encoding/binary"
	"io"
	"math"
)

// Checkpoint files store tensors as little-endian bytes in one of a few dtypes. The loader
// widens (F16, BF16) or narrows (F64) every float dtype to float32 while reading, in chunks,
// so a tensor costs one float32 copy and a small reusable buffer rather than two full copies.

// dtypeSizes gives the element width of every safetensors dtype we may meet, float or not;
// widths of non-float dtypes are still needed to check offsets of tensors we skip.
var dtypeSizes = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1,
	"BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
}

// floatDType reports whether the loader can convert dtype to float32.
func floatDType(dtype string) bool {
	switch dtype {
	case "F32", "F16", "BF16", "F64":
		return true
	}
	return false
}

// readChunkBytes is the size of the staging buffer used while converting a tensor.
const readChunkBytes = 1 << 20

// readFloat32 fills dst with len(dst) elements of dtype read from r at byte offset off.
// A short read is a *TruncatedFileError naming file and tensor.
func readFloat32(r io.ReaderAt, off int64, dst []float32, dtype, file, tensor string) error {
	es := dtypeSizes[dtype]
	if !floatDType(dtype) {
		return &UnsupportedDTypeError{File: file, Tensor: tensor, DType: dtype}
	}
	per := readChunkBytes / es
	buf := make([]byte, min(len(dst), per)*es)
	for done := 0; done < len(dst); {
		n := min(len(dst)-done, per)
		chunk := buf[:n*es]
		pos := off + int64(done)*int64(es)
		if got, err := r.ReadAt(chunk, pos); got < len(chunk) {
			if err == nil || err == io.EOF {
				return &TruncatedFileError{File: file, Tensor: tensor, Want: pos + int64(len(chunk)), Got: pos + int64(got)}
			}
			return &HeaderError{File: file, Tensor: tensor, Reason: "read failed", Err: err}
		}
		decodeFloats(dst[done:done+n], chunk, dtype)
		done += n
	}
	return nil
}

// decodeFloats converts little-endian src of dtype into dst; len(src) = len(dst)·width.
func decodeFloats(dst []float32, src []byte, dtype string) {
	switch dtype {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case "BF16":
		// bfloat16 is the top half of a float32, so widening is a shift and is exact.
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case "F16":
		for i := range dst {
			dst[i] = halfToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}
}

// halfToFloat32 widens an IEEE 754 binary16 value exactly, subnormals, infinities and NaN
// included.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN: keep the payload
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default: // subnormal half = mant·2^-24, a normal float32
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}
