package inference

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coldserve/coldserve/encoder"
)

// ModelConfig says what to serve.
type ModelConfig struct {
	// Dir is a local Hugging Face checkpoint directory (config.json, weights, tokenizer files).
	Dir string
	// Source is what the operator asked for (a Hub id, or Dir when empty); Revision and Commit
	// say which Hub revision it resolved to. They are recorded in the admin history.
	Source, Revision, Commit string
	// Name is reported as "model" in responses (default: the base name of Dir).
	Name string
	// Heads are extra classification heads (--head NAME=DIR).
	Heads []HeadSpec
	// MaxInputTokens caps every input, specials included (0: the model's limit, 512 for RoBERTa).
	MaxInputTokens int
	// MaxBatchTokens is the padded token budget of one forward pass (0: engine default).
	MaxBatchTokens int
	// Queue bounds each encoder's batch queue: sequences, tokens and the longest wait
	// (engine.Options.MaxQueueSequences, MaxQueueTokens, MaxQueueWait; 0: engine defaults,
	// no wait limit).
	Queue QueueLimits
	// BatchWait is how long an idle batcher waits for more requests before a forward pass
	// (engine.Options.BatchWait; 0: none).
	BatchWait time.Duration
	// Encoder tunes each encoder (workers, machine cache).
	Encoder encoder.EncoderOptions
}

// QueueLimits bound one encoder's batch queue; see engine.Options.
type QueueLimits struct {
	Sequences, Tokens int
	Wait              time.Duration
}

// HeadSpec is one --head NAME=DIR: a head-only checkpoint (attached to the served encoder) or a
// full finetuned RobertaForSequenceClassification checkpoint (served on its own encoder).
type HeadSpec struct {
	Name string
	Dir  string
}

// ParseHeadSpec reads "NAME=DIR".
func ParseHeadSpec(s string) (HeadSpec, error) {
	name, dir, ok := strings.Cut(s, "=")
	if !ok || name == "" || dir == "" {
		return HeadSpec{}, fmt.Errorf("head %q: want NAME=DIR", s)
	}
	if err := checkHeadName(name); err != nil {
		return HeadSpec{}, err
	}
	return HeadSpec{Name: name, Dir: dir}, nil
}

// maxHeadName bounds a head name's length.
const maxHeadName = 64

// checkHeadName requires 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or
// digit: a head name is a path segment of DELETE /admin/heads/{name} and a metric-friendly
// label, so "a/b" or "" would make a head that can never be removed.
func checkHeadName(name string) error {
	ok := name != "" && len(name) <= maxHeadName
	for i, r := range name {
		alnum := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && (i == 0 || (r != '.' && r != '_' && r != '-')) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("head name %.*q: want 1 to %d ASCII letters, digits, '.', '_' or '-', starting with a letter or digit",
			maxHeadName, name, maxHeadName)
	}
	return nil
}
