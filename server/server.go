// Package server is coldserve's HTTP layer: a gin router whose handlers tokenize requests, submit
// them to the batching engine (package engine), pool or classify the encoder's output (package
// model) and answer JSON (package api). It also serves /metrics, health probes and Swagger UI.
//
// A Server starts without a model and answers 503 not_ready until Load has loaded a checkpoint
// and a probe forward pass succeeded; /healthz answers 200 all along.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/internal/refcount"
	"github.com/coldserve/coldserve/model"
)

// Options configure the HTTP layer. Zero values select the defaults.
type Options struct {
	// MaxClientBatch is the most inputs one request may carry (default 64).
	MaxClientBatch int
	// PayloadLimit is the largest request body in bytes (default 2 MB).
	PayloadLimit int64
	// DefaultPooling is used when a request names none (default mean).
	DefaultPooling model.Pooling
	// Logger receives request and error logs (default slog.Default()).
	Logger *slog.Logger
	// Admin configures the admin API under /admin (disabled without a token).
	Admin AdminOptions
	// CacheBytes bounds the embedding result cache in bytes: pooled vectors keyed by checkpoint
	// ID, text and options, so a repeated text costs no tokenization and no forward pass.
	// 0 selects DefaultCacheBytes; a negative value disables the cache.
	CacheBytes int64
	// MaxConcurrentRequests bounds the embed and classify requests in progress, from before
	// their body is read until they are answered (TEI's --max-concurrent-requests); more are
	// refused with 429 at once. Default DefaultMaxConcurrentRequests.
	MaxConcurrentRequests int
	// MaxRequestTokens bounds the tokens of one request, all its inputs together, after
	// truncation: no request may cost minutes of compute (413 too_many_tokens). Default
	// DefaultMaxRequestTokens.
	MaxRequestTokens int
	// Timeouts bound the time connections and requests may take.
	Timeouts Timeouts
}

// Timeouts bound connections and requests, so that slow or absent clients cannot hold
// connections and memory. Zero selects the default; a negative value disables the timeout.
type Timeouts struct {
	// ReadHeader is the time a client has to send the request headers (default 10 s).
	ReadHeader time.Duration
	// BodyRead is the time a client has to send the request body, from when its headers
	// arrived (default 30 s); a slower body is answered 408 body_timeout.
	BodyRead time.Duration
	// Write is the time the answer may take to write once it is ready (default 30 s): a
	// client that does not read is cut then, and its answer freed.
	Write time.Duration
	// Idle is how long a kept-alive connection may wait for its next request (default 2 min).
	Idle time.Duration
	// Request is the longest an embed or classify request may take, queue included (default
	// 60 s); past it the request is dropped from the batch queue before it costs compute, and
	// answered 504 timeout.
	Request time.Duration
}

// DefaultTimeouts are the Timeouts a zero field selects.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, BodyRead: 30 * time.Second, Write: 30 * time.Second,
	Idle: 2 * time.Minute, Request: 60 * time.Second}

// withDefaults fills zero fields from DefaultTimeouts and turns negative ones into 0 (none).
func (t Timeouts) withDefaults() Timeouts {
	fill := func(v *time.Duration, def time.Duration) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	fill(&t.ReadHeader, DefaultTimeouts.ReadHeader)
	fill(&t.BodyRead, DefaultTimeouts.BodyRead)
	fill(&t.Write, DefaultTimeouts.Write)
	fill(&t.Idle, DefaultTimeouts.Idle)
	fill(&t.Request, DefaultTimeouts.Request)
	return t
}

// Defaults of Options.
const (
	DefaultMaxClientBatch        = 64
	DefaultPayloadLimit          = 2 << 20
	DefaultMaxConcurrentRequests = 512
	// DefaultMaxRequestTokens is 64 inputs of 512 tokens: the largest request the default
	// --max-client-batch allows at RoBERTa's limit.
	DefaultMaxRequestTokens = 64 * 512
)

// Server serves one model (with its heads) over HTTP. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	model   atomic.Pointer[served] // nil until Load succeeds
	router  *gin.Engine
	admin   *admin
	cache   *embedCache // nil when disabled

	active    refcount.Counter // requests admitted by the gate; retired (drained) on shutdown
	reading   bodyReads        // request bodies being read, cut on shutdown
	inference chan struct{}    // one token per embed/classify request in progress (MaxConcurrentRequests)
}

