// Package checkpoint finds checkpoints at run time: where a checkpoint may come from (Resolver:
// local directories under configured roots, Hugging Face Hub ids when allowed) and where a
// fuse output may go. Reading and checking the files is package weights'; checking a candidate
// before it serves (the probe forward pass, drift) is package inference's.
//
// Its errors match a few sentinel kinds (ErrForbidden, ErrNotFound, ErrHubUnavailable,
// ErrOutputExists) with errors.Is, so a front end maps them to statuses with one table.
package checkpoint
