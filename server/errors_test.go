package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

// checkError asserts an error answer: the status, the code, a message, and no stack trace.
func checkError(t *testing.T, code int, raw []byte, wantStatus int, wantCode string) {
	t.Helper()
	if code != wantStatus {
		t.Fatalf("status %d, want %d: %s", code, wantStatus, raw)
	}
	var e errorResp
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", raw)
	}
	if e.Error.Code != wantCode || e.Error.Message == "" {
		t.Errorf("error %+v, want code %q with a message", e.Error, wantCode)
	}
	if bytes.Contains(raw, []byte("goroutine")) || bytes.Contains(raw, []byte(".go:")) {
		t.Errorf("error body leaks a stack trace: %s", raw)
	}
}

// The whole error table of the API, over HTTP on the real router and model.
func TestErrorTable(t *testing.T) {
	opts := Options{MaxClientBatch: 4, PayloadLimit: 4096}
	plain := newServer(t, opts, inference.ModelConfig{Dir: tinyDir}).Handler()
	twoHeads := newServer(t, opts, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{
		{Name: "a", Dir: sentimentDir}, {Name: "b", Dir: sentimentDir}}}).Handler()
	notReady, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	longText := strings.Repeat("a ", 600) // ~600 tokens in 1200 bytes
	five := []string{"1", "2", "3", "4", "5"}

	tests := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"malformed JSON", plain, "POST", "/v1/embed", `{"inputs": `, 400, CodeInvalidJSON},
		{"not JSON", plain, "POST", "/v1/embed", `hello`, 400, CodeInvalidJSON},
		{"empty body", plain, "POST", "/v1/embed", ``, 400, CodeEmptyBody},
		{"inputs wrong type", plain, "POST", "/v1/embed", `{"inputs": 5}`, 400, CodeInvalidJSON},
		{"inputs list wrong type", plain, "POST", "/v1/embed", `{"inputs": ["a", 1]}`, 400, CodeInvalidJSON},
		{"normalize wrong type", plain, "POST", "/v1/embed", `{"inputs": "a", "normalize": "yes"}`, 400, CodeInvalidJSON},
		{"inputs missing", plain, "POST", "/v1/embed", `{}`, 400, CodeEmptyInput},
		{"inputs null", plain, "POST", "/v1/embed", `{"inputs": null}`, 400, CodeEmptyInput},
		{"inputs empty list", plain, "POST", "/v1/embed", `{"inputs": []}`, 400, CodeEmptyInput},
		{"unknown pooling", plain, "POST", "/v1/embed", `{"inputs": "a", "pooling": "max"}`, 400, CodeInvalidArgument},
		{"too many inputs: embed", plain, "POST", "/v1/embed", map[string]any{"inputs": five}, 413, CodeTooManyInputs},
		{"payload over limit", plain, "POST", "/v1/embed", map[string]any{"inputs": strings.Repeat("x", 5000)}, 413, CodePayloadTooLarge},
		{"too long without truncation", plain, "POST", "/v1/embed", map[string]any{"inputs": longText, "truncate": false}, 422, CodeInputTooLong},

		{"classify: malformed JSON", plain, "POST", "/v1/classify", `{"inputs"`, 400, CodeInvalidJSON},
		{"classify: empty inputs", twoHeads, "POST", "/v1/classify", `{"inputs": [], "head": "a"}`, 400, CodeEmptyInput},
		{"classify: bad top_k", twoHeads, "POST", "/v1/classify", `{"inputs": "x", "head": "a", "top_k": 0}`, 400, CodeInvalidArgument},
		{"classify: top_k wrong type", twoHeads, "POST", "/v1/classify", `{"inputs": "x", "top_k": "all"}`, 400, CodeInvalidJSON},
		{"classify: head required", twoHeads, "POST", "/v1/classify", `{"inputs": "x"}`, 400, CodeMissingHead},
		{"classify: no head loaded", plain, "POST", "/v1/classify", `{"inputs": "x"}`, 404, CodeUnknownHead},
		{"classify: unknown head", twoHeads, "POST", "/v1/classify", `{"inputs": "x", "head": "nope"}`, 404, CodeUnknownHead},
		{"classify: too many inputs", twoHeads, "POST", "/v1/classify", map[string]any{"inputs": five, "head": "a"}, 413, CodeTooManyInputs},

		{"tokenize: empty inputs", plain, "POST", "/v1/tokenize", `{"inputs": []}`, 400, CodeEmptyInput},
		{"tokenize: wrong type", plain, "POST", "/v1/tokenize", `{"inputs": {"a": 1}}`, 400, CodeInvalidJSON},
		{"tokenize: too many inputs", plain, "POST", "/v1/tokenize", map[string]any{"inputs": five}, 413, CodeTooManyInputs},

		{"decode: empty ids", plain, "POST", "/v1/decode", `{"ids": []}`, 400, CodeEmptyInput},
		{"decode: missing ids", plain, "POST", "/v1/decode", `{}`, 400, CodeEmptyInput},
		{"decode: id outside vocabulary", plain, "POST", "/v1/decode", `{"ids": [0, 50265, 2]}`, 400, CodeInvalidArgument},
		{"decode: negative id", plain, "POST", "/v1/decode", `{"ids": [[0, 2], [-1]]}`, 400, CodeInvalidArgument},
		{"decode: fractional id", plain, "POST", "/v1/decode", `{"ids": [1.5]}`, 400, CodeInvalidJSON},
		{"decode: id over int32", plain, "POST", "/v1/decode", `{"ids": [4294967296]}`, 400, CodeInvalidJSON},
		{"decode: mixed nesting", plain, "POST", "/v1/decode", `{"ids": [[1], 2]}`, 400, CodeInvalidJSON},
		{"decode: too many sequences", plain, "POST", "/v1/decode", `{"ids": [[0],[0],[0],[0],[0]]}`, 413, CodeTooManyInputs},

		{"not ready: embed", notReady.Handler(), "POST", "/v1/embed", `{"inputs": "a"}`, 503, CodeNotReady},
		{"not ready: classify", notReady.Handler(), "POST", "/v1/classify", `{"inputs": "a"}`, 503, CodeNotReady},
		{"not ready: tokenize", notReady.Handler(), "POST", "/v1/tokenize", `{"inputs": "a"}`, 503, CodeNotReady},
		{"not ready: decode", notReady.Handler(), "POST", "/v1/decode", `{"ids": [0]}`, 503, CodeNotReady},
		{"not ready: models", notReady.Handler(), "GET", "/v1/models", nil, 503, CodeNotReady},
		{"not ready: readyz", notReady.Handler(), "GET", "/readyz", nil, 503, CodeNotReady},

		{"unknown route", plain, "GET", "/v1/nope", nil, 404, CodeNotFound},
		{"wrong method", plain, "GET", "/v1/embed", nil, 405, CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := do(t, tt.h, tt.method, tt.path, tt.body)
			checkError(t, code, raw, tt.status, tt.code)
		})
	}
}

