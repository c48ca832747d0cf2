package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The GPT-2 pre-tokenizer splits text with
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Go's regexp has no look-ahead, so nextPiece walks the same alternatives by hand. \s is
// Unicode White_Space (unicode.IsSpace, as in Oniguruma and Rust), \p{L} is unicode.IsLetter and
// \p{N} is unicode.IsNumber. Every rune falls in exactly one of the four classes below, so the
// pieces tile the text with no gaps.

type charClass uint8

const (
	classOther charClass = iota
	classLetter
	classNumber
	classSpace
)

var asciiClass [utf8.RuneSelf]charClass

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			asciiClass[c] = classLetter
		case c >= '0' && c <= '9':
			asciiClass[c] = classNumber
		case c == ' ' || (c >= '\t' && c <= '\r'):
			asciiClass[c] = classSpace
		default:
			asciiClass[c] = classOther
		}
	}
}

// classAt returns the class of the rune starting at s[i] and its width. s must be valid UTF-8.
func classAt(s string, i int) (charClass, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r):
		return classLetter, n
	case unicode.IsNumber(r):
		return classNumber, n
	case unicode.IsSpace(r):
		return classSpace, n
	}
	return classOther, n
}

// runEnd returns the end of the run of class cls that starts at i.
func runEnd(s string, i int, cls charClass) int {
	for i < len(s) {
		c, n := classAt(s, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// nextPiece returns the end of the pre-token that starts at s[i] (i < len(s)).
func nextPiece(s string, i int) int {
	n := len(s)
	c := s[i]
	if c == '\'' && i+1 < n { // 's|'t|'re|'ve|'m|'ll|'d
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	if c == ' ' && i+1 < n { // ' ?' before a letter, number or other run
		if cls, _ := classAt(s, i+1); cls != classSpace {
			return runEnd(s, i+1, cls)
		}
	}
	cls, _ := classAt(s, i)
	if cls != classSpace {
		return runEnd(s, i, cls)
	}
	// \s+(?!\S) | \s+ : a whitespace run that ends the text is taken whole; one that is followed
	// by a non-space leaves its last rune to start the next piece (so " word" keeps its space),
	// unless the run is a single rune.
	last, j := i, i
	for j < n {
		cls, w := classAt(s, j)
		if cls != classSpace {
			break
		}
		last = j
		j += w
	}
	if j < n && last > i {
		return last
	}
	return j
}
