package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

// Error codes: the stable, machine-readable part of every error answer.
const (
	CodeInvalidJSON          = "invalid_json"           // 400: not one JSON object, a wrong type, an unknown or miscased field
	CodeEmptyBody            = "empty_body"             // 400: no body at all
	CodeEmptyInput           = "empty_input"            // 400: no inputs / ids
	CodeInvalidArgument      = "invalid_argument"       // 400: an unknown enum value or an out-of-range number
	CodeMissingHead          = "missing_head"           // 400: several heads are loaded and none was named
	CodeUnknownHead          = "unknown_head"           // 404: the named head is not loaded (or none is)
	CodeNotFound             = "not_found"              // 404: no such route
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeBodyTimeout          = "body_timeout"           // 408: the body did not arrive within --body-read-timeout
	CodePayloadTooLarge      = "payload_too_large"      // 413: body over --payload-limit
	CodeTooManyInputs        = "too_many_inputs"        // 413: more inputs than --max-client-batch
	CodeTooManyTokens        = "too_many_tokens"        // 413: more tokens than --max-request-tokens
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: a Content-Type other than JSON, or a Content-Encoding
	CodeInputTooLong         = "input_too_long"         // 422: over the token limit with truncate:false
	CodeOverloaded           = "overloaded"             // 429: the batch queue is full, or the request waited too long in it
	CodeNotReady             = "not_ready"              // 503: no model loaded yet
	CodeShuttingDown         = "shutting_down"          // 503: the server is draining
	CodeTimeout              = "timeout"                // 504: the request took longer than --request-timeout
	CodeCancelled            = "cancelled"              // 499: the client went away (it never sees this)
	CodeInternal             = "internal"               // 500
)

// statusClientClosedRequest is nginx's non-standard status for a request the client abandoned.
const statusClientClosedRequest = 499

// Error is an HTTP error answer: a status, a code from the list above and a message for humans.
// Handlers return it; respond turns it into {"error": {"code", "message"}}.
type Error struct {
	Status  int
	Code    string
	Message string
	// Err is the underlying cause, logged for 5xx answers and never sent to the client.
	Err error
	// RetryAfter is the Retry-After of a 429 or 503, in seconds (0: the header says 1).
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// maxMessageBytes caps an error message: messages quote client input (clipped by Clip), and
// no error answer may cost more than a few kilobytes however large the request was.
const maxMessageBytes = 2048

// Body is the JSON the client receives.
func (e *Error) Body() api.ErrorResponse {
	return api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: inference.ClipN(e.Message, maxMessageBytes)}}
}

// clip shortens a client-supplied value for an error message.
func clip(s string) string { return inference.Clip(s) }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorKinds maps every kind of error the core returns to its status and code, first match
// wins: the core's own kinds, then loader and resolver kinds (a refused candidate matches
// one of those before inference.ErrInvalidCheckpoint). An error matching none is a fault of
// the server: 500 internal, its cause logged and never sent.
var errorKinds = []struct {
	kind   error
	status int
	code   string
}{
	{inference.ErrInvalidInput, http.StatusBadRequest, CodeInvalidArgument},
	{inference.ErrEmptyInput, http.StatusBadRequest, CodeEmptyInput},
	{inference.ErrMissingHead, http.StatusBadRequest, CodeMissingHead},
	{inference.ErrUnknownHead, http.StatusNotFound, CodeUnknownHead},
	{inference.ErrTooManyInputs, http.StatusRequestEntityTooLarge, CodeTooManyInputs},
	{inference.ErrTooManyTokens, http.StatusRequestEntityTooLarge, CodeTooManyTokens},
	{inference.ErrInputTooLong, http.StatusUnprocessableEntity, CodeInputTooLong},
	{inference.ErrOverloaded, http.StatusTooManyRequests, CodeOverloaded},
	{inference.ErrTimeout, http.StatusGatewayTimeout, CodeTimeout},
	{inference.ErrCancelled, statusClientClosedRequest, CodeCancelled},
	{inference.ErrNotReady, http.StatusServiceUnavailable, CodeNotReady},
	{inference.ErrShuttingDown, http.StatusServiceUnavailable, CodeShuttingDown},

	{inference.ErrBusy, http.StatusConflict, CodeBusy},
	{inference.ErrNoPrevious, http.StatusConflict, CodeNoPrevious},
	{inference.ErrSourceChanged, http.StatusConflict, CodeSourceChanged},
	{inference.ErrHeadExists, http.StatusConflict, CodeHeadExists},
	{inference.ErrGeometryChange, http.StatusUnprocessableEntity, CodeGeometryChange},
	{inference.ErrIncompatible, http.StatusUnprocessableEntity, CodeIncompatible},
	{inference.ErrNonFinite, http.StatusUnprocessableEntity, CodeNonFinite},

	{checkpoint.ErrForbidden, http.StatusForbidden, CodeForbiddenSource},
	{checkpoint.ErrNotFound, http.StatusNotFound, CodeSourceNotFound},
	{hub.ErrNotCached, http.StatusNotFound, CodeSourceNotFound},
	{checkpoint.ErrOutputExists, http.StatusConflict, CodeOutputExists},
	{weights.ErrDigestMismatch, http.StatusUnprocessableEntity, CodeDigestMismatch},
	{weights.ErrInvalid, http.StatusUnprocessableEntity, CodeInvalidCheckpoint},
	{context.Canceled, statusClientClosedRequest, CodeCancelled},
	{context.DeadlineExceeded, statusClientClosedRequest, CodeCancelled},
	{checkpoint.ErrHubUnavailable, http.StatusBadGateway, CodeHubUnavailable},
	{inference.ErrInvalidCheckpoint, http.StatusUnprocessableEntity, CodeInvalidCheckpoint},
}

// httpError maps an error of the core (or of the packages below it) to its answer.
func httpError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.kind) {
			e = &Error{Status: k.status, Code: k.code, Message: err.Error(), Err: err}
			var ie *inference.Error
			if errors.As(err, &ie) && e.Status == http.StatusTooManyRequests {
				e.RetryAfter = retryAfter(ie.Drain)
			}
			return e
		}
	}
	return internalError(err)
}

func internalError(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "internal server error", Err: err}
}

var errShuttingDown = errorf(http.StatusServiceUnavailable, CodeShuttingDown,
	"the server is shutting down: retry on another replica")

// errShuttingDownBody is what reading a request body returns once shutdown has cut it: the
// request had not been admitted, so it is refused with 503 rather than waited for.
var errShuttingDownBody = errors.New("server: shutting down while the request body was read")
