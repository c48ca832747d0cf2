// Package encoder runs the RoBERTa encoder: token ids in, hidden states out, equal to Hugging
// Face transformers (the goldens in testdata/golden are HF's own outputs).
//
// NewEncoder takes a validated weights.Checkpoint and builds, per worker, one compiled
// Gorgonia machine per batch size in tokens (cached, least recently used evicted). The graph
// is a single transformer layer of custom ops (linear, attention, add-and-LayerNorm) that call
// package kernels; Forward runs it once per layer over one reusable scratch arena, so a
// forward pass allocates almost nothing. On top of the hidden states, Pool gives the pooled
// vectors (CLS, mean, pooler, or none) and Head the classification head's logits and scores.
//
// Weights arrive from package weights; this package never reads files. DType chooses float32
// (the goldens) or bfloat16 linear layers (see BFloat16).
package encoder
