// Package shapes parses the BATCHxSEQ benchmark shapes that bench/encoder and bench/compare
// both take on their command lines.
package shapes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shape is one benchmark input: Batch sequences of Seq tokens each.
type Shape struct{ Batch, Seq int }

func (s Shape) String() string { return fmt.Sprintf("%dx%d", s.Batch, s.Seq) }

// Label is the shape as tables print it (1×16).
func (s Shape) Label() string { return fmt.Sprintf("%d×%d", s.Batch, s.Seq) }

// Tokens is the number of tokens in the batch.
func (s Shape) Tokens() int { return s.Batch * s.Seq }

// Parse reads "1x16,8x128": BATCHxSEQ, batch ≥ 1, seq ≥ 2 (<s> and </s>), no repeats.
func Parse(spec string) ([]Shape, error) {
	var out []Shape
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		b, q, ok := strings.Cut(strings.ToLower(f), "x")
		batch, err1 := strconv.Atoi(b)
		seq, err2 := strconv.Atoi(q)
		if !ok || err1 != nil || err2 != nil || batch < 1 || seq < 2 {
			return nil, fmt.Errorf("bad shape %q (want BATCHxSEQ, batch >= 1, seq >= 2)", f)
		}
		s := Shape{batch, seq}
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("shape %s given twice", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no shapes in %q", spec)
	}
	return out, nil
}
