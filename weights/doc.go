// Package weights reads, checks, writes and fuses Hugging Face RoBERTa checkpoints.
//
// Load reads a checkpoint directory (config.json with model.safetensors, a sharded
// safetensors index, or a pytorch_model.bin read through an allow-listed unpickler), turns
// every float dtype into float32 and validates every tensor against the config, so a nil
// error means an encoder can use it. Every failure is a typed error naming the file, field or
// tensor at fault, and matches ErrInvalid with errors.Is. A Checkpoint's ID and Digest depend
// only on its tensors; SaveDir writes one back in transformers' layout; Fuse is ColD Fusion's
// fuse step, the weighted mean of several checkpoints' encoders; Generate builds a checkpoint
// of any geometry from a seed, for tests, benchmarks and the demo model.
//
// It knows nothing of graphs or compute: package encoder runs what it loads.
package weights
