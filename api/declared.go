package api

import "time"

// DeclaredCheckpoint is where the server stands against its declared checkpoint
// (--checkpoint-file): the declaration (desired), whether the served checkpoint ("current")
// is it, and the last attempt to converge with its outcome.
type DeclaredCheckpoint struct {
	// The declaration file, as given to --checkpoint-file.
	File string `json:"file" example:"/etc/coldserve/checkpoint/checkpoint.yaml"`
	// How often the file is read and its revision resolved again (--checkpoint-poll).
	PollSeconds float64 `json:"poll_seconds" example:"10"`
	// pending (the model is loading, or an admin change was running), converged, held (below
	// min_cosine), rejected (see last_attempt; retried at retry_at or when the file changes),
	// overridden (an admin change replaced it; the declaration applies again when it changes)
	// or invalid (the file cannot be read or parsed; see error).
	State string `json:"state" example:"converged"`
	// True when the served checkpoint is the declared one.
	Converged bool `json:"converged" example:"true"`
	// The declaration the file holds; absent while the file cannot be read or parsed.
	Desired *Declaration `json:"desired,omitempty"`
	// The first 12 hex digits of the SHA-256 of the file's content.
	Version string `json:"version" example:"9c1f0e22b7a4"`
	// Why the file cannot be read or parsed.
	Error string `json:"error,omitempty"`
	// The last swap attempted for a declaration.
	LastAttempt *CheckpointAttempt `json:"last_attempt,omitempty"`
	// When a rejected declaration is tried again.
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// Declaration is a declared checkpoint and where it resolved at the last poll.
type Declaration struct {
	Source   string `json:"source" example:"ibm/ColD-Fusion-itr13-seed0"`
	Revision string `json:"revision" example:"main"`
	// The expected weights digest, when pinned.
	SHA256 string `json:"sha256,omitempty" example:"sha256:3f2a9c0d17be"`
	// The drift gate, when set.
	MinCosine           *float64 `json:"min_cosine,omitempty" example:"0.98"`
	AllowGeometryChange bool     `json:"allow_geometry_change,omitempty" example:"false"`
	// The commit the revision resolved to (Hub sources) and the local directory, at the last poll.
	Commit string `json:"commit,omitempty" example:"0123456789abcdef0123456789abcdef01234567"`
	Dir    string `json:"dir,omitempty" example:"/var/cache/huggingface/hub/models--ibm--ColD-Fusion-itr13-seed0/snapshots/0123456789abcdef0123456789abcdef01234567"`
}

// CheckpointAttempt is one attempt to serve the declared checkpoint.
type CheckpointAttempt struct {
	At      time.Time `json:"at" example:"2025-01-31T12:00:00Z"`
	Seconds float64   `json:"seconds" example:"2.4"`
	// ok (swapped in), held (below min_cosine) or rejected.
	Result string `json:"result" example:"held"`
	// Why it was held or rejected.
	Reason   string `json:"reason,omitempty" example:"... drifts too far from the served checkpoint ..."`
	Source   string `json:"source" example:"ibm/ColD-Fusion-itr13-seed0"`
	Revision string `json:"revision" example:"main"`
	// The file version it came from.
	Version string `json:"version" example:"9c1f0e22b7a4"`
	// The candidate, when it loaded (ok, held).
	Checkpoint *CheckpointInfo `json:"checkpoint,omitempty"`
	// Its drift from the checkpoint served then, when measured.
	Drift *Drift `json:"drift,omitempty"`
}
