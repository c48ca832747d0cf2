package weights

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"sync"
)

// checkpointMemo holds what is derived once from a checkpoint's immutable tensors.
type checkpointMemo struct {
	digestOnce sync.Once
	digest     string
	ignored    []string // stored names the loader skipped, sorted
}

// newCheckpoint builds a Checkpoint with a memo, so its ID is computed at most once.
func newCheckpoint(cfg Config, tensors map[string]*Tensor, source string, ignored []string) *Checkpoint {
	sort.Strings(ignored)
	return &Checkpoint{Config: cfg, Tensors: tensors, Source: source, memo: &checkpointMemo{ignored: ignored}}
}

// IgnoredKeys lists the stored tensor names Load skipped because the model does not use them
// (lm_head.*, position_ids buffers, tensors of other architectures), sorted. Nil for
// checkpoints not read from files.
func (c *Checkpoint) IgnoredKeys() []string {
	if c.memo == nil {
		return nil
	}
	return slices.Clone(c.memo.ignored)
}

// UnexpectedKeys is IgnoredKeys less the ones every checkpoint may carry (lm_head.*, buffers):
// tensors of some other architecture, worth a warning from whoever loads it.
func (c *Checkpoint) UnexpectedKeys() []string {
	var out []string
	for _, name := range c.IgnoredKeys() {
		if !expectedIgnored(name) {
			out = append(out, name)
		}
	}
	return out
}

// ID identifies the weights: "sha256:" and the first 12 hex digits of Digest. Like Digest it
// depends only on the tensors, not on the file format they came from.
func (c *Checkpoint) ID() string { return "sha256:" + c.Digest()[:12] }

// Digest is the full SHA-256 (64 hex digits) over the sorted canonical keys, each key's shape
// and its float32 values (little-endian). It depends only on the tensors, not on the file
// format they came from, so pytorch_model.bin and model.safetensors holding the same weights
// have the same digest (BF16 files give the digest of their widened values), and a fused
// checkpoint has its own. It is computed once for checkpoints made by Load, LoadHead and Fuse
// (they are immutable).
func (c *Checkpoint) Digest() string {
	if c.memo == nil {
		return c.computeDigest()
	}
	c.memo.digestOnce.Do(func() { c.memo.digest = c.computeDigest() })
	return c.memo.digest
}

func (c *Checkpoint) computeDigest() string {
	keys := make([]string, 0, len(c.Tensors))
	for k, t := range c.Tensors {
		if t != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	for _, k := range keys {
		t := c.Tensors[k]
		// Length-prefixed fields keep the encoding unambiguous.
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t.Shape)))
		for _, d := range t.Shape {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(d))
		}
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t.Data)))
		for _, v := range t.Data {
			if len(buf)+4 > cap(buf) {
				flush()
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		flush()
	}
	return hex.EncodeToString(h.Sum(nil))
}
