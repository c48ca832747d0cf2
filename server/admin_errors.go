package server

// Error codes of the admin API.
const (
	CodeAdminDisabled     = "admin_disabled"     // 403: no --admin-token configured
	CodeUnauthorized      = "unauthorized"       // 401: missing or wrong token
	CodeForbiddenSource   = "forbidden_source"   // 403: outside --checkpoint-root, or Hub disabled
	CodeSourceNotFound    = "source_not_found"   // 404: no such directory / Hub repo or revision
	CodeInvalidCheckpoint = "invalid_checkpoint" // 422: the model package rejected the files
	CodeDigestMismatch    = "digest_mismatch"    // 422: sha256 does not match
	CodeGeometryChange    = "geometry_change"    // 422: geometry differs without allow_geometry_change
	CodeIncompatible      = "incompatible"       // 422: tokenizer, token limit or heads do not fit
	CodeNonFinite         = "non_finite"         // 422: the probe forward pass gave NaN/Inf
	CodeBusy              = "busy"               // 409: another admin change is running
	CodeNoPrevious        = "no_previous"        // 409: nothing to roll back to
	CodeSourceChanged     = "source_changed"     // 409: rollback source no longer holds those weights
	CodeHeadExists        = "head_exists"        // 409: a head of that name is loaded
	CodeOutputExists      = "output_exists"      // 409: fuse output directory is not empty
	CodeHubUnavailable    = "hub_unavailable"    // 502: the Hub failed or is unreachable
)
