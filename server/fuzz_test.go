package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/api/openai"
	"github.com/coldserve/coldserve/api/tei"
	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/inference"
)

// The request decoders of every route are fuzzed through the real router, on a served model:
// whatever the body and Content-Type, the answer is 200 or a typed 4xx in the error shape,
// never a panic, a 5xx or an untyped error. Seeds live in testdata/fuzz/<target>/ (crashers
// found by `go test -fuzz` are committed there as regression cases); run one with e.g.
//
//	go test -run '^$' -fuzz FuzzEmbed -fuzztime 3m ./server/

// errorCodes are the codes an answer may carry: every code the server defines.
var errorCodes = map[string]bool{}

func init() {
	for _, c := range []string{CodeInvalidJSON, CodeEmptyBody, CodeEmptyInput, CodeInvalidArgument, CodeMissingHead,
		CodeUnknownHead, CodeNotFound, CodeMethodNotAllowed, CodeBodyTimeout, CodePayloadTooLarge, CodeTooManyInputs,
		CodeTooManyTokens, CodeUnsupportedMediaType, CodeInputTooLong, CodeOverloaded, CodeNotReady, CodeShuttingDown,
		CodeTimeout, CodeAdminDisabled, CodeUnauthorized, CodeForbiddenSource, CodeSourceNotFound, CodeInvalidCheckpoint,
		CodeDigestMismatch, CodeGeometryChange, CodeIncompatible, CodeNonFinite, CodeBusy, CodeNoPrevious,
		CodeSourceChanged, CodeHeadExists, CodeOutputExists} {
		errorCodes[c] = true
	}
}

// fuzzRoute fuzzes POST path with bodies seeded by seeds and a Content-Type chosen by the
// fuzzer's byte.
func fuzzRoute(f *testing.F, path string, seeds ...string) {
	// Admin sources resolve under an empty root: nothing loads, so nothing is ever swapped
	// or written, but every step up to loading runs.
	root := f.TempDir()
	s := newServer(f, Options{PayloadLimit: 64 << 10, MaxClientBatch: 8,
		Admin: AdminOptions{Token: "tok", Sources: &checkpoint.Resolver{Roots: []string{root}}}},
		inference.ModelConfig{Dir: sentimentDir, MaxInputTokens: 64})
	for _, seed := range seeds {
		f.Add([]byte(seed), byte(0))
	}
	contentTypes := []string{"application/json", "", "text/plain", "application/json; charset=utf-8", "application/x-www-form-urlencoded"}
	f.Fuzz(func(t *testing.T, body []byte, ct byte) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		if c := contentTypes[int(ct)%len(contentTypes)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		checkTypedAnswer(t, path, rec.Code, rec.Body.Bytes())
	})
}

// teiErrorTypes are the error types the TEI routes answer with.
var teiErrorTypes = map[string]bool{tei.ErrValidation: true, tei.ErrTokenizer: true, tei.ErrOverloaded: true,
	tei.ErrUnhealthy: true, tei.ErrBackend: true, tei.ErrEmpty: true}

// checkTypedAnswer requires 200 with a JSON body, or a 4xx in path's error shape: a known
// error code (native), a known error_type (TEI), or OpenAI's error object with a known code.
func checkTypedAnswer(t *testing.T, path string, status int, raw []byte) {
	t.Helper()
	if status == http.StatusOK {
		if !json.Valid(raw) {
			t.Fatalf("200 with a body that is not JSON: %.200q", raw)
		}
		return
	}
	var what string
	switch {
	case teiPaths[path]:
		var e tei.ErrorResponse
		if err := json.Unmarshal(raw, &e); err != nil || !teiErrorTypes[e.ErrorType] || e.Error == "" {
			t.Fatalf("status %d with an untyped TEI answer: %.300q", status, raw)
		}
		what = e.ErrorType + ": " + e.Error
	case openAIPaths[path]:
		var e openai.ErrorResponse
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == nil || !errorCodes[*e.Error.Code] || e.Error.Message == "" || e.Error.Type == "" {
			t.Fatalf("status %d with an untyped OpenAI answer: %.300q", status, raw)
		}
		what = *e.Error.Code + ": " + e.Error.Message
	default:
		var e errorResp
		if err := json.Unmarshal(raw, &e); err != nil || !errorCodes[e.Error.Code] || e.Error.Message == "" {
			t.Fatalf("status %d with an untyped answer: %.300q", status, raw)
		}
		what = e.Error.Code + ": " + e.Error.Message
	}
	if status < 400 || status >= 500 {
		t.Fatalf("status %d (%s), want 200 or a 4xx", status, what)
	}
}

func FuzzEmbed(f *testing.F) {
	fuzzRoute(f, "/v1/embed",
		`{"inputs": "Hello world"}`, `{"inputs": ["a", "b"], "pooling": "cls", "normalize": true}`,
		`{"inputs": "x", "pooling": "none", "return_tokens": true}`, `{"inputs": ["a", null]}`,
		`{"inputs": "a", "truncate": false}`, `{"Inputs": "a"}`, `{"inputs": "a"}garbage`, `{"inputs": []}`,
		`{"inputs": 5}`, `[]`, `null`, ``, `{"inputs": "\ud800"}`, `{"inputs": "a", "pooling": "max"}`)
}

