// Package server is coldserve's HTTP front end over the inference core (package inference):
// routes, strict JSON binding into api types, admission control before a body is parsed,
// body and write timeouts, graceful shutdown, metrics, Swagger UI, and one table that maps the
// core's error kinds to HTTP statuses and codes. Every handler binds its request, calls the
// core and writes the answer; nothing here runs without an HTTP request.
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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/refcount"
)

// Options configure the HTTP layer. Zero values select the defaults.
type Options struct {
	// MaxClientBatch is the most inputs one request may carry (default
	// inference.DefaultMaxClientBatch).
	MaxClientBatch int
	// PayloadLimit is the largest request body in bytes (default 2 MB).
	PayloadLimit int64
	// DefaultPooling is used when a request names none (default mean).
	DefaultPooling encoder.Pooling
	// Logger receives request, error and core logs (nil: discarded).
	Logger *slog.Logger
	// Admin configures the admin API under /admin (disabled without a token).
	Admin AdminOptions
	// CacheBytes bounds the embedding result cache in bytes: pooled vectors keyed by checkpoint
	// ID, text and options, so a repeated text costs no tokenization and no forward pass.
	// 0 selects inference.DefaultCacheBytes; a negative value disables the cache.
	CacheBytes int64
	// MaxConcurrentRequests bounds the embed and classify requests in progress, from before
	// their body is read until they are answered (TEI's --max-concurrent-requests); more are
	// refused with 429 at once. Default DefaultMaxConcurrentRequests.
	MaxConcurrentRequests int
	// MaxRequestTokens bounds the tokens of one request, all its inputs together, after
	// truncation: no request may cost minutes of compute (413 too_many_tokens). Default
	// inference.DefaultMaxRequestTokens.
	MaxRequestTokens int
	// Timeouts bound the time connections and requests may take.
	Timeouts Timeouts
	// APIKeys, when any are set, are the Bearer tokens the inference routes (native, TEI and
	// OpenAI) require; probes, metrics and docs stay open, and /admin has its own token.
	APIKeys []string
	// CORSAllowOrigins are the browser origins allowed to call the API ("*": any; none: no
	// CORS headers).
	CORSAllowOrigins []string
	// DefaultHead names the head that classification requests naming none use (TEI's
	// /predict and /rerank name none); see inference.Options.DefaultHead.
	DefaultHead string
	// Version is reported by GET /info.
	Version string
	// Registry receives the server's metrics and is served at /metrics (nil: a new one), so
	// that other parts of the process (the declared checkpoint's reconciler) export theirs there.
	Registry *prometheus.Registry
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
	DefaultPayloadLimit          = 2 << 20
	DefaultMaxConcurrentRequests = 512
)

// Server serves one inference core over HTTP. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	core    *inference.Core
	router  *gin.Engine

	active    refcount.Counter // requests admitted by the gate; retired (drained) on shutdown
	reading   bodyReads        // request bodies being read, cut on shutdown
	inference chan struct{}    // one token per embed/classify request in progress (MaxConcurrentRequests)
	// lastArrival is when the last request reached the gate (Unix ns): shutdown waits for
	// arrivals to stop before it closes idle connections.
	lastArrival atomic.Int64
	// giveUp ends with cause inference.ErrShuttingDown when a shutdown whose grace runs out
	// gives up on the requests in progress; every inference request's context follows it, so
	// one still tokenizing stops too and is answered 503.
	giveUp    context.Context
	giveUpNow context.CancelCauseFunc
	started   time.Time // the OpenAI model listing's "created"
}

// New builds a Server with its router and its core; it serves 503 not_ready until Load succeeds.
func New(opts Options) (*Server, error) {
	if opts.PayloadLimit == 0 {
		opts.PayloadLimit = DefaultPayloadLimit
	}
	if opts.MaxConcurrentRequests == 0 {
		opts.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	opts.Timeouts = opts.Timeouts.withDefaults()
	if opts.PayloadLimit < 1 || opts.MaxConcurrentRequests < 1 {
		return nil, fmt.Errorf("server: payload limit (%d) and max concurrent requests (%d) must be positive",
			opts.PayloadLimit, opts.MaxConcurrentRequests)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, inference: make(chan struct{}, opts.MaxConcurrentRequests), started: time.Now()}
	s.giveUp, s.giveUpNow = context.WithCancelCause(context.Background())
	s.metrics = newMetrics(opts.Registry, func() float64 { return float64(s.core.QueueDepth()) },
		func() float64 {
			_, b := s.core.CacheUsage()
			return float64(b)
		})
	core, err := inference.New(inference.Options{
		MaxClientBatch: opts.MaxClientBatch, MaxRequestTokens: opts.MaxRequestTokens,
		DefaultPooling: opts.DefaultPooling, DefaultHead: opts.DefaultHead, CacheBytes: opts.CacheBytes, Sources: opts.Admin.Sources,
		Observer: s.metrics, Logger: opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.core = core
	s.metrics.registry.MustRegister(newCheckpointInfo(core))
	s.opts.MaxRequestTokens = core.Options().MaxRequestTokens
	s.router = s.routes()
	return s, nil
}

// Load loads the checkpoint described by cfg into the core (see inference.Core.Load).
func (s *Server) Load(ctx context.Context, cfg inference.ModelConfig) error {
	return s.core.Load(ctx, cfg)
}

// Core is the inference core the server fronts.
func (s *Server) Core() *inference.Core { return s.core }

// Handler is the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.router }

// Close stops admitting work (new requests answer 503) and drains the engines: queued requests
// finish first. Serve calls it once every admitted request has its answer.
func (s *Server) Close(ctx context.Context) error {
	s.active.Retire()
	return s.core.Close(ctx)
}
