package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/weights"
)

// Error codes of the admin API.
const (
	CodeAdminDisabled     = "admin_disabled"     // 403: no --admin-token configured
	CodeUnauthorized      = "unauthorized"       // 401: missing or wrong token
	CodeForbiddenSource   = "forbidden_source"   // 403: outside --checkpoint-root, or Hub disabled
	CodeSourceNotFound    = "source_not_found"   // 404: no such directory / Hub repo or revision
	CodeInvalidCheckpoint = "invalid_checkpoint" // 422: the weights package rejected the files
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

// sourceKinds maps the kinds of resolver, Hub and loader error to the admin API's status
// and code, first match wins. Anything unmatched from loading is a property of the checkpoint
// (bad fuse weights, encoder construction), not a server fault: 422 invalid_checkpoint.
var sourceKinds = []struct {
	kind   error
	status int
	code   string
}{
	{checkpoint.ErrForbidden, http.StatusForbidden, CodeForbiddenSource},
	{checkpoint.ErrNotFound, http.StatusNotFound, CodeSourceNotFound},
	{hub.ErrNotCached, http.StatusNotFound, CodeSourceNotFound},
	{weights.ErrDigestMismatch, http.StatusUnprocessableEntity, CodeDigestMismatch},
	{checkpoint.ErrNonFinite, http.StatusUnprocessableEntity, CodeNonFinite},
	{weights.ErrInvalid, http.StatusUnprocessableEntity, CodeInvalidCheckpoint},
	{context.Canceled, statusClientClosedRequest, CodeCancelled},
	{context.DeadlineExceeded, statusClientClosedRequest, CodeCancelled},
	{checkpoint.ErrHubUnavailable, http.StatusBadGateway, CodeHubUnavailable},
}

// sourceError classifies a failure to resolve or load a checkpoint source.
func sourceError(err error) *Error {
	for _, k := range sourceKinds {
		if errors.Is(err, k.kind) {
			return &Error{Status: k.status, Code: k.code, Message: err.Error(), Err: err}
		}
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidCheckpoint, Message: err.Error(), Err: err}
}
