package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Load reads the tokenizer of a Hugging Face model directory.
//
// With tokenizer.json (the "fast" format) the pipeline it describes is used; it must be a
// byte-level BPE model with a ByteLevel pre-tokenizer and decoder, a RobertaProcessing or
// TemplateProcessing post-processor and no normalizer. Without it, vocab.json and merges.txt
// are read as a RoBERTa tokenizer. In both cases tokenizer_config.json, special_tokens_map.json
// (and config.json, for the maximum length) are read when present. Anything else - another
// model type, a normalizer, another post-processor, an option this package does not implement -
// is an error that names the file and field: the tokenizer never guesses.
func Load(dir string) (*Tokenizer, error) {
	cfg, err := readTokenizerConfig(dir)
	if err != nil {
		return nil, err
	}
	var sp *spec
	tj := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tj); err == nil {
		sp, err = readTokenizerJSON(tj)
		if err != nil {
			return nil, err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		sp, err = readVocabMerges(dir, cfg)
		if err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if err := cfg.apply(sp); err != nil {
		return nil, err
	}
	if sp.maxLength == 0 {
		sp.maxLength, err = maxLengthFromModelConfig(dir)
		if err != nil {
			return nil, err
		}
	}
	return build(sp)
}

// spec is everything that determines a Tokenizer, gathered from the files.
type spec struct {
	vocab        map[string]int32
	merges       [][2]string
	ignoreMerges bool
	added        []AddedToken
	cls, sep     string // RobertaProcessing's tokens (also the legacy files')
	clsID, sepID int
	template     *postProcessor // TemplateProcessing; nil: RobertaProcessing with cls and sep

	trimOffsets, postPrefixSpace bool
	maxLength                    int // 0: unknown
	truncateLeft                 bool
	cleanup                      bool
	splitSpecial                 bool
	pad, unk, mask               string
}

// ---- tokenizer.json ----

type hfTokenizerJSON struct {
	Truncation *struct {
		MaxLength int    `json:"max_length"`
		Direction string `json:"direction"`
	} `json:"truncation"`
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string           `json:"type"`
		Dropout                 *float64         `json:"dropout"`
		UnkToken                *string          `json:"unk_token"`
		ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
		ByteFallback            bool             `json:"byte_fallback"`
		IgnoreMerges            bool             `json:"ignore_merges"`
		Vocab                   map[string]int32 `json:"vocab"`
		Merges                  json.RawMessage  `json:"merges"`
	} `json:"model"`
}

// component is the "type" of a pipeline step plus the options this package reads.
type component struct {
	Type           string   `json:"type"`
	AddPrefixSpace *bool    `json:"add_prefix_space"`
	TrimOffsets    *bool    `json:"trim_offsets"`
	UseRegex       *bool    `json:"use_regex"`
	Cls            *tokenID `json:"cls"`
	Sep            *tokenID `json:"sep"`
	// TemplateProcessing's, decoded by parseTemplateProcessing.
	Single        json.RawMessage `json:"single"`
	Pair          json.RawMessage `json:"pair"`
	SpecialTokens json.RawMessage `json:"special_tokens"`
}

// tokenID is a post-processor's ["<s>", 0].
type tokenID struct {
	Token string
	ID    int
}

func (t *tokenID) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil || len(a) != 2 {
		return fmt.Errorf("want [token, id], got %s", b)
	}
	if err := json.Unmarshal(a[0], &t.Token); err != nil {
		return err
	}
	return json.Unmarshal(a[1], &t.ID)
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func parseComponent(path, field string, raw json.RawMessage) (*component, error) {
	if isNull(raw) {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %s: %w", path, field, err)
	}
	return &c, nil
}

func unsupported(path, field, got, want string) error {
	return fmt.Errorf("tokenizer: %s: %s %s is not supported (coldserve reads %s)", path, field, got, want)
}

