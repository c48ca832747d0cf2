// Package checkpoint holds what coldserve needs to find and build checkpoints at run time,
// apart from serving them: where a checkpoint may come from (Resolver: local directories under
// configured roots, Hugging Face Hub ids when allowed), the full digest of a checkpoint's
// weights (Digest, MatchDigest), and ColD Fusion's fuse step written as a directory
// transformers can load (FuseDirs, WriteFused). Checking a candidate before it serves (the
// probe forward pass, drift) is package inference's.
package checkpoint
