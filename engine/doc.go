// Package engine is coldserve's batching core: the part between the HTTP layer and the encoder.
//
// Handlers tokenize their inputs and call [Engine.Submit] with the token ids of one request. The
// engine keeps a bounded FIFO queue of requests and one batcher goroutine. The batcher starts
// each batch with the oldest waiting request, then adds other waiting sequences while the padded
// cost of the batch — longest sequence × number of sequences, because every row of a batch is
// padded to the longest one — stays within the token budget, choosing them by length (closest
// to the batch's longest first) so that a backlog is cut into batches of similar lengths with
// less padding; it runs ONE forward pass for the whole batch and hands every request the rows
// that belong to it (Options.Concurrency passes may be in flight at once). Starting with the
// oldest request means none starves behind a stream of shorter ones. Batching does not change
// a result beyond float rounding: each row of the encoder's output depends only on its own tokens
// (padding is masked), and the tests bound the difference to running alone at 1e-5.
//
// Guarantees:
//   - A request is pinned to the forwarder (the encoder, i.e. the checkpoint) that was current
//     when it was admitted; [Engine.Swap] only affects later requests, and a batch never mixes
//     forwarders. A request larger than the budget is spread over several batches of the same
//     forwarder.
//   - A request whose context ends before its sequences reach a batch is dropped at once,
//     without costing compute; so is one that waited longer than Options.MaxQueueWait
//     ([ErrQueueTimeout]).
//   - The queue is bounded in what costs compute, sequences and tokens, not in requests: a
//     request that would take it past either bound fails at once with [ErrOverloaded], so an
//     admitted request waits a bounded number of batch times. A front end can hold room with
//     [Engine.Reserve] before it tokenizes, on an estimate, so that a full queue refuses at
//     almost no cost; [Engine.Backlog] says how long what waits will take (Retry-After).
//   - [Engine.Close] stops admission and drains what is queued before it returns;
//     [Engine.Abort] answers everything at once with [ErrClosed] instead.
//
// The engine is generic over the forwarder F and its output O so that it can be tested without a
// model; coldserve instantiates it as Engine[*encoder.Encoder, *encoder.Output]. It never imports the
// HTTP framework.
package engine
