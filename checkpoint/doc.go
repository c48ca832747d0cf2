// Package checkpoint holds what coldserve needs to change checkpoints at run time, apart from
// HTTP: where a checkpoint may come from (Resolver: local directories under configured roots,
// Hugging Face Hub ids when allowed), the full digest of a checkpoint's weights (Digest,
// MatchDigest), the checks a candidate must pass before it may serve (Probe: a forward pass
// with finite output; Drift: how far its pooled vectors moved from the served ones), and
// ColD Fusion's fuse step written as a directory transformers can load (WriteFused).
//
// It never imports the HTTP framework; package server wires it to /admin.
package checkpoint
