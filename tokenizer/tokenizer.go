package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Tokenizer is a RoBERTa byte-level BPE tokenizer. It is immutable after loading and safe for
// concurrent use; its word cache is shared and locked.
type Tokenizer struct {
	model *bpe

	idToToken []string // token string of each id: added tokens' content, else the vocabulary's
	tokLen    []uint16 // bytes of text covered by a BPE token (runes in its vocabulary string)
	lead      []uint16 // leading 'Ġ'/whitespace runes of the token string, for trim_offsets
	trail     []uint16 // trailing ones
	special   []bool   // the id is a special added token
	decoded   [][]byte // bytes the id decodes to

	added   []AddedToken
	matcher *addedMatcher

	post         *postProcessor // the special tokens around one text or a pair
	clsID, sepID int            // the ids the single template puts before and after the text
	padID        int            // -1 when the tokenizer names no pad token
	unkID        int
	maskID       int

	maxLength    int  // default truncation length including specials; <= 0: none
	truncateLeft bool // default truncation side
	trimOffsets  bool // post_processor.trim_offsets
	// postPrefixSpace is RobertaProcessing's add_prefix_space: the first token keeps a single
	// leading space in its offsets.
	postPrefixSpace bool
	cleanup         bool // clean_up_tokenization_spaces on Decode

	cache *wordCache // word -> ids; nil when disabled
}

// DefaultCacheSize is the number of words whose BPE pieces a Tokenizer remembers.
const DefaultCacheSize = 1 << 16

// maxCachedWord: longer pre-tokens are not cached (they are rare and would crowd the cache).
const maxCachedWord = 256

// Offset is a token's span of the input text in Unicode code points (Python str indices),
// half-open: text[Start:End] as runes. Special tokens added around the text have {0, 0}. In a
// pair each token's offsets count within its own text, as in Hugging Face: the first token of
// the second text starts near 0, not after the first text.
type Offset struct{ Start, End int }

// MarshalJSON writes an offset as [start, end], as Hugging Face does.
func (o Offset) MarshalJSON() ([]byte, error) { return json.Marshal([2]int{o.Start, o.End}) }

// UnmarshalJSON reads [start, end].
func (o *Offset) UnmarshalJSON(b []byte) error {
	var a [2]int
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	o.Start, o.End = a[0], a[1]
	return nil
}