func FuzzClassify(f *testing.F) {
	fuzzRoute(f, "/v1/classify",
		`{"inputs": "what a lovely day"}`, `{"inputs": ["a", "b"], "top_k": 2, "raw_scores": true}`,
		`{"inputs": "a", "head": "nope"}`, `{"inputs": "a", "top_k": 0}`, `{"inputs": "a", "top_k": -9223372036854775808}`,
		`{"inputs": "a", "top_k": 1e400}`, `{"inputs": [["a", "b"]]}`,
		`{"inputs": [["premise", "hypothesis"], "text"], "truncation_strategy": "only_second", "truncation_direction": "left"}`,
		`{"inputs": [["a", "b", "c"]]}`, `{"inputs": [[]]}`, `{"inputs": [["a", null]]}`, `{"inputs": "a", "heads": "*"}`,
		`{"inputs": "a", "heads": ["*", "x"], "head": "y"}`, `{"inputs": "a", "truncate": false, "truncation_strategy": "MIDDLE"}`)
}

func FuzzRerank(f *testing.F) {
	fuzzRoute(f, "/v1/rerank",
		`{"query": "q", "texts": ["a", "b"], "label": "positive", "top_n": 1, "return_text": true}`,
		`{"query": "q", "texts": []}`, `{"query": "q", "texts": ["a"]}`, `{"query": "q", "texts": ["a"], "label": "POSITIVE", "top_n": -1}`,
		`{"query": "", "texts": [""], "label": "x"}`, `{"texts": ["a", null]}`)
}

func FuzzZeroShot(f *testing.F) {
	fuzzRoute(f, "/v1/zero-shot",
		`{"inputs": "a text", "candidate_labels": "x, y", "hypothesis_template": "It is {}."}`,
		`{"inputs": ["a", "b"], "candidate_labels": ["x"], "multi_label": true}`, `{"inputs": "a", "candidate_labels": []}`,
		`{"inputs": "a", "candidate_labels": "x", "hypothesis_template": "{}{}"}`, `{"inputs": "a", "candidate_labels": [null]}`)
}

func FuzzTEIEmbed(f *testing.F) {
	fuzzRoute(f, "/embed",
		`{"inputs": "Hello world"}`, `{"inputs": ["a", "b"], "normalize": false, "truncate": true, "truncation_direction": "Left"}`,
		`{"inputs": [0, 31414, 2]}`, `{"inputs": [[0, 2], "b"], "dimensions": 8}`, `{"inputs": [], "dimensions": 0}`,
		`{"inputs": [[-1]]}`, `{"inputs": [[]]}`, `{"inputs": "a", "prompt_name": "q"}`, `{"inputs": [1.5]}`)
}

func FuzzTEIPredict(f *testing.F) {
	fuzzRoute(f, "/predict",
		`{"inputs": "I like you."}`, `{"inputs": ["a", "b"], "raw_scores": true}`, `{"inputs": [["a"], ["b", "c"]]}`,
		`{"inputs": ["a", "b", "c"]}`, `{"inputs": [["a", "b", "c"]]}`, `{"inputs": []}`, `{"inputs": [[]]}`, `{"inputs": [null]}`)
}

func FuzzTEIRerank(f *testing.F) {
	fuzzRoute(f, "/rerank", `{"query": "q", "texts": ["a", "b"], "return_text": true, "raw_scores": true}`, `{"query": "q", "texts": []}`)
}

func FuzzTEITokenize(f *testing.F) {
	fuzzRoute(f, "/tokenize", `{"inputs": "héllo wörld"}`, `{"inputs": ["a", "b"], "add_special_tokens": false}`, `{"inputs": "\ud800<mask>"}`)
}

func FuzzOpenAIEmbeddings(f *testing.F) {
	fuzzRoute(f, "/v1/embeddings",
		`{"model": "m", "input": ["a"], "encoding_format": "base64"}`, `{"input": "a", "dimensions": 4, "user": "u"}`,
		`{"input": [[0, 2], "b"], "encoding_format": "float"}`, `{"input": [], "encoding_format": "f16"}`, `{"Input": "a"}`)
}

func FuzzTokenize(f *testing.F) {
	fuzzRoute(f, "/v1/tokenize",
		`{"inputs": "Hello world"}`, `{"inputs": ["a", "b"], "add_special_tokens": false}`, `{"inputs": [null]}`,
		`{"inputs": "\u0000\uffff"}`)
}

func FuzzDecode(f *testing.F) {
	fuzzRoute(f, "/v1/decode",
		`{"ids": [0, 31414, 232, 2]}`, `{"ids": [[0, 2], [0, 232, 2]], "skip_special_tokens": false}`,
		`{"ids": [-1]}`, `{"ids": [4294967296]}`, `{"ids": [[1], 2]}`, `{"ids": [0, null]}`, `{"ids": []}`)
}

func FuzzAdmin(f *testing.F) {
	fuzzRoute(f, "/admin/checkpoint",
		`{"source": "models/itr13", "dry_run": true}`, `{"source": "ibm/ColD-Fusion-itr13-seed0", "revision": "main"}`,
		`{"source": "../../etc", "sha256": "sha256:3f2a9c0d17be"}`, `{"source": "x", "sha256": "zz"}`, `{"source": ""}`)
}

func FuzzAdminFuse(f *testing.F) {
	fuzzRoute(f, "/admin/fuse",
		`{"sources": ["a", "b"], "weights": [2, 1], "output": "itr14"}`, `{"sources": [], "activate": true}`,
		`{"sources": ["a"], "weights": [-1], "output": "o"}`, `{"sources": ["a"], "weights": [1, null], "output": "o"}`)
}

func FuzzAdminHeads(f *testing.F) {
	fuzzRoute(f, "/admin/heads",
		`{"name": "sentiment", "source": "heads/sentiment"}`, `{"name": "a/b", "source": "x"}`, `{"name": "", "source": ""}`)
}
