package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/rollout"
	"github.com/coldserve/coldserve/server"
)

// declaredCheckpoint builds the reconciler of --checkpoint-file (nil without the flag). It
// resolves declared sources with the admin API's resolver, so --checkpoint-root and
// --allow-hub bound what a declaration may load exactly as they bound admin requests, and it
// exports its metrics on the server's registry. The file must exist and parse at start-up.
func declaredCheckpoint(c serveConfig, sources *checkpoint.Resolver, reg prometheus.Registerer, log *slog.Logger) (*rollout.Reconciler, error) {
	if c.checkpointFile == "" {
		return nil, nil
	}
	return rollout.New(rollout.Options{File: c.checkpointFile, Poll: c.checkpointPoll, Sources: sources,
		Registerer: reg, Logger: log.With("component", "checkpoint-file")})
}

// adminOptions are the admin API's options, with the declared checkpoint's status when there
// is one.
func adminOptions(c serveConfig, sources *checkpoint.Resolver, rec *rollout.Reconciler) server.AdminOptions {
	opts := server.AdminOptions{Token: c.adminToken, Sources: sources}
	if rec != nil {
		opts.Declared = rec
	}
	return opts
}

// runDeclared converges core on the declaration until ctx ends, and returns a function that
// waits for that (nothing to wait for without a declaration).
func runDeclared(ctx context.Context, rec *rollout.Reconciler, core *inference.Core) (wait func()) {
	if rec == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.Run(ctx, core)
	}()
	return func() { <-done }
}
