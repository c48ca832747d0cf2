package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The post-processor is the last step of Hugging Face's pipeline: it puts the special tokens
// around the tokens of one text, or of two (a pair), and gives every token its type id and
// sequence id. tokenizer.json names one of several kinds; two are read here, and both are
// reduced to the same thing, a pair of templates:
//
//	RobertaProcessing   single: <s> $A </s>        pair: <s> $A </s> </s> $B </s>   type ids all 0
//	TemplateProcessing  single and pair as written, e.g. [CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1
//
// RobertaProcessing also trims the offsets of the text tokens (trim_offsets, see trim);
// TemplateProcessing does not, so with it a token's offsets include the space it carries, as in
// Hugging Face.

// NoSequence is the sequence id of a token that comes from neither text: the special tokens the
// post-processor adds, and padding. Hugging Face's Encoding.sequence_ids() says None for them.
const NoSequence = -1

// piece is one element of a template: an input sequence ($A or $B) or a special token, which
// TemplateProcessing allows to stand for several ids.
type piece struct {
	seq    int // 0 for $A, 1 for $B, NoSequence for a special token
	typeID int
	ids    []int    // special token only
	tokens []string // special token only, one per id
}

// template is what the post-processor does with one text (single) or two (pair).
type template []piece

// added is the number of special tokens the template adds (Hugging Face's added_tokens).
func (tp template) added() int {
	n := 0
	for _, p := range tp {
		n += len(p.ids)
	}
	return n
}

// postProcessor holds both templates.
type postProcessor struct {
	kind         string // the tokenizer.json type, for messages
	single, pair template
}

// robertaPost is RobertaProcessing: <s> A </s> and <s> A </s></s> B </s>, all type ids 0.
func robertaPost(cls string, clsID int, sep string, sepID int) *postProcessor {
	c := piece{seq: NoSequence, ids: []int{clsID}, tokens: []string{cls}}
	s := piece{seq: NoSequence, ids: []int{sepID}, tokens: []string{sep}}
	a, b := piece{seq: 0}, piece{seq: 1}
	return &postProcessor{
		kind:   "RobertaProcessing",
		single: template{c, a, s},
		pair:   template{c, a, s, s, b, s},
	}
}

// ---- TemplateProcessing in tokenizer.json ----

// templatePieceJSON is {"Sequence": {"id": "A", "type_id": 0}} or
// {"SpecialToken": {"id": "[CLS]", "type_id": 0}}.
type templatePieceJSON struct {
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence"`
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken"`
}

// templateSpecialJSON is an entry of special_tokens: {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]}.
type templateSpecialJSON struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

