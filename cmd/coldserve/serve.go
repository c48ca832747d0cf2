package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/rollout"
	"github.com/coldserve/coldserve/server"
)

// serveConfig is the parsed command line of `coldserve serve`.
type serveConfig struct {
	model          string
	name           string
	addr           string
	pooling        string
	maxInputTokens int
	maxClientBatch int
	maxBatchTokens int
	maxQueue       int
	maxQueueTokens int
	maxQueueWait   time.Duration
	maxConcurrent  int
	maxReqTokens   int
	timeouts       server.Timeouts
	payloadLimit   byteSize
	heads          listFlag
	workers        int
	logFormat      string
	logLevel       string
	shutdownGrace  time.Duration
	revision       string
	adminToken     string
	apiKeys        listFlag
	corsOrigins    listFlag
	defaultHead    string
	checkpointRoot listFlag
	allowHub       bool
	cacheBytes     cacheSize
	dtype          string
	batchWait      time.Duration
	gcPercent      int
	gcSource       string // --gc-percent, COLDSERVE_GC_PERCENT or default
	checkpointFile string
	checkpointPoll time.Duration
}

// parseServe reads flags, then COLDSERVE_* environment variables for flags not given.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	c := serveConfig{payloadLimit: server.DefaultPayloadLimit, cacheBytes: cacheSize{inference.DefaultCacheBytes}}
	fs := flag.NewFlagSet("coldserve serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.model, "model", "", `local Hugging Face checkpoint directory, a Hub id such as ibm/ColD-Fusion (downloaded into the Hugging Face cache; HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_OFFLINE apply), or "demo" for the embedded tiny model with random weights`)
	fs.StringVar(&c.revision, "revision", "main", "Hub revision of --model: branch, tag or commit sha")
	fs.StringVar(&c.adminToken, "admin-token", "", "Bearer token of the admin API under /admin (empty: admin API disabled)")
	fs.Var(&c.apiKeys, "api-key", "Bearer token the inference routes (native, TEI and OpenAI) require (repeatable, or comma-separated; none: open); probes, /metrics and /docs stay open")
	fs.Var(&c.corsOrigins, "cors-allow-origin", `browser origin allowed to call the API (repeatable, or comma-separated; "*": any; none: no CORS headers)`)
	fs.StringVar(&c.defaultHead, "default-head", "", "head that classification requests naming none use, TEI's /predict and /rerank among them (default: the served model's own head, else the only head)")
	fs.Var(&c.checkpointRoot, "checkpoint-root", "directory admin checkpoint sources and fuse outputs must lie in (repeatable, or comma-separated)")
	fs.BoolVar(&c.allowHub, "allow-hub", false, "let admin requests load Hugging Face Hub ids")
	fs.StringVar(&c.checkpointFile, "checkpoint-file", "", "declared checkpoint: a YAML or JSON file with source, revision and optional sha256, min_cosine, allow_geometry_change; "+
		"the server polls it and swaps to what it declares (load, validate, probe, drift gate), under the rules of --checkpoint-root and --allow-hub")
	fs.DurationVar(&c.checkpointPoll, "checkpoint-poll", rollout.DefaultPoll, "how often --checkpoint-file is read, and a moving Hub revision in it resolved again")
	fs.StringVar(&c.name, "model-name", "", `name reported in responses (default: the base name of --model)`)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.pooling, "pooling", "mean", "default pooling: mean, cls, pooler or none")
	fs.IntVar(&c.maxInputTokens, "max-input-tokens", 0, "longest input in tokens, specials included (0: the model's limit, 512)")
	fs.IntVar(&c.maxClientBatch, "max-client-batch", inference.DefaultMaxClientBatch, "most inputs per request")
	fs.IntVar(&c.maxBatchTokens, "max-batch-tokens", engine.DefaultMaxBatchTokens, "padded token budget of one encoder batch (longest × count)")
	fs.IntVar(&c.maxQueue, "max-queue", engine.DefaultMaxQueueSequences, "input sequences that may wait for a forward pass, per encoder, before requests are refused with 429")
	fs.IntVar(&c.maxQueueTokens, "max-queue-tokens", 0, "tokens that may wait for a forward pass, per encoder, before requests are refused with 429 (0: 4 × --max-batch-tokens, about four batch times of waiting)")
	fs.DurationVar(&c.maxQueueWait, "max-queue-wait", 0, "refuse (429) a request that waited this long for its first forward pass instead of serving it late (0: no limit)")
	fs.IntVar(&c.maxConcurrent, "max-concurrent-requests", server.DefaultMaxConcurrentRequests, "embed and classify requests in progress at once, from before their body is read; more are refused with 429 at once")
	fs.IntVar(&c.maxReqTokens, "max-request-tokens", inference.DefaultMaxRequestTokens, "tokens one request may carry across all its inputs, after truncation (413 beyond)")
	fs.DurationVar(&c.timeouts.Request, "request-timeout", server.DefaultTimeouts.Request, "longest an embed or classify request may take, queue included; past it the request is dropped and answered 504 (0: none)")
	fs.DurationVar(&c.timeouts.ReadHeader, "read-header-timeout", server.DefaultTimeouts.ReadHeader, "time a client has to send the request headers (0: none)")
	fs.DurationVar(&c.timeouts.BodyRead, "body-read-timeout", server.DefaultTimeouts.BodyRead, "time a client has to send the request body, once its headers arrived; slower bodies get 408 (0: none)")
	fs.DurationVar(&c.timeouts.Write, "write-timeout", server.DefaultTimeouts.Write, "time an answer may take to write once ready; a client that does not read is cut (0: none)")
	fs.DurationVar(&c.timeouts.Idle, "idle-timeout", server.DefaultTimeouts.Idle, "how long a kept-alive connection may wait for its next request (0: none)")
	fs.Var(&c.payloadLimit, "payload-limit", "largest request body (e.g. 2MB)")
	fs.Var(&c.heads, "head", "classification head NAME=DIR (repeatable, or comma-separated): a head-only or a full finetuned checkpoint")
	fs.IntVar(&c.workers, "workers", 1, "encoder forward passes that may run at once (each worker holds its own scratch memory; workers × OMP_NUM_THREADS should not exceed the cores)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Var(&c.cacheBytes, "cache-bytes", "bytes of pooled embeddings and classification logits kept in the result cache, keyed by checkpoint, input and options (e.g. 64MB; 0 disables it)")
	fs.DurationVar(&c.batchWait, "batch-wait", 0, "how long an idle batcher waits for more requests before a forward pass (e.g. 2ms; 0: none)")
	fs.StringVar(&c.dtype, "dtype", dtypeFloat32, "compute dtype: float32, or bf16 (needs AVX512-BF16 or AMX-BF16; start-up fails without them)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 30*time.Second, "how long shutdown waits for in-flight requests")
	fs.IntVar(&c.gcPercent, "gc-percent", server.DefaultGCPercent, "Go GC percent, as GOGC: garbage allowed before a collection, as a percentage of the live heap, "+
		"which holds the weights; lower keeps the resident set near weights + activations at little CPU cost (pointer-free weights are cheap to mark). "+
		"The GOGC environment variable, when set, wins; GOMEMLIMIT applies as well")
	fromEnv, err := parseWithEnv(fs, args, getenv)
	if err != nil {
		return c, err
	}
	c.gcSource = "default"
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "gc-percent" {
			c.gcSource = "--gc-percent"
		}
	})
	if fromEnv["gc-percent"] {
		c.gcSource = envName("gc-percent")
	}
	if c.model == "" {
		return c, errors.New(`--model is required: a local checkpoint directory, or "demo"`)
	}
	if _, err := encoder.ParsePooling(c.pooling); err != nil {
		return c, fmt.Errorf("--pooling: %w", err)
	}
	if err := checkDType(c.dtype, hostCPU(), encoder.BFloat16Support); err != nil {
		return c, err
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	}
	for name, v := range map[string]int{"--max-client-batch": c.maxClientBatch, "--max-batch-tokens": c.maxBatchTokens,
		"--max-queue": c.maxQueue, "--workers": c.workers, "--max-concurrent-requests": c.maxConcurrent,
		"--max-request-tokens": c.maxReqTokens} {
		if v < 1 {
			return c, fmt.Errorf("%s must be at least 1, got %d", name, v)
		}
	}
	if c.maxQueueTokens < 0 {
		return c, fmt.Errorf("--max-queue-tokens must not be negative, got %d", c.maxQueueTokens)
	}
	for name, d := range map[string]time.Duration{"--max-queue-wait": c.maxQueueWait, "--request-timeout": c.timeouts.Request,
		"--read-header-timeout": c.timeouts.ReadHeader, "--body-read-timeout": c.timeouts.BodyRead,
		"--write-timeout": c.timeouts.Write, "--idle-timeout": c.timeouts.Idle} {
		if d < 0 {
			return c, fmt.Errorf("%s must not be negative, got %v", name, d)
		}
	}
	for _, root := range c.checkpointRoot {
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return c, fmt.Errorf("--checkpoint-root %s: not a directory", root)
		}
	}
	if c.checkpointPoll <= 0 {
		return c, fmt.Errorf("--checkpoint-poll must be positive, got %v", c.checkpointPoll)
	}
	if c.batchWait < 0 {
		return c, fmt.Errorf("--batch-wait must not be negative, got %v", c.batchWait)
	}
	if c.gcPercent < 1 {
		return c, fmt.Errorf("--gc-percent must be at least 1, got %d (to turn the collector off, set GOGC=off)", c.gcPercent)
	}
	if c.maxInputTokens < 0 {
		return c, fmt.Errorf("--max-input-tokens must not be negative, got %d", c.maxInputTokens)
	}
	return c, nil
}

