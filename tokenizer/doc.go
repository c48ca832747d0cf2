// Package tokenizer is RoBERTa's byte-level BPE tokenizer, equal to Hugging Face's (transformers
// 5.17 / tokenizers 0.23) in ids, token strings, special-token masks and offsets.
//
// Load reads a model directory (tokenizer.json, or vocab.json + merges.txt). Encode gives
// <s> … </s> with each token's span of the text in Unicode code points, like
// return_offsets_mapping with trim_offsets on; Decode reverses it.
//
// The pipeline, step by step as Hugging Face runs it:
//
//  1. Invalid UTF-8 is repaired (ValidUTF8: each maximal ill-formed subsequence becomes U+FFFD).
//  2. Added tokens written in the text (<s>, </s>, <pad>, <unk>, <mask>) are matched whole,
//     leftmost-longest, honouring each one's lstrip / rstrip / single_word flags.
//  3. The rest is split by the GPT-2 pattern (contractions, letters, numbers, other runs,
//     whitespace with the \s+(?!\S) rule), implemented by hand since Go's regexp has no
//     look-ahead.
//  4. Each piece's UTF-8 bytes are mapped to the byte-level alphabet and merged by BPE rank.
//     A sharded golang-lru/v2 cache remembers the pieces of recent words.
//  5. Truncation (default: the model's 512 tokens including specials, right side), then <s> and
//     </s> are added, and token offsets are trimmed of the spaces the tokens carry.
//
// A Tokenizer is safe for concurrent use.
package tokenizer
