package api

import "time"

// CheckpointRequest is the body of POST /admin/checkpoint.
type CheckpointRequest struct {
	// A directory inside a --checkpoint-root (absolute, or relative to the first root), or a
	// Hugging Face Hub id such as ibm/ColD-Fusion-itr13-seed0 (needs --allow-hub).
	Source string `json:"source" validate:"required" example:"ibm/ColD-Fusion-itr13-seed0"`
	// Hub revision: branch, tag or commit sha (default main). Ignored for directories.
	Revision string `json:"revision,omitempty" example:"main"`
	// Expected weights digest: the checkpoint id (sha256:<12 hex>) or 12 to 64 hex digits of the
	// full SHA-256 of the canonical weights (see GET /admin/checkpoint "digest"). A mismatch is 422.
	SHA256 string `json:"sha256,omitempty" example:"sha256:3f2a9c0d17be"`
	// Accept a checkpoint whose geometry (hidden size, layers, heads, vocabulary, ...) differs
	// from the served one. Stored vectors are then incomparable.
	AllowGeometryChange bool `json:"allow_geometry_change,omitempty" example:"false"`
	// Validate, probe and measure drift, but do not swap.
	DryRun bool `json:"dry_run,omitempty" example:"true"`
}

// CheckpointInfo describes one checkpoint.
type CheckpointInfo struct {
	// Checkpoint id reported in every inference response: sha256: and 12 hex digits.
	ID string `json:"id" example:"sha256:3f2a9c0d17be"`
	// Full SHA-256 of the canonical weights (the id is its first 12 digits).
	Digest string `json:"digest" example:"3f2a9c0d17be5a..."`
	// What the operator asked for: a directory, a Hub id, or fuse(...).
	Source string `json:"source" example:"ibm/ColD-Fusion-itr13-seed0"`
	// Hub revision and the commit it resolved to, for Hub sources.
	Revision string `json:"revision,omitempty" example:"main"`
	Commit   string `json:"commit,omitempty" example:"0123456789abcdef0123456789abcdef01234567"`
	// The local directory the weights were read from (empty for an in-memory fuse).
	Dir        string `json:"dir,omitempty" example:"/models/itr13"`
	HiddenSize int    `json:"hidden_size" example:"768"`
	NumLayers  int    `json:"num_layers" example:"12"`
	VocabSize  int    `json:"vocab_size" example:"50265"`
	HasPooler  bool   `json:"has_pooler" example:"true"`
}

// Drift is how far the candidate's mean-pooled vectors moved from the served ones on a fixed
// probe set: the cosine similarity per probe text, averaged and minimum.
type Drift struct {
	MeanCosine float64 `json:"mean_cosine" example:"0.982"`
	MinCosine  float64 `json:"min_cosine" example:"0.951"`
	Probes     int     `json:"probes" example:"10"`
	// False when the widths differ (geometry change): the vectors cannot be compared.
	Comparable bool `json:"comparable" example:"true"`
}

// CheckpointResponse answers POST /admin/checkpoint, /admin/rollback and an activating
// /admin/fuse.
type CheckpointResponse struct {
	Checkpoint CheckpointInfo `json:"checkpoint"`
	Previous   CheckpointInfo `json:"previous"`
	// Seconds spent resolving, loading, validating, probing and measuring drift.
	LoadSeconds float64 `json:"load_seconds" example:"0.84"`
	Drift       Drift   `json:"drift"`
	// True when the checkpoint is now served (false for dry runs).
	Swapped bool `json:"swapped" example:"true"`
	DryRun  bool `json:"dry_run" example:"false"`
}

// HistoryEntry is one checkpoint activation.
type HistoryEntry struct {
	Checkpoint CheckpointInfo `json:"checkpoint"`
	// load (start-up), swap, fuse or rollback.
	Action   string    `json:"action" example:"swap"`
	LoadedAt time.Time `json:"loaded_at" example:"2025-01-31T12:00:00Z"`
	// Who asked: the admin request's id (X-Request-ID, generated when absent) and client address.
	RequestID  string `json:"request_id,omitempty" example:"5f0c2a..."`
	RemoteAddr string `json:"remote_addr,omitempty" example:"10.0.0.7"`
}

// CheckpointStatus answers GET /admin/checkpoint.
type CheckpointStatus struct {
	Current CheckpointInfo `json:"current"`
	// Oldest first; the last entry is the current checkpoint. At most 100 entries are kept.
	History []HistoryEntry `json:"history"`
	// The declared checkpoint and how far the server converged on it (with --checkpoint-file).
	Declared *DeclaredCheckpoint `json:"declared,omitempty"`
}

// FuseRequest is the body of POST /admin/fuse.
type FuseRequest struct {
	// Checkpoints to fuse (directories or Hub ids, as for /admin/checkpoint).
	Sources []string `json:"sources" validate:"required" example:"contrib-a,contrib-b"`
	// One non-negative weight per source (default: equal weights).
	Weights []float64 `json:"weights,omitempty"`
	// Write the fused model as a Hugging Face directory (inside a --checkpoint-root; must not
	// exist or be empty): config.json, model.safetensors and the first source's tokenizer files.
	Output string `json:"output,omitempty" example:"itr14"`
	// Swap the fused model in, like POST /admin/checkpoint.
	Activate bool `json:"activate,omitempty" example:"false"`
	// With activate: accept a geometry change (the sources always share one geometry).
	AllowGeometryChange bool `json:"allow_geometry_change,omitempty" example:"false"`
}

// FuseResponse answers POST /admin/fuse.
type FuseResponse struct {
	Checkpoint CheckpointInfo `json:"checkpoint"`
	// The directory written, when output was given.
	Output string `json:"output,omitempty" example:"/models/itr14"`
	// Present when activate was set.
	Activation *CheckpointResponse `json:"activation,omitempty"`
}

// HeadRequest is the body of POST /admin/heads.
type HeadRequest struct {
	Name string `json:"name" validate:"required" example:"sentiment"`
	// A head-only checkpoint (runs on the served encoder) or a full finetuned
	// RobertaForSequenceClassification checkpoint (runs on its own encoder).
	Source   string `json:"source" validate:"required" example:"heads/sentiment"`
	Revision string `json:"revision,omitempty" example:"main"`
}

// HeadResponse answers POST /admin/heads and DELETE /admin/heads/{name}.
type HeadResponse struct {
	Name string `json:"name" example:"sentiment"`
	// Checkpoint id of the encoder the head runs on.
	Checkpoint string   `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	Labels     []string `json:"labels,omitempty"`
	// True when the head brought its own encoder.
	OwnEncoder bool     `json:"own_encoder" example:"false"`
	Heads      []string `json:"heads"`
}
