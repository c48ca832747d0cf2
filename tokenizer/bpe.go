package tokenizer

import (
	"fmt"
	"sync"
)

// bpe is a byte-level BPE model: a vocabulary and ranked merges over vocabulary ids.
type bpe struct {
	vocab   map[string]int32
	merges  map[uint64]merge // key: left<<32 | right
	byteIDs [256]int32       // id of each byte's one-rune token
	// ignoreMerges: a word that is itself in the vocabulary is emitted whole (model.ignore_merges).
	ignoreMerges bool
}

type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// newBPE checks the model and resolves the merges to ids. Merges are ranked by their order;
// a pair listed twice keeps its last rank, as both Hugging Face implementations do.
func newBPE(vocab map[string]int32, merges [][2]string, ignoreMerges bool) (*bpe, error) {
	m := &bpe{vocab: vocab, merges: make(map[uint64]merge, len(merges)), ignoreMerges: ignoreMerges}
	for b := 0; b < 256; b++ {
		id, ok := vocab[string(byteToRune[b])]
		if !ok {
			return nil, fmt.Errorf("vocabulary lacks the byte-level token %q for byte 0x%02x: not a byte-level BPE vocabulary", string(byteToRune[b]), b)
		}
		m.byteIDs[b] = id
	}
	for i, p := range merges {
		a, okA := vocab[p[0]]
		b, okB := vocab[p[1]]
		n, okN := vocab[p[0]+p[1]]
		if !okA || !okB || !okN {
			return nil, fmt.Errorf("merge %d (%q %q): a part or the merged token is not in the vocabulary", i+1, p[0], p[1])
		}
		m.merges[pairKey(a, b)] = merge{rank: int32(i), id: n}
	}
	return m, nil
}

type symbol struct {
	id         int32
	prev, next int32 // neighbours in the word; -1 at the ends
	gone       bool  // merged into its left neighbour
}

type candidate struct{ rank, pos, id int32 }

func (c candidate) less(d candidate) bool {
	return c.rank < d.rank || c.rank == d.rank && c.pos < d.pos
}

type bpeScratch struct {
	syms []symbol
	heap []candidate
}

var scratchPool = sync.Pool{New: func() any { return new(bpeScratch) }}

// tokenize appends the ids of word (raw bytes, one pre-token) to dst. Merges are applied lowest
// rank first and, within a rank, leftmost first; this equals both the Rust tokenizers' heap and the
// Python reference's "merge every occurrence of the best pair" loop.
func (m *bpe) tokenize(dst []int32, word string) []int32 {
	if len(word) == 1 {
		return append(dst, m.byteIDs[word[0]])
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[byteLevel(word)]; ok {
			return append(dst, id)
		}
	}
	sc := scratchPool.Get().(*bpeScratch)
	syms := sc.syms[:0]
	for i := 0; i < len(word); i++ {
		syms = append(syms, symbol{id: m.byteIDs[word[i]], prev: int32(i - 1), next: int32(i + 1)})
	}
	syms[len(syms)-1].next = -1
	h := sc.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h = heapPush(h, candidate{mg.rank, int32(i), mg.id})
		}
	}
	for len(h) > 0 {
		var top candidate
		top, h = heapPop(h)
		s := &syms[top.pos]
		if s.gone || s.next < 0 {
			continue
		}
		right := &syms[s.next]
		if mg, ok := m.merges[pairKey(s.id, right.id)]; !ok || mg.id != top.id {
			continue // stale: one side has changed since this pair was queued
		}
		s.id = top.id
		right.gone = true
		s.next = right.next
		if s.next >= 0 {
			syms[s.next].prev = top.pos
		}
		if s.prev >= 0 {
			if mg, ok := m.merges[pairKey(syms[s.prev].id, s.id)]; ok {
				h = heapPush(h, candidate{mg.rank, s.prev, mg.id})
			}
		}
		if s.next >= 0 {
			if mg, ok := m.merges[pairKey(s.id, syms[s.next].id)]; ok {
				h = heapPush(h, candidate{mg.rank, top.pos, mg.id})
			}
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	if cap(syms) <= maxPooled {
		sc.syms, sc.heap = syms, h
		scratchPool.Put(sc)
	}
	return dst
}

func heapPush(h []candidate, c candidate) []candidate {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []candidate) (candidate, []candidate) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, min := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].less(h[min]) {
			min = l
		}
		if r < len(h) && h[r].less(h[min]) {
			min = r
		}
		if min == i {
			break
		}
		h[i], h[min] = h[min], h[i]
		i = min
	}
	return top, h
}
