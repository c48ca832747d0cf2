package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
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

// maxMessageBytes caps an error message: messages quote client input (clipped by clip), and
// no error answer may cost more than a few kilobytes however large the request was.
const maxMessageBytes = 2048

// Body is the JSON the client receives.
func (e *Error) Body() api.ErrorResponse {
	return api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: clipN(e.Message, maxMessageBytes)}}
}

// maxQuotedBytes is how much of a client-supplied value an error message repeats.
const maxQuotedBytes = 96

// clip shortens a client-supplied value for an error message: the message should name what
// was wrong, not echo a 100k-character source back.
func clip(s string) string { return clipN(s, maxQuotedBytes) }

func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) { // never split a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// computeError classifies an error from the engine or the model.
func computeError(err error) *Error {
	var input *encoder.InputError
	switch {
	case errors.Is(err, engine.ErrOverloaded):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeOverloaded,
			Message: "the server is overloaded: the batch queue is full, retry after Retry-After seconds", Err: err}
	case errors.Is(err, engine.ErrQueueTimeout):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeOverloaded,
			Message: "the server is overloaded: the request waited longer than --max-queue-wait for a forward pass, retry after Retry-After seconds", Err: err}
	case errors.Is(err, errRequestTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Code: CodeTimeout,
			Message: "the request took longer than the request timeout (--request-timeout) and was dropped", Err: err}
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

var errShuttingDown = errorf(http.StatusServiceUnavailable, CodeShuttingDown,
	"the server is shutting down: retry on another replica")

// errRequestTimeout is the cause of a request context that ran past --request-timeout; it
// tells that deadline apart from the client going away.
var errRequestTimeout = errors.New("request timeout")

// errShuttingDownBody is what reading a request body returns once shutdown has cut it: the
// request had not been admitted, so it is refused with 503 rather than waited for.
var errShuttingDownBody = errors.New("server: shutting down while the request body was read")
