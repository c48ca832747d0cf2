package server

import (
	"strings"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

func TestModelsHealthAndReadiness(t *testing.T) {
	s := newServer(t, Options{DefaultPooling: "cls"}, inference.ModelConfig{Dir: sentimentDir, Name: "senti", MaxInputTokens: 128})
	h := s.Handler()
	var models struct {
		Models []struct {
			Name              string `json:"name"`
			Checkpoint        string `json:"checkpoint"`
			HiddenSize        int    `json:"hidden_size"`
			NumLayers         int    `json:"num_layers"`
			NumAttentionHeads int    `json:"num_attention_heads"`
			IntermediateSize  int    `json:"intermediate_size"`
			VocabSize         int    `json:"vocab_size"`
			MaxInputTokens    int    `json:"max_input_tokens"`
			DefaultPooling    string `json:"default_pooling"`
			DType             string `json:"dtype"`
			Heads             []struct {
				Name        string   `json:"name"`
				Labels      []string `json:"labels"`
				ProblemType string   `json:"problem_type"`
				Checkpoint  string   `json:"checkpoint"`
			} `json:"heads"`
			DefaultHead string `json:"default_head"`
		} `json:"models"`
	}
	call(t, h, "/v1/models", nil, 200, &models)
	if len(models.Models) != 1 {
		t.Fatalf("%d models", len(models.Models))
	}
	m := models.Models[0]
	if m.Name != "senti" || m.HiddenSize != 32 || m.NumLayers != 2 || m.NumAttentionHeads != 4 ||
		m.IntermediateSize != 64 || m.VocabSize != 50265 || m.MaxInputTokens != 128 || m.DefaultPooling != "cls" ||
		m.DType != "float32" || !strings.HasPrefix(m.Checkpoint, "sha256:") {
		t.Errorf("model info %+v", m)
	}
	if len(m.Heads) != 1 || m.Heads[0].Name != "senti" || strings.Join(m.Heads[0].Labels, ",") != "negative,neutral,positive" ||
		m.Heads[0].Checkpoint != m.Checkpoint || m.Heads[0].ProblemType != "single_label_classification" {
		t.Errorf("heads %+v", m.Heads)
	}
	if m.DefaultHead != "senti" {
		t.Errorf("default head %q, want the model's own head", m.DefaultHead)
	}
	// The default pooling applies when a request names none.
	var emb embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": "x"}, 200, &emb)
	if emb.Pooling != "cls" || emb.Checkpoint != m.Checkpoint {
		t.Errorf("embed pooling %q checkpoint %q", emb.Pooling, emb.Checkpoint)
	}
	var status struct {
		Status string `json:"status"`
	}
	call(t, h, "/healthz", nil, 200, &status)
	if status.Status != "ok" {
		t.Errorf("healthz %q", status.Status)
	}
	call(t, h, "/readyz", nil, 200, &status)
	if status.Status != "ready" {
		t.Errorf("readyz %q", status.Status)
	}
	notReady, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	call(t, notReady.Handler(), "/healthz", nil, 200, &status)
}

func TestLoadRejectsBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		cfg  inference.ModelConfig
	}{
		{"no dir", Options{}, inference.ModelConfig{}},
		{"missing dir", Options{}, inference.ModelConfig{Dir: "../testdata/models/does-not-exist"}},
		{"max input above the model's", Options{}, inference.ModelConfig{Dir: tinyDir, MaxInputTokens: 600}},
		{"batch budget below one input", Options{}, inference.ModelConfig{Dir: tinyDir, MaxBatchTokens: 100}},
		{"head dir missing", Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{{Name: "x", Dir: "../testdata/nope"}}}},
		{"head without a head", Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{{Name: "x", Dir: tinyDir}}}},
		{"head twice", Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{{Name: "x", Dir: sentimentDir}, {Name: "x", Dir: sentimentDir}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quietLogger()
			s, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Load(t.Context(), tt.cfg); err == nil {
				t.Fatal("Load succeeded")
			}
			if code, _ := do(t, s.Handler(), "GET", "/readyz", nil); code != 503 {
				t.Errorf("readyz %d after a failed load", code)
			}
		})
	}
	if _, err := New(Options{DefaultPooling: "max"}); err == nil {
		t.Error("New accepted pooling max")
	}
}

// /metrics exposes TEI-named series that move with traffic.
func TestMetrics(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	h := s.Handler()
	call(t, h, "/v1/embed", map[string]any{"inputs": []string{"a", "b c"}}, 200, nil)
	call(t, h, "/v1/embed", map[string]any{"inputs": "a"}, 200, nil)
	do(t, h, "POST", "/v1/embed", `{"inputs": []}`)
	code, raw := do(t, h, "GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics %d", code)
	}
	body := string(raw)
	for _, want := range []string{
		`te_request_count{method="batch"} 1`,
		`te_request_count{method="single"} 2`,
		`te_request_success{method="single"} 1`,
		`te_request_failure{err="empty_input"} 1`,
		`te_request_tokenization_duration_count 2`,
		`te_request_queue_duration_count 2`,
		`te_request_inference_duration_count 2`,
		`te_request_input_length_count 3`,
		`te_batch_next_size_bucket`,
		`te_batch_next_tokens_bucket`,
		`te_batch_inference_success`,
		`te_queue_size 0`,
		`coldserve_http_requests_total{method="POST",route="/v1/embed",status="200"} 2`,
		`coldserve_http_requests_total{method="POST",route="/v1/embed",status="400"} 1`,
		`coldserve_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Swagger UI and the generated spec are served under /docs.
func TestDocs(t *testing.T) {
	s, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	code, raw := do(t, s.Handler(), "GET", "/docs/index.html", nil)
	if code != 200 || !strings.Contains(string(raw), "swagger") {
		t.Errorf("/docs/index.html: %d", code)
	}
	code, raw = do(t, s.Handler(), "GET", "/docs/doc.json", nil)
	for _, route := range []string{"/v1/embed", "/v1/classify", "/v1/tokenize", "/v1/decode", "/v1/models", "/healthz", "/readyz"} {
		if code != 200 || !strings.Contains(string(raw), `"`+route+`"`) {
			t.Errorf("doc.json (status %d) lacks %s", code, route)
		}
	}
	if code, _ := do(t, s.Handler(), "GET", "/docs", nil); code != 301 {
		t.Errorf("/docs: %d, want a redirect", code)
	}
}
