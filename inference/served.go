package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/internal/refcount"
	"github.com/coldserve/coldserve/weights"
)

// served is everything a request needs once a model is loaded. It is immutable once published:
// the admin API changes heads by publishing a modified copy (see clone) and swaps the main
// encoder through its engine (engine.Swap), which pins each request to the encoder it was
// admitted with. refs counts the requests using this snapshot, so that lanes it alone holds
// are closed only after they finish.
type served struct {
	name           string
	main           *lane
	lanes          []*lane // main first; one per distinct encoder
	heads          map[string]*servedHead
	headNames      []string // sorted
	ownHead        string   // the served checkpoint's own head (a *ForSequenceClassification model), or ""
	maxInputTokens int

	// What new lanes are built with (admin heads with their own encoder).
	encOpts        encoder.EncoderOptions
	maxBatchTokens int
	queue          QueueLimits
	batchWait      time.Duration
	obs            engine.Observer
	log            *slog.Logger

	// startInfo describes the checkpoint Load started with (admin history).
	startInfo CheckpointInfo

	refs refcount.Counter
}

// lane is one encoder with its tokenizer and its batching engine. A request runs on one lane
// from tokenization to pooling, so it never mixes checkpoints.
type lane struct {
	tok *codec
	eng *engine.Engine[*encoder.Encoder, *encoder.Output]
}

// servedHead is a classification head and the lane whose encoder feeds it.
type servedHead struct {
	name string
	id   string // the ID of the checkpoint the head came from: its weights, for cache keys
	head *encoder.Head
	lane *lane
}

// wordEmbeddings is the first tensor an encoder needs; a head directory without it holds a head only.
const wordEmbeddings = "embeddings.word_embeddings.weight"

