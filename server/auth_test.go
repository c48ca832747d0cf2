package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

// openRoutes need no API key: probes, metrics and docs. /admin has its own token.
func openRoute(path string) bool {
	switch {
	case path == "/healthz", path == "/readyz", path == "/health", path == "/metrics",
		path == "/docs", strings.HasPrefix(path, "/docs/"), strings.HasPrefix(path, "/admin"):
		return true
	}
	return false
}

// With --api-key, every inference route, native, TEI and OpenAI, found by walking the router
// so that no route can be added without it, refuses a missing or wrong key with 401 in its own
// error shape and serves a right one (any of the keys); the open routes stay open.
func TestAPIKeys(t *testing.T) {
	s := newServer(t, Options{APIKeys: []string{"key-one", "key-two"}}, inference.ModelConfig{Dir: sentimentDir})
	h := s.Handler()
	send := func(method, path, auth string) (int, []byte, http.Header) {
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{}`)
		} else {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(method, path, body)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes(), rec.Header()
	}
	closed := 0
	for _, r := range s.router.Routes() {
		path := strings.ReplaceAll(r.Path, "*any", "index.html")
		if r.Method == http.MethodHead {
			continue
		}
		t.Run(r.Method+" "+path, func(t *testing.T) {
			if openRoute(path) {
				if code, raw, _ := send(r.Method, path, ""); code == http.StatusUnauthorized {
					t.Errorf("open route answered 401: %s", raw)
				}
				return
			}
			closed++
			for _, auth := range []string{"", "Bearer wrong", "key-one", "Basic a2V5LW9uZQ==", "Bearer key-one-and-more"} {
				code, raw, hdr := send(r.Method, path, auth)
				if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
					t.Fatalf("Authorization %q: %d %s, want 401 with WWW-Authenticate", auth, code, raw)
				}
				checkShape(t, path, raw)
			}
			for _, auth := range []string{"Bearer key-one", "bearer key-two"} {
				if code, raw, _ := send(r.Method, path, auth); code == http.StatusUnauthorized {
					t.Errorf("Authorization %q refused: %s", auth, raw)
				}
			}
		})
	}
	if closed < 15 {
		t.Errorf("only %d routes need a key: the route walk missed some", closed)
	}
}

// checkShape requires raw to be an error in the shape of path's protocol.
func checkShape(t *testing.T, path string, raw []byte) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	switch {
	case openAIPaths[path]:
		e, _ := v["error"].(map[string]any)
		if e["message"] == nil || e["type"] == nil {
			t.Errorf("not OpenAI's error shape: %s", raw)
		}
	case teiPaths[path]:
		if _, ok := v["error"].(string); !ok || v["error_type"] == nil {
			t.Errorf("not TEI's error shape: %s", raw)
		}
	default:
		e, _ := v["error"].(map[string]any)
		if e["code"] != CodeUnauthorized {
			t.Errorf("not the native error shape: %s", raw)
		}
	}
}

// --cors-allow-origin: an allowed origin gets Access-Control-Allow-Origin and its preflight
// 204 (before the API key: browsers send none in a preflight); another origin gets nothing;
// "*" allows any.
func TestCORS(t *testing.T) {
	tests := []struct {
		name, origin, want string
		allowed            []string
	}{
		{"allowed origin", "https://app.example", "https://app.example", []string{"https://app.example"}},
		{"other origin", "https://evil.example", "", []string{"https://app.example"}},
		{"any", "https://evil.example", "*", []string{"*"}},
		{"not configured", "https://app.example", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{APIKeys: []string{"k"}, CORSAllowOrigins: tt.allowed}, inference.ModelConfig{Dir: tinyDir})
			pre := httptest.NewRequest(http.MethodOptions, "/v1/embeddings", nil)
			pre.Header.Set("Origin", tt.origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os")
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, pre)
			got := rec.Header().Get("Access-Control-Allow-Origin")
			if got != tt.want {
				t.Errorf("preflight: Access-Control-Allow-Origin %q, want %q", got, tt.want)
			}
			if tt.want != "" && (rec.Code != http.StatusNoContent || !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "x-stainless-os") ||
				!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST")) {
				t.Errorf("preflight: %d %v", rec.Code, rec.Header())
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/embed", strings.NewReader(`{"inputs": "a"}`))
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Authorization", "Bearer k")
			rec = httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != tt.want {
				t.Errorf("request: %d, Access-Control-Allow-Origin %q, want %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), tt.want)
			}
		})
	}
}
