package encoder

import (
	"context"
	"math"
	"testing"
)

func TestParsePooling(t *testing.T) {
	cases := []struct {
		in   string
		want Pooling
		ok   bool
	}{
		{"mean", PoolMean, true}, {"cls", PoolCLS, true}, {"pooler", PoolPooler, true},
		{"none", PoolNone, true}, {"", "", false}, {"MEAN", "", false}, {"max", "", false},
	}
	for _, c := range cases {
		got, err := ParsePooling(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParsePooling(%q) = %q, %v; want %q, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestPoolNormalizeAndErrors: normalisation gives a unit vector in the same direction,
// and impossible requests are errors.
func TestPoolNormalizeAndErrors(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	o, err := e.Forward(context.Background(), [][]int32{{0, 713, 16, 10, 1296, 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Pooling{PoolCLS, PoolMean, PoolPooler} {
		raw, err := e.Pool(o, 0, p, false)
		if err != nil {
			t.Fatal(err)
		}
		unit, err := e.Pool(o, 0, p, true)
		if err != nil {
			t.Fatal(err)
		}
		var norm, dot, rawNorm float64
		for i := range unit {
			norm += float64(unit[i]) * float64(unit[i])
			dot += float64(unit[i]) * float64(raw[i])
			rawNorm += float64(raw[i]) * float64(raw[i])
		}
		if math.Abs(norm-1) > 1e-6 || math.Abs(dot-math.Sqrt(rawNorm)) > 1e-5 {
			t.Errorf("%s: |unit|² = %g, unit·raw = %g, |raw| = %g", p, norm, dot, math.Sqrt(rawNorm))
		}
	}
	noPooler := mustEncoder(t, sentimentCheckpoint(t), EncoderOptions{})
	if noPooler.HasPooler() || !e.HasPooler() {
		t.Fatalf("HasPooler: sentiment %v, tiny %v", noPooler.HasPooler(), e.HasPooler())
	}
	cases := []struct {
		name string
		enc  *Encoder
		i    int
		p    Pooling
	}{
		{"index past end", e, 1, PoolMean},
		{"negative index", e, -1, PoolCLS},
		{"none", e, 0, PoolNone},
		{"unknown", e, 0, Pooling("max")},
		{"pooler missing", noPooler, 0, PoolPooler},
	}
	for _, c := range cases {
		if v, err := c.enc.Pool(o, c.i, c.p, false); err == nil {
			t.Errorf("%s: got %d values, want an error", c.name, len(v))
		}
	}
	if _, err := e.Pool(nil, 0, PoolMean, false); err == nil {
		t.Error("nil output: want an error")
	}
}
