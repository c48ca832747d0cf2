package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully: the listener closes (no new
// connections), in-flight requests finish, the engines drain, and Serve returns nil. grace bounds
// the whole shutdown; past it, remaining connections are closed and the error says so.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	errShutdown := hs.Shutdown(sctx)
	if errShutdown != nil {
		hs.Close()
		errShutdown = fmt.Errorf("http shutdown: %w", errShutdown)
	}
	errClose := s.Close(sctx)
	if errClose != nil {
		errClose = fmt.Errorf("drain engines: %w", errClose)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(errShutdown, errClose, err)
	}
	if err := errors.Join(errShutdown, errClose); err != nil {
		return err
	}
	s.log.Info("shutdown complete")
	return nil
}
