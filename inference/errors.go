package inference

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Error kinds. Every error the core returns for a refused request or admin change matches one
// of them with errors.Is (loader and resolver errors keep their own kinds: model.ErrInvalid,
// checkpoint.ErrForbidden, ...); a front end maps kinds to its protocol with one table. An
// error matching none is a fault of the server.
var (
	ErrInvalidInput  = errors.New("invalid input")   // an unknown option value, a bad number, an id outside the vocabulary
	ErrEmptyInput    = errors.New("empty input")     // no inputs
	ErrTooManyInputs = errors.New("too many inputs") // more inputs than Options.MaxClientBatch
	ErrTooManyTokens = errors.New("too many tokens") // more tokens than Options.MaxRequestTokens
	ErrInputTooLong  = errors.New("input too long")  // an input over the token limit without truncation
	ErrMissingHead   = errors.New("missing head")    // several heads are loaded and none was named
	ErrUnknownHead   = errors.New("unknown head")    // the named head is not loaded (or none is)
	ErrOverloaded    = errors.New("overloaded")      // the queue is full, or the request waited too long in it
	ErrTimeout       = errors.New("request timeout") // the request ran past its deadline (see Embed)
	ErrCancelled     = errors.New("cancelled")       // the caller went away
	ErrNotReady      = errors.New("not ready")       // no model loaded yet
	ErrShuttingDown  = errors.New("shutting down")   // the core is closing

	ErrBusy              = errors.New("busy")               // another admin change is running
	ErrNoPrevious        = errors.New("no previous")        // nothing to roll back to
	ErrSourceChanged     = errors.New("source changed")     // the rollback source no longer holds those weights
	ErrHeadExists        = errors.New("head exists")        // a head of that name is loaded
	ErrGeometryChange    = errors.New("geometry change")    // the geometry differs and the change was not allowed
	ErrIncompatible      = errors.New("incompatible")       // tokenizer, token limit or heads do not fit the served model
	ErrInvalidCheckpoint = errors.New("invalid checkpoint") // a candidate failed to load or build, for no more specific kind
)

// Error is a refusal of one kind with a message for humans. Error() is the message alone: the
// cause is for logs.
type Error struct {
	Kind error
	Msg  string
	Err  error // the cause, if any
	// Drain is how long the queue that refused needs for what waits (ErrOverloaded): the
	// Retry-After of a front end.
	Drain time.Duration
}

func (e *Error) Error() string        { return e.Msg }
func (e *Error) Is(target error) bool { return target == e.Kind }
func (e *Error) Unwrap() error        { return e.Err }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// invalidCheckpoint marks a candidate's load failure as ErrInvalidCheckpoint unless a loader
// or resolver kind (which it still matches) says more: the checkpoint is at fault, not the server.
type invalidCheckpoint struct{ err error }

func (e invalidCheckpoint) Error() string        { return e.err.Error() }
func (e invalidCheckpoint) Unwrap() error        { return e.err }
func (e invalidCheckpoint) Is(target error) bool { return target == ErrInvalidCheckpoint }

func rejectCheckpoint(err error) error {
	if err == nil {
		return nil
	}
	return invalidCheckpoint{err}
}

// maxQuotedBytes is how much of a caller-supplied value an error message repeats.
const maxQuotedBytes = 96

// Clip shortens a caller-supplied value for an error message or a log line: it should name
// what was wrong, not echo a 100k-character source back.
func Clip(s string) string { return ClipN(s, maxQuotedBytes) }

// ClipN cuts s to at most n bytes (never inside a UTF-8 sequence), saying how long it was.
func ClipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}
