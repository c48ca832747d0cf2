package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/model"
)

// Error codes: the stable, machine-readable part of every error answer.
const (
	CodeInvalidJSON      = "invalid_json"       // 400: body is not JSON or a field has the wrong type
	CodeEmptyBody        = "empty_body"         // 400: no body at all
	CodeEmptyInput       = "empty_input"        // 400: no inputs / ids
	CodeInvalidArgument  = "invalid_argument"   // 400: an unknown enum value or an out-of-range number
	CodeMissingHead      = "missing_head"       // 400: several heads are loaded and none was named
	CodeUnknownHead      = "unknown_head"       // 404: the named head is not loaded (or none is)
	CodeNotFound         = "not_found"          // 404: no such route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodePayloadTooLarge  = "payload_too_large"  // 413: body over --payload-limit
	CodeTooManyInputs    = "too_many_inputs"    // 413: more inputs than --max-client-batch
	CodeInputTooLong     = "input_too_long"     // 422: over the token limit with truncate:false
	CodeOverloaded       = "overloaded"         // 429: the batch queue is full
	CodeNotReady         = "not_ready"          // 503: no model loaded yet
	CodeShuttingDown     = "shutting_down"      // 503: the server is draining
	CodeCancelled        = "cancelled"          // 499: the client went away (it never sees this)
	CodeInternal         = "internal"           // 500
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
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Body is the JSON the client receives.
func (e *Error) Body() api.ErrorResponse {
	return api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: e.Message}}
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// bindError classifies a failure to read or decode a JSON request body.
func bindError(err error) *Error {
	var maxBytes *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxBytes):
		return errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"request body is larger than the payload limit of %d bytes", maxBytes.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, CodeEmptyBody, "request body is empty: send a JSON object")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "%s: expected %s, got a JSON %s", field, typ.Type, typ.Value)
	default:
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "invalid request: %v", err)
	}
}

// computeError classifies an error from the engine or the model.
func computeError(err error) *Error {
	var input *model.InputError
	switch {
	case errors.Is(err, engine.ErrOverloaded):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeOverloaded,
			Message: "the server is overloaded: the batch queue is full, retry later", Err: err}
	case errors.Is(err, engine.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown,
			Message: "the server is shutting down", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: statusClientClosedRequest, Code: CodeCancelled,
			Message: "the request was cancelled", Err: err}
	case errors.As(err, &input):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Message: input.Error(), Err: err}
	default:
		return internalError(err)
	}
}

func internalError(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "internal server error", Err: err}
}

var errNotReady = errorf(http.StatusServiceUnavailable, CodeNotReady,
	"the model is not loaded yet: retry when GET /readyz answers 200")