// Encoding is one encoded text or pair, field for field as Hugging Face's fast tokenizer
// returns it. All slices have one entry per token.
type Encoding struct {
	IDs    []int
	Tokens []string
	// Offsets are code-point spans of the text after invalid UTF-8 was replaced (see Encode);
	// in a pair, of the token's own text.
	Offsets []Offset
	// SpecialTokensMask is 1 for the <s> and </s> that the post-processor adds and for padding,
	// 0 for every token that comes from a text, including special tokens written in it
	// ("<mask>"), as in Hugging Face's return_special_tokens_mask. Use IsSpecial(id) to ask
	// about any id.
	SpecialTokensMask []int
	// AttentionMask is 1 for real tokens and 0 for padding added by Pad.
	AttentionMask []int
	// TypeIDs are the token type ids (token_type_ids) the post-processor gives: all 0 with
	// RoBERTa's RobertaProcessing, even in a pair; what the template says with
	// TemplateProcessing; 0 for padding.
	TypeIDs []int
	// SequenceIDs says which text each token comes from: 0 for the text (the first text of a
	// pair), 1 for the second text of a pair, NoSequence (-1) for the special tokens the
	// post-processor adds and for padding (Hugging Face's sequence_ids(), None there).
	SequenceIDs []int
	// Truncated is the number of text tokens that truncation removed, from both texts of a pair.
	Truncated int
	// TruncatedPerSequence splits Truncated by sequence id: [0] from the text (or the first of
	// a pair), [1] from the second.
	TruncatedPerSequence [2]int
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

// Side picks which end of a text truncation cuts.
type Side uint8

const (
	SideDefault Side = iota // the tokenizer's own (tokenizer_config.json truncation_side; right if unset)
	SideRight               // keep the beginning of the text
	SideLeft                // keep the end of the text
)

// NoTruncation as Options.MaxLength turns truncation off.
const NoTruncation = -1

// Options tune one Encode call. The zero value is Hugging Face's
// tokenizer(text, truncation=True): specials added, truncated to the model's maximum length.
type Options struct {
	// MaxLength caps the tokens of the result, <s> and </s> included. 0 means the tokenizer's
	// MaxLength (512 for RoBERTa); NoTruncation turns truncation off.
	MaxLength int
	// Side is the end that truncation cuts.
	Side Side
	// NoSpecialTokens leaves out <s> and </s> (add_special_tokens=False).
	NoSpecialTokens bool
}

// PairOptions tune one EncodePair call. The zero value is Hugging Face's
// tokenizer(a, b, truncation=True): specials added, longest_first truncation to the model's
// maximum length.
type PairOptions struct {
	// MaxLength caps the tokens of the result, the special tokens included (4 for RoBERTa:
	// <s> A </s></s> B </s>), so the texts share MaxLength - 4. 0 means the tokenizer's
	// MaxLength; NoTruncation turns truncation off.
	MaxLength int
	// Side is the end of each text that truncation cuts; both texts are cut at the same end.
	Side Side
	// Strategy picks which text gives up tokens.
	Strategy TruncationStrategy
	// NoSpecialTokens leaves out the post-processor's special tokens: the result is A's tokens
	// then B's (add_special_tokens=False), and all of MaxLength goes to the texts.
	NoSpecialTokens bool
}

// ErrMaxLength reports a MaxLength too small to hold the special tokens.
var ErrMaxLength = errors.New("tokenizer: max length leaves no room for the special tokens")

// MaxLength is the default truncation length including special tokens (0: none).
func (t *Tokenizer) MaxLength() int { return max(t.maxLength, 0) }

// VocabSize is the number of ids, added tokens included.
func (t *Tokenizer) VocabSize() int { return len(t.idToToken) }

// IDToToken returns the token string of id.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if id < 0 || id >= len(t.idToToken) || t.idToToken[id] == "" {
		return "", false
	}
	return t.idToToken[id], true
}

// TokenToID returns the id of a token string (byte-level spelling, e.g. "Ġworld", or an added
// token such as "<mask>").
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	for _, a := range t.added {
		if a.Content == tok {
			return a.ID, true
		}
	}
	id, ok := t.model.vocab[tok]
	return int(id), ok
}

// IsSpecial reports whether id is a special token (<s>, </s>, <pad>, <unk>, <mask>, ...).
func (t *Tokenizer) IsSpecial(id int) bool { return id >= 0 && id < len(t.special) && t.special[id] }

// AddedTokens lists the tokens matched whole in the text.
func (t *Tokenizer) AddedTokens() []AddedToken { return slices.Clone(t.added) }

// CLSID is the id put before each text (<s>): with TemplateProcessing, the first special token
// before $A in the single template, or -1.
func (t *Tokenizer) CLSID() int { return t.clsID }

// SEPID is the id put after each text (</s>): with TemplateProcessing, the first special token
// after $A in the single template, or -1.
func (t *Tokenizer) SEPID() int { return t.sepID }

// NumSpecialTokensToAdd is the number of special tokens the post-processor adds to one text
// (2 for RoBERTa) or to a pair (4), as Hugging Face's num_special_tokens_to_add(pair).
func (t *Tokenizer) NumSpecialTokensToAdd(pair bool) int {
	if pair {
		return t.post.pair.added()
	}
	return t.post.single.added()
}

// PadID is the padding id, or -1 when the tokenizer has no pad token.
func (t *Tokenizer) PadID() int { return t.padID }

