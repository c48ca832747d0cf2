package inference

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/weights"
)

// Defaults of Options.
const (
	DefaultMaxClientBatch = 64
	// DefaultMaxRequestTokens is 64 inputs of 512 tokens: the largest request the default
	// MaxClientBatch allows at RoBERTa's limit.
	DefaultMaxRequestTokens = 64 * 512
	// DefaultCacheBytes is the default size of the embedding result cache.
	DefaultCacheBytes = 64 << 20
)

// Options configure a Core. Zero values select the defaults.
type Options struct {
	// MaxClientBatch is the most inputs one request may carry (default DefaultMaxClientBatch).
	MaxClientBatch int
	// MaxRequestTokens bounds the tokens of one request, all its inputs together, after
	// truncation: no request may cost minutes of compute (default DefaultMaxRequestTokens).
	MaxRequestTokens int
	// DefaultPooling is used when a request names none (default mean).
	DefaultPooling encoder.Pooling
	// DefaultHead names the head a classification request that names none runs on (see
	// Core.DefaultHead); "" lets the served checkpoint's own head, or the only head, be it.
	DefaultHead string
	// CacheBytes bounds the embedding result cache: pooled vectors keyed by checkpoint ID, text
	// and options, so a repeated text costs no tokenization and no forward pass. 0 selects
	// DefaultCacheBytes; a negative value disables the cache.
	CacheBytes int64
	// Sources says where admin changes may load checkpoints from. Nil allows local
	// directories only, without a root.
	Sources *checkpoint.Resolver
	// Observer is told about forward passes, refusals and cache lookups (nil: nobody).
	Observer Observer
	// Logger receives load, swap and engine logs (nil: discarded).
	Logger *slog.Logger
}

// Observer receives what the core does, for metrics.
type Observer interface {
	engine.Observer
	// Refused counts a request refused for lack of queue room, by stage (Stage*).
	Refused(stage string)
	// CacheLookup counts one result of one input looked up in the result cache: a pooled
	// embedding (kind CacheEmbed) or a head's logits (CacheClassify).
	CacheLookup(kind string, hit bool)
	// CacheEvicted counts one entry evicted to keep the cache within its bound.
	CacheEvicted()
}

// Stages at which a request is refused for lack of queue room (Observer.Refused).
const (
	StageAdmission = "admission"  // before its body was parsed or tokenized
	StageQueueFull = "queue_full" // tokenized, but its exact size did not fit the queue
	StageQueueWait = "queue_wait" // it waited longer than the queue's wait limit
)

// Core serves one model with its heads, whatever the protocol. Create it with New; it refuses
// requests with ErrNotReady until Load succeeds. It is safe for concurrent use.
type Core struct {
	opts   Options
	log    *slog.Logger
	obs    Observer
	model  atomic.Pointer[served] // nil until Load succeeds
	cache  *resultCache           // nil when disabled
	admin  admin
	closed atomic.Bool
}

