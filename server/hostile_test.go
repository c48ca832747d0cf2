package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

// request sends body to path with the given headers (Content-Type defaults to JSON; "" drops it).
func request(t testing.TB, h http.Handler, method, path, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// errorCode decodes an error answer, failing the test when raw is not one.
func errorCode(t testing.TB, raw []byte) string {
	t.Helper()
	var e errorResp
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error answer: %.300s (%v)", raw, err)
	}
	return e.Error.Code
}

// The JSON edge is strict, as the README promises: every body below answered 200 before.
func TestStrictJSON(t *testing.T) {
	s := newServer(t, Options{Admin: AdminOptions{Token: "tok"}}, inference.ModelConfig{Dir: tinyDir})
	admin := map[string]string{"Authorization": "Bearer tok"}
	tests := []struct {
		name, path, body string
		header           map[string]string
		status           int
		code             string
	}{
		{"trailing garbage", "/v1/embed", `{"inputs":"a"}garbage`, nil, 400, CodeInvalidJSON},
		{"two objects", "/v1/embed", `{"inputs":"a"}{"inputs":"b"}`, nil, 400, CodeInvalidJSON},
		{"case-folded key", "/v1/embed", `{"Inputs":"a"}`, nil, 400, CodeInvalidJSON},
		{"unknown field", "/v1/embed", `{"inputs":"a","pooling_mode":"mean"}`, nil, 400, CodeInvalidJSON},
		{"repeated field", "/v1/embed", `{"inputs":"a","inputs":"b"}`, nil, 400, CodeInvalidJSON},
		{"null input", "/v1/embed", `{"inputs":["a",null]}`, nil, 400, CodeInvalidJSON},
		{"array body", "/v1/embed", `["a"]`, nil, 400, CodeInvalidJSON},
		{"text/plain", "/v1/embed", `{"inputs":"a"}`, map[string]string{"Content-Type": "text/plain"}, 415, CodeUnsupportedMediaType},
		{"form", "/v1/embed", `{"inputs":"a"}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, CodeUnsupportedMediaType},
		{"xml", "/v1/embed", `{"inputs":"a"}`, map[string]string{"Content-Type": "application/xml"}, 415, CodeUnsupportedMediaType},
		{"gzip on a plain body", "/v1/embed", `{"inputs":"a"}`, map[string]string{"Content-Encoding": "gzip"}, 415, CodeUnsupportedMediaType},
		{"classify: case-folded key", "/v1/classify", `{"INPUTS":"a"}`, nil, 400, CodeInvalidJSON},
		{"classify: trailing garbage", "/v1/classify", `{"inputs":"a"} x`, nil, 400, CodeInvalidJSON},
		{"tokenize: null input", "/v1/tokenize", `{"inputs":[null]}`, nil, 400, CodeInvalidJSON},
		{"tokenize: unknown field", "/v1/tokenize", `{"inputs":"a","add_special":true}`, nil, 400, CodeInvalidJSON},
		{"decode: null id", "/v1/decode", `{"ids":[0,null,2]}`, nil, 400, CodeInvalidJSON},
		{"decode: text/plain", "/v1/decode", `{"ids":[0]}`, map[string]string{"Content-Type": "text/plain"}, 415, CodeUnsupportedMediaType},
		{"admin: trailing garbage", "/admin/checkpoint", `{"source":"x"}]`, admin, 400, CodeInvalidJSON},
		{"admin: null weight", "/admin/fuse", `{"sources":["a","b"],"weights":[1,null],"output":"o"}`, admin, 400, CodeInvalidJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{}
			for k, v := range tc.header {
				header[k] = v
			}
			code, _, raw := request(t, s.Handler(), http.MethodPost, tc.path, tc.body, header)
			if code != tc.status || errorCode(t, raw) != tc.code {
				t.Errorf("status %d %s, want %d %s", code, raw, tc.status, tc.code)
			}
		})
	}
	// What stays accepted: JSON with parameters, +json types, and no Content-Type at all.
	for _, ct := range []string{"application/json; charset=utf-8", "application/vnd.coldserve+json", ""} {
		code, _, raw := request(t, s.Handler(), http.MethodPost, "/v1/embed", `{"inputs":"a"}`, map[string]string{"Content-Type": ct})
		if code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ct, code, raw)
		}
	}
}

// HEAD works wherever GET does, for health checkers that probe with HEAD.
func TestHeadOnGetRoutes(t *testing.T) {
	s := newServer(t, Options{Admin: AdminOptions{Token: "tok"}}, inference.ModelConfig{Dir: tinyDir})
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/models", "/admin/checkpoint"} {
		t.Run(path, func(t *testing.T) {
			code, _, _ := request(t, s.Handler(), http.MethodHead, path, "", map[string]string{"Authorization": "Bearer tok"})
			if code != http.StatusOK {
				t.Errorf("HEAD %s: %d", path, code)
			}
		})
	}
}

// A head name is a path segment of DELETE /admin/heads/{name}: one that could never be
// removed is refused where heads are added (the rules: inference's TestHeadNames).
func TestAddHeadRefusesBadName(t *testing.T) {
	s := newServer(t, Options{Admin: AdminOptions{Token: "tok"}}, inference.ModelConfig{Dir: tinyDir})
	code, _, raw := request(t, s.Handler(), http.MethodPost, "/admin/heads", `{"name":"a/b","source":"heads/x"}`,
		map[string]string{"Authorization": "Bearer tok"})
	if code != http.StatusBadRequest || errorCode(t, raw) != CodeInvalidArgument {
		t.Errorf("add head a/b: %d %s", code, raw)
	}
}

// Error answers quote client input only up to a bound: a 100k-character value must not come
// back as a 200 KB error body.
func TestErrorMessagesAreBounded(t *testing.T) {
	s := newServer(t, Options{Admin: AdminOptions{Token: "tok"}, PayloadLimit: 1 << 20}, inference.ModelConfig{Dir: tinyDir})
	long := strings.Repeat("x", 100_000)
	admin := map[string]string{"Authorization": "Bearer tok"}
	for _, tc := range []struct{ name, path, body string }{
		{"admin source", "/admin/checkpoint", `{"source":"` + long + `"}`},
		{"fuse output", "/admin/fuse", `{"sources":["a"],"output":"/` + long + `"}`},
		{"head name", "/v1/classify", `{"inputs":"a","head":"` + long + `"}`},
		{"pooling", "/v1/embed", `{"inputs":"a","pooling":"` + long + `"}`},
		{"unknown field", "/v1/embed", `{"` + long + `":1}`},
		{"content type", "/v1/embed", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{"Authorization": admin["Authorization"]}
			if tc.name == "content type" {
				header["Content-Type"] = "text/" + long
			}
			code, _, raw := request(t, s.Handler(), http.MethodPost, tc.path, tc.body, header)
			if code < 400 || code >= 500 {
				t.Errorf("status %d", code)
			}
			errorCode(t, raw)
			if len(raw) > 4096 {
				t.Errorf("error body of %d bytes: %.200s", len(raw), raw)
			}
		})
	}
}

// /readyz answers 503 until the model is loaded; orchestrators poll it every second or so,
// so those answers are not errors in the log.
func TestReadyzDuringStartupIsNotAnError(t *testing.T) {
	var logs lockedBuffer
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code, _, _ := request(t, s.Handler(), http.MethodGet, "/readyz", "", nil); code != http.StatusServiceUnavailable {
			t.Fatalf("readyz before load: %d", code)
		}
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("start-up readyz logged above debug:\n%s", out)
	}
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