// UnkID is the id of the unknown token, or -1.
func (t *Tokenizer) UnkID() int { return t.unkID }

// MaskID is the id of the mask token, or -1.
func (t *Tokenizer) MaskID() int { return t.maskID }

// Encode encodes text with the default Options: <s> text </s>, truncated on the tokenizer's
// default side to MaxLength tokens.
//
// Text that is not valid UTF-8 is first repaired with ValidUTF8 (each maximal ill-formed
// subsequence becomes one U+FFFD, as Python's bytes.decode(errors="replace") does); offsets
// index that repaired text. Encode never panics on any input.
func (t *Tokenizer) Encode(text string) Encoding {
	e, _ := t.EncodeWith(text, Options{}) // the default options are always valid
	return e
}

// EncodeWith encodes text with explicit options. It fails only with ErrMaxLength.
func (t *Tokenizer) EncodeWith(text string, o Options) (Encoding, error) {
	limit, left, err := t.truncation(o)
	if err != nil {
		return Encoding{}, err
	}
	return t.encode(text, limit, left, !o.NoSpecialTokens), nil
}

// EncodeBatch encodes texts with the same options, spreading the work over GOMAXPROCS
// goroutines. Each result equals EncodeWith on its text alone.
func (t *Tokenizer) EncodeBatch(texts []string, o Options) ([]Encoding, error) {
	limit, left, err := t.truncation(o)
	if err != nil {
		return nil, err
	}
	out := make([]Encoding, len(texts))
	parallel(len(texts), func(i int) { out[i] = t.encode(texts[i], limit, left, !o.NoSpecialTokens) })
	return out, nil
}

// parallel calls f(0) … f(n-1) on up to GOMAXPROCS goroutines and waits for them.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// truncation resolves o into a cap on text tokens (-1: none) and a side.
func (t *Tokenizer) truncation(o Options) (limit int, left bool, err error) {
	return t.budget(o.MaxLength, o.Side, !o.NoSpecialTokens, t.post.single.added())
}

// budget resolves a MaxLength and a Side into a cap on text tokens (-1: none) and a side: the
// cap is what the added special tokens leave, as tokenizers' post_process computes it.
func (t *Tokenizer) budget(maxLen int, side Side, specials bool, added int) (limit int, left bool, err error) {
	if maxLen == 0 {
		maxLen = t.maxLength
	}
	switch side {
	case SideLeft:
		left = true
	case SideRight:
		left = false
	default:
		left = t.truncateLeft
	}
	if maxLen <= 0 {
		return -1, left, nil
	}
	if specials {
		// tokenizers subtracts unsigned integers here and so underflows (a panic, or no
		// truncation at all in a release build); an error is the only honest answer.
		if maxLen < added {
			return 0, false, fmt.Errorf("%w: max length %d < %d", ErrMaxLength, maxLen, added)
		}
		maxLen -= added
	}
	return maxLen, left, nil
}

// encodeState holds per-call scratch, pooled.
type encodeState struct {
	segs   []segment
	ids    []int32
	starts []int32 // byte span of each text token
	ends   []int32
}

var statePool = sync.Pool{New: func() any { return new(encodeState) }}

// maxPooled: scratch grown past this many entries (a huge text) is dropped, not pooled.
const maxPooled = 1 << 16

func (st *encodeState) release() {
	if cap(st.ids) <= maxPooled && cap(st.segs) <= maxPooled {
		statePool.Put(st)
	}
}

func (t *Tokenizer) encode(text string, limit int, left, specials bool) Encoding {
	text = ValidUTF8(text)
	st := statePool.Get().(*encodeState)
	defer st.release()
	t.tokenize(st, text)
	n := len(st.ids)
	keep := n
	if limit >= 0 {
		keep = min(n, limit)
	}
	seq := [1]span{window(text, st, keep, left)}
	e := t.assemble(t.post.single, seq[:], specials)
	e.Truncated = n - keep
	e.TruncatedPerSequence[0] = e.Truncated
	return e
}

