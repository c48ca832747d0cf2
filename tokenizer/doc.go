// Package tokenizer is RoBERTa's byte-level BPE tokenizer, equal to Hugging Face's (transformers
// 5.17 / tokenizers 0.23) in ids, token strings, special-token masks and offsets.
//
// Load reads a model directory (tokenizer.json, or vocab.json + merges.txt). Encode gives
// <s> … </s> with each token's span of the text in Unicode code points, like
// return_offsets_mapping with trim_offsets on; EncodePair gives <s> A </s></s> B </s>; Decode
// reverses either.
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
//  5. Truncation (default: the model's 512 tokens including specials, right side), then the
//     post-processor adds <s> and </s> (RobertaProcessing, or the single template of a
//     TemplateProcessing) and RobertaProcessing trims token offsets of the spaces the tokens
//     carry.
//
// EncodePair encodes a sentence pair (NLI premise and hypothesis, a query and a passage for a
// cross-encoder): each text is tokenized alone as above, the two are truncated together by
// Hugging Face's truncate_encodings rule with a TruncationStrategy (longest_first, only_first,
// only_second; ParseTruncationStrategy reads the names), and the pair template lays them out,
// <s> A </s></s> B </s> for RoBERTa. Every token carries its sequence id (0 for A, 1 for B,
// NoSequence for the added specials) and offsets within its own text; an empty text keeps its
// place in the template.
//
// A Tokenizer is safe for concurrent use.
package tokenizer
