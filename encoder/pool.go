package encoder

import (
	"fmt"
	"math"
)

// Pooling chooses how a sequence's token rows become one vector.
type Pooling string

const (
	// PoolMean averages all real tokens' rows, <s> and </s> included, padding excluded.
	PoolMean Pooling = "mean"
	// PoolCLS takes the <s> row (row 0).
	PoolCLS Pooling = "cls"
	// PoolPooler is HF's pooler: tanh(pooler.dense(row 0)); needs a checkpoint with a pooler.
	PoolPooler Pooling = "pooler"
	// PoolNone asks for per-token rows instead of one vector (Pool refuses it).
	PoolNone Pooling = "none"
)

// ParsePooling reads a pooling name as a client spells it.
func ParsePooling(s string) (Pooling, error) {
	switch p := Pooling(s); p {
	case PoolMean, PoolCLS, PoolPooler, PoolNone:
		return p, nil
	}
	return "", fmt.Errorf("unknown pooling %.40q (want mean, cls, pooler or none)", s)
}

// Pool reduces sequence i of o to one vector, optionally L2-normalised. It returns a new
// slice. Errors: i out of range, PoolNone or an unknown pooling, PoolPooler without a pooler.
func (e *Encoder) Pool(o *Output, i int, p Pooling, normalize bool) ([]float32, error) {
	if o == nil || i < 0 || i >= o.Len() {
		return nil, fmt.Errorf("pool: sequence %d out of range", i)
	}
	if o.hidden != e.cfg.HiddenSize {
		return nil, fmt.Errorf("pool: output rows have width %d, encoder %d", o.hidden, e.cfg.HiddenSize)
	}
	rows := o.Hidden(i)
	h := o.hidden
	var v []float32
	switch p {
	case PoolCLS:
		v = append([]float32(nil), rows[0]...)
	case PoolMean:
		sum := make([]float64, h)
		for _, r := range rows {
			for j, x := range r {
				sum[j] += float64(x)
			}
		}
		v = make([]float32, h)
		for j := range v {
			v[j] = float32(sum[j] / float64(len(rows)))
		}
	case PoolPooler:
		if e.w.poolerW == nil {
			return nil, fmt.Errorf("pool: checkpoint has no pooler (pooler.dense.*)")
		}
		v = make([]float32, h)
		matVecTanh(v, e.w.poolerW.data, e.w.poolerB, rows[0])
	default:
		return nil, fmt.Errorf("pool: pooling %q gives no single vector", p)
	}
	if normalize {
		l2Normalize(v)
	}
	return v, nil
}

// matVec computes out = W·x + b for W in [len(out), len(x)] layout, accumulating in float64.
func matVec(out, w, b, x []float32) {
	n := len(x)
	for r := range out {
		row := w[r*n : (r+1)*n]
		acc := float64(b[r])
		for j, xv := range x {
			acc += float64(row[j]) * float64(xv)
		}
		out[r] = float32(acc)
	}
}

// matVecTanh computes out = tanh(W·x + b).
func matVecTanh(out, w, b, x []float32) {
	matVec(out, w, b, x)
	for r, v := range out {
		out[r] = float32(math.Tanh(float64(v)))
	}
}

// l2Normalize scales v to unit Euclidean length (a zero vector stays zero).
func l2Normalize(v []float32) {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return
	}
	inv := 1 / math.Sqrt(sq)
	for j := range v {
		v[j] = float32(float64(v[j]) * inv)
	}
}
