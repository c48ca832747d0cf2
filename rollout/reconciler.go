package rollout

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

// Defaults of Options.
const (
	DefaultPoll    = 10 * time.Second
	DefaultBackoff = 30 * time.Second
	// MaxBackoff caps the wait before a rejected declaration is tried again; the wait doubles
	// from Options.Backoff with each rejection in a row.
	MaxBackoff = 10 * time.Minute
)

// Core is the part of *inference.Core a Reconciler drives.
type Core interface {
	History() (current inference.CheckpointInfo, history []inference.HistoryEntry, err error)
	Swap(ctx context.Context, req inference.SwapRequest) (*inference.Activation, error)
}

// Options configure a Reconciler.
type Options struct {
	// File is the declaration (--checkpoint-file).
	File string
	// Poll is how often File is read and its source resolved (default DefaultPoll).
	Poll time.Duration
	// Backoff is the first wait before a rejected declaration is tried again (default
	// DefaultBackoff); it doubles with each rejection in a row, up to MaxBackoff.
	Backoff time.Duration
	// Sources resolves declared sources: the core's own resolver (inference.Options.Sources),
	// so that the declaration obeys the admin API's rules (--checkpoint-root, --allow-hub).
	Sources *checkpoint.Resolver
	// Registerer receives coldserve_checkpoint_converged and coldserve_checkpoint_swaps_total
	// (nil: a private registry, so nothing is exported).
	Registerer prometheus.Registerer
	// Logger receives one line per attempt and per change of the file's state (nil: discarded).
	Logger *slog.Logger
}

// Reconciler converges a core on the checkpoint a file declares. Create it with New, serve
// Status to operators, and call Run once.
type Reconciler struct {
	opts    Options
	log     *slog.Logger
	metrics metrics

	mu     sync.Mutex
	status Status

	// Owned by Run's goroutine.
	content  version // the file content read last
	fileErr  string  // the file's error at the last poll, to log each new one once
	handled  target  // the target last served, held, or found served (zero: none)
	held     bool    // handled was held by the drift gate
	failures int     // rejections in a row of the current content
	retryAt  time.Time
}

// target is what a declaration resolved to: the file content and the directory its source
// names now. A new commit of a moving Hub revision is a new directory, so a new target.
type target struct {
	content version
	dir     string
}

