package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/coldserve/coldserve/inference"
)

// Paths of the project's test checkpoints and goldens (computed by Hugging Face transformers).
const (
	tinyDir      = "../testdata/models/tiny-roberta"
	sentimentDir = "../testdata/models/tiny-roberta-sentiment"
	goldenDir    = "../testdata/golden/"
)

// quietLogger drops logs below error so test output stays readable.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// newServer starts a Server on the real router with a real checkpoint, closed at test end.
func newServer(t testing.TB, opts Options, cfg inference.ModelConfig) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// do sends one request to h and returns the status and body. body may be a string (sent as is)
// or any value (JSON-encoded); nil sends no body.
func do(t testing.TB, h http.Handler, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// call posts body to path, requires want as the status and decodes the answer into out.
func call(t testing.TB, h http.Handler, path string, body any, want int, out any) {
	t.Helper()
	method := http.MethodPost
	if body == nil {
		method = http.MethodGet
	}
	code, raw := do(t, h, method, path, body)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decode %s: %v", path, raw, err)
		}
	}
}

// readGolden decodes a golden file.
func readGolden(t testing.TB, name string, out any) {
	t.Helper()
	raw, err := os.ReadFile(goldenDir + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// tinyGolden is testdata/golden/tiny.json.
type tinyGolden struct {
	Items []struct {
		Text            string               `json:"text"`
		IDs             []int32              `json:"ids"`
		CLS             []float64            `json:"cls"`
		Mean            []float64            `json:"mean"`
		Pooler          []float64            `json:"pooler"`
		LastHiddenState [][]float64          `json:"last_hidden_state"`
		HeadLogits      map[string][]float64 `json:"head_logits"`
	} `json:"items"`
}

// sentimentGolden is testdata/golden/tiny_sentiment.json.
type sentimentGolden struct {
	ID2Label map[string]string `json:"id2label"`
	Items    []struct {
		Text   string    `json:"text"`
		IDs    []int32   `json:"ids"`
		Logits []float64 `json:"logits"`
		Probs  []float64 `json:"probs"`
	} `json:"items"`
}

// tokenizerGolden is testdata/golden/tokenizer.json.
type tokenizerGolden struct {
	Items []struct {
		Text            string   `json:"text"`
		IDs             []int32  `json:"ids"`
		Tokens          []string `json:"tokens"`
		Offsets         [][2]int `json:"offsets"`
		IDsTruncated512 []int32  `json:"ids_truncated_512"`
		Decoded         string   `json:"decoded"`
	} `json:"items"`
}

// maxAbs is the largest |a_i - b_i|; +Inf when the lengths differ.
func maxAbs(a []float32, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}

// chunks splits n items into consecutive [lo, hi) ranges of at most size.
func chunks(n, size int) [][2]int {
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// embedResp decodes /v1/embed answers with pooled vectors.
type embedResp struct {
	Model      string        `json:"model"`
	Checkpoint string        `json:"checkpoint"`
	Pooling    string        `json:"pooling"`
	Dimensions int           `json:"dimensions"`
	Embeddings [][]float32   `json:"embeddings"`
	Tokens     [][]tokenJSON `json:"tokens"`
	Usage      struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// embedNoneResp decodes /v1/embed answers with pooling "none".
type embedNoneResp struct {
	Checkpoint string        `json:"checkpoint"`
	Embeddings [][][]float32 `json:"embeddings"`
	Tokens     [][]tokenJSON `json:"tokens"`
}

type tokenJSON struct {
	ID      int32  `json:"id"`
	Text    string `json:"text"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Special bool   `json:"special"`
}

type classifyResp struct {
	Model      string `json:"model"`
	Checkpoint string `json:"checkpoint"`
	Head       string `json:"head"`
	Results    [][]struct {
		Label string  `json:"label"`
		Score float32 `json:"score"`
	} `json:"results"`
}

type errorResp struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
