package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coldserve/coldserve/internal/fixture"
)

// interopDir holds the pinned npm packages (package-lock.json) and the script that drives them.
const interopDir = "../../interop"

// needInterop skips, saying why, where the real clients cannot run (no Node.js, or npm cannot
// install the pinned packages); with COLDSERVE_INTEROP=require, as make test and CI set it,
// that is a failure instead.
func needInterop(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("COLDSERVE_INTEROP") == "require" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (make test sets COLDSERVE_INTEROP=require and needs them)", args...)
}

// The real OpenAI Node SDK (with its default base64 encoding and with encoding_format float)
// and @huggingface/inference's featureExtraction against the real binary behind an API key:
// every vector equals Hugging Face's normalized mean vector of tiny.json within 1e-4, and a
// wrong key is refused with 401, which the SDK reports as an authentication error.
func TestClientInterop(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			needInterop(t, "%s is not installed (apt-get install nodejs npm)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	install.Dir = interopDir
	if out, err := install.CombinedOutput(); err != nil {
		needInterop(t, "npm ci in %s failed: %v\n%s", interopDir, err, out)
	}

	const key = "interop-test-key"
	p := startProcess(t, "--model", "../../testdata/models/tiny-roberta", "--api-key", key)
	waitReady(t, p)

	var texts []string
	var means [][]float64
	for i := 10; i < 13; i++ {
		text, mean := tinyMean(t, i)
		texts, means = append(texts, text), append(means, mean)
	}
	args := append([]string{filepath.Join(interopDir, "clients.mjs")}, texts...)
	script := exec.CommandContext(ctx, "node", args...)
	script.Env = append(os.Environ(), "COLDSERVE_URL="+p.url(""), "COLDSERVE_API_KEY="+key)
	var stdout, stderr bytes.Buffer
	script.Stdout, script.Stderr = &stdout, &stderr
	if err := script.Run(); err != nil {
		t.Fatalf("clients.mjs: %v\n%s\nserver:\n%s", err, stderr.String(), lastLines(p.logs.String(), 20))
	}
	var got struct {
		OpenAIDefault [][]float64 `json:"openai_default"`
		OpenAIFloat   [][]float64 `json:"openai_float"`
		HF            [][]float64 `json:"hf_feature_extraction"`
		Usage         struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"openai_usage"`
		WrongKey struct {
			Refused bool   `json:"refused"`
			Status  int    `json:"status"`
			Name    string `json:"name"`
		} `json:"wrong_key"`
		WrongKeyHF struct {
			Refused bool `json:"refused"`
		} `json:"wrong_key_hf"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("clients.mjs printed %q: %v", stdout.String(), err)
	}
	for name, vecs := range map[string][][]float64{"openai (default encoding)": got.OpenAIDefault,
		"openai (encoding_format float)": got.OpenAIFloat, "@huggingface/inference featureExtraction": got.HF} {
		if len(vecs) != len(texts) {
			t.Errorf("%s: %d vectors for %d texts", name, len(vecs), len(texts))
			continue
		}
		for i, v := range vecs {
			if d := maxDiff(v, fixture.Unit(means[i])); d > 1e-4 {
				t.Errorf("%s: vector %d differs from HF's normalized mean by %g", name, i, d)
			}
		}
	}
	if got.Usage.PromptTokens == 0 {
		t.Error("the OpenAI SDK saw no usage")
	}
	if !got.WrongKey.Refused || got.WrongKey.Status != 401 || got.WrongKey.Name != "AuthenticationError" {
		t.Errorf("a wrong key with the OpenAI SDK: %+v, want a 401 AuthenticationError", got.WrongKey)
	}
	if !got.WrongKeyHF.Refused {
		t.Error("a wrong key with @huggingface/inference was not refused")
	}
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