func readTokenizerJSON(path string) (*spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var tj hfTokenizerJSON
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	m := &tj.Model
	if m.Type != "BPE" {
		return nil, unsupported(path, "model.type", fmt.Sprintf("%q", m.Type), `"BPE"`)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, unsupported(path, "model.dropout", fmt.Sprint(*m.Dropout), "null")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, unsupported(path, "model.continuing_subword_prefix", fmt.Sprintf("%q", *m.ContinuingSubwordPrefix), `""`)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, unsupported(path, "model.end_of_word_suffix", fmt.Sprintf("%q", *m.EndOfWordSuffix), `""`)
	}
	if m.ByteFallback {
		return nil, unsupported(path, "model.byte_fallback", "true", "false")
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("tokenizer: %s: model.vocab is missing or empty", path)
	}
	if n, err := parseComponent(path, "normalizer", tj.Normalizer); err != nil {
		return nil, err
	} else if n != nil {
		return nil, unsupported(path, "normalizer.type", fmt.Sprintf("%q", n.Type), "null (no normalizer)")
	}
	pre, err := parseComponent(path, "pre_tokenizer", tj.PreTokenizer)
	if err != nil {
		return nil, err
	}
	switch {
	case pre == nil:
		return nil, unsupported(path, "pre_tokenizer", "null", `a "ByteLevel" pre-tokenizer`)
	case pre.Type != "ByteLevel":
		return nil, unsupported(path, "pre_tokenizer.type", fmt.Sprintf("%q", pre.Type), `"ByteLevel"`)
	case pre.AddPrefixSpace != nil && *pre.AddPrefixSpace:
		return nil, unsupported(path, "pre_tokenizer.add_prefix_space", "true", "false (RoBERTa's setting)")
	case pre.UseRegex != nil && !*pre.UseRegex:
		return nil, unsupported(path, "pre_tokenizer.use_regex", "false", "true")
	}
	post, err := parseComponent(path, "post_processor", tj.PostProcessor)
	if err != nil {
		return nil, err
	}
	const postKinds = `"RobertaProcessing" or "TemplateProcessing"`
	var tmpl *postProcessor
	switch {
	case post == nil:
		return nil, unsupported(path, "post_processor", "null", postKinds)
	case post.Type == "TemplateProcessing":
		if tmpl, err = parseTemplateProcessing(path, post); err != nil {
			return nil, err
		}
	case post.Type != "RobertaProcessing":
		return nil, unsupported(path, "post_processor.type", fmt.Sprintf("%q", post.Type), postKinds)
	case post.Cls == nil || post.Sep == nil:
		return nil, fmt.Errorf("tokenizer: %s: post_processor needs cls and sep", path)
	}
	dec, err := parseComponent(path, "decoder", tj.Decoder)
	if err != nil {
		return nil, err
	}
	if dec == nil || dec.Type != "ByteLevel" {
		got := "null"
		if dec != nil {
			got = fmt.Sprintf("%q", dec.Type)
		}
		return nil, unsupported(path, "decoder.type", got, `"ByteLevel"`)
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: model.merges: %w", path, err)
	}
	sp := &spec{
		vocab:        m.Vocab,
		merges:       merges,
		ignoreMerges: m.IgnoreMerges,
		template:     tmpl,
		pad:          "<pad>",
		unk:          "<unk>",
		mask:         "<mask>",
	}
	if tmpl == nil {
		sp.cls, sp.clsID, sp.sep, sp.sepID = post.Cls.Token, post.Cls.ID, post.Sep.Token, post.Sep.ID
		sp.trimOffsets = post.TrimOffsets == nil || *post.TrimOffsets
		sp.postPrefixSpace = post.AddPrefixSpace == nil || *post.AddPrefixSpace
	} // TemplateProcessing trims no offsets: without a ByteLevel post-processor they keep their spaces.
	if m.UnkToken != nil {
		sp.unk = *m.UnkToken
	}
	for _, a := range tj.AddedTokens {
		sp.added = append(sp.added, AddedToken{ID: a.ID, Content: a.Content, Special: a.Special,
			LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord})
	}
	if tr := tj.Truncation; tr != nil {
		sp.maxLength = tr.MaxLength
		switch tr.Direction {
		case "", "Right":
		case "Left":
			sp.truncateLeft = true
		default:
			return nil, unsupported(path, "truncation.direction", fmt.Sprintf("%q", tr.Direction), `"Right" or "Left"`)
		}
	}
	return sp, nil
}

// parseMerges reads merges as [["a","b"], ...] (tokenizers >= 0.20) or ["a b", ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, errors.New(`want [["a", "b"], ...] or ["a b", ...]`)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("merge %d %q is not two tokens", i+1, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// ---- vocab.json + merges.txt ----