// A body without Content-Length is cut off by the reader at the payload limit.
func TestPayloadLimitWithoutContentLength(t *testing.T) {
	s := newServer(t, Options{PayloadLimit: 1024}, inference.ModelConfig{Dir: tinyDir})
	body := fmt.Sprintf(`{"inputs": %q}`, strings.Repeat("x", 2000))
	req := httptest.NewRequest("POST", "/v1/embed", strings.NewReader(body))
	req.ContentLength = -1 // as with chunked transfer encoding
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	checkError(t, rec.Code, rec.Body.Bytes(), 413, CodePayloadTooLarge)
}

// After Close (graceful shutdown), inference answers 503 shutting_down and /readyz turns 503.
func TestShuttingDownAnswers503(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, raw := do(t, s.Handler(), "POST", "/v1/embed", `{"inputs": "a"}`)
	checkError(t, code, raw, 503, CodeShuttingDown)
	code, raw = do(t, s.Handler(), "GET", "/readyz", nil)
	checkError(t, code, raw, 503, CodeShuttingDown)
	if code, _ := do(t, s.Handler(), "GET", "/healthz", nil); code != 200 {
		t.Errorf("/healthz answered %d while shutting down", code)
	}
}

// A panicking handler answers a JSON 500 without a stack trace and the server keeps serving.
func TestRecoveryAnswersJSON500(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	s.router.GET("/test-panic", func(*gin.Context) { panic("kaboom at some/file.go:12") })
	code, raw := do(t, s.Handler(), "GET", "/test-panic", nil)
	if code != 500 {
		t.Fatalf("status %d", code)
	}
	var e errorResp
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code != CodeInternal || strings.Contains(string(raw), "kaboom") {
		t.Errorf("panic answer %s", raw)
	}
	if code, _ := do(t, s.Handler(), "GET", "/healthz", nil); code != 200 {
		t.Errorf("/healthz after a panic: %d", code)
	}
}