// tokenize fills st with the tokens of text (valid UTF-8) and their byte spans.
func (t *Tokenizer) tokenize(st *encodeState, text string) {
	st.segs = t.matcher.split(st.segs[:0], text)
	ids, starts, ends := st.ids[:0], st.starts[:0], st.ends[:0]
	for _, sg := range st.segs {
		if sg.token >= 0 {
			ids = append(ids, int32(t.matcher.tokens[sg.token].ID))
			starts = append(starts, int32(sg.start))
			ends = append(ends, int32(sg.end))
			continue
		}
		sub := text[sg.start:sg.end]
		for i := 0; i < len(sub); {
			j := nextPiece(sub, i)
			from := len(ids)
			ids = t.wordIDs(ids, sub[i:j])
			b := int32(sg.start + i)
			for _, id := range ids[from:] {
				starts = append(starts, b)
				b += int32(t.tokLen[id])
				ends = append(ends, b)
			}
			i = j
		}
	}
	st.ids, st.starts, st.ends = ids, starts, ends
}

// span is one text's tokens (in st) and the window lo:hi of them that truncation keeps.
type span struct {
	text   string
	st     *encodeState
	lo, hi int
}

// window keeps keep tokens of st: the first ones, or the last ones when left.
func window(text string, st *encodeState, keep int, left bool) span {
	if left {
		return span{text, st, len(st.ids) - keep, len(st.ids)}
	}
	return span{text, st, 0, keep}
}

// assemble is the post-processor: it lays out tp with the kept tokens of seqs (seqs[0] for $A,
// seqs[1] for $B), leaving the template's special tokens out unless specials.
func (t *Tokenizer) assemble(tp template, seqs []span, specials bool) Encoding {
	n := 0
	for _, p := range tp {
		if p.seq >= 0 {
			n += seqs[p.seq].hi - seqs[p.seq].lo
		} else if specials {
			n += len(p.ids)
		}
	}
	ints := make([]int, 5*n)
	e := Encoding{
		IDs:               ints[0:0:n],
		SpecialTokensMask: ints[n : n : 2*n],
		AttentionMask:     ints[2*n : 2*n : 3*n],
		TypeIDs:           ints[3*n : 3*n : 4*n],
		SequenceIDs:       ints[4*n : 4*n : 5*n],
		Tokens:            make([]string, 0, n),
		Offsets:           make([]Offset, 0, n),
	}
	for _, p := range tp {
		if p.seq < 0 {
			if specials {
				for i, id := range p.ids {
					e.push(id, p.tokens[i], Offset{}, 1, p.typeID, NoSequence)
				}
			}
			continue
		}
		sq := seqs[p.seq]
		starts, ends := sq.st.starts, sq.st.ends
		cur := runeCursor{s: sq.text, ascii: isASCII(sq.text)}
		for k := sq.lo; k < sq.hi; k++ {
			id := int(sq.st.ids[k])
			b0, b1 := int(starts[k]), int(ends[k])
			// A token may start or end inside a multi-byte rune (byte-level pieces of an
			// emoji); it then covers that whole rune, as Hugging Face aligns each byte to its
			// rune.
			o := Offset{cur.index(b0+1) - 1, cur.index(b1)}
			if t.trimOffsets {
				o = t.trim(o, id, k == sq.lo)
			}
			e.push(id, t.idToToken[id], o, 0, p.typeID, p.seq)
		}
	}
	return e
}

func (e *Encoding) push(id int, tok string, o Offset, special, typeID, seq int) {
	e.IDs = append(e.IDs, id)
	e.Tokens = append(e.Tokens, tok)
	e.Offsets = append(e.Offsets, o)
	e.SpecialTokensMask = append(e.SpecialTokensMask, special)
	e.AttentionMask = append(e.AttentionMask, 1)
	e.TypeIDs = append(e.TypeIDs, typeID)
	e.SequenceIDs = append(e.SequenceIDs, seq)
}

