package server

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/api/openai"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

// firstDims is v's first n values, or all of v when n is 0.
func firstDims(v []float64, n int) []float64 {
	if n > 0 {
		return v[:n]
	}
	return v
}

// decodeEmbedding reads one OpenAI embedding, a float array or base64 of little-endian float32.
func decodeEmbedding(t *testing.T, raw json.RawMessage, format string) []float32 {
	t.Helper()
	if format != "base64" {
		var v []float32
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("embedding is not a float array: %s", raw)
		}
		return v
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("base64 embedding is not a string: %s", raw)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		t.Fatalf("bad base64 embedding %q: %v", s, err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// The OpenAI route answers in OpenAI's shape with HF's mean vectors, normalized, in both
// encodings (the SDKs send base64 when the caller gives none), at both paths.
func TestOpenAIEmbeddings(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	h := s.Handler()
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	texts := []string{g.Items[0].Text, g.Items[1].Text}
	tests := []struct {
		name, path string
		body       map[string]any
		format     string
		dims       int
	}{
		{"float", "/v1/embeddings", map[string]any{"model": "tiny-roberta", "input": texts, "encoding_format": "float"}, "float", 0},
		{"base64 as the SDKs send it", "/v1/embeddings", map[string]any{"model": "tiny-roberta", "input": texts, "encoding_format": "base64"}, "base64", 0},
		{"no encoding_format", "/embeddings", map[string]any{"input": texts}, "float", 0},
		{"dimensions", "/v1/embeddings", map[string]any{"input": texts, "dimensions": 8}, "float", 8},
		{"unknown fields ignored", "/v1/embeddings", map[string]any{"input": texts, "user": "u", "extra_option": 1}, "float", 0},
		// Ids are this model's, specials included, as HF's tokenizer gives them.
		{"token id lists", "/v1/embeddings", map[string]any{"input": [][]int32{g.Items[0].IDs, g.Items[1].IDs}, "encoding_format": "base64"}, "base64", 0},
		{"a text and an id list", "/v1/embeddings", map[string]any{"input": []any{texts[0], g.Items[1].IDs}, "encoding_format": "float"}, "float", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := do(t, h, http.MethodPost, tt.path, tt.body)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, raw)
			}
			var resp openai.EmbeddingsResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Object != "list" || len(resp.Data) != len(texts) || resp.Usage.PromptTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens {
				t.Fatalf("response %s", raw)
			}
			for i, d := range resp.Data {
				if d.Object != "embedding" || d.Index != i {
					t.Errorf("data[%d]: object %q index %d", i, d.Object, d.Index)
				}
				got := decodeEmbedding(t, d.Embedding, tt.format)
				if diff := maxAbs(got, fixture.Unit(firstDims(g.Items[i].Mean, tt.dims))); diff > 1e-5 {
					t.Errorf("data[%d]: max diff %g from HF's normalized mean", i, diff)
				}
			}
		})
	}
}

// Errors on the OpenAI routes use OpenAI's error object, with OpenAI's type for the status.
func TestOpenAIErrors(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	h := s.Handler()
	tests := []struct {
		name   string
		body   any
		status int
		typ    string
	}{
		{"empty input", map[string]any{"input": []string{}}, http.StatusBadRequest, "invalid_request_error"},
		{"bad encoding_format", map[string]any{"input": "a", "encoding_format": "float16"}, http.StatusBadRequest, "invalid_request_error"},
		{"dimensions 0", map[string]any{"input": "a", "dimensions": 0}, http.StatusBadRequest, "invalid_request_error"},
		{"dimensions too large", map[string]any{"input": "a", "dimensions": 100000}, http.StatusBadRequest, "invalid_request_error"},
		{"id outside the vocabulary", map[string]any{"input": []int{0, 1 << 20, 2}}, http.StatusBadRequest, "invalid_request_error"},
		{"empty id list", map[string]any{"input": [][]int{{}}}, http.StatusBadRequest, "invalid_request_error"},
		{"case-folded key", `{"Input": "a"}`, http.StatusBadRequest, "invalid_request_error"},
		{"malformed JSON", `{"input": `, http.StatusBadRequest, "invalid_request_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := do(t, h, http.MethodPost, "/v1/embeddings", tt.body)
			var resp openai.ErrorResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				t.Fatalf("%d %s: %v", code, raw, err)
			}
			if code != tt.status || resp.Error.Type != tt.typ || resp.Error.Message == "" || resp.Error.Code == nil {
				t.Errorf("%d %s, want %d with type %s", code, raw, tt.status, tt.typ)
			}
		})
	}
}

// GET /v1/models is also an OpenAI model listing.
func TestModelsListsOpenAIModels(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	code, raw := do(t, s.Handler(), http.MethodGet, "/v1/models", nil)
	var resp struct {
		Object string            `json:"object"`
		Data   []api.OpenAIModel `json:"data"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || code != http.StatusOK {
		t.Fatalf("%d %s: %v", code, raw, err)
	}
	if resp.Object != "list" || len(resp.Data) != 1 || resp.Data[0].Object != "model" || resp.Data[0].ID == "" {
		t.Errorf("listing %s", raw)
	}
}
