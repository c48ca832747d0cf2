// Package checkpoint holds what coldserve needs to change checkpoints at run time, apart from
// HTTP and from reading files (package weights): where a checkpoint may come from (Resolver:
// local directories under configured roots, Hugging Face Hub ids when allowed), and the checks
// a candidate must pass before it may serve (Probe: a forward pass with finite output; Drift:
// how far its pooled vectors moved from the served ones).
//
// Its errors match a few sentinel kinds (ErrForbidden, ErrNotFound, ErrHubUnavailable, ...)
// with errors.Is, so a front end maps them to statuses with one table.
package checkpoint
