// Package weightgen fills a checkpoint of any geometry from a 64-bit seed, bit for bit like
// the reference weightgen.py: every parameter is a pure function of its checkpoint key and the
// seed. It exists so tests, benchmarks and the demo model can rebuild full-size checkpoints
// instead of shipping them.
package weightgen

import (
	"strings"
)

// Tensor returns the n values of the tensor stored under key.
func Tensor(key string, n int, seed uint64) []float32 {
	const (
		golden = 0x9E3779B97F4A7C15
		m1     = 0xBF58476D1CE4E5B9
		m2     = 0x94D049BB133111EB
	)
	scale, offset := weightgenScale(key)
	state := fnv1a64(key) ^ seed
	out := make([]float32, n)
	for i := range out {
		z := state + uint64(i+1)*golden
		z = (z ^ (z >> 30)) * m1
		z = (z ^ (z >> 27)) * m2
		z ^= z >> 31
		u := float32(z>>40)*(1.0/(1<<23)) - 1
		// The explicit conversion rounds the product, so no fused multiply-add is formed.
		out[i] = float32(u*scale) + offset
	}
	return out
}

func fnv1a64(key string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 0x100000001b3
	}
	return h
}

func weightgenScale(key string) (scale, offset float32) {
	switch {
	case strings.HasSuffix(key, "LayerNorm.weight"):
		return 0.2, 1
	case strings.HasSuffix(key, "LayerNorm.bias"):
		return 0.1, 0
	case strings.Contains(key, "embeddings.") && strings.HasSuffix(key, ".weight"):
		return 0.1, 0
	case strings.HasSuffix(key, ".bias"):
		return 0.05, 0
	default:
		return 0.08, 0
	}
}
