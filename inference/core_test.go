package inference

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/internal/fixture"
)

func TestParseHeadSpec(t *testing.T) {
	for _, bad := range []string{"nodir", "=dir", "name="} {
		if _, err := ParseHeadSpec(bad); err == nil {
			t.Errorf("ParseHeadSpec(%q) succeeded", bad)
		}
	}
	if spec, err := ParseHeadSpec("a=b=c"); err != nil || spec.Name != "a" || spec.Dir != "b=c" {
		t.Errorf("ParseHeadSpec(a=b=c) = %+v, %v", spec, err)
	}
}

// A head name is a path segment of DELETE /admin/heads/{name} and a metric label: names that
// could never be removed are refused where heads are added.
func TestHeadNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"sentiment", true}, {"nli-v2.1_base", true}, {"MNLI", true},
		{"a/b", false}, {"", false}, {"-x", false}, {".hidden", false}, {"a b", false}, {"naïve", false},
		{strings.Repeat("x", maxHeadName), true}, {strings.Repeat("x", maxHeadName+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeadSpec(tc.name + "=dir")
			if (err == nil) != tc.ok {
				t.Errorf("ParseHeadSpec(%q=dir): %v", tc.name, err)
			}
		})
	}
}

// Engine and model errors become the core's kinds and keep their cause.
func TestEngineErrorKinds(t *testing.T) {
	tests := []struct {
		err  error
		kind error
	}{
		{fmt.Errorf("submit: %w", engine.ErrOverloaded), ErrOverloaded},
		{engine.ErrQueueTimeout, ErrOverloaded},
		{engine.ErrClosed, ErrShuttingDown},
		{context.Canceled, ErrCancelled},
		{context.DeadlineExceeded, ErrCancelled},
		{&encoder.InputError{Seq: 0, Reason: "no tokens"}, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			e := engineError(tt.err, nil)
			if !errors.Is(e, tt.kind) || !errors.Is(e, tt.err) {
				t.Errorf("engineError(%v) = %v, want kind %v wrapping the cause", tt.err, e, tt.kind)
			}
		})
	}
	if err := errors.New("kernel exploded"); engineError(err, nil) != err {
		t.Error("an unknown error was given a kind")
	}
}

func TestNonFiniteKind(t *testing.T) {
	if err := fmt.Errorf("swap: %w", &NonFiniteOutputError{}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("%v is not ErrNonFinite", err)
	}
}

// Every request refusal of the core, without HTTP: its kind, checked before any compute.
func TestRequestRefusals(t *testing.T) {
	c := newCore(t, Options{MaxClientBatch: 4, MaxRequestTokens: 1000}, ModelConfig{Dir: tinyDir})
	twoHeads := newCore(t, Options{}, ModelConfig{Dir: tinyDir, Heads: []HeadSpec{
		{Name: "a", Dir: sentimentDir}, {Name: "b", Dir: sentimentDir}}})
	notReady, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	long := strings.Repeat("a ", 600)
	tooMany := strings.Repeat("token ", 400)
	zero := 0
	tests := []struct {
		name string
		do   func() error
		kind error
	}{
		{"embed not ready", func() error {
			_, err := notReady.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{"a"})})
			return err
		}, ErrNotReady},
		{"tokenize not ready", func() error { _, err := notReady.Tokenize(TextInputs([]string{"a"}), true); return err }, ErrNotReady},
		{"embed empty", func() error { _, err := c.Embed(ctx, EmbedRequest{}); return err }, ErrEmptyInput},
		{"embed too many inputs", func() error {
			_, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{"1", "2", "3", "4", "5"})})
			return err
		}, ErrTooManyInputs},
		{"embed unknown pooling", func() error {
			_, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{"a"}), Pooling: "max"})
			return err
		}, ErrInvalidInput},
		{"embed too long", func() error {
			_, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{long}), Truncation: Truncation{Refuse: true}})
			return err
		}, ErrInputTooLong},
		{"embed too many tokens", func() error {
			_, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{tooMany, tooMany, tooMany})})
			return err
		}, ErrTooManyTokens},
		{"classify without heads", func() error {
			_, err := c.Classify(ctx, ClassifyRequest{Inputs: TextInputs([]string{"a"})})
			return err
		}, ErrUnknownHead},
		{"classify which head", func() error {
			_, err := twoHeads.Classify(ctx, ClassifyRequest{Inputs: TextInputs([]string{"a"})})
			return err
		}, ErrMissingHead},
		{"classify unknown head", func() error {
			_, err := twoHeads.Classify(ctx, ClassifyRequest{Inputs: TextInputs([]string{"a"}), Heads: []string{"c"}})
			return err
		}, ErrUnknownHead},
		{"classify top_k 0", func() error {
			_, err := twoHeads.Classify(ctx, ClassifyRequest{Inputs: TextInputs([]string{"a"}), Heads: []string{"a"}, TopK: &zero})
			return err
		}, ErrInvalidInput},
		{"decode outside the vocabulary", func() error { _, err := c.Decode([][]int32{{0, 1 << 30}}, true); return err }, ErrInvalidInput},
		{"decode empty", func() error { _, err := c.Decode(nil, true); return err }, ErrEmptyInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, tt.kind) {
				t.Errorf("%v, want %v", err, tt.kind)
			}
		})
	}
	t.Run("request timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeoutCause(t.Context(), 0, ErrTimeout)
		defer cancel()
		if _, err := c.Embed(ctx, EmbedRequest{Inputs: TextInputs([]string{"a"})}); !errors.Is(err, ErrTimeout) {
			t.Errorf("%v, want ErrTimeout", err)
		}
	})
}