// New checks opts and reads the declaration once: a file that is missing or does not parse is
// an error here (a start-up mistake, like a bad flag), while later it is reported and the
// served checkpoint stays.
func New(opts Options) (*Reconciler, error) {
	if opts.File == "" {
		return nil, errors.New("rollout: no declaration file")
	}
	if opts.Sources == nil {
		return nil, errors.New("rollout: no source resolver")
	}
	if opts.Poll == 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Backoff == 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Poll < 0 || opts.Backoff < 0 {
		return nil, fmt.Errorf("rollout: poll (%v) and backoff (%v) must be positive", opts.Poll, opts.Backoff)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	decl, v, err := read(opts.File)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{opts: opts, log: opts.Logger, metrics: newMetrics(opts.Registerer)}
	r.status = Status{File: opts.File, Poll: opts.Poll, Declared: &decl, Version: v.String(), State: StatePending}
	return r, nil
}

// read reads and parses the declaration file, returning the version of its content.
func read(path string) (Declaration, version, error) {
	data, err := readFile(path)
	if err != nil {
		return Declaration{}, version{}, fmt.Errorf("checkpoint file: %w", err)
	}
	v := version(sha256.Sum256(data))
	d, err := Parse(data)
	if err != nil {
		return Declaration{}, v, fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	return d, v, nil
}

// Run polls the file every Options.Poll, first at once, and converges core on it until ctx
// ends. A swap runs within the poll that decided it (a Hub download included), so polls never
// overlap.
func (r *Reconciler) Run(ctx context.Context, core Core) {
	tick := time.NewTicker(r.opts.Poll)
	defer tick.Stop()
	for {
		r.poll(ctx, core)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll reads the file, resolves its source and, when that names a target not yet handled and
// not served, swaps it in through the core: load, validate, probe, drift gate. Each outcome is
// published in one status update, so a reader never sees a new declaration with an old state.
func (r *Reconciler) poll(ctx context.Context, core Core) {
	decl, v, err := read(r.opts.File)
	if v != r.content { // a new file content: a new declaration, tried at once
		r.content, r.failures, r.retryAt = v, 0, time.Time{}
	}
	if err != nil {
		r.invalid(err)
		return
	}
	r.fileErr = ""
	seen := func(s *Status) { s.Declared, s.Version, s.FileError = &decl, v.String(), "" }
	served, _, err := core.History()
	if err != nil { // the model is still loading
		r.publish(StatePending, false, seen)
		return
	}
	if time.Now().Before(r.retryAt) { // backing off after a rejection of this content
		r.publish(StateRejected, false, seen)
		return
	}
	start := time.Now()
	res, err := r.opts.Sources.Resolve(ctx, decl.Source, decl.Revision)
	if err != nil {
		if ctx.Err() == nil {
			r.reject(decl, v, start, err, also(seen, func(s *Status) { s.Commit, s.Dir = "", "" }))
		}
		return
	}
	seen = also(seen, func(s *Status) { s.Commit, s.Dir = res.Commit, res.Dir })
	tgt := target{content: v, dir: res.Dir}
	switch {
	case serves(served, res.Dir, decl):
		r.settle(tgt, false)
		r.publish(StateConverged, true, seen)
	case tgt == r.handled && r.held:
		r.publish(StateHeld, false, seen)
	case tgt == r.handled:
		// Served before, and an admin change replaced it since: the operator's explicit change
		// wins until the declaration changes.
		r.publish(StateOverridden, false, seen)
	default:
		r.swap(ctx, core, decl, v, tgt, start, seen)
	}
}

// swap asks the core to serve decl and publishes the outcome with seen.
func (r *Reconciler) swap(ctx context.Context, core Core, decl Declaration, v version, tgt target, start time.Time, seen func(*Status)) {
	act, err := core.Swap(ctx, inference.SwapRequest{
		Source: decl.Source, Revision: decl.Revision, SHA256: decl.SHA256,
		AllowGeometryChange: decl.AllowGeometryChange, MinCosine: decl.MinCosine,
		Caller: inference.Caller{RequestID: "checkpoint-file@" + v.String()},
	})
	attempt := Attempt{At: start, Seconds: time.Since(start).Seconds(), Declaration: decl, Version: v.String()}
	var held *inference.DriftError
	switch {
	case err == nil:
		r.settle(tgt, false)
		attempt.Result, attempt.Checkpoint, attempt.Drift = ResultOK, &act.Checkpoint, &act.Drift
		// A moving revision may have advanced between the poll's resolve and the swap's: then
		// the next poll finds the newer commit and swaps again.
		r.publish(StateConverged, serves(act.Checkpoint, tgt.dir, decl), also(seen, r.record(attempt)))
		r.log.Info("declared checkpoint served", "source", decl.Source, "revision", decl.Revision,
			"checkpoint", act.Checkpoint.ID, "commit", act.Checkpoint.Commit, "version", v.String(),
			"drift_min_cosine", act.Drift.Min, "seconds", attempt.Seconds)
	case errors.As(err, &held):
		r.settle(tgt, true)
		attempt.Result, attempt.Reason, attempt.Checkpoint, attempt.Drift = ResultHeld, err.Error(), &held.Candidate, &held.Drift
		r.publish(StateHeld, false, also(seen, r.record(attempt)))
		r.log.Warn("declared checkpoint held by its drift gate; still serving the current one", "source", decl.Source,
			"revision", decl.Revision, "checkpoint", held.Candidate.ID, "drift_min_cosine", held.Drift.Min,
			"min_cosine", held.MinCosine, "version", v.String())
	case ctx.Err() != nil:
		// Shutting down: not the candidate's fault.
	case errors.Is(err, inference.ErrBusy), errors.Is(err, inference.ErrNotReady), errors.Is(err, inference.ErrShuttingDown):
		// An admin change holds the core, or it closes: try again at the next poll.
		r.publish(StatePending, false, seen)
	default:
		r.reject(decl, v, start, err, seen)
	}
}

// reject records a failed attempt and schedules the retry: Backoff, doubling with each
// rejection of the same content in a row, up to MaxBackoff.
func (r *Reconciler) reject(decl Declaration, v version, start time.Time, err error, seen func(*Status)) {
	r.failures++
	wait := MaxBackoff
	if shift := r.failures - 1; shift < 20 && r.opts.Backoff<<shift < MaxBackoff {
		wait = r.opts.Backoff << shift
	}
	r.retryAt = time.Now().Add(wait)
	attempt := Attempt{At: start, Seconds: time.Since(start).Seconds(), Declaration: decl, Version: v.String(),
		Result: ResultRejected, Reason: err.Error()}
	r.publish(StateRejected, false, also(seen, r.record(attempt)))
	r.log.Warn("declared checkpoint rejected; still serving the current one", "source", decl.Source,
		"revision", decl.Revision, "version", v.String(), "reason", err.Error(), "retry_in", wait.String())
}

// settle marks tgt handled (served, found served, or held): no retry waits for it.
func (r *Reconciler) settle(tgt target, held bool) {
	r.handled, r.held, r.failures, r.retryAt = tgt, held, 0, time.Time{}
}

// invalid reports a file that cannot be read or parsed, logging each new error once.
func (r *Reconciler) invalid(err error) {
	if msg := err.Error(); msg != r.fileErr {
		r.fileErr = msg
		r.log.Error("checkpoint file unusable; still serving the current checkpoint", "err", msg)
	}
	r.publish(StateInvalid, false, func(s *Status) { s.Declared, s.FileError, s.Commit, s.Dir = nil, err.Error(), "", "" })
}

// record counts a finished attempt and returns the status change that keeps it.
func (r *Reconciler) record(a Attempt) func(*Status) {
	r.metrics.swaps.WithLabelValues(a.Result).Inc()
	return func(s *Status) { s.LastAttempt = &a }
}

// publish applies change and sets the state in one status update, and sets the converged
// gauge. RetryAt is the loop's.
func (r *Reconciler) publish(state string, converged bool, change func(*Status)) {
	r.update(func(s *Status) {
		change(s)
		s.State, s.Converged, s.RetryAt = state, converged, r.retryAt
	})
	if converged {
		r.metrics.converged.Set(1)
	} else {
		r.metrics.converged.Set(0)
	}
}

// also chains status changes.
func also(changes ...func(*Status)) func(*Status) {
	return func(s *Status) {
		for _, c := range changes {
			c(s)
		}
	}
}

// serves reports whether the served checkpoint is the declared one: read from the directory
// the declaration resolves to now (for a Hub source, the snapshot of the commit its revision
// names), with the pinned digest when there is one. A directory is known by its path: a new
// iteration written over an old one in place is not seen (pin sha256, or write each iteration
// to a new directory, as fuse does).
func serves(served inference.CheckpointInfo, dir string, decl Declaration) bool {
	if served.Dir == "" || !sameDir(served.Dir, dir) {
		return false
	}
	if decl.SHA256 == "" {
		return true
	}
	want, err := weights.ParseExpected(decl.SHA256)
	return err == nil && strings.HasPrefix(served.Digest, want)
}

// sameDir compares two directories after resolving symlinks (the served one may have been given
// as --model through a link, or relative).
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	if errA != nil || errB != nil {
		return false
	}
	ra, _ = filepath.Abs(ra)
	rb, _ = filepath.Abs(rb)
	return ra == rb
}
