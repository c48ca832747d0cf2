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
	"regexp"
	"strings"
	"time"

	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/model"
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
	payloadLimit   byteSize
	heads          listFlag
	workers        int
	logFormat      string
	logLevel       string
	shutdownGrace  time.Duration
}

// parseServe reads flags, then COLDSERVE_* environment variables for flags not given.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	c := serveConfig{payloadLimit: server.DefaultPayloadLimit}
	fs := flag.NewFlagSet("coldserve serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.model, "model", "", `local Hugging Face checkpoint directory, or "demo" for the embedded tiny model with random weights`)
	fs.StringVar(&c.name, "model-name", "", `name reported in responses (default: the base name of --model)`)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.pooling, "pooling", "mean", "default pooling: mean, cls, pooler or none")
	fs.IntVar(&c.maxInputTokens, "max-input-tokens", 0, "longest input in tokens, specials included (0: the model's limit, 512)")
	fs.IntVar(&c.maxClientBatch, "max-client-batch", server.DefaultMaxClientBatch, "most inputs per request")
	fs.IntVar(&c.maxBatchTokens, "max-batch-tokens", engine.DefaultMaxBatchTokens, "padded token budget of one encoder batch (longest × count)")
	fs.IntVar(&c.maxQueue, "max-queue", engine.DefaultQueueSize, "requests that may wait for the batcher before 429")
	fs.Var(&c.payloadLimit, "payload-limit", "largest request body (e.g. 2MB)")
	fs.Var(&c.heads, "head", "classification head NAME=DIR (repeatable, or comma-separated): a head-only or a full finetuned checkpoint")
	fs.IntVar(&c.workers, "workers", 1, "encoder forward passes that may run at once (each worker holds its own scratch memory; workers × OMP_NUM_THREADS should not exceed the cores)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 30*time.Second, "how long shutdown waits for in-flight requests")
	if err := parseWithEnv(fs, args, getenv); err != nil {
		return c, err
	}
	if c.model == "" {
		return c, errors.New(`--model is required: a local checkpoint directory, or "demo"`)
	}
	if _, err := model.ParsePooling(c.pooling); err != nil {
		return c, fmt.Errorf("--pooling: %w", err)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	}
	for name, v := range map[string]int{"--max-client-batch": c.maxClientBatch, "--max-batch-tokens": c.maxBatchTokens,
		"--max-queue": c.maxQueue, "--workers": c.workers} {
		if v < 1 {
			return c, fmt.Errorf("%s must be at least 1, got %d", name, v)
		}
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

// hubID matches "owner/name", the shape of a Hugging Face Hub model id.
var hubID = regexp.MustCompile(`^[A-Za-z0-9][\w.-]*/[\w.-]+$`)

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
	case hubID.MatchString(arg) && !strings.HasPrefix(arg, "."):
		return "", "", nil, fmt.Errorf("--model %s: loading from the Hugging Face Hub is not supported yet; "+
			"download it first (huggingface-cli download %s --local-dir ./%s) and pass --model ./%s",
			arg, arg, lastPart(arg), lastPart(arg))
	default:
		return "", "", nil, fmt.Errorf("--model %s: %w", arg, statErr)
	}
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
	dir, name, cleanup, err := resolveModel(c.model, log)
	if err != nil {
		return err
	}
	defer cleanup()
	if c.name != "" {
		name = c.name
	}
	heads := make([]server.HeadSpec, 0, len(c.heads))
	for _, h := range c.heads {
		spec, err := server.ParseHeadSpec(h)
		if err != nil {
			return fmt.Errorf("--head: %w", err)
		}
		heads = append(heads, spec)
	}
	srv, err := server.New(server.Options{
		MaxClientBatch: c.maxClientBatch,
		PayloadLimit:   int64(c.payloadLimit),
		DefaultPooling: model.Pooling(c.pooling),
		Logger:         log,
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
	loadErr := make(chan error, 1)
	go func() {
		start := time.Now()
		err := srv.Load(sctx, server.ModelConfig{
			Dir: dir, Name: name, Heads: heads,
			MaxInputTokens: c.maxInputTokens, MaxBatchTokens: c.maxBatchTokens, QueueSize: c.maxQueue,
			Encoder: model.EncoderOptions{Workers: c.workers},
		})
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
