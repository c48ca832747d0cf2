package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// env returns a getenv backed by a map.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseServeFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c serveConfig)
	}{
		{"defaults", []string{"--model", "demo"}, nil, func(t *testing.T, c serveConfig) {
			if c.addr != "127.0.0.1:8080" || c.pooling != "mean" || c.maxClientBatch != 64 || c.payloadLimit != 2<<20 ||
				c.maxInputTokens != 0 || c.logFormat != "text" || len(c.heads) != 0 {
				t.Errorf("defaults %+v", c)
			}
		}},
		{"env fills unset flags", nil, map[string]string{
			"COLDSERVE_MODEL": "/m", "COLDSERVE_ADDR": ":9000", "COLDSERVE_POOLING": "cls",
			"COLDSERVE_MAX_INPUT_TOKENS": "128", "COLDSERVE_MAX_CLIENT_BATCH": "8", "COLDSERVE_MAX_BATCH_TOKENS": "4096",
			"COLDSERVE_PAYLOAD_LIMIT": "512KB", "COLDSERVE_HEAD": "a=/x, b=/y", "COLDSERVE_LOG_FORMAT": "json",
		}, func(t *testing.T, c serveConfig) {
			if c.model != "/m" || c.addr != ":9000" || c.pooling != "cls" || c.maxInputTokens != 128 || c.maxClientBatch != 8 ||
				c.maxBatchTokens != 4096 || c.payloadLimit != 512<<10 || !slices.Equal(c.heads, []string{"a=/x", "b=/y"}) ||
				c.logFormat != "json" {
				t.Errorf("from env %+v", c)
			}
		}},
		{"flags beat env", []string{"--model", "demo", "--addr", ":1", "--head", "h=/z", "--head", "i=/w"},
			map[string]string{"COLDSERVE_ADDR": ":2", "COLDSERVE_HEAD": "a=/x"}, func(t *testing.T, c serveConfig) {
				if c.addr != ":1" || !slices.Equal(c.heads, []string{"h=/z", "i=/w"}) {
					t.Errorf("precedence %+v", c)
				}
			}},
		{"limits and timeouts", []string{"--model", "demo", "--max-queue-tokens", "9000", "--max-queue-wait", "2s",
			"--request-timeout", "0", "--write-timeout", "5s"},
			map[string]string{"COLDSERVE_MAX_CONCURRENT_REQUESTS": "7", "COLDSERVE_MAX_REQUEST_TOKENS": "100",
				"COLDSERVE_BODY_READ_TIMEOUT": "3s"}, func(t *testing.T, c serveConfig) {
				if c.maxQueueTokens != 9000 || c.maxQueueWait != 2*time.Second || c.maxConcurrent != 7 || c.maxReqTokens != 100 {
					t.Errorf("limits %+v", c)
				}
				// 0 on the command line means no timeout; server.Timeouts spells that negative.
				to := timeoutOptions(c.timeouts)
				if to.Request >= 0 || to.Write != 5*time.Second || to.BodyRead != 3*time.Second || to.Idle != 2*time.Minute {
					t.Errorf("timeouts %+v", to)
				}
			}},
		{"payload limit in bytes", []string{"--model", "demo", "--payload-limit", "1000"}, nil, func(t *testing.T, c serveConfig) {
			if c.payloadLimit != 1000 {
				t.Errorf("payload %d", c.payloadLimit)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseServe(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseServeRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"no model", nil, nil},
		{"unknown pooling", []string{"--model", "demo", "--pooling", "max"}, nil},
		{"unknown log format", []string{"--model", "demo", "--log-format", "xml"}, nil},
		{"zero client batch", []string{"--model", "demo", "--max-client-batch", "0"}, nil},
		{"negative max input", []string{"--model", "demo", "--max-input-tokens", "-1"}, nil},
		{"bad payload", []string{"--model", "demo", "--payload-limit", "lots"}, nil},
		{"bad env number", []string{"--model", "demo"}, map[string]string{"COLDSERVE_MAX_BATCH_TOKENS": "abc"}},
		{"unknown flag", []string{"--model", "demo", "--nope"}, nil},
		{"negative queue tokens", []string{"--model", "demo", "--max-queue-tokens", "-1"}, nil},
		{"zero concurrent requests", []string{"--model", "demo", "--max-concurrent-requests", "0"}, nil},
		{"zero request tokens", []string{"--model", "demo", "--max-request-tokens", "0"}, nil},
		{"negative timeout", []string{"--model", "demo", "--request-timeout", "-1s"}, nil},
		{"negative queue wait", []string{"--model", "demo"}, map[string]string{"COLDSERVE_MAX_QUEUE_WAIT": "-5ms"}},
		{"stray argument", []string{"--model", "demo", "extra"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseServe(tt.args, env(tt.env), io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestResolveModel(t *testing.T) {
	log, _ := newLogger(io.Discard, "text", "error")
	// A Hub id is downloaded later, by the load goroutine: no directory yet.
	if dir, name, _, err := resolveModel("ibm/ColD-Fusion", log); err != nil || dir != "" || name != "ColD-Fusion" {
		t.Errorf("hub id: %q %q %v", dir, name, err)
	}
	if _, _, _, err := resolveModel("./does-not-exist", log); err == nil {
		t.Error("missing directory accepted")
	}
	if _, _, _, err := resolveModel("main.go", log); err == nil {
		t.Error("a file accepted as a model directory")
	}
	dir, name, cleanup, err := resolveModel("demo", log)
	if err != nil {
		t.Fatal(err)
	}
	if name != "demo" {
		t.Errorf("demo name %q", name)
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo lacks %s: %v", f, err)
		}
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("demo dir survives cleanup: %v", err)
	}
}

func TestProbeURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/healthz",
		"0.0.0.0:80":     "http://127.0.0.1:80/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"[::]:9000":      "http://127.0.0.1:9000/healthz",
		"example:1":      "http://example:1/healthz",
	} {
		if got, err := probeURL(addr, "/healthz"); err != nil || got != want {
			t.Errorf("probeURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := probeURL("no-port", "/healthz"); err == nil {
		t.Error("address without port accepted")
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// `coldserve serve --model demo` runs offline: it extracts the embedded checkpoint, warns that
// its weights are random, becomes ready, computes the same vectors as the tiny-roberta golden,
// passes `coldserve healthcheck`, and exits cleanly on SIGTERM.
func TestServeDemo(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--model", "demo", "--addr", "127.0.0.1:0", "--log-format", "json"},
			env(nil), logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs)
	}
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 60s\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "RANDOM weights") || !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("no loud warning about the demo's random weights:\n%s", logs)
	}

	text, mean := tinyMean(t, 9)
	body, _ := json.Marshal(map[string]any{"inputs": text})
	r, err := http.Post(base+"/v1/embed", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Model      string      `json:"model"`
		Embeddings [][]float64 `json:"embeddings"`
	}
	err = json.NewDecoder(r.Body).Decode(&resp)
	r.Body.Close()
	if err != nil || r.StatusCode != 200 || resp.Model != "demo" || len(resp.Embeddings) != 1 {
		t.Fatalf("embed: %d %+v %v", r.StatusCode, resp, err)
	}
	for i, x := range resp.Embeddings[0] {
		if math.Abs(x-mean[i]) > 1e-5 {
			t.Fatalf("demo vector differs from tiny-roberta's golden at %d: %g vs %g", i, x, mean[i])
		}
	}

	if err := run(ctx, []string{"healthcheck", "--addr", addr}, env(nil), io.Discard, nil); err != nil {
		t.Errorf("healthcheck: %v", err)
	}
	if err := run(ctx, []string{"healthcheck", "--addr", addr, "--path", "/nope"}, env(nil), io.Discard, nil); err == nil {
		t.Error("healthcheck of a 404 path succeeded")
	}

	stop() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after SIGTERM, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr, "--timeout", "1s"}, env(nil), io.Discard, nil); err == nil {
		t.Error("healthcheck succeeded against a stopped server")
	}
}

// A model that cannot be loaded stops the server with the load error.
func TestServeFailsWhenTheModelDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "roberta"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"serve", "--model", dir, "--addr", "127.0.0.1:0"}, env(nil), io.Discard, nil)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("serve succeeded with a broken model")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve kept running with a broken model")
	}
}

func TestRunUsage(t *testing.T) {
	if err := run(context.Background(), nil, env(nil), io.Discard, nil); err == nil {
		t.Error("no subcommand accepted")
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, nil); err == nil {
		t.Error("unknown subcommand accepted")
	}
}
