package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SIGTERM under load, on the real process: every request a client sent gets an HTTP answer
// (200, 429 or 503 shutting_down, never a silent EOF), and the process exits with status 0.
func TestSIGTERMUnderLoadExitsZero(t *testing.T) {
	p := startProcess(t, "--model", "../../testdata/models/tiny-roberta", "--cache-bytes", "0", "--shutdown-grace", "10s")
	waitReady(t, p)

	inputs := make([]string, 32)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("input %d ", i) + strings.Repeat("cold fusion ", 200)
	}
	body, _ := json.Marshal(map[string]any{"inputs": inputs})
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		lost     []error
		wg       sync.WaitGroup
	)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := hc.Post(p.url("/v1/embed"), "application/json", bytes.NewReader(body))
				if err != nil {
					var op *net.OpError
					if !errors.As(err, &op) || op.Op != "dial" { // a refused dial sent nothing
						mu.Lock()
						lost = append(lost, err)
						mu.Unlock()
					}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					return // the replica is draining: a load balancer would send us elsewhere
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.wait(t, 30*time.Second)
	wg.Wait()
	t.Logf("answers by status: %v", statuses)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, lastLines(p.logs.String(), 20))
	}
	for _, err := range lost {
		t.Errorf("a request got no answer: %v", err)
	}
	if statuses[http.StatusOK] == 0 || statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("answers %v: want 200s before and 503s during the drain", statuses)
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(t testing.TB, p *process) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := http.Get(p.url("/readyz")); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 60 s\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