// roles of the RoBERTa special tokens, in transformers' SPECIAL_TOKENS_ATTRIBUTES order (the
// order in which missing ones get new ids), with RoBERTa's defaults.
var roles = []struct{ key, def string }{
	{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"sep_token", "</s>"},
	{"pad_token", "<pad>"}, {"cls_token", "<s>"}, {"mask_token", "<mask>"},
}

var legacyClasses = map[string]bool{"RobertaTokenizer": true, "RobertaTokenizerFast": true}

func readVocabMerges(dir string, cfg *tokenizerConfig) (*spec, error) {
	vocabPath, mergesPath := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	for _, p := range []string{vocabPath, mergesPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("tokenizer: %s has no tokenizer.json and cannot read %s: %w", dir, filepath.Base(p), err)
		}
	}
	if c := cfg.TokenizerClass; c != "" && !legacyClasses[c] {
		return nil, unsupported(cfg.path, "tokenizer_class", fmt.Sprintf("%q", c), `"RobertaTokenizer" or "RobertaTokenizerFast" (or a tokenizer.json)`)
	}
	raw, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int32
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", vocabPath, err)
	}
	merges, err := readMergesTxt(mergesPath)
	if err != nil {
		return nil, err
	}
	sp := &spec{vocab: vocab, merges: merges, trimOffsets: true, pad: "<pad>", unk: "<unk>", mask: "<mask>"}

	// Added tokens: the ids and flags of added_tokens_decoder are authoritative; then the
	// special-token roles (a role's token missing from the vocabulary gets the next free id, as
	// transformers adds it); then added_tokens.json.
	next := int32(0)
	for _, id := range vocab {
		next = max(next, id+1)
	}
	have := map[string]int{}
	add := func(t AddedToken) {
		if _, ok := have[t.Content]; ok {
			return
		}
		have[t.Content] = len(sp.added)
		sp.added = append(sp.added, t)
		next = max(next, int32(t.ID)+1)
	}
	ids := make([]int, 0, len(cfg.AddedTokensDecoder))
	for k := range cfg.AddedTokensDecoder {
		var id int
		if _, err := fmt.Sscan(k, &id); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: added_tokens_decoder key %q is not an id", cfg.path, k)
		}
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		ts := cfg.AddedTokensDecoder[fmt.Sprint(id)]
		add(ts.token(id, ts.Special == nil || *ts.Special))
	}
	idOf := func(content string) int {
		if i, ok := have[content]; ok {
			return sp.added[i].ID
		}
		if id, ok := vocab[content]; ok {
			return int(id)
		}
		if id, ok := cfg.addedTokensFile[content]; ok {
			return id
		}
		return int(next)
	}
	for _, r := range roles {
		ts := cfg.roles[r.key]
		if !ts.set {
			ts = tokenSpec{set: true, Content: r.def}
		}
		add(ts.token(idOf(ts.Content), true))
	}
	for _, ts := range cfg.additional {
		add(ts.token(idOf(ts.Content), true))
	}
	extra := make([]string, 0, len(cfg.addedTokensFile))
	for c := range cfg.addedTokensFile {
		extra = append(extra, c)
	}
	sort.Slice(extra, func(i, j int) bool { return cfg.addedTokensFile[extra[i]] < cfg.addedTokensFile[extra[j]] })
	for _, c := range extra {
		add(AddedToken{ID: cfg.addedTokensFile[c], Content: c})
	}
	roleContent := func(key, def string) string {
		if ts := cfg.roles[key]; ts.set {
			return ts.Content
		}
		return def
	}
	sp.cls, sp.sep = roleContent("cls_token", "<s>"), roleContent("sep_token", "</s>")
	sp.clsID, sp.sepID = sp.added[have[sp.cls]].ID, sp.added[have[sp.sep]].ID
	return sp, nil
}

// readMergesTxt reads merges.txt: an optional "#version" line, then one "a b" pair a line.
func readMergesTxt(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	var merges [][2]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" || (line == 1 && strings.HasPrefix(l, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: %q is not two tokens", path, line, l)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return merges, nil
}

// ---- tokenizer_config.json / special_tokens_map.json / config.json ----

// tokenSpec is a special token in transformers' configs: "<mask>" or {"content": "<mask>", ...}.
type tokenSpec struct {
	set        bool
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Special    *bool  `json:"special"`
}

