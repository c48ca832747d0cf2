// Package inference is coldserve's protocol-free inference core: it serves one checkpoint
// (with its classification heads) to any front end, and changes it at run time.
//
// How a request flows: a front end binds its wire format and may first call [Core.Reserve],
// which holds room in the queue of the encoder the request will use for an estimate of its
// tokens, so that a full queue refuses it before parsing. It then calls [Core.Embed],
// [Core.Classify], [Core.Rerank] or [Core.ZeroShot]. An [Input] is a text, a sentence pair or
// token ids. The core tokenizes the inputs with the served tokenizer (pairs by the model's pair
// template, cut as the request's [Truncation] says), applies the per-input and per-request
// token limits, submits the ids to the encoder's batching engine (package engine; through the
// reservation when there is one), and turns each input's rows into products: a pooled vector,
// or a head's logits, which are then scored (softmax, sigmoid for multi-label heads, top-k).
// Every product of one encoder comes from one forward pass, so an embedding and several heads'
// labels cost one pass; heads with their own encoders run beside it on theirs. Repeated inputs
// are answered from a result cache keyed by checkpoint, product, options and input; when a swap
// lands between the cache lookups and the submission the request is computed again, so one
// answer never mixes checkpoints. A request is pinned to the encoder current at submission and
// its answer names it.
//
// Admin changes (Swap, Rollback, Fuse, AddHead, RemoveHead) run one at a time: a candidate is
// loaded beside the served one, checked (digest, geometry, token limit, heads, tokenizer, a
// probe forward pass whose output must be finite, the same probe Load runs) and swapped in
// atomically; a failure leaves the served model untouched.
//
// Errors match one of the Err* kinds with errors.Is (loader and resolver errors keep the kinds
// of packages model and checkpoint); a front end maps kinds to its protocol with one table.
// The core reports forward passes, refusals and cache lookups to an [Observer], and logs
// through the slog.Logger it is given. It knows nothing of HTTP or JSON.
package inference
