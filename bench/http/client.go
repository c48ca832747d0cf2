package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client talks to the server under test.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// embed sends one text and returns the prompt tokens the server counted.
func (c *client) embed(ctx context.Context, text string) (int, error) {
	body, _ := json.Marshal(map[string]any{"inputs": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/embed", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("embed: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		Embeddings [][]float32 `json:"embeddings"`
		Usage      struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, err
	}
	if len(out.Embeddings) != 1 || len(out.Embeddings[0]) == 0 {
		return 0, fmt.Errorf("embed: malformed answer %.200s", raw)
	}
	return out.Usage.PromptTokens, nil
}

// loadResult is one load run.
type loadResult struct {
	requests  int
	tokens    int
	elapsed   time.Duration
	latencies []time.Duration
}

func (l loadResult) tokensPerSec() float64 { return float64(l.tokens) / l.elapsed.Seconds() }

func (l loadResult) String() string {
	return fmt.Sprintf("%d requests, %d tokens in %v: %.0f tokens/s, p50 %v p99 %v", l.requests, l.tokens,
		l.elapsed.Round(time.Millisecond), l.tokensPerSec(), percentile(l.latencies, 50), percentile(l.latencies, 99))
}

// load runs n closed-loop clients for d: each sends one text of 1..maxWords words, waits for
// the answer and sends the next. Throughput counts the tokens the server reported.
func load(ctx context.Context, c *client, g *textGen, n, maxWords int, d time.Duration) (loadResult, error) {
	var (
		mu   sync.Mutex
		res  loadResult
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			var lat []time.Duration
			tokens := 0
			for time.Now().Before(deadline) {
				text, _ := g.text(r, 1+r.IntN(maxWords))
				t := time.Now()
				k, err := c.embed(ctx, text)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t))
				tokens += k
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.tokens += tokens
			res.requests += len(lat)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if len(errs) > 0 {
		return res, fmt.Errorf("%d requests failed, first: %w", len(errs), errs[0])
	}
	return res, nil
}

// single sends n 16-token requests one after another to the idle server (all distinct, so a
// result cache cannot answer them) and returns their latencies.
func single(ctx context.Context, c *client, g *textGen, n int) ([]time.Duration, error) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	lat := make([]time.Duration, 0, n)
	for range n {
		text, _ := g.text(r, 14)
		t := time.Now()
		k, err := c.embed(ctx, text)
		if err != nil {
			return nil, err
		}
		if k != 16 {
			return nil, fmt.Errorf("single request has %d tokens, want 16", k)
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// histogram is the sum and count of a Prometheus histogram.
type histogram struct{ sum, count float64 }

// batchStats reads te_batch_next_size (sequences per forward pass) from /metrics.
func (c *client) batchStats() (histogram, error) {
	resp, err := c.hc.Get(c.base + "/metrics")
	if err != nil {
		return histogram{}, err
	}
	defer resp.Body.Close()
	var h histogram
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "te_batch_next_size_sum":
			h.sum, _ = strconv.ParseFloat(val, 64)
		case "te_batch_next_size_count":
			h.count, _ = strconv.ParseFloat(val, 64)
		}
	}
	return h, sc.Err()
}