// trim drops the spaces a token carries ('Ġ') from its offsets, as RobertaProcessing's
// trim_offsets does: a lone space token ends up as the empty span at its end.
func (t *Tokenizer) trim(o Offset, id int, first bool) Offset {
	lead, trail := int(t.lead[id]), int(t.trail[id])
	if lead > 0 && !(t.postPrefixSpace && lead == 1 && (first || o.Start == 0)) {
		o.Start = min(o.Start+lead, o.End)
	}
	if trail > 0 && o.End >= trail {
		o.End = max(o.End-trail, o.Start)
	}
	return o
}

// wordIDs appends the BPE ids of one pre-token, through the cache.
func (t *Tokenizer) wordIDs(dst []int32, w string) []int32 {
	if len(w) == 1 || t.cache == nil || len(w) > maxCachedWord {
		return t.model.tokenize(dst, w)
	}
	if ids, ok := t.cache.get(w); ok {
		return append(dst, ids...)
	}
	from := len(dst)
	dst = t.model.tokenize(dst, w)
	// Clone the key: w is a slice of the caller's text, which the cache must not pin.
	t.cache.add(strings.Clone(w), slices.Clone(dst[from:]))
	return dst
}

// runeCursor converts increasing byte positions of s to code-point counts.
type runeCursor struct {
	s      string
	ascii  bool
	b, cnt int // cnt runes start in s[:b]
}

// index is the number of runes that start before byte x; x must not decrease between calls.
func (c *runeCursor) index(x int) int {
	if c.ascii {
		return x
	}
	for ; c.b < x; c.b++ {
		if c.s[c.b]&0xC0 != 0x80 {
			c.cnt++
		}
	}
	return c.cnt
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Pad pads encs in place to the longest of them, on the right, with the pad token: offsets
// {0, 0}, special-token mask 1, attention mask 0, type id 0, sequence id NoSequence (Hugging
// Face padding="longest").
func (t *Tokenizer) Pad(encs []Encoding) error {
	if t.padID < 0 {
		return errors.New("tokenizer: no pad token")
	}
	longest := 0
	for i := range encs {
		longest = max(longest, encs[i].Len())
	}
	for i := range encs {
		e := &encs[i]
		for e.Len() < longest {
			e.push(t.padID, t.idToToken[t.padID], Offset{}, 1, 0, NoSequence)
			e.AttentionMask[len(e.AttentionMask)-1] = 0
		}
	}
	return nil
}

// Decode turns ids back into text: the bytes of the tokens joined and read as UTF-8, ill-formed
// sequences (a token cut inside a character) becoming U+FFFD as ValidUTF8 describes.
// skipSpecial drops special tokens (skip_special_tokens=True). Ids outside the vocabulary are
// skipped, as Hugging Face skips them.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	var buf []byte
	for _, id := range ids {
		if id < 0 || id >= len(t.decoded) || (skipSpecial && t.special[id]) {
			continue
		}
		buf = append(buf, t.decoded[id]...)
	}
	s := ValidUTF8(string(buf))
	if t.cleanup {
		s = cleanUpTokenization(s)
	}
	return s
}

// cleanUpTokenization is transformers' clean_up_tokenization (its replacements, in its
// order), used when the tokenizer's config sets clean_up_tokenization_spaces.
func cleanUpTokenization(s string) string {
	for _, r := range [...][2]string{
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// spaceCounts returns how many runes at the start and end of tok are 'Ġ' or whitespace.
func spaceCounts(tok string) (lead, trail int) {
	isSp := func(r rune) bool { return r == spaceRune || unicode.IsSpace(r) }
	for _, r := range tok {
		if !isSp(r) {
			break
		}
		lead++
	}
	for s := tok; s != ""; {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isSp(r) {
			break
		}
		trail++
		s = s[:len(s)-n]
	}
	return lead, trail
}
