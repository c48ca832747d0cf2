package weights

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// The loader reports every problem with a checkpoint as one of the typed errors below, so
// callers can tell a bad file from a bad config with errors.As and show the user exactly which
// file, field or tensor is at fault. Each message names that file, field or tensor.
//
// Every one of them also matches ErrInvalid with errors.Is, so a front end that only needs the
// kind (to pick a status) maps one sentinel instead of switching over the types.

// ErrInvalid is the kind of every typed loader error: the files are not a checkpoint this
// encoder can run.
var ErrInvalid = errors.New("invalid checkpoint")

func (e *ConfigError) Is(target error) bool           { return target == ErrInvalid }
func (e *MissingTensorError) Is(target error) bool    { return target == ErrInvalid }
func (e *ShapeError) Is(target error) bool            { return target == ErrInvalid }
func (e *NonFiniteError) Is(target error) bool        { return target == ErrInvalid }
func (e *TruncatedFileError) Is(target error) bool    { return target == ErrInvalid }
func (e *HeaderError) Is(target error) bool           { return target == ErrInvalid }
func (e *UnsafePickleError) Is(target error) bool     { return target == ErrInvalid }
func (e *UnsupportedDTypeError) Is(target error) bool { return target == ErrInvalid }
func (e *NoWeightsError) Is(target error) bool {
	return target == ErrInvalid || target == fs.ErrNotExist
}

// NoWeightsError says a directory holds none of the weight files the loader reads.
type NoWeightsError struct{ Dir string }

func (e *NoWeightsError) Error() string {
	return fmt.Sprintf("no %s, %s or %s in %s", safetensorsName, shardIndexFile, pytorchBinFile, e.Dir)
}

// ConfigError says config.json is missing, unreadable, or describes a model we cannot run.
type ConfigError struct {
	Path   string // config.json path; empty for an in-memory Config
	Field  string // the offending JSON field ("hidden_act"), empty when the file itself is at fault
	Reason string
	Err    error // underlying cause (an fs or JSON error), if any
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Field != "" {
		b.WriteString(": field " + e.Field)
	}
	b.WriteString(": " + e.Reason)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// located appends to a tensor error's message where it happened (" in source") and why
// (" (reason)"), each only when known.
func located(msg, source, reason string) string {
	if source != "" {
		msg += " in " + source
	}
	if reason != "" {
		msg += " (" + reason + ")"
	}
	return msg
}

// MissingTensorError says a tensor the config requires is absent (or only part of an optional
// group such as the classification head is present).
type MissingTensorError struct {
	Tensor string // canonical key, e.g. "encoder.layer.1.output.dense.bias"
	Source string // checkpoint directory or file, if known
	Reason string // optional detail ("classifier.dense.weight is present")
}

func (e *MissingTensorError) Error() string {
	return located("missing tensor "+e.Tensor, e.Source, e.Reason)
}

// ShapeError says a tensor's shape disagrees with the config (or with its sibling tensors).
type ShapeError struct {
	Tensor string
	Source string
	Got    []int
	Want   []int
	Reason string // optional detail
}

func (e *ShapeError) Error() string {
	return located(fmt.Sprintf("tensor %s has shape %v, want %v", e.Tensor, e.Got, e.Want), e.Source, e.Reason)
}

// NonFiniteError says a tensor holds a NaN or an infinity, which would poison every output.
type NonFiniteError struct {
	Tensor string
	Source string
	Index  int     // flat row-major index of the first bad value
	Value  float32 // the bad value
}

func (e *NonFiniteError) Error() string {
	return located(fmt.Sprintf("tensor %s holds non-finite value %v at flat index %d", e.Tensor, e.Value, e.Index), e.Source, "")
}

// TruncatedFileError says a file ends before the data its header promises.
type TruncatedFileError struct {
	File   string
	Tensor string // the tensor whose bytes are missing, if one is known
	Want   int64  // bytes the header requires (0 when unknown, e.g. a zip without its directory)
	Got    int64  // bytes the file has
	Reason string // optional detail
}

func (e *TruncatedFileError) Error() string {
	msg := fmt.Sprintf("file %s is truncated: ", e.File)
	if e.Want > 0 {
		msg += fmt.Sprintf("needs %d bytes, has %d", e.Want, e.Got)
	} else {
		msg += fmt.Sprintf("has %d bytes", e.Got)
	}
	if e.Tensor != "" {
		msg += " (tensor " + e.Tensor + ")"
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// HeaderError says a checkpoint file's own metadata is malformed: a safetensors header that is
// not JSON or declares an absurd length, inconsistent offsets, a corrupt zip or pickle.
type HeaderError struct {
	File   string
	Tensor string // the entry at fault, if one is known
	Reason string
	Err    error
}

func (e *HeaderError) Error() string {
	msg := "bad header in " + e.File
	if e.Tensor != "" {
		msg += " for tensor " + e.Tensor
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *HeaderError) Unwrap() error { return e.Err }

// UnsafePickleError says a pytorch_model.bin pickle names a Python global outside the small
// allow-list of tensor-storage and state-dict constructors. Such a file could run arbitrary code
// under Python's torch.load; coldserve refuses it without executing anything.
type UnsafePickleError struct {
	File   string
	Global string // "module.name", e.g. "os.system"
}

func (e *UnsafePickleError) Error() string {
	return fmt.Sprintf("unsafe pickle %s: global %s is not allowed in a state dict", e.File, e.Global)
}

// UnsupportedDTypeError says a tensor the model needs is stored in a dtype we do not convert
// (we read F32, F16, BF16 and F64, widening or narrowing to float32).
type UnsupportedDTypeError struct {
	File   string
	Tensor string
	DType  string
}

func (e *UnsupportedDTypeError) Error() string {
	return fmt.Sprintf("tensor %s in %s has unsupported dtype %s (want F32, F16, BF16 or F64)", e.Tensor, e.File, e.DType)
}