func (t *tokenSpec) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	t.set = true
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &t.Content)
	}
	type plain tokenSpec
	return json.Unmarshal(b, (*plain)(t))
}

func (t tokenSpec) token(id int, special bool) AddedToken {
	return AddedToken{ID: id, Content: t.Content, Special: special, LStrip: t.LStrip, RStrip: t.RStrip, SingleWord: t.SingleWord}
}

type tokenizerConfig struct {
	path               string
	TokenizerClass     string               `json:"tokenizer_class"`
	ModelMaxLength     *float64             `json:"model_max_length"`
	TruncationSide     string               `json:"truncation_side"`
	AddPrefixSpace     *bool                `json:"add_prefix_space"`
	TrimOffsets        *bool                `json:"trim_offsets"`
	Errors             string               `json:"errors"`
	DoLowerCase        *bool                `json:"do_lower_case"`
	CleanUp            *bool                `json:"clean_up_tokenization_spaces"`
	SplitSpecialTokens *bool                `json:"split_special_tokens"`
	AddedTokensDecoder map[string]tokenSpec `json:"added_tokens_decoder"`

	roles           map[string]tokenSpec // bos_token, ... from both files
	additional      []tokenSpec
	addedTokensFile map[string]int // added_tokens.json
}

// readTokenizerConfig reads tokenizer_config.json, special_tokens_map.json (whose tokens win,
// as in transformers) and added_tokens.json; each is optional.
func readTokenizerConfig(dir string) (*tokenizerConfig, error) {
	cfg := &tokenizerConfig{path: filepath.Join(dir, "tokenizer_config.json"), roles: map[string]tokenSpec{}}
	for _, name := range []string{"tokenizer_config.json", "special_tokens_map.json"} {
		path := filepath.Join(dir, name)
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		if name == "tokenizer_config.json" {
			if err := json.Unmarshal(raw, cfg); err != nil {
				return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
			}
		}
		var toks map[string]json.RawMessage
		if err := json.Unmarshal(raw, &toks); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		for _, r := range roles {
			if v, ok := toks[r.key]; ok {
				var ts tokenSpec
				if err := json.Unmarshal(v, &ts); err != nil {
					return nil, fmt.Errorf("tokenizer: %s: %s: %w", path, r.key, err)
				}
				if ts.set {
					cfg.roles[r.key] = ts
				}
			}
		}
		if v, ok := toks["additional_special_tokens"]; ok && !isNull(v) {
			cfg.additional = nil
			if err := json.Unmarshal(v, &cfg.additional); err != nil {
				return nil, fmt.Errorf("tokenizer: %s: additional_special_tokens: %w", path, err)
			}
		}
	}
	path := filepath.Join(dir, "added_tokens.json")
	if raw, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(raw, &cfg.addedTokensFile); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return cfg, nil
}

// apply folds the config's options into sp, refusing those this package does not implement.
func (c *tokenizerConfig) apply(sp *spec) error {
	if c.AddPrefixSpace != nil && *c.AddPrefixSpace {
		return unsupported(c.path, "add_prefix_space", "true", "false (RoBERTa's setting)")
	}
	if c.DoLowerCase != nil && *c.DoLowerCase {
		return unsupported(c.path, "do_lower_case", "true", "false")
	}
	if c.Errors != "" && c.Errors != "replace" {
		return unsupported(c.path, "errors", fmt.Sprintf("%q", c.Errors), `"replace"`)
	}
	// trim_offsets is an option of RobertaProcessing, which transformers rewrites from the
	// config; a TemplateProcessing has no such option and is left as it is.
	if c.TrimOffsets != nil && sp.template == nil {
		sp.trimOffsets = *c.TrimOffsets
	}
	if c.CleanUp != nil {
		sp.cleanup = *c.CleanUp
	}
	if c.SplitSpecialTokens != nil {
		sp.splitSpecial = *c.SplitSpecialTokens
	}
	switch c.TruncationSide {
	case "":
	case "right":
		sp.truncateLeft = false
	case "left":
		sp.truncateLeft = true
	default:
		return unsupported(c.path, "truncation_side", fmt.Sprintf("%q", c.TruncationSide), `"right" or "left"`)
	}
	// transformers uses int(1e30) for "no limit".
	if l := c.ModelMaxLength; l != nil && *l > 0 && *l < math.MaxInt32 {
		sp.maxLength = int(*l)
	}
	for key, dst := range map[string]*string{"pad_token": &sp.pad, "unk_token": &sp.unk, "mask_token": &sp.mask} {
		if ts, ok := c.roles[key]; ok {
			*dst = ts.Content
		}
	}
	return nil
}

