package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's byte-level alphabet: every byte gets a printable stand-in rune, so BPE never sees raw
// whitespace or control bytes. Printable Latin-1 bytes map to themselves; the 68 others map to
// U+0100 upwards in byte order (space becomes 'Ġ', newline 'Ċ').
var (
	byteToRune [256]rune
	runeToByte map[rune]byte
)

// spaceRune is the byte-level stand-in for ' '.
const spaceRune = 'Ġ'

func init() {
	runeToByte = make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevel maps raw bytes to their byte-level string, as the BPE vocabulary spells them.
func byteLevel(s string) string {
	var sb strings.Builder
	sb.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteToRune[s[i]])
	}
	return sb.String()
}

// byteLevelDecode returns the bytes a token stands for: each rune mapped back through the
// byte-level alphabet, or the token's own UTF-8 bytes when any rune lies outside that alphabet
// (added tokens), exactly as the Hugging Face ByteLevel decoder does.
func byteLevelDecode(tok string) []byte {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return []byte(tok)
		}
		out = append(out, b)
	}
	return out
}

// ValidUTF8 returns s with every maximal ill-formed UTF-8 subsequence replaced by one U+FFFD.
// This is the Unicode "maximal subpart" practice that Python's bytes.decode("utf-8", "replace")
// and Rust's String::from_utf8_lossy follow (Go's strings.ToValidUTF8 instead folds whole runs
// of bad bytes into one replacement). Encode applies it to its input and Decode to its output.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
			i += illFormedLen(s[i:])
			continue
		}
		sb.WriteString(s[i : i+n])
		i += n
	}
	return sb.String()
}

// illFormedLen is the length of the maximal subpart of an ill-formed sequence at the start of s
// (Unicode Table 3-7): a valid lead byte followed by as many fitting continuation bytes as
// there are before the sequence breaks off; 1 for a byte that cannot start a sequence.
func illFormedLen(s string) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch b := s[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b == 0xE0:
		need, lo = 2, 0xA0
	case b == 0xED:
		need, hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		need = 2
	case b == 0xF0:
		need, lo = 3, 0x90
	case b == 0xF4:
		need, hi = 3, 0x8F
	case b >= 0xF1 && b <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		c := s[n]
		if n == 1 && (c < lo || c > hi) || n > 1 && (c < 0x80 || c > 0xBF) {
			break
		}
	}
	return n
}