// parseTemplateProcessing reads a TemplateProcessing post-processor. Hugging Face deserializes it
// without the checks its builder makes, and then panics on a template that names a special token
// special_tokens lacks; here every such inconsistency is an error that names the field.
func parseTemplateProcessing(path string, c *component) (*postProcessor, error) {
	var specials map[string]templateSpecialJSON
	if isNull(c.SpecialTokens) {
		specials = map[string]templateSpecialJSON{}
	} else if err := json.Unmarshal(c.SpecialTokens, &specials); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: post_processor.special_tokens: %w", path, err)
	}
	for key, sp := range specials {
		if len(sp.IDs) != len(sp.Tokens) {
			return nil, fmt.Errorf("tokenizer: %s: post_processor.special_tokens[%q]: %d ids but %d tokens", path, key, len(sp.IDs), len(sp.Tokens))
		}
	}
	read := func(field string, raw json.RawMessage) (template, error) {
		if isNull(raw) {
			return nil, fmt.Errorf("tokenizer: %s: post_processor.%s is missing", path, field)
		}
		var pieces []templatePieceJSON
		if err := json.Unmarshal(raw, &pieces); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: post_processor.%s: %w", path, field, err)
		}
		tp := make(template, 0, len(pieces))
		for i, pj := range pieces {
			where := fmt.Sprintf("post_processor.%s[%d]", field, i)
			switch {
			case pj.Sequence != nil && pj.SpecialToken == nil:
				seq := -1
				switch pj.Sequence.ID {
				case "A":
					seq = 0
				case "B":
					seq = 1
				default:
					return nil, fmt.Errorf("tokenizer: %s: %s: sequence %q is not A or B", path, where, pj.Sequence.ID)
				}
				tp = append(tp, piece{seq: seq, typeID: pj.Sequence.TypeID})
			case pj.SpecialToken != nil && pj.Sequence == nil:
				sp, ok := specials[pj.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("tokenizer: %s: %s: special token %q is not in post_processor.special_tokens", path, where, pj.SpecialToken.ID)
				}
				tp = append(tp, piece{seq: NoSequence, typeID: pj.SpecialToken.TypeID, ids: sp.IDs, tokens: sp.Tokens})
			default:
				return nil, fmt.Errorf("tokenizer: %s: %s: want {\"Sequence\": ...} or {\"SpecialToken\": ...}", path, where)
			}
		}
		return tp, nil
	}
	single, err := read("single", c.Single)
	if err != nil {
		return nil, err
	}
	pair, err := read("pair", c.Pair)
	if err != nil {
		return nil, err
	}
	var hasA, hasB bool
	for _, p := range single {
		if p.seq == 1 {
			return nil, fmt.Errorf("tokenizer: %s: post_processor.single uses $B, which a single text does not have", path)
		}
	}
	for _, p := range pair {
		hasA, hasB = hasA || p.seq == 0, hasB || p.seq == 1
	}
	if !hasA || !hasB {
		return nil, fmt.Errorf("tokenizer: %s: post_processor.pair must use both $A and $B", path)
	}
	return &postProcessor{kind: "TemplateProcessing", single: single, pair: pair}, nil
}

// check verifies every special token of p against the vocabulary of t.
func (p *postProcessor) check(t *Tokenizer) error {
	for _, tp := range []template{p.single, p.pair} {
		for _, pc := range tp {
			for i, id := range pc.ids {
				if id < 0 || id >= len(t.idToToken) {
					return fmt.Errorf("tokenizer: %s token %q has id %d, outside the vocabulary of %d", p.kind, pc.tokens[i], id, len(t.idToToken))
				}
				if t.idToToken[id] != pc.tokens[i] {
					return fmt.Errorf("tokenizer: %s token %q=%d disagrees with the vocabulary (%q)", p.kind, pc.tokens[i], id, t.idToToken[id])
				}
			}
		}
	}
	return nil
}

// clsSep finds the ids CLSID and SEPID report: the first special id before $A in the single
// template and the first one after it (-1 where there is none).
func (p *postProcessor) clsSep() (cls, sep int) {
	cls, sep = -1, -1
	seenA := false
	for _, pc := range p.single {
		switch {
		case pc.seq == 0:
			seenA = true
		case len(pc.ids) == 0:
		case !seenA && cls < 0:
			cls = pc.ids[0]
		case seenA && sep < 0:
			sep = pc.ids[0]
		}
	}
	return cls, sep
}

// ---- truncation strategies ----

// TruncationStrategy picks which text of a pair truncation shortens, as Hugging Face's
// truncation="longest_first" | "only_first" | "only_second". The zero value is LongestFirst, the
// default there too.
type TruncationStrategy uint8

const (
	// LongestFirst shortens the longer text until both fit, then shares the room: when both are
	// longer than half the budget, the first keeps budget/2 tokens and the second the rest.
	LongestFirst TruncationStrategy = iota
	// OnlyFirst shortens only the first text (A); it fails when A cannot give up enough tokens.
	OnlyFirst
	// OnlySecond shortens only the second text (B); it fails when B cannot give up enough tokens.
	OnlySecond
)

var strategyNames = [...]string{LongestFirst: "longest_first", OnlyFirst: "only_first", OnlySecond: "only_second"}

