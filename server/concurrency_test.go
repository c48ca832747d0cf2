package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/inference"
)

// 64 goroutines send requests of mixed lengths at once; the batcher coalesces them, and every
// vector equals the one computed for its text alone (batching must not change results; the
// encoder's padded-batch tolerance is 1e-5).
func TestConcurrentRequestsMatchSingleRequests(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	// Reference: each text alone, one request at a time.
	texts := make([]string, len(g.Items))
	alone := make([][]float32, len(g.Items))
	var checkpoint string
	for i, it := range g.Items {
		texts[i] = it.Text
		var resp embedResp
		call(t, s.Handler(), "/v1/embed", map[string]any{"inputs": it.Text}, 200, &resp)
		alone[i], checkpoint = resp.Embeddings[0], resp.Checkpoint
	}
	forwardsBefore := forwardPasses(t, s)

	const goroutines, perGoroutine = 64, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for gi := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(gi), 7))
			for range perGoroutine {
				idx := make([]int, 1+rng.IntN(3))
				batch := make([]string, len(idx))
				for k := range idx {
					idx[k] = rng.IntN(len(texts))
					batch[k] = texts[idx[k]]
				}
				resp, err := postEmbed(srv.URL, batch)
				if err != nil {
					errs <- err
					return
				}
				if resp.Checkpoint != checkpoint || len(resp.Embeddings) != len(idx) {
					errs <- fmt.Errorf("checkpoint %s with %d vectors", resp.Checkpoint, len(resp.Embeddings))
					return
				}
				for k, v := range resp.Embeddings {
					if d := maxAbs(v, widen(alone[idx[k]])); d > 1e-5 {
						errs <- fmt.Errorf("%.30q in a batch differs from alone by %g", texts[idx[k]], d)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The requests were coalesced: fewer forward passes than requests.
	if n := forwardPasses(t, s) - forwardsBefore; n >= goroutines*perGoroutine {
		t.Errorf("%d forward passes for %d requests: nothing was batched", n, goroutines*perGoroutine)
	}
}

func postEmbed(url string, inputs []string) (*embedResp, error) {
	body, _ := json.Marshal(map[string]any{"inputs": inputs})
	r, err := http.Post(url+"/v1/embed", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if r.StatusCode != 200 {
		return nil, fmt.Errorf("status %d: %s", r.StatusCode, raw)
	}
	var resp embedResp
	return &resp, json.Unmarshal(raw, &resp)
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// forwardPasses reads te_batch_inference_count.
func forwardPasses(t testing.TB, s *Server) int {
	t.Helper()
	return int(testutil.ToFloat64(s.metrics.batchCount))
}

// A request whose client is already gone is answered without a forward pass.
func TestCancelledRequestCostsNoForwardPass(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	before := forwardPasses(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/v1/embed", strings.NewReader(`{"inputs": ["gone", "already"]}`)).WithContext(ctx)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	checkError(t, rec.Code, rec.Body.Bytes(), statusClientClosedRequest, CodeCancelled)
	if n := forwardPasses(t, s) - before; n != 0 {
		t.Errorf("%d forward passes for a cancelled request", n)
	}
}

// With --workers 2 the engine runs two passes at once; results stay exact.
func TestConcurrentWorkersMatchGolden(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, Encoder: encoder.EncoderOptions{Workers: 2}})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(g.Items); i += 8 {
				// Not call(): t.Fatal must not run outside the test goroutine.
				code, raw := do(t, s.Handler(), "POST", "/v1/embed", map[string]any{"inputs": g.Items[i].Text})
				var resp embedResp
				if err := json.Unmarshal(raw, &resp); code != 200 || err != nil || len(resp.Embeddings) != 1 {
					t.Errorf("status %d: %s", code, raw)
					return
				}
				if d := maxAbs(resp.Embeddings[0], g.Items[i].Mean); d > 1e-5 {
					t.Errorf("%q differs from HF by %g", g.Items[i].Text, d)
				}
			}
		}()
	}
	wg.Wait()
}