// New checks opts and returns a Core without a model.
func New(opts Options) (*Core, error) {
	if opts.MaxClientBatch == 0 {
		opts.MaxClientBatch = DefaultMaxClientBatch
	}
	if opts.MaxRequestTokens == 0 {
		opts.MaxRequestTokens = DefaultMaxRequestTokens
	}
	if opts.DefaultPooling == "" {
		opts.DefaultPooling = encoder.PoolMean
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.MaxClientBatch < 1 || opts.MaxRequestTokens < 1 {
		return nil, fmt.Errorf("inference: max client batch (%d) and max request tokens (%d) must be positive",
			opts.MaxClientBatch, opts.MaxRequestTokens)
	}
	if _, err := encoder.ParsePooling(string(opts.DefaultPooling)); err != nil {
		return nil, fmt.Errorf("inference: default pooling: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Sources == nil {
		opts.Sources = &checkpoint.Resolver{}
	}
	c := &Core{opts: opts, log: opts.Logger, obs: opts.Observer}
	cache, err := newResultCache(opts.CacheBytes, c.obs)
	if err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	c.cache = cache
	return c, nil
}

type nopObserver struct{}

func (nopObserver) BatchDone(engine.BatchStats) {}
func (nopObserver) Refused(string)              {}
func (nopObserver) CacheLookup(string, bool)    {}
func (nopObserver) CacheEvicted()               {}

// Options returns the options in effect, defaults filled.
func (c *Core) Options() Options { return c.opts }

// Load loads the checkpoint described by cfg, runs a probe forward pass through every encoder
// and starts serving it. It may be called once; the core is ready when it returns nil. A
// cancelled ctx stops it.
func (c *Core) Load(ctx context.Context, cfg ModelConfig) error {
	m, err := load(ctx, cfg, c.obs, c.log)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	if c.opts.DefaultPooling == encoder.PoolPooler && !m.main.eng.Current().HasPooler() {
		m.close(ctx)
		return fmt.Errorf("load model: default pooling is pooler but %s has no pooler weights", cfg.Dir)
	}
	if !c.model.CompareAndSwap(nil, m) {
		m.close(ctx)
		return fmt.Errorf("load model: a model is already loaded")
	}
	if c.closed.Load() { // Close ran while we were loading
		m.close(ctx)
		return fmt.Errorf("load model: %w", engine.ErrClosed)
	}
	enc := m.main.eng.Current()
	c.admin.push(record{dir: cfg.Dir, entry: HistoryEntry{Checkpoint: m.startInfo, Action: "load", LoadedAt: time.Now().UTC()}})
	c.log.Info("model ready", "model", m.name, "checkpoint", enc.CheckpointID(),
		"hidden_size", enc.Config().HiddenSize, "layers", enc.Config().NumHiddenLayers,
		"max_input_tokens", m.maxInputTokens, "heads", m.headNames)
	return nil
}

// Close stops the engines after draining them: queued requests finish first.
func (c *Core) Close(ctx context.Context) error {
	c.closed.Store(true)
	if m := c.model.Load(); m != nil {
		return m.close(ctx)
	}
	return nil
}

// Abort fails everything the engines hold, queued or computing, with ErrShuttingDown: for a
// shutdown whose grace is about to run out.
func (c *Core) Abort() {
	if m := c.model.Load(); m != nil {
		for _, l := range m.lanes {
			l.eng.Abort()
		}
	}
}

// Ready returns nil once a model serves, else ErrNotReady. A front end may call it before it
// parses a request, so that a request sent too early is refused for that first.
func (c *Core) Ready() error {
	_, err := c.ready()
	return err
}

var errNotReady = errorf(ErrNotReady, "the model is not loaded yet: retry when GET /readyz answers 200")

func (c *Core) ready() (*served, error) {
	m := c.model.Load()
	if m == nil {
		return nil, errNotReady
	}
	return m, nil
}

// acquire returns the served snapshot registered as in use (release it with m.refs.Release()).
// A snapshot replaced by an admin change meanwhile is skipped for the current one.
func (c *Core) acquire() (*served, error) {
	for {
		m, err := c.ready()
		if err != nil {
			return nil, err
		}
		if m.refs.Acquire() {
			return m, nil
		}
	}
}

// acquireFor acquires the served snapshot for a request of n inputs, once they pass the
// rules every request shares; release it with m.refs.Release().
func (c *Core) acquireFor(n int) (*served, error) {
	m, err := c.acquire()
	if err != nil {
		return nil, err
	}
	if err := c.checkInputs(n, "inputs"); err != nil {
		m.refs.Release()
		return nil, err
	}
	return m, nil
}

// QueueDepth sums the sequences waiting in every encoder's queue.
func (c *Core) QueueDepth() int {
	if m := c.model.Load(); m != nil {
		return m.queueDepth()
	}
	return 0
}

// QueueDrain estimates how long the main encoder needs for what waits in its queue.
func (c *Core) QueueDrain() time.Duration {
	if m := c.model.Load(); m != nil {
		return m.main.eng.Backlog().Drain
	}
	return 0
}

// CacheUsage returns the entries and bytes held by the embedding cache.
func (c *Core) CacheUsage() (entries int, bytes int64) { return c.cache.usage() }

// ModelInfo describes the served model.
type ModelInfo struct {
	Name, Checkpoint string
	Config           weights.Config
	MaxInputTokens   int
	MaxBatchTokens   int // the padded token budget of one forward pass
	DefaultPooling   encoder.Pooling
	HasPooler        bool
	DType            encoder.DType
	Heads            []HeadInfo
	// OwnHead names the served checkpoint's own head (a *ForSequenceClassification model), if
	// it is loaded.
	OwnHead string
}

// HeadInfo describes one classification head.
type HeadInfo struct {
	Name        string
	Labels      []string
	ProblemType string
	Checkpoint  string // of the encoder that feeds it
}

// Model describes the served model and its heads, sorted by name.
func (c *Core) Model() (ModelInfo, error) {
	m, err := c.ready()
	if err != nil {
		return ModelInfo{}, err
	}
	enc := m.main.eng.Current()
	info := ModelInfo{
		Name:           m.name,
		Checkpoint:     enc.CheckpointID(),
		Config:         enc.Config(),
		MaxInputTokens: m.maxInputTokens,
		MaxBatchTokens: m.maxBatchTokens,
		DefaultPooling: c.opts.DefaultPooling,
		HasPooler:      enc.HasPooler(),
		DType:          enc.DType(),
		Heads:          make([]HeadInfo, 0, len(m.headNames)),
	}
	for _, name := range m.headNames {
		info.Heads = append(info.Heads, headInfo(m.heads[name]))
	}
	if _, ok := m.heads[m.ownHead]; ok {
		info.OwnHead = m.ownHead
	}
	return info, nil
}

// headInfo describes h.
func headInfo(h *servedHead) HeadInfo {
	pt := h.head.ProblemType()
	if pt == "" {
		pt = "single_label_classification"
		if len(h.head.Labels()) == 1 {
			pt = "multi_label_classification"
		}
	}
	return HeadInfo{Name: h.name, Labels: h.head.Labels(), ProblemType: pt, Checkpoint: h.lane.eng.Current().CheckpointID()}
}
