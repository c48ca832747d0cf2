package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/coldserve/coldserve/inference"
)

// loadResult is what one client saw of one request.
type loadResult struct {
	status     int
	latency    time.Duration
	retryAfter string
	err        error
}

// runLoad sends POST path from clients goroutines for d, each request made by body(client, i).
// After a 429 a client waits retry before its next request; otherwise it sends the next at once
// (a closed loop).
func runLoad(ts *tcpServer, path string, clients int, d, retry time.Duration, body func(client, i int) []byte) []loadResult {
	var (
		mu  sync.Mutex
		out []loadResult
		wg  sync.WaitGroup
	)
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	stop := time.Now().Add(d)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				start := time.Now()
				resp, err := hc.Post(ts.url(path), "application/json", bytes.NewReader(body(c, i)))
				r := loadResult{err: err, latency: time.Since(start)}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					r.status, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
					r.latency = time.Since(start)
				}
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
				if r.status == http.StatusTooManyRequests {
					time.Sleep(retry)
				}
			}
		}()
	}
	wg.Wait()
	hc.CloseIdleConnections()
	return out
}

// histogram reads a histogram's sample count and sum.
func histogram(t testing.TB, h prometheus.Histogram) (count uint64, sum float64) {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

// percentile is the p-th percentile (0..1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// Overload has a bound. Many clients sending long batches get 429 with Retry-After for what
// the queue cannot hold, quickly and mostly before their body is even parsed; what is
// admitted waits a bounded number of batch times (the queue holds two batches' worth of
// tokens), not for every other client's request. And clients that retry soon after each 429
// do not collapse throughput: forward passes keep computing at the rate a polite load gets.
//
// Speeds are not asserted, only ratios measured in this same run: latencies in batch times,
// and the retrying load's compute rate against the polite load's.
func TestOverloadIsBounded(t *testing.T) {
	const batchTokens = 8192
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: tinyDir, MaxBatchTokens: batchTokens,
		Queue: inference.QueueLimits{Tokens: 2 * batchTokens}})
	ts := serveTCP(t, s, 30*time.Second)
	// 16 inputs of about 250 tokens: 4000 tokens, half a batch. Texts differ per request so
	// nothing is answered from a cache.
	body := func(client, i int) []byte {
		inputs := make([]string, 16)
		for j := range inputs {
			inputs[j] = fmt.Sprintf("client %d request %d input %d ", client, i, j) + strings.Repeat("cold fusion ", 120)
		}
		return []byte(mustJSON(t, map[string]any{"inputs": inputs}))
	}
	// phase runs clients on /v1/embed for d, and beside them, when noise > 0, that many clients
	// sending the same bodies at once to noisePath; it reports the embed results.
	phase := func(name string, clients int, d, retry time.Duration, noise int, noisePath string) (res []loadResult, tokensPerSec, batchSec float64) {
		n0, tok0 := histogram(t, s.metrics.batchTokens)
		bn0, bs0 := histogram(t, s.metrics.batchDuration)
		start := time.Now()
		var wg sync.WaitGroup
		if noise > 0 {
			wg.Go(func() { runLoad(ts, noisePath, noise, d, 0, func(c, i int) []byte { return body(1000+c, i) }) })
		}
		res = runLoad(ts, "/v1/embed", clients, d, retry, body)
		wg.Wait()
		elapsed := time.Since(start).Seconds()
		n1, tok1 := histogram(t, s.metrics.batchTokens)
		bn1, bs1 := histogram(t, s.metrics.batchDuration)
		if n1 == n0 || bn1 == bn0 {
			t.Fatalf("%s: no forward pass ran", name)
		}
		tokensPerSec, batchSec = (tok1-tok0)/elapsed, (bs1-bs0)/float64(bn1-bn0)
		t.Logf("%s: %d requests, %.0f padded tokens/s, mean batch %.0f ms", name, len(res), tokensPerSec, 1000*batchSec)
		return res, tokensPerSec, batchSec
	}

	// A polite load that the queue holds: the compute rate to compare with.
	_, politeRate, _ := phase("polite (4 clients)", 4, 3*time.Second, 0, 0, "")

	refused0 := refusedAt(t, s, "admission")
	res, overloadRate, batchSec := phase("overload (48 clients retrying after 50 ms)", 48, 4*time.Second, 50*time.Millisecond, 0, "")
	var ok, refused []time.Duration
	for _, r := range res {
		switch {
		case r.err != nil:
			t.Fatalf("a request failed without an answer: %v", r.err)
		case r.status == http.StatusOK:
			ok = append(ok, r.latency)
		case r.status == http.StatusTooManyRequests:
			refused = append(refused, r.latency)
			if n, err := strconv.Atoi(r.retryAfter); err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q", r.retryAfter)
			}
		default:
			t.Fatalf("status %d under overload, want 200 or 429", r.status)
		}
	}
	if len(refused) == 0 || len(ok) == 0 {
		t.Fatalf("%d admitted, %d refused: want both under overload", len(ok), len(refused))
	}
	p99, batch := percentile(ok, 0.99), time.Duration(batchSec*float64(time.Second))
	t.Logf("admitted %d: p50 %v p99 %v (%.1f batch times); refused %d: p50 %v p99 %v",
		len(ok), percentile(ok, 0.5), p99, float64(p99)/float64(batch), len(refused), percentile(refused, 0.5), percentile(refused, 0.99))
	// Behind a full queue a request waits for two batches of tokens and the pass running, then
	// needs half a batch itself; 12 batch times leaves room for tokenizing and scheduling.
	// Unbounded, 48 clients' requests would queue 24 batch times deep.
	if p99 > 12*batch {
		t.Errorf("p99 of admitted requests is %v, %.1f batch times of %v: the queue does not bound the wait", p99, float64(p99)/float64(batch), batch)
	}
	// Refusing is cheap: a 429 takes less than a batch time at the median.
	if p50 := percentile(refused, 0.5); p50 > batch {
		t.Errorf("429s take %v at the median, more than a batch time (%v)", p50, batch)
	}
	// Most refusals happen before the body is parsed and tokenized.
	if admission := refusedAt(t, s, "admission") - refused0; admission < float64(len(refused))/2 {
		t.Errorf("only %.0f of %d refusals came before tokenization", admission, len(refused))
	}
	if overloadRate < politeRate/2 {
		t.Errorf("retrying clients collapsed compute: %.0f tokens/s against %.0f without them", overloadRate, politeRate)
	}

	// Clients that retry at once, with no pause at all, still leave the passes their CPU: 16
	// of them beside the polite load cost the passes about what 16 clients sending the same
	// bodies to a route that does nothing (404) cost. The clients run in this process and
	// spend CPU of their own, on a small machine as much as the server's; that control takes
	// it out of the comparison, so what is measured is the price of a refusal.
	// A phase holds only a handful of forward passes, and one pass more or less moves its rate
	// by a fifth, so the two alternate twice and their rates are averaged.
	var controlRate, eagerRate float64
	for range 2 {
		_, control, _ := phase("control (4 polite, 16 at once to a 404 route)", 4, 3*time.Second, 0, 16, "/v1/no-such-route")
		_, eager, _ := phase("overload (4 polite, 16 retrying at once)", 4, 3*time.Second, 0, 16, "/v1/embed")
		controlRate, eagerRate = controlRate+control/2, eagerRate+eager/2
	}
	if eagerRate < 0.75*controlRate {
		t.Errorf("clients retrying at once collapsed compute: %.0f tokens/s against %.0f with as many clients hitting a 404", eagerRate, controlRate)
	}
}

// refusedAt reads coldserve_requests_refused_total{stage}.
func refusedAt(t testing.TB, s *Server, stage string) float64 {
	t.Helper()
	return testutil.ToFloat64(s.metrics.refused.WithLabelValues(stage))
}
