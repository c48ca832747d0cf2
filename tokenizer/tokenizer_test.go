package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func pieces(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func TestPreTokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello world!", []string{"Hello", " world", "!"}},
		{"I can't, we'll", []string{"I", " can", "'t", ",", " we", "'ll"}},
		{"DON'T 'sound' 're'", []string{"DON", "'", "T", " '", "sound", "'", " '", "re", "'"}},
		{"hello   world", []string{"hello", "  ", " world"}},
		{"a \n b", []string{"a", " \n", " b"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"x  ", []string{"x", "  "}},
		{" ", []string{" "}},
		{"3.5% 10,000", []string{"3", ".", "5", "%", " 10", ",", "000"}},
		{"abc123def", []string{"abc", "123", "def"}},
		{" !!x", []string{" !!", "x"}},
		{"Non\u00a0x", []string{"Non", "\u00a0", "x"}}, // NBSP is \s but not the optional ' '
		{"a\u3000\u3000 b", []string{"a", "\u3000\u3000", " b"}},
		{"e\u0301t", []string{"e", "\u0301", "t"}}, // a combining mark is neither L nor N
		{"x²½Ⅻ", []string{"x", "²½Ⅻ"}},
		{"日本語のテキスト", []string{"日本語のテキスト"}},
		{"😀 😃", []string{"😀", " 😃"}},
		{"'", []string{"'"}},
		{"''s", []string{"''", "s"}},
	} {
		if got := pieces(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("pieces(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWellKnownIDs(t *testing.T) {
	tok := testTokenizer(t)
	// From transformers' RobertaTokenizer docstring.
	for text, want := range map[string][]int{
		"Hello world":  {0, 31414, 232, 2},
		" Hello world": {0, 20920, 232, 2},
	} {
		if got := tok.Encode(text).IDs; !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
	if tok.CLSID() != 0 || tok.PadID() != 1 || tok.SEPID() != 2 || tok.UnkID() != 3 || tok.MaskID() != 50264 {
		t.Errorf("special ids cls %d pad %d sep %d unk %d mask %d", tok.CLSID(), tok.PadID(), tok.SEPID(), tok.UnkID(), tok.MaskID())
	}
	if tok.VocabSize() != 50265 || tok.MaxLength() != 512 {
		t.Errorf("VocabSize %d MaxLength %d, want 50265 512", tok.VocabSize(), tok.MaxLength())
	}
	if id, ok := tok.TokenToID("Ġworld"); !ok || id != 232 {
		t.Errorf("TokenToID(Ġworld) = %d %v", id, ok)
	}
	if s, ok := tok.IDToToken(50264); !ok || s != "<mask>" {
		t.Errorf("IDToToken(50264) = %q %v", s, ok)
	}
	if _, ok := tok.IDToToken(-1); ok {
		t.Error("IDToToken(-1) ok")
	}
	if !tok.IsSpecial(50264) || tok.IsSpecial(232) || tok.IsSpecial(1<<30) {
		t.Error("IsSpecial")
	}
}

func TestTruncation(t *testing.T) {
	tok := testTokenizer(t)
	text := strings.Repeat("one two three four. ", 200) // 1000 text tokens
	full, _ := tok.EncodeWith(text, Options{MaxLength: NoTruncation})
	body := full.IDs[1 : full.Len()-1]

	def := tok.Encode(text)
	if def.Len() != 512 || def.Truncated != len(body)-510 || !slices.Equal(def.IDs[1:511], body[:510]) || def.IDs[511] != 2 {
		t.Fatalf("default truncation: len %d truncated %d", def.Len(), def.Truncated)
	}
	left, _ := tok.EncodeWith(text, Options{Side: SideLeft})
	if left.Len() != 512 || !slices.Equal(left.IDs[1:511], body[len(body)-510:]) || left.IDs[0] != 0 {
		t.Fatal("left truncation keeps the wrong tokens")
	}
	if !slices.Equal(left.Offsets[1:511], full.Offsets[len(full.IDs)-511:len(full.IDs)-1]) {
		t.Fatal("left truncation changed offsets")
	}
	short, _ := tok.EncodeWith(text, Options{MaxLength: 8})
	if !slices.Equal(short.IDs, append(append([]int{0}, body[:6]...), 2)) {
		t.Fatalf("MaxLength 8: %v", short.IDs)
	}
	bare, _ := tok.EncodeWith(text, Options{MaxLength: 4, NoSpecialTokens: true})
	if !slices.Equal(bare.IDs, body[:4]) || slices.Contains(bare.SpecialTokensMask, 1) {
		t.Fatalf("NoSpecialTokens: %v", bare.IDs)
	}
	exact, _ := tok.EncodeWith("Hello world", Options{MaxLength: 4})
	if exact.Len() != 4 || exact.Truncated != 0 {
		t.Fatal("a text that fits was cut")
	}
	if _, err := tok.EncodeWith(text, Options{MaxLength: 1}); !errors.Is(err, ErrMaxLength) {
		t.Fatalf("MaxLength 1: %v", err)
	}
	if _, err := tok.EncodeBatch([]string{text}, Options{MaxLength: 1}); !errors.Is(err, ErrMaxLength) {
		t.Fatalf("batch MaxLength 1: %v", err)
	}
	empty, _ := tok.EncodeWith(text, Options{MaxLength: 2})
	if !slices.Equal(empty.IDs, []int{0, 2}) {
		t.Fatalf("MaxLength 2: %v", empty.IDs)
	}
}

func TestInvalidUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ok", "ok"},
		{"\xff", "\ufffd"},
		{"a\xc3", "a\ufffd"},                   // truncated 2-byte sequence
		{"\xe2\x82", "\ufffd"},                 // truncated 3-byte sequence: one maximal subpart
		{"\xe2\x82\xe2\x82\xac", "\ufffd€"},    // then a good one
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // an encoded surrogate is three bad bytes
		{"\xf0\x9f\x98", "\ufffd"},             // emoji cut short
		{"\xf0\x80\x80", "\ufffd\ufffd\ufffd"}, // overlong lead
		{"\xc0\xaf", "\ufffd\ufffd"},
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"}, // above U+10FFFF
		{"\x80\x80x", "\ufffd\ufffdx"},
	} {
		if got := ValidUTF8(c.in); got != c.want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	tok := testTokenizer(t)
	bad, good := tok.Encode("caf\xc3 \xff!"), tok.Encode("caf\ufffd \ufffd!")
	if !reflect.DeepEqual(bad, good) {
		t.Errorf("invalid input not encoded as its repaired text:\n%+v\n%+v", bad, good)
	}
	if got := tok.Decode(bad.IDs, true); got != "caf\ufffd \ufffd!" {
		t.Errorf("Decode = %q", got)
	}
}

func TestDecode(t *testing.T) {
	tok := testTokenizer(t)
	e := tok.Encode("a 😀 <mask>.")
	if got := tok.Decode(e.IDs, false); got != "<s>a 😀 <mask>.</s>" {
		t.Errorf("Decode(keep specials) = %q", got)
	}
	if got := tok.Decode(e.IDs, true); got != "a 😀 ." {
		t.Errorf("Decode(skip specials) = %q", got)
	}
	// 'ĠðŁĺ' alone is a space and three bytes of the emoji: one U+FFFD, as Python's errors="replace".
	id, _ := tok.TokenToID("ĠðŁĺ")
	if got := tok.Decode([]int{id}, true); got != " \ufffd" {
		t.Errorf("Decode(partial emoji) = %q", got)
	}
	if got := tok.Decode([]int{-5, 232, 1 << 30}, true); got != " world" {
		t.Errorf("out-of-range ids: %q", got)
	}
	if got := tok.Decode(nil, true); got != "" {
		t.Errorf("Decode(nil) = %q", got)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok, err := Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	tok.setCacheSize(64) // small, so goroutines keep evicting each other's words
	items := loadGolden(t)
	want := make([]Encoding, len(items))
	ref := testTokenizer(t)
	for i, it := range items {
		want[i] = ref.Encode(it.Text)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				for k := range items {
					i := (k*7 + g*13 + r) % len(items)
					if got := tok.Encode(items[i].Text); !reflect.DeepEqual(got, want[i]) {
						errs <- items[i].Text
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode differs for %.40q", s)
	}
}

func TestEncodeBatchAndPad(t *testing.T) {
	tok := testTokenizer(t)
	var texts []string
	for _, it := range loadGolden(t) {
		texts = append(texts, it.Text)
	}
	encs, err := tok.EncodeBatch(texts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for i, s := range texts {
		if !reflect.DeepEqual(encs[i], tok.Encode(s)) {
			t.Fatalf("batch item %d differs from Encode", i)
		}
		longest = max(longest, encs[i].Len())
	}
	n0 := encs[0].Len()
	if err := tok.Pad(encs); err != nil {
		t.Fatal(err)
	}
	for _, e := range encs {
		if e.Len() != longest || len(e.Tokens) != longest || len(e.Offsets) != longest || len(e.AttentionMask) != longest || len(e.SpecialTokensMask) != longest {
			t.Fatal("Pad left ragged fields")
		}
	}
	e := encs[0] // "" -> <s></s> then padding
	if e.IDs[n0] != 1 || e.Tokens[n0] != "<pad>" || e.AttentionMask[n0] != 0 || e.SpecialTokensMask[n0] != 1 || e.AttentionMask[n0-1] != 1 {
		t.Fatalf("padding: %v %v %v", e.IDs[:n0+1], e.AttentionMask[:n0+1], e.SpecialTokensMask[:n0+1])
	}
	if got, _ := tok.EncodeBatch(nil, Options{}); len(got) != 0 {
		t.Fatal("empty batch")
	}
}

func TestOffsetJSON(t *testing.T) {
	b, err := json.Marshal([]Offset{{1, 2}, {0, 0}})
	if err != nil || string(b) != "[[1,2],[0,0]]" {
		t.Fatalf("%s %v", b, err)
	}
	var o []Offset
	if err := json.Unmarshal(b, &o); err != nil || !reflect.DeepEqual(o, []Offset{{1, 2}, {0, 0}}) {
		t.Fatalf("%v %v", o, err)
	}
}

var tokenizerJSONRaw = sync.OnceValues(func() (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(filepath.Join(modelDir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	return top, json.Unmarshal(b, &top)
})

// tokenizerJSONDoc is tiny-roberta's tokenizer.json as a fresh document to edit; model.vocab and
// model.merges stay json.RawMessage so that editing and writing it back is cheap.
func tokenizerJSONDoc(t *testing.T) map[string]any {
	top, err := tokenizerJSONRaw()
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{}
	for k, v := range top {
		if k != "model" {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				t.Fatal(err)
			}
			doc[k] = x
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(v, &fields); err != nil {
			t.Fatal(err)
		}
		model := map[string]any{}
		for fk, fv := range fields {
			model[fk] = fv
			if fk != "vocab" && fk != "merges" {
				var x any
				if err := json.Unmarshal(fv, &x); err != nil {
					t.Fatal(err)
				}
				model[fk] = x
			}
		}
		doc[k] = model
	}
	return doc
}

// editedModelDir copies tiny-roberta with tokenizer.json changed by edit (nil: left out, so
// Load takes the vocab.json + merges.txt path) and tokenizer_config.json changed by editCfg.
func editedModelDir(t *testing.T, edit, editCfg func(map[string]any)) string {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"vocab.json", "merges.txt", "config.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(modelDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "tokenizer_config.json" && editCfg != nil {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			editCfg(m)
			if b, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
		write(f, b)
	}
	if edit != nil {
		doc := tokenizerJSONDoc(t)
		edit(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		write("tokenizer.json", b)
	}
	return dir
}

// setAdded sets a flag on the added token with the given content.
func setAdded(content, flag string, v bool) func(map[string]any) {
	return func(m map[string]any) {
		for _, a := range m["added_tokens"].([]any) {
			if a := a.(map[string]any); a["content"] == content {
				a[flag] = v
			}
		}
	}
}

func TestAddedTokenStrip(t *testing.T) {
	// roberta-base as published gives <mask> lstrip: it swallows the space before it, so
	// "… is <mask>." is [0, 133, 812, 9, 1470, 16, 50264, 4, 2] with <mask> spanning " <mask>".
	// (The checkpoints saved by transformers 5.17, and so the goldens, have lstrip off.)
	tok, err := Load(editedModelDir(t, setAdded("<mask>", "lstrip", true), nil))
	if err != nil {
		t.Fatal(err)
	}
	e := tok.Encode("The capital of France is <mask>.")
	if want := []int{0, 133, 812, 9, 1470, 16, 50264, 4, 2}; !slices.Equal(e.IDs, want) {
		t.Fatalf("lstrip <mask>: %v, want %v", e.IDs, want)
	}
	if e.Offsets[6] != (Offset{24, 31}) || e.Offsets[5] != (Offset{22, 24}) {
		t.Errorf("lstrip <mask> offsets %v", e.Offsets)
	}
	// Spaces an earlier match already took are not taken again; at the start there are none.
	e = tok.Encode("  <mask> <mask>")
	if want := []int{0, 50264, 50264, 2}; !slices.Equal(e.IDs, want) || e.Offsets[1] != (Offset{0, 8}) || e.Offsets[2] != (Offset{8, 15}) {
		t.Errorf("leading lstrip: %v %v", e.IDs, e.Offsets)
	}

	tok, err = Load(editedModelDir(t, setAdded("<s>", "rstrip", true), nil))
	if err != nil {
		t.Fatal(err)
	}
	e = tok.Encode("<s>  hi")
	if want := []int{0, 0, 3592, 2}; !slices.Equal(e.IDs, want) || e.Offsets[1] != (Offset{0, 5}) {
		t.Errorf("rstrip <s>: %v %v", e.IDs, e.Offsets)
	}

	tok, err = Load(editedModelDir(t, setAdded("<mask>", "single_word", true), nil))
	if err != nil {
		t.Fatal(err)
	}
	if e := tok.Encode("a <mask> b"); !slices.Equal(e.IDs, []int{0, 102, 1437, 50264, 741, 2}) {
		t.Errorf("single_word between spaces not matched: %v", e.Tokens)
	}
	if e := tok.Encode("word<mask>word"); slices.Contains(e.IDs, 50264) {
		t.Errorf("single_word glued to words matched: %v", e.Tokens)
	}
}

// RobertaProcessing.add_prefix_space (tokenizers' process_offsets): the first token keeps a
// single leading space in its offsets; later ones, and longer runs, are trimmed as usual.
func TestPostProcessorPrefixSpace(t *testing.T) {
	tok, err := Load(editedModelDir(t, func(m map[string]any) {
		m["post_processor"].(map[string]any)["add_prefix_space"] = true
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	e := tok.Encode(" Hello world")
	if want := []Offset{{0, 0}, {0, 6}, {7, 12}, {0, 0}}; !slices.Equal(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
	// "Ġ" (0,1) keeps its start but still loses its trailing space: (0,0).
	e = tok.Encode("  Hello")
	if want := []Offset{{0, 0}, {0, 0}, {2, 7}, {0, 0}}; !slices.Equal(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
}

func TestConfigOptions(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }

	tok, err := Load(editedModelDir(t, nil, set("clean_up_tokenization_spaces", true)))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Decode(tok.Encode("is <mask>. I do n't").IDs, true); got != "is. I don't" {
		t.Errorf("clean_up_tokenization_spaces: %q", got)
	}
	tok, err = Load(editedModelDir(t, nil, set("split_special_tokens", true)))
	if err != nil {
		t.Fatal(err)
	}
	if e := tok.Encode("<mask>"); slices.Contains(e.IDs, 50264) || tok.Decode(e.IDs, true) != "<mask>" {
		t.Errorf("split_special_tokens: %v", e.Tokens)
	}
	tok, err = Load(editedModelDir(t, nil, func(m map[string]any) {
		m["truncation_side"] = "left"
		m["model_max_length"] = 4
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e := tok.Encode("one two three four"); !slices.Equal(e.IDs, []int{0, 130, 237, 2}) || tok.MaxLength() != 4 {
		t.Errorf("truncation_side left, model_max_length 4: %v", e.Tokens)
	}
	// transformers writes int(1e30) for "unknown"; then config.json's 514 positions give 512.
	tok, err = Load(editedModelDir(t, nil, set("model_max_length", 1e30)))
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLength() != 512 {
		t.Errorf("MaxLength from config.json = %d", tok.MaxLength())
	}
	// A mask token given as an object in the legacy config keeps its flags.
	tok, err = Load(editedModelDir(t, nil, set("mask_token", map[string]any{"content": "<mask>", "lstrip": true})))
	if err != nil {
		t.Fatal(err)
	}
	if e := tok.Encode("is <mask>"); !slices.Equal(e.IDs, []int{0, 354, 50264, 2}) {
		t.Errorf("legacy mask lstrip: %v", e.Tokens)
	}
}

func TestLoadErrors(t *testing.T) {
	set := func(path string, v any) func(map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			for _, k := range keys[:len(keys)-1] {
				m = m[k].(map[string]any)
			}
			m[keys[len(keys)-1]] = v
		}
	}
	keep := func(map[string]any) {}
	for _, c := range []struct {
		name      string
		edit, cfg func(map[string]any) // edit nil: no tokenizer.json (the vocab.json path)
		want      string
	}{
		{"wordpiece", set("model.type", "WordPiece"), nil, "model.type"},
		{"normalizer", set("normalizer", map[string]any{"type": "NFC"}), nil, "normalizer.type"},
		{"pretok", set("pre_tokenizer", map[string]any{"type": "Whitespace"}), nil, "pre_tokenizer.type"},
		{"prefix", set("pre_tokenizer.add_prefix_space", true), nil, "pre_tokenizer.add_prefix_space"},
		{"regex", set("pre_tokenizer.use_regex", false), nil, "pre_tokenizer.use_regex"},
		{"post", set("post_processor", map[string]any{"type": "BertProcessing"}), nil, "post_processor.type"},
		{"nopost", set("post_processor", nil), nil, "post_processor"},
		{"decoder", set("decoder", map[string]any{"type": "WordPiece"}), nil, "decoder.type"},
		{"dropout", set("model.dropout", 0.1), nil, "model.dropout"},
		{"fallback", set("model.byte_fallback", true), nil, "model.byte_fallback"},
		{"suffix", set("model.end_of_word_suffix", "</w>"), nil, "model.end_of_word_suffix"},
		{"badmerge", set("model.merges", []any{[]any{"Ġ", "zzzz"}}), nil, "merge 1"},
		{"cls", set("post_processor.cls", []any{"<s>", 7}), nil, "disagree"},
		{"cfgprefix", keep, set("add_prefix_space", true), "add_prefix_space"},
		{"lower", keep, set("do_lower_case", true), "do_lower_case"},
		{"errors", keep, set("errors", "strict"), "errors"},
		{"side", keep, set("truncation_side", "middle"), "truncation_side"},
		{"class", nil, set("tokenizer_class", "BertTokenizer"), "tokenizer_class"},
	} {
		edit := c.edit
		if edit != nil { // the real vocabulary is not needed to fail; a byte-level one loads faster
			edit = func(m map[string]any) { shrinkModel(m); c.edit(m) }
		}
		_, err := Load(editedModelDir(t, edit, c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to name %q", c.name, err, c.want)
		}
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "vocab.json") {
		t.Errorf("empty dir: %v", err)
	}
}

// shrinkModel swaps tokenizer.json's vocabulary for the 256 byte tokens and RoBERTa's first
// four specials, with no merges.
func shrinkModel(m map[string]any) {
	vocab := map[string]int{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = 4 + b
	}
	model := m["model"].(map[string]any)
	model["vocab"], model["merges"] = vocab, []any{}
}

func TestMiniModelLoads(t *testing.T) {
	tok, err := Load(editedModelDir(t, shrinkModel, nil))
	if err != nil {
		t.Fatal(err)
	}
	e := tok.Encode("hi <mask>")
	if want := []int{0, 4 + 'h', 4 + 'i', 4 + ' ', 50264, 2}; !slices.Equal(e.IDs, want) {
		t.Fatalf("%v, want %v", e.IDs, want)
	}
}

func TestMergesAsStrings(t *testing.T) {
	// tokenizers < 0.20 wrote merges as "a b" strings.
	tok, err := Load(editedModelDir(t, func(m map[string]any) {
		model := m["model"].(map[string]any)
		var pairs [][2]string
		if err := json.Unmarshal(model["merges"].(json.RawMessage), &pairs); err != nil {
			t.Fatal(err)
		}
		lines := make([]string, len(pairs))
		for i, p := range pairs {
			lines[i] = p[0] + " " + p[1]
		}
		model["merges"] = lines
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	it := loadGolden(t)[14]
	if d := checkGolden(tok, it); d != "" {
		t.Error(d)
	}
}

func TestRuneCursor(t *testing.T) {
	s := "aé😀b"
	c := runeCursor{s: s}
	for b, want := range []int{0, 1, 2, 2, 3, 3, 3, 3, 4} {
		if b < len(s)+1 {
			if got := c.index(b); got != want {
				t.Errorf("index(%d) = %d, want %d", b, got, want)
			}
		}
	}
	if utf8.RuneCountInString(s) != 4 {
		t.Fatal("test string")
	}
}
