package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/coldserve/coldserve/model"
)

// Digest is the full SHA-256 (64 hex digits) of a checkpoint's weights in the canonical
// encoding of model.Checkpoint.ID: sorted canonical keys, each length-prefixed with its shape
// and little-endian float32 values. Checkpoint.ID is "sha256:" and the first 12 digits of it,
// so it does not depend on the file format (safetensors, sharded, pytorch_model.bin, bf16
// widened to f32 gives the widened values' digest).
func Digest(ck *model.Checkpoint) string {
	keys := make([]string, 0, len(ck.Tensors))
	for k, t := range ck.Tensors {
		if t != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, k := range keys {
		t := ck.Tensors[k]
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t.Shape)))
		for _, d := range t.Shape {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(d))
		}
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t.Data)))
		for _, v := range t.Data {
			if len(buf)+4 > cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DigestMismatchError says the loaded weights are not the ones the operator expected (422).
type DigestMismatchError struct {
	Expected string
	Actual   string // full 64-digit digest
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("weights digest sha256:%s does not match the expected %s", e.Actual, e.Expected)
}

var hexDigits = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

// ParseExpected normalises an expected digest: "sha256:" is optional, hex is case-insensitive,
// and at least 12 digits (the length of Checkpoint.ID) up to all 64 are required. It returns
// the lowercase hex.
func ParseExpected(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if !hexDigits.MatchString(h) {
		return "", fmt.Errorf("sha256 %q: want the checkpoint id (sha256:<12 hex digits>) or 12 to 64 hex digits of the weights digest", s)
	}
	return h, nil
}

// MatchDigest checks ck against an expected digest prefix accepted by ParseExpected. It
// returns the full digest either way.
func MatchDigest(ck *model.Checkpoint, expected string) (string, error) {
	want, err := ParseExpected(expected)
	if err != nil {
		return "", err
	}
	got := Digest(ck)
	if !strings.HasPrefix(got, want) {
		return got, &DigestMismatchError{Expected: expected, Actual: got}
	}
	return got, nil
}
