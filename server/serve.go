package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coldserve/coldserve/inference"
)

// Serve answers HTTP on ln until ctx ends, then shuts down within grace:
//
//  1. Drain. New requests are answered 503 shutting_down (the listener stays open, so a
//     client that connects meanwhile reads an answer rather than a refused connection), every
//     answer closes its connection, and bodies still being read are cut: those requests were
//     not admitted, so a slow sender cannot hold the shutdown. Admitted requests run to the
//     end while that fits the grace.
//  2. If the grace is about to run out, whatever is still queued or computing is answered
//     503 shutting_down instead: every admitted request gets an answer, never a silent EOF.
//  3. The listener and the remaining connections close, and the engines stop.
//
// Serve returns nil when every admitted request was answered, and an error saying how many
// were not when the grace ran out first (a client that never reads its answer, say, with
// the write timeout above the grace).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	t := s.opts.Timeouts
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	return s.shutdown(hs, served, grace)
}

func (s *Server) shutdown(hs *http.Server, served <-chan error, grace time.Duration) error {
	start := time.Now()
	deadline := start.Add(grace)
	// The last part of the grace is kept for answering what did not finish, then for
	// closing connections.
	margin := min(grace/4, 5*time.Second)
	s.log.Info("shutting down: refusing new requests, finishing admitted ones", "grace", grace,
		"admitted", s.active.Count())
	idle := s.active.Retire()
	s.lastArrival.Store(time.Now().UnixNano()) // settle waits at least quiet from here
	s.reading.cutAll()
	// Connections kept alive from before the drain may carry one more request; they get a 503
	// with Connection: close while requests keep arriving, instead of being closed under it,
	// which is how an HTTP/1.1 client loses a request it sent on an idle connection (a silent
	// EOF or a reset).
	quiet := min(grace/10, time.Second)
	select {
	case <-idle:
		s.settle(quiet, deadline.Add(-margin))
	case <-time.After(time.Until(deadline.Add(-margin))):
		s.log.Warn("shutdown grace running out: answering the requests still queued or computing with 503",
			"requests", s.active.Count())
		s.giveUpNow(inference.ErrShuttingDown) // those still tokenizing stop too
		s.core.Abort()
		select {
		case <-idle:
		case <-time.After(time.Until(deadline.Add(-margin / 2))):
		}
	}
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var errs []error
	if err := hs.Shutdown(sctx); err != nil {
		if n := s.active.Count(); n > 0 {
			errs = append(errs, fmt.Errorf("http shutdown: %d admitted requests had no answer within the %v grace: %w", n, grace, err))
		}
		hs.Close()
	}
	if err := s.Close(sctx); err != nil {
		errs = append(errs, fmt.Errorf("drain engines: %w", err))
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.Info("shutdown complete: every admitted request was answered", "seconds", time.Since(start).Seconds())
	return nil
}

// settle returns once no request has arrived for quiet (the clients have seen their 503s and
// gone, or a load balancer has stopped sending), or at limit. A busy client reuses its
// kept-alive connection within quiet; closing the idle ones before then would race with it.
func (s *Server) settle(quiet time.Duration, limit time.Time) {
	for {
		since := time.Since(time.Unix(0, s.lastArrival.Load()))
		left := time.Until(limit)
		if since >= quiet || left <= 0 {
			return
		}
		time.Sleep(min(quiet-since, left))
	}
}