// load reads the checkpoint, tokenizer and heads, starts an engine per encoder and runs a probe
// forward pass through each. On error, every engine already started is closed.
func load(ctx context.Context, cfg ModelConfig, obs engine.Observer, log *slog.Logger) (_ *served, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("no model directory given")
	}
	ck, err := weights.Load(ctx, cfg.Dir)
	if err != nil {
		return nil, err
	}
	if unexpected := ck.UnexpectedKeys(); len(unexpected) > 0 {
		log.Warn("checkpoint tensors not used by the model", "dir", cfg.Dir, "count", len(unexpected), "keys", strings.Join(unexpected, ","))
	}
	tok, err := loadCodec(cfg.Dir)
	if err != nil {
		return nil, err
	}
	limit := ck.Config.MaxInputTokens()
	switch {
	case cfg.MaxInputTokens == 0:
		cfg.MaxInputTokens = limit
	case cfg.MaxInputTokens < 3 || cfg.MaxInputTokens > limit:
		return nil, fmt.Errorf("max input tokens %d: the model allows 3 to %d", cfg.MaxInputTokens, limit)
	}
	if cfg.MaxBatchTokens == 0 {
		cfg.MaxBatchTokens = max(engine.DefaultMaxBatchTokens, cfg.MaxInputTokens)
	}
	if cfg.MaxBatchTokens < cfg.MaxInputTokens {
		return nil, fmt.Errorf("max batch tokens %d is less than max input tokens %d: one input would not fit a batch",
			cfg.MaxBatchTokens, cfg.MaxInputTokens)
	}
	s := &served{
		name:           cfg.Name,
		heads:          map[string]*servedHead{},
		maxInputTokens: cfg.MaxInputTokens,
		encOpts:        cfg.Encoder,
		maxBatchTokens: cfg.MaxBatchTokens,
		queue:          cfg.Queue,
		batchWait:      cfg.BatchWait,
		obs:            obs,
		log:            log,
	}
	if s.name == "" {
		s.name = baseName(cfg.Dir, "default")
	}
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	newLane := func(ck *weights.Checkpoint, tok *codec) (*lane, error) {
		l, err := s.newLane(ck, tok)
		if err != nil {
			return nil, err
		}
		s.lanes = append(s.lanes, l)
		return l, nil
	}
	if s.main, err = newLane(ck, tok); err != nil {
		return nil, err
	}
	s.startInfo = CheckpointInfo{Source: cfg.Source, Revision: cfg.Revision, Commit: cfg.Commit, Dir: cfg.Dir,
		ID: ck.ID(), Digest: ck.Digest()}
	if s.startInfo.Source == "" {
		s.startInfo.Source = cfg.Dir
	}
	fillGeometry(&s.startInfo, ck)
	if ck.HasHead() {
		// A *ForSequenceClassification checkpoint exposes its own head under the model's name.
		if err := s.addHead(s.name, ck, s.main); err != nil {
			return nil, err
		}
		s.ownHead = s.name
	}
	for _, spec := range cfg.Heads {
		if err := s.loadHead(ctx, spec, ck.ID(), ck.Config.VocabSize, tok, newLane, log); err != nil {
			return nil, err
		}
	}
	slices.Sort(s.headNames)
	for _, l := range s.lanes {
		if _, err := probe(ctx, through(l), [][]int32{l.tok.probeIDs()}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newLane builds an encoder for ck and starts its engine; the caller adds it to lanes.
func (s *served) newLane(ck *weights.Checkpoint, tok *codec) (*lane, error) {
	enc, err := encoder.NewEncoder(ck, s.encOpts)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New[*encoder.Encoder, *encoder.Output](enc, engine.Options{
		MaxBatchTokens: s.maxBatchTokens, MaxQueueSequences: s.queue.Sequences, MaxQueueTokens: s.queue.Tokens,
		MaxQueueWait: s.queue.Wait, BatchWait: s.batchWait, Observer: s.obs, Logger: s.log,
		Concurrency: max(1, s.encOpts.Workers), // one pass in flight per encoder worker
	})
	if err != nil {
		return nil, err
	}
	return &lane{tok: tok, eng: eng}, nil
}

// loadHead adds one --head. A directory with its own encoder weights gets its own lane (unless
// they are the served encoder's weights); a head-only directory rides on the main lane.
func (s *served) loadHead(ctx context.Context, spec HeadSpec, mainID string, mainVocab int, mainTok *codec,
	newLane func(*weights.Checkpoint, *codec) (*lane, error), log *slog.Logger) error {
	if _, dup := s.heads[spec.Name]; dup {
		return fmt.Errorf("head %q is given twice", spec.Name)
	}
	full, err := weights.Load(ctx, spec.Dir)
	var missing *weights.MissingTensorError
	switch {
	case err == nil:
		if !full.HasHead() {
			return fmt.Errorf("head %s: %s is an encoder without a classification head", spec.Name, spec.Dir)
		}
		if full.ID() == mainID {
			return s.addHead(spec.Name, full, s.main)
		}
		if lim := full.Config.MaxInputTokens(); lim < s.maxInputTokens {
			return fmt.Errorf("head %s: its encoder takes at most %d tokens, fewer than the max input tokens %d",
				spec.Name, lim, s.maxInputTokens)
		}
		tok := mainTok
		if hasTokenizerFiles(spec.Dir) {
			if tok, err = loadCodec(spec.Dir); err != nil {
				return fmt.Errorf("head %s: %w", spec.Name, err)
			}
		} else if full.Config.VocabSize != mainVocab {
			return fmt.Errorf("head %s: %s has no tokenizer files and its vocabulary (%d) differs from the model's (%d)",
				spec.Name, spec.Dir, full.Config.VocabSize, mainVocab)
		}
		l, err := newLane(full, tok)
		if err != nil {
			return fmt.Errorf("head %s: %w", spec.Name, err)
		}
		log.Info("head runs on its own encoder", "head", spec.Name, "checkpoint", full.ID())
		return s.addHead(spec.Name, full, l)
	case errors.As(err, &missing) && missing.Tensor == wordEmbeddings:
		headCk, err := weights.LoadHead(ctx, spec.Dir)
		if err != nil {
			return fmt.Errorf("head %s: %w", spec.Name, err)
		}
		return s.addHead(spec.Name, headCk, s.main)
	default:
		return fmt.Errorf("head %s: %w", spec.Name, err)
	}
}

func (s *served) addHead(name string, ck *weights.Checkpoint, l *lane) error {
	h, err := encoder.NewHead(ck)
	if err != nil {
		return fmt.Errorf("head %s: %w", name, err)
	}
	if got, want := h.HiddenSize(), l.eng.Current().Config().HiddenSize; got != want {
		return fmt.Errorf("head %s: width %d does not match the encoder's hidden size %d", name, got, want)
	}
	if _, dup := s.heads[name]; dup {
		return fmt.Errorf("head %q is loaded twice", name)
	}
	s.heads[name] = &servedHead{name: name, id: ck.ID(), head: h, lane: l}
	s.headNames = append(s.headNames, name)
	return nil
}

// close drains every engine.
func (s *served) close(ctx context.Context) error {
	var errs []error
	for _, l := range s.lanes {
		errs = append(errs, l.eng.Close(ctx))
	}
	return errors.Join(errs...)
}

// classifyLane is the lane a classify request will use when that does not depend on the head
// it names (every head rides on one lane), else nil.
func (s *served) classifyLane() *lane {
	var l *lane
	for _, h := range s.heads {
		if l != nil && h.lane != l {
			return nil
		}
		l = h.lane
	}
	return l
}

// classifyFull reports whether every lane that feeds a head has a full queue, so that no
// classify request could be admitted whatever head it names.
func (s *served) classifyFull() bool {
	for _, h := range s.heads {
		if !h.lane.eng.Full() {
			return false
		}
	}
	return len(s.heads) > 0
}

// queueDepth sums the waiting sequences of every lane.
func (s *served) queueDepth() int {
	n := 0
	for _, l := range s.lanes {
		n += l.eng.QueueDepth()
	}
	return n
}

func baseName(dir, fallback string) string {
	b := filepath.Base(filepath.Clean(dir))
	if b == "." || b == "/" || b == "" {
		return fallback
	}
	return b
}

func hasTokenizerFiles(dir string) bool {
	for _, f := range []string{"tokenizer.json", "vocab.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}
