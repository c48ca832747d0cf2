package rollout

import (
	"time"

	"github.com/coldserve/coldserve/inference"
)

// States of a Reconciler (Status.State): one word for where the served checkpoint stands
// against the declaration.
const (
	// StatePending: nothing decided yet; the model is still loading, or an admin change was
	// running at the last poll.
	StatePending = "pending"
	// StateConverged: the served checkpoint is the declared one.
	StateConverged = "converged"
	// StateHeld: the declared candidate failed the drift gate (min_cosine); the old one serves.
	StateHeld = "held"
	// StateRejected: the last attempt failed (the source did not resolve, load, validate or
	// probe); the old checkpoint serves, and the next attempt comes at RetryAt or when the file
	// changes.
	StateRejected = "rejected"
	// StateOverridden: the declaration was served or held, then an admin change replaced the
	// served checkpoint; the declaration applies again when the file, or the commit its
	// revision resolves to, changes.
	StateOverridden = "overridden"
	// StateInvalid: the file cannot be read or parsed; the served checkpoint stays.
	StateInvalid = "invalid"
)

// Results of one attempt to converge: the result label of coldserve_checkpoint_swaps_total.
const (
	ResultOK       = "ok"       // the declared checkpoint was swapped in
	ResultHeld     = "held"     // it passed every check but failed the drift gate
	ResultRejected = "rejected" // it did not resolve, load, validate or probe
)

// Status is where a Reconciler stands: the declaration (desired), whether the served checkpoint
// is it, and the last attempt to converge with its outcome.
type Status struct {
	File string
	Poll time.Duration
	// Declared is the declaration the file holds, nil while FileError is set.
	Declared *Declaration
	// Version names the file content: the first 12 hex digits of its SHA-256.
	Version   string
	FileError string
	// Commit and Dir are where the declaration resolved at the last poll (Commit for Hub
	// sources: a moving revision such as main is resolved again on every poll).
	Commit, Dir string
	// Converged says whether the checkpoint served at the last poll is the declared one (the
	// core's history says which one that is).
	Converged bool
	State     string
	// LastAttempt is the last swap attempted for a declaration (nil before the first).
	LastAttempt *Attempt
	// RetryAt is when a rejected declaration is tried again (zero when no retry waits).
	RetryAt time.Time
}

// Attempt is one try to serve a declaration.
type Attempt struct {
	At          time.Time
	Seconds     float64
	Declaration Declaration
	Version     string // of the file content it came from
	Result      string // ResultOK, ResultHeld or ResultRejected
	// Reason says why the candidate was held or rejected.
	Reason string
	// Checkpoint is the candidate (ok, held), and Drift its drift from the checkpoint it was
	// measured against (nil when it was not measured).
	Checkpoint *inference.CheckpointInfo
	Drift      *inference.Drift
}

// Status returns a copy of the reconciler's status; it is safe to call from any goroutine.
func (r *Reconciler) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	if s.Declared != nil {
		d := *s.Declared
		s.Declared = &d
	}
	if a := s.LastAttempt; a != nil {
		c := *a
		s.LastAttempt = &c
	}
	return s
}

// update changes the status under its lock.
func (r *Reconciler) update(change func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	change(&r.status)
}