// A request that holds a reservation submits through it; without one a full queue refuses
// before tokenizing.
func TestReserve(t *testing.T) {
	notReady, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := notReady.Reserve(WorkloadEmbed, 10); r != nil || err != nil {
		t.Errorf("Reserve before Load = %v, %v; want nil, nil", r, err)
	}
	c := newCore(t, Options{}, ModelConfig{Dir: tinyDir, Queue: QueueLimits{Sequences: 1, Tokens: 100}})
	r, err := c.Reserve(WorkloadEmbed, 50)
	if err != nil || r == nil {
		t.Fatalf("Reserve = %v, %v", r, err)
	}
	if _, err := c.Reserve(WorkloadEmbed, 80); !errors.Is(err, ErrOverloaded) {
		t.Errorf("second Reserve over the token bound: %v, want ErrOverloaded", err)
	}
	if _, err := c.Embed(t.Context(), EmbedRequest{Inputs: TextInputs([]string{"hello"}), Reserved: r}); err != nil {
		t.Errorf("embed through the reservation: %v", err)
	}
	r.Release() // a no-op once used
	if r, err := c.Reserve(WorkloadClassify, 10); r != nil || err != nil {
		t.Errorf("Reserve for classify without heads = %v, %v; want nil, nil", r, err)
	}
}

// A checkpoint whose weights are finite but whose forward pass is not (it overflows) is
// refused at load, as at a swap.
func TestLoadRefusesNonFiniteCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "overflow")
	fixture.CopyDir(t, tinyDir, dir)
	st := filepath.Join(dir, "model.safetensors")
	raw, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	data := 8 + int(binary.LittleEndian.Uint64(raw))
	for i := range 4 { // the first floats of the data section: near float32's largest
		binary.LittleEndian.PutUint32(raw[data+4*i:], math.Float32bits(3e38))
	}
	if err := os.WriteFile(st, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(t.Context(), ModelConfig{Dir: dir}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Load: %v, want ErrNonFinite", err)
	}
	if c.Ready() == nil {
		t.Error("ready after a refused load")
	}
}

// --default-head must name a loaded head: a typo stops the start instead of failing every
// request that names none.
func TestLoadRefusesAnUnknownDefaultHead(t *testing.T) {
	c, err := New(Options{Logger: quietLogger(), DefaultHead: "sentimnet"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Load(t.Context(), ModelConfig{Dir: sentimentDir})
	if err == nil || !strings.Contains(err.Error(), "sentimnet") || !strings.Contains(err.Error(), "tiny-roberta-sentiment") {
		t.Errorf("Load: %v, want an error naming the unknown default head and the loaded ones", err)
	}
	if c.Ready() == nil {
		t.Error("ready after a refused load")
	}
}

// A request whose context ended is dropped before it is tokenized, and its error says why,
// by the context's cause: its deadline, a shutdown giving up on it, or its caller leaving.
func TestEndedContextStopsBeforeTokenizing(t *testing.T) {
	obs := &countingObserver{}
	c := newCore(t, Options{Observer: obs}, ModelConfig{Dir: tinyDir})
	inputs := TextInputs([]string{strings.Repeat("cold fusion ", 100), "b"})
	for _, tt := range []struct {
		name  string
		cause error
		kind  error
	}{
		{"deadline", ErrTimeout, ErrTimeout},
		{"shutdown", ErrShuttingDown, ErrShuttingDown},
		{"caller gone", nil, ErrCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			cancel(tt.cause)
			before := obs.passes.Load() // the load's probe counts too
			_, err := c.Embed(ctx, EmbedRequest{Inputs: inputs})
			if !errors.Is(err, tt.kind) {
				t.Errorf("Embed: %v, want %v", err, tt.kind)
			}
			if n := obs.passes.Load() - before; n != 0 {
				t.Errorf("%d forward passes for a request whose context had ended", n)
			}
		})
	}
	t.Run("the tokenizer stops", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		encs, err := c.model.Load().main.tok.encode(ctx, inputs, 512, Truncation{}, true)
		if !errors.Is(err, context.Canceled) || encs != nil {
			t.Errorf("encode with an ended context: %d encodings, %v", len(encs), err)
		}
	})
}
