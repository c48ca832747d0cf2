package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched whole in the raw text before pre-tokenization (Hugging Face
// "added_tokens"): RoBERTa's <s>, <pad>, </s>, <unk> and <mask>.
type AddedToken struct {
	ID      int
	Content string
	// Special tokens are dropped by Decode(ids, true).
	Special bool
	// LStrip / RStrip: the match also takes the whitespace on its left / right.
	LStrip, RStrip bool
	// SingleWord: only match when not glued to a letter or digit on either side.
	SingleWord bool
}

// addedMatcher finds added tokens in text the way Hugging Face's AddedVocabulary does:
// non-overlapping, leftmost-longest matches scanned left to right.
type addedMatcher struct {
	tokens []AddedToken // longest content first
	first  [256]bool    // first bytes of the contents
}

func newAddedMatcher(tokens []AddedToken, skipSpecial bool) *addedMatcher {
	m := &addedMatcher{}
	for _, t := range tokens {
		if t.Content == "" || (skipSpecial && t.Special) {
			continue
		}
		m.tokens = append(m.tokens, t)
		m.first[t.Content[0]] = true
	}
	sort.SliceStable(m.tokens, func(i, j int) bool { return len(m.tokens[i].Content) > len(m.tokens[j].Content) })
	return m
}

// segment is either plain text [start, end) (token < 0) or the added token with that index into
// the matcher's tokens, whose match (after lstrip/rstrip) covers [start, end).
type segment struct {
	start, end int
	token      int
}

// split appends the segments of s to dst, in order, covering all of s.
func (m *addedMatcher) split(dst []segment, s string) []segment {
	pos := 0 // end of the last emitted segment
	for i := 0; i < len(s); {
		if !m.first[s[i]] {
			i++
			continue
		}
		k := m.longestAt(s, i)
		if k < 0 {
			i++
			continue
		}
		t := &m.tokens[k]
		start, stop := i, i+len(t.Content)
		i = stop
		if t.SingleWord && (wordCharBefore(s[:start]) || wordCharAfter(s[stop:])) {
			continue
		}
		if t.LStrip {
			start = max(trimSpaceRight(s[:start]), pos)
		}
		if t.RStrip {
			stop = len(s) - len(trimSpaceLeft(s[stop:]))
			i = stop
		}
		if pos < start {
			dst = append(dst, segment{pos, start, -1})
		}
		dst = append(dst, segment{start, stop, k})
		pos = stop
	}
	if pos < len(s) {
		dst = append(dst, segment{pos, len(s), -1})
	}
	return dst
}

func (m *addedMatcher) longestAt(s string, i int) int {
	for k := range m.tokens {
		if strings.HasPrefix(s[i:], m.tokens[k].Content) {
			return k
		}
	}
	return -1
}

// trimSpaceRight returns the length of s without its trailing whitespace.
func trimSpaceRight(s string) int { return len(strings.TrimRightFunc(s, unicode.IsSpace)) }

func trimSpaceLeft(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

func wordCharBefore(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordRune(r)
}

func wordCharAfter(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordRune(r)
}