// maxLengthFromModelConfig derives RoBERTa's limit from config.json: position ids start after
// the padding index, so max_position_embeddings - pad_token_id - 1 tokens fit (514 -> 512).
// It returns 0 (no default truncation) when there is no RoBERTa config.json.
func maxLengthFromModelConfig(dir string) (int, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("tokenizer: %w", err)
	}
	var c struct {
		ModelType             string `json:"model_type"`
		MaxPositionEmbeddings int    `json:"max_position_embeddings"`
		PadTokenID            int    `json:"pad_token_id"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	if c.ModelType != "roberta" || c.MaxPositionEmbeddings <= c.PadTokenID+1 {
		return 0, nil
	}
	return c.MaxPositionEmbeddings - c.PadTokenID - 1, nil
}

// ---- assembling ----

// maxID bounds ids, so a corrupt file cannot make build allocate without limit.
const maxID = 1 << 24

func build(sp *spec) (*Tokenizer, error) {
	model, err := newBPE(sp.vocab, sp.merges, sp.ignoreMerges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	n := 0
	for tok, id := range sp.vocab {
		if id < 0 || id >= maxID {
			return nil, fmt.Errorf("tokenizer: vocabulary id %d of %q is out of range", id, tok)
		}
		n = max(n, int(id)+1)
	}
	for _, a := range sp.added {
		if a.ID < 0 || a.ID >= maxID {
			return nil, fmt.Errorf("tokenizer: added token %q has id %d, out of range", a.Content, a.ID)
		}
		n = max(n, a.ID+1)
	}
	t := &Tokenizer{
		model:           model,
		idToToken:       make([]string, n),
		tokLen:          make([]uint16, n),
		lead:            make([]uint16, n),
		trail:           make([]uint16, n),
		special:         make([]bool, n),
		decoded:         make([][]byte, n),
		added:           sp.added,
		matcher:         newAddedMatcher(sp.added, sp.splitSpecial),
		maxLength:       sp.maxLength,
		truncateLeft:    sp.truncateLeft,
		trimOffsets:     sp.trimOffsets,
		postPrefixSpace: sp.postPrefixSpace,
		cleanup:         sp.cleanup,
	}
	for tok, id := range sp.vocab {
		// Two strings with one id: keep the smaller, so the choice does not depend on map order.
		if t.idToToken[id] == "" || tok < t.idToToken[id] {
			t.idToToken[id] = tok
		}
	}
	for id, tok := range t.idToToken {
		t.tokLen[id] = uint16(min(utf8.RuneCountInString(tok), math.MaxUint16))
	}
	for _, a := range sp.added {
		t.idToToken[a.ID] = a.Content
		t.special[a.ID] = a.Special
	}
	for id, tok := range t.idToToken {
		l, r := spaceCounts(tok)
		t.lead[id], t.trail[id] = uint16(min(l, math.MaxUint16)), uint16(min(r, math.MaxUint16))
		t.decoded[id] = byteLevelDecode(tok)
	}
	t.post = sp.template
	if t.post == nil {
		t.post = robertaPost(sp.cls, sp.clsID, sp.sep, sp.sepID)
	}
	if err := t.post.check(t); err != nil {
		return nil, err
	}
	t.clsID, t.sepID = t.post.clsSep()
	t.padID, t.unkID, t.maskID = t.lookup(sp.pad), t.lookup(sp.unk), t.lookup(sp.mask)
	t.cache = newWordCache(DefaultCacheSize)
	return t, nil
}

func (t *Tokenizer) lookup(tok string) int {
	if tok == "" {
		return -1
	}
	if id, ok := t.TokenToID(tok); ok {
		return id
	}
	return -1
}

// setCacheSize replaces the word cache; size <= 0 disables it (for benchmarks and tests).
func (t *Tokenizer) setCacheSize(size int) { t.cache = newWordCache(size) }
