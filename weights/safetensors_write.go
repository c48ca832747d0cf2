package weights

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// writeSafetensors writes tensors (stored name -> tensor) as an F32 safetensors stream:
// names sorted, data packed in that order, the JSON header padded with spaces to a multiple of
// 8 bytes (as the reference implementation does, so the data section stays aligned), and
// "__metadata__": {"format": "pt"}, which transformers expects.
func writeSafetensors(w io.Writer, tensors map[string]*Tensor) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var offset int64
	for _, name := range names {
		t := tensors[name]
		if len(t.Data) != t.NumElements() {
			return fmt.Errorf("write safetensors: tensor %s has %d values for shape %v", name, len(t.Data), t.Shape)
		}
		size := int64(len(t.Data)) * 4
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[name] = safetensorsEntry{DType: "F32", Shape: shape, DataOffsets: []int64{offset, offset + size}}
		offset += size
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("write safetensors header: %w", err)
	}
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	bw.Write(lenBuf[:])
	bw.Write(hdr)
	chunk := make([]byte, 0, 64<<10)
	for _, name := range names {
		for _, v := range tensors[name].Data {
			if len(chunk) == cap(chunk) {
				bw.Write(chunk)
				chunk = chunk[:0]
			}
			chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
		}
	}
	bw.Write(chunk)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}