// New builds a Server with its router; it serves 503 not_ready until Load succeeds.
func New(opts Options) (*Server, error) {
	if opts.MaxClientBatch == 0 {
		opts.MaxClientBatch = DefaultMaxClientBatch
	}
	if opts.PayloadLimit == 0 {
		opts.PayloadLimit = DefaultPayloadLimit
	}
	if opts.DefaultPooling == "" {
		opts.DefaultPooling = model.PoolMean
	}
	if opts.MaxConcurrentRequests == 0 {
		opts.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if opts.MaxRequestTokens == 0 {
		opts.MaxRequestTokens = DefaultMaxRequestTokens
	}
	opts.Timeouts = opts.Timeouts.withDefaults()
	if opts.MaxClientBatch < 1 || opts.PayloadLimit < 1 || opts.MaxConcurrentRequests < 1 || opts.MaxRequestTokens < 1 {
		return nil, fmt.Errorf("server: max client batch (%d), payload limit (%d), max concurrent requests (%d) and max request tokens (%d) must be positive",
			opts.MaxClientBatch, opts.PayloadLimit, opts.MaxConcurrentRequests, opts.MaxRequestTokens)
	}
	if _, err := model.ParsePooling(string(opts.DefaultPooling)); err != nil {
		return nil, fmt.Errorf("server: default pooling: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	s := &Server{opts: opts, log: opts.Logger, admin: &admin{opts: opts.Admin},
		inference: make(chan struct{}, opts.MaxConcurrentRequests)}
	s.metrics = newMetrics(func() float64 {
		if m := s.model.Load(); m != nil {
			return float64(m.queueDepth())
		}
		return 0
	}, func() float64 {
		_, b := s.cache.usage()
		return float64(b)
	})
	cache, err := newEmbedCache(opts.CacheBytes, s.metrics)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.cache = cache
	s.router = s.routes()
	return s, nil
}

// Load loads the checkpoint described by cfg, runs a probe forward pass and starts serving it.
// It may be called once; the server is ready when it returns nil.
func (s *Server) Load(ctx context.Context, cfg ModelConfig) error {
	m, err := load(ctx, cfg, s.metrics, s.log)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	if s.opts.DefaultPooling == model.PoolPooler && !m.main.eng.Current().HasPooler() {
		m.close(ctx)
		return fmt.Errorf("load model: default pooling is pooler but %s has no pooler weights", cfg.Dir)
	}
	if !s.model.CompareAndSwap(nil, m) {
		m.close(ctx)
		return fmt.Errorf("load model: a model is already loaded")
	}
	if s.active.IsRetired() { // Close ran while we were loading
		m.close(ctx)
		return fmt.Errorf("load model: %w", engine.ErrClosed)
	}
	enc := m.main.eng.Current()
	s.admin.push(record{dir: cfg.Dir, entry: api.HistoryEntry{Checkpoint: m.startInfo, Action: "load", LoadedAt: time.Now().UTC()}})
	s.log.Info("model ready", "model", m.name, "checkpoint", enc.CheckpointID(),
		"hidden_size", enc.Config().HiddenSize, "layers", enc.Config().NumHiddenLayers,
		"max_input_tokens", m.maxInputTokens, "heads", m.headNames)
	return nil
}

// Handler is the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.router }

// Close stops admitting work (new requests answer 503) and drains the engines: queued requests
// finish first. Serve calls it once every admitted request has its answer.
func (s *Server) Close(ctx context.Context) error {
	s.active.Retire()
	if m := s.model.Load(); m != nil {
		return m.close(ctx)
	}
	return nil
}

// abort fails everything the engines hold, queued or computing, with ErrClosed (503
// shutting_down): Serve calls it when the shutdown grace is about to run out.
func (s *Server) abort() {
	if m := s.model.Load(); m != nil {
		for _, l := range m.lanes {
			l.eng.Abort()
		}
	}
}

// acquire returns the served model registered as in use (release it with m.refs.Release()),
// or the error to answer when there is none. A snapshot replaced by the admin API meanwhile is
// skipped for the current one.
func (s *Server) acquire() (*served, *Error) {
	for {
		m, e := s.ready()
		if e != nil {
			return nil, e
		}
		if m.refs.Acquire() {
			return m, nil
		}
	}
}

// ready returns the served model, or the error to answer when there is none.
func (s *Server) ready() (*served, *Error) {
	m := s.model.Load()
	if m == nil {
		return nil, errNotReady
	}
	return m, nil
}