// Every kind of error the core and the packages below it return maps to its documented status
// and code, wrapped or not; anything else is a 500 that does not leak its cause.
func TestErrorKindsMapToHTTP(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{&inference.Error{Kind: inference.ErrOverloaded, Msg: "full", Err: engine.ErrOverloaded}, 429, CodeOverloaded},
		{&inference.Error{Kind: inference.ErrShuttingDown, Msg: "closing", Err: engine.ErrClosed}, 503, CodeShuttingDown},
		{&inference.Error{Kind: inference.ErrCancelled, Msg: "gone", Err: context.Canceled}, statusClientClosedRequest, CodeCancelled},
		{&inference.Error{Kind: inference.ErrInvalidInput, Msg: "bad", Err: &encoder.InputError{Seq: 0, Reason: "no tokens"}}, 400, CodeInvalidArgument},
		{&inference.Error{Kind: inference.ErrTimeout, Msg: "late"}, 504, CodeTimeout},
		{&inference.Error{Kind: inference.ErrNotReady, Msg: "wait"}, 503, CodeNotReady},
		{&inference.Error{Kind: inference.ErrEmptyInput, Msg: "empty"}, 400, CodeEmptyInput},
		{&inference.Error{Kind: inference.ErrTooManyInputs, Msg: "many"}, 413, CodeTooManyInputs},
		{&inference.Error{Kind: inference.ErrTooManyTokens, Msg: "many"}, 413, CodeTooManyTokens},
		{&inference.Error{Kind: inference.ErrInputTooLong, Msg: "long"}, 422, CodeInputTooLong},
		{&inference.Error{Kind: inference.ErrMissingHead, Msg: "which"}, 400, CodeMissingHead},
		{&inference.Error{Kind: inference.ErrUnknownHead, Msg: "who"}, 404, CodeUnknownHead},
		{&inference.Error{Kind: inference.ErrBusy, Msg: "busy"}, 409, CodeBusy},
		{&inference.Error{Kind: inference.ErrNoPrevious, Msg: "none"}, 409, CodeNoPrevious},
		{&inference.Error{Kind: inference.ErrSourceChanged, Msg: "changed"}, 409, CodeSourceChanged},
		{&inference.Error{Kind: inference.ErrHeadExists, Msg: "dup"}, 409, CodeHeadExists},
		{&inference.Error{Kind: inference.ErrGeometryChange, Msg: "shape"}, 422, CodeGeometryChange},
		{&inference.Error{Kind: inference.ErrIncompatible, Msg: "tok"}, 422, CodeIncompatible},
		{fmt.Errorf("swap: %w", &inference.NonFiniteOutputError{}), 422, CodeNonFinite},
		{fmt.Errorf("swap: %w", &checkpoint.ForbiddenError{Source: "x"}), 403, CodeForbiddenSource},
		{&checkpoint.NotFoundError{Source: "x", Err: fs.ErrNotExist}, 404, CodeSourceNotFound},
		{&checkpoint.OutputExistsError{Dir: "x"}, 409, CodeOutputExists},
		{&weights.DigestMismatchError{}, 422, CodeDigestMismatch},
		{&checkpoint.HubError{Repo: "a/b", Err: errors.New("dial tcp: refused")}, 502, CodeHubUnavailable},
		{context.DeadlineExceeded, statusClientClosedRequest, CodeCancelled},
		{errors.New("kernel exploded"), 500, CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := httpError(tt.err)
			if e.Status != tt.status || e.Code != tt.code || !errors.Is(e, tt.err) {
				t.Errorf("httpError(%v) = %v, want %d %s", tt.err, e, tt.status, tt.code)
			}
			if e.Status == 500 && strings.Contains(e.Message, "exploded") {
				t.Errorf("500 message leaks the cause: %q", e.Message)
			}
		})
	}
}

// 429 answers carry Retry-After.
func TestOverloadedAnswerHasRetryAfter(t *testing.T) {
	s, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s.router.GET("/test-overload", func(c *gin.Context) {
		s.fail(c, httpError(&inference.Error{Kind: inference.ErrOverloaded, Msg: "full", Err: engine.ErrOverloaded}))
	})
	req := httptest.NewRequest("GET", "/test-overload", nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	checkError(t, rec.Code, rec.Body.Bytes(), 429, CodeOverloaded)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After header")
	}
}

// The 422 for an over-long input names its full token count: the count /v1/tokenize gives,
// which never truncates.
func TestTooLongReportsFullLength(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	text := strings.Repeat("a ", 600)
	code, raw := do(t, s.Handler(), "POST", "/v1/tokenize", map[string]any{"inputs": text})
	if code != 200 {
		t.Fatalf("tokenize answered %d: %s", code, raw)
	}
	var toks api.TokenizeResponse
	if err := json.Unmarshal(raw, &toks); err != nil {
		t.Fatal(err)
	}
	full := len(toks.Tokens[0])
	code, raw = do(t, s.Handler(), "POST", "/v1/embed", map[string]any{"inputs": text, "truncate": false})
	checkError(t, code, raw, 422, CodeInputTooLong)
	if want := fmt.Sprintf("has %d tokens", full); !strings.Contains(string(raw), want) {
		t.Errorf("422 message %s does not say %q", raw, want)
	}
}