// String is the Hugging Face name: "longest_first", "only_first" or "only_second".
func (s TruncationStrategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("TruncationStrategy(%d)", uint8(s))
}

// UnknownStrategyError reports a truncation strategy name that ParseTruncationStrategy does not
// know.
type UnknownStrategyError struct{ Name string }

func (e *UnknownStrategyError) Error() string {
	name := e.Name
	if len(name) > 40 { // the name comes from a request: keep the message short
		name = ValidUTF8(name[:40]) + "…"
	}
	return fmt.Sprintf("tokenizer: unknown truncation strategy %q (want longest_first, only_first or only_second)", name)
}

// ParseTruncationStrategy reads "longest_first", "only_first" or "only_second", in any case.
// Anything else, the empty string included, is an *UnknownStrategyError; a caller with no name
// to parse wants the zero value, LongestFirst.
func ParseTruncationStrategy(name string) (TruncationStrategy, error) {
	for s, n := range strategyNames {
		if strings.EqualFold(name, n) {
			return TruncationStrategy(s), nil
		}
	}
	return 0, &UnknownStrategyError{Name: name}
}

// MarshalText writes the Hugging Face name, so a strategy is a JSON string.
func (s TruncationStrategy) MarshalText() ([]byte, error) {
	if int(s) >= len(strategyNames) {
		return nil, fmt.Errorf("tokenizer: invalid truncation strategy %d", uint8(s))
	}
	return []byte(strategyNames[s]), nil
}

// UnmarshalText reads a name as ParseTruncationStrategy does.
func (s *TruncationStrategy) UnmarshalText(b []byte) error {
	v, err := ParseTruncationStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ErrSequenceTooShort reports that OnlyFirst or OnlySecond cannot make a pair fit: the text it
// may shorten has no more tokens than must go (Hugging Face: "Truncation error: Sequence to
// truncate too short to respect the provided max_length").
var ErrSequenceTooShort = errors.New("tokenizer: sequence to truncate is too short to respect the max length")

// truncatePair is tokenizers' truncate_encodings (src/utils/truncation.rs) on two texts of n1
// and n2 tokens and a budget of maxLen text tokens (< 0: none): how many tokens each keeps.
func truncatePair(n1, n2, maxLen int, s TruncationStrategy) (keep1, keep2 int, err error) {
	switch {
	case maxLen < 0 || n1+n2 <= maxLen:
		return n1, n2, nil
	case maxLen == 0: // tokenizers empties both, whatever the strategy
		return 0, 0, nil
	}
	toRemove := n1 + n2 - maxLen
	switch s {
	case LongestFirst:
		// The shorter text keeps everything and the longer one takes the rest of the budget
		// (but no less than the shorter has); when that still overflows, each gets half and the
		// longer one (the second, on a tie) the odd token.
		short, long := min(n1, n2), max(n1, n2)
		if short > maxLen {
			long = short
		} else {
			long = max(short, maxLen-short)
		}
		if short+long > maxLen {
			short, long = maxLen/2, maxLen/2+maxLen%2
		}
		if n1 > n2 {
			return min(n1, long), min(n2, short), nil
		}
		return min(n1, short), min(n2, long), nil
	case OnlyFirst:
		// tokenizers demands that the text keep at least one token: removing exactly all of
		// it is an error too.
		if n1 <= toRemove {
			return 0, 0, fmt.Errorf("%w: only_first must remove %d tokens but the first text has %d", ErrSequenceTooShort, toRemove, n1)
		}
		return n1 - toRemove, n2, nil
	case OnlySecond:
		if n2 <= toRemove {
			return 0, 0, fmt.Errorf("%w: only_second must remove %d tokens but the second text has %d", ErrSequenceTooShort, toRemove, n2)
		}
		return n1, n2 - toRemove, nil
	}
	return 0, 0, fmt.Errorf("tokenizer: invalid truncation strategy %d", uint8(s))
}
