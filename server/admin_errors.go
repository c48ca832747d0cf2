package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/model"
)

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

// sourceError classifies a failure to resolve or load a checkpoint source.
func sourceError(err error) *Error {
	var (
		forbidden *checkpoint.ForbiddenError
		notFound  *checkpoint.NotFoundError
		httpErr   *hub.HTTPError
		cfgErr    *model.ConfigError
		missing   *model.MissingTensorError
		shape     *model.ShapeError
		nonFinite *model.NonFiniteError
		truncated *model.TruncatedFileError
		header    *model.HeaderError
		pickle    *model.UnsafePickleError
		dtype     *model.UnsupportedDTypeError
		digest    *checkpoint.DigestMismatchError
		probeNaN  *checkpoint.NonFiniteOutputError
		hubErr    *checkpoint.HubError
	)
	wrap := func(status int, code string) *Error {
		return &Error{Status: status, Code: code, Message: err.Error(), Err: err}
	}
	switch {
	case errors.As(err, &forbidden):
		return wrap(http.StatusForbidden, CodeForbiddenSource)
	case errors.As(err, &notFound):
		return wrap(http.StatusNotFound, CodeSourceNotFound)
	case errors.As(err, &digest):
		return wrap(http.StatusUnprocessableEntity, CodeDigestMismatch)
	case errors.As(err, &probeNaN):
		return wrap(http.StatusUnprocessableEntity, CodeNonFinite)
	case errors.As(err, &cfgErr), errors.As(err, &missing), errors.As(err, &shape), errors.As(err, &nonFinite),
		errors.As(err, &truncated), errors.As(err, &header), errors.As(err, &pickle), errors.As(err, &dtype):
		return wrap(http.StatusUnprocessableEntity, CodeInvalidCheckpoint)
	case errors.As(err, &httpErr) && (httpErr.StatusCode == http.StatusNotFound || httpErr.StatusCode == http.StatusUnauthorized):
		return wrap(http.StatusNotFound, CodeSourceNotFound)
	case errors.Is(err, hub.ErrNotCached):
		return wrap(http.StatusNotFound, CodeSourceNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return wrap(statusClientClosedRequest, CodeCancelled)
	case errors.As(err, &hubErr):
		return wrap(http.StatusBadGateway, CodeHubUnavailable)
	default:
		// Anything else from the model package (bad fuse weights, encoder construction) is a
		// property of the checkpoint, not a server fault.
		return wrap(http.StatusUnprocessableEntity, CodeInvalidCheckpoint)
	}
}
