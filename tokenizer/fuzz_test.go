package tokenizer

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncode: Encode never panics, its fields agree with each other and with the text, and
// Decode(Encode(x)) gives x back (x as repaired by ValidUTF8) when x spells no added token.
// Seeds: testdata/fuzz/FuzzEncode plus the golden texts.
func FuzzEncode(f *testing.F) {
	tok := testTokenizer(f)
	for _, it := range loadGolden(f) {
		if len(it.Text) < 200 {
			f.Add(it.Text)
		}
	}
	f.Fuzz(func(t *testing.T, x string) {
		full, err := tok.EncodeWith(x, Options{MaxLength: NoTruncation})
		if err != nil {
			t.Fatal(err)
		}
		checkEncoding(t, tok, x, full)

		if again, _ := tok.EncodeWith(x, Options{MaxLength: NoTruncation}); !slices.Equal(again.IDs, full.IDs) {
			t.Fatalf("second encoding (word cache warm) differs: %v vs %v", again.IDs, full.IDs)
		}
		def := tok.Encode(x)
		if n := min(full.Len(), tok.MaxLength()); def.Len() != n || !slices.Equal(def.IDs[:n-1], full.IDs[:n-1]) || def.IDs[n-1] != tok.SEPID() {
			t.Fatalf("default truncation is not a prefix of the full encoding")
		}

		spellsAdded := false
		for _, a := range tok.AddedTokens() {
			spellsAdded = spellsAdded || strings.Contains(x, a.Content)
		}
		if !spellsAdded {
			if got, want := tok.Decode(full.IDs, true), ValidUTF8(x); got != want {
				t.Fatalf("Decode(Encode(x)) = %q, want %q", got, want)
			}
		}
	})
}

func checkEncoding(t *testing.T, tok *Tokenizer, x string, e Encoding) {
	t.Helper()
	n := e.Len()
	if len(e.Tokens) != n || len(e.Offsets) != n || len(e.SpecialTokensMask) != n || len(e.AttentionMask) != n {
		t.Fatalf("ragged encoding: %d ids, %d tokens, %d offsets", n, len(e.Tokens), len(e.Offsets))
	}
	if n < 2 || e.IDs[0] != tok.CLSID() || e.IDs[n-1] != tok.SEPID() {
		t.Fatalf("missing <s> … </s>: %v", e.IDs)
	}
	runes := utf8.RuneCountInString(ValidUTF8(x))
	prev := 0
	for i, id := range e.IDs {
		if s, ok := tok.IDToToken(id); !ok || s != e.Tokens[i] {
			t.Fatalf("token %d: id %d is %q, Tokens says %q", i, id, s, e.Tokens[i])
		}
		if i == 0 || i == n-1 {
			continue
		}
		o := e.Offsets[i]
		if o.Start < prev || o.Start > o.End || o.End > runes {
			t.Fatalf("token %d %q: offset %v (previous start %d, %d runes)", i, e.Tokens[i], o, prev, runes)
		}
		prev = o.Start
	}
}

// FuzzDecode: Decode never panics on any ids and always returns valid UTF-8.
func FuzzDecode(f *testing.F) {
	tok := testTokenizer(f)
	f.Add([]byte{0, 0, 0, 0, 0x98, 0xc4, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ids []int
		for len(b) >= 4 {
			ids = append(ids, int(int32(binary.LittleEndian.Uint32(b))))
			b = b[4:]
		}
		for _, skip := range []bool{false, true} {
			if s := tok.Decode(ids, skip); !utf8.ValidString(s) {
				t.Fatalf("Decode(%v) = %q is not valid UTF-8", ids, s)
			}
		}
	})
}