// newLogger builds the process logger from --log-format and --log-level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// resolveModel turns --model into a local directory (extracting the demo when asked).
func resolveModel(arg string, log *slog.Logger) (dir, name string, cleanup func(), err error) {
	if arg == demoModel {
		dir, cleanup, err := extractDemo()
		if err != nil {
			return "", "", nil, err
		}
		log.Warn("DEMO MODEL: serving a tiny embedded checkpoint with RANDOM weights; " +
			"its vectors and scores carry NO meaning. Use --model DIR with a real checkpoint " +
			"(e.g. ibm/ColD-Fusion downloaded to a local directory) for real work.")
		return dir, demoModel, cleanup, nil
	}
	st, statErr := os.Stat(arg)
	switch {
	case statErr == nil && st.IsDir():
		return arg, "", func() {}, nil
	case statErr == nil:
		return "", "", nil, fmt.Errorf("--model %s is a file; want a checkpoint directory", arg)
	case hub.IsRepoID(arg) && strings.Contains(arg, "/"):
		// Downloaded by the load goroutine (after the server listens): see fetchModel.
		return "", lastPart(arg), func() {}, nil
	default:
		return "", "", nil, fmt.Errorf("--model %s: %w", arg, statErr)
	}
}

// cacheOption maps --cache-bytes to server.Options.CacheBytes, where 0 means the default and
// a negative value disables the cache.
func cacheOption(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// timeoutOptions maps the timeout flags to server.Timeouts, where 0 selects the default and a
// negative value means none: on the command line, 0 means none.
func timeoutOptions(t server.Timeouts) server.Timeouts {
	for _, d := range []*time.Duration{&t.Request, &t.ReadHeader, &t.BodyRead, &t.Write, &t.Idle} {
		if *d == 0 {
			*d = -1
		}
	}
	return t
}

func lastPart(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// serve runs `coldserve serve`: it listens first (so /healthz answers while the model loads),
// loads the model in the background (/readyz turns 200 when a probe forward pass passed), and
// shuts down gracefully when ctx ends (SIGINT/SIGTERM), returning nil. A model that fails to
// load stops the server with that error.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, onListen func(string)) error {
	c, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	defer applyGC(log, planGC(c, getenv), getenv)()
	dir, name, cleanup, err := resolveModel(c.model, log)
	if err != nil {
		return err
	}
	defer cleanup()
	if c.name != "" {
		name = c.name
	}
	heads := make([]inference.HeadSpec, 0, len(c.heads))
	for _, h := range c.heads {
		spec, err := inference.ParseHeadSpec(h)
		if err != nil {
			return fmt.Errorf("--head: %w", err)
		}
		heads = append(heads, spec)
	}
	var hubClient *hub.Client
	if dir == "" || c.allowHub {
		if hubClient, err = hub.NewFromEnv(); err != nil {
			return err
		}
		hubClient.Logger = log
	}
	resolver := &checkpoint.Resolver{Roots: c.checkpointRoot, AllowHub: c.allowHub}
	if hubClient != nil {
		resolver.Hub = hubClient
	}
	if c.adminToken == "" {
		log.Info("admin API disabled (no --admin-token)")
	}
	if len(c.apiKeys) == 0 {
		log.Info("inference routes are open (no --api-key)")
	} else {
		log.Info("inference routes require an API key", "keys", len(c.apiKeys)) // never the keys themselves
	}
	reg := prometheus.NewRegistry()
	declared, err := declaredCheckpoint(c, resolver, reg, log)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		MaxClientBatch:        c.maxClientBatch,
		PayloadLimit:          int64(c.payloadLimit),
		DefaultPooling:        encoder.Pooling(c.pooling),
		Logger:                log,
		Admin:                 adminOptions(c, resolver, declared),
		CacheBytes:            cacheOption(int64(c.cacheBytes.byteSize)),
		MaxConcurrentRequests: c.maxConcurrent,
		MaxRequestTokens:      c.maxReqTokens,
		Timeouts:              timeoutOptions(c.timeouts),
		APIKeys:               c.apiKeys,
		CORSAllowOrigins:      c.corsOrigins,
		DefaultHead:           c.defaultHead,
		Version:               version,
		Registry:              reg,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "model", c.model)
	if onListen != nil {
		onListen(ln.Addr().String())
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waitDeclared := runDeclared(sctx, declared, srv.Core())
	defer func() { cancel(); waitDeclared() }()
	loadErr := make(chan error, 1)
	go func() {
		start := time.Now()
		mc := inference.ModelConfig{Dir: dir, Source: c.model}
		err := error(nil)
		if dir == "" {
			log.Info("downloading from the Hugging Face Hub", "model", c.model, "revision", c.revision, "endpoint", hubClient.Endpoint)
			mc.Dir, err = hubClient.Snapshot(sctx, c.model, c.revision, hub.SnapshotOptions{})
			mc.Revision, mc.Commit = c.revision, filepath.Base(mc.Dir)
		}
		if err == nil {
			err = srv.Load(sctx, inference.ModelConfig{
				Dir: mc.Dir, Source: mc.Source, Revision: mc.Revision, Commit: mc.Commit, Name: name, Heads: heads,
				MaxInputTokens: c.maxInputTokens, MaxBatchTokens: c.maxBatchTokens,
				Queue:     inference.QueueLimits{Sequences: c.maxQueue, Tokens: c.maxQueueTokens, Wait: c.maxQueueWait},
				BatchWait: c.batchWait,
				Encoder:   encoder.EncoderOptions{Workers: c.workers, DType: encoder.DType(c.dtype)},
			})
		}
		switch {
		case err == nil:
			log.Info("ready", "load_seconds", time.Since(start).Seconds())
		case ctx.Err() != nil:
			err = nil // shut down while loading: not a load failure
		default:
			log.Error("model failed to load; stopping", "err", err)
			cancel()
		}
		loadErr <- err
	}()
	serveErr := srv.Serve(sctx, ln, c.shutdownGrace)
	if err := <-loadErr; err != nil {
		return errors.Join(err, serveErr)
	}
	return serveErr
}
