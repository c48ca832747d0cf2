package encoder

// Output holds a batch's last hidden states, copied out of the encoder's buffers: it stays
// valid after later forward passes and is safe to read from many goroutines.
type Output struct {
	hidden int
	seqs   [][]float32 // per sequence, its real tokens' rows, row-major [tokens, hidden]
}

// newOutput copies each sequence's rows out of the packed [tokens, hidden] x (the
// sequences back to back, in batch order).
func newOutput(x []float32, ids [][]int32, hidden int) *Output {
	o := &Output{hidden: hidden, seqs: make([][]float32, len(ids))}
	start := 0
	for b, s := range ids {
		end := start + len(s)*hidden
		o.seqs[b] = append([]float32(nil), x[start:end]...)
		start = end
	}
	return o
}

// Len is the number of sequences.
func (o *Output) Len() int { return len(o.seqs) }

// HiddenSize is the width of every row.
func (o *Output) HiddenSize() int { return o.hidden }

// Tokens is sequence i's number of real tokens (0 if i is out of range).
func (o *Output) Tokens(i int) int {
	if i < 0 || i >= len(o.seqs) {
		return 0
	}
	return len(o.seqs[i]) / o.hidden
}

// Hidden returns sequence i's per-token rows (real tokens only, specials included), or nil
// if i is out of range. The rows share the Output's memory: do not modify them.
func (o *Output) Hidden(i int) [][]float32 {
	n := o.Tokens(i)
	if n == 0 {
		return nil
	}
	rows := make([][]float32, n)
	for t := range rows {
		rows[t] = o.seqs[i][t*o.hidden : (t+1)*o.hidden : (t+1)*o.hidden]
	}
	return rows
}
