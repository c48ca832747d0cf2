package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldserve/coldserve/inference"
)

// shutdownClients keeps clients posting heavy embed requests until the server says it is
// shutting down (503) or stops accepting connections, and records what each request got. A
// client that kept dialing a replica after its 503 could always lose a connection that the
// kernel accepted the instant the listener closed; steering it away is the load balancer's job.
type shutdownClients struct {
	mu       sync.Mutex
	statuses map[int]int
	lost     []error // requests sent that got no HTTP answer
	wg       sync.WaitGroup
	sent     atomic.Int64
}

func startShutdownClients(ts *tcpServer, clients int, body []byte) *shutdownClients {
	sc := &shutdownClients{statuses: map[int]int{}}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range clients {
		sc.wg.Add(1)
		go func() {
			defer sc.wg.Done()
			for {
				sc.sent.Add(1)
				resp, err := hc.Post(ts.url("/v1/embed"), "application/json", bytes.NewReader(body))
				if err != nil {
					var op *net.OpError
					if errors.As(err, &op) && op.Op == "dial" {
						return // the listener is gone: nothing was sent
					}
					sc.mu.Lock()
					sc.lost = append(sc.lost, err)
					sc.mu.Unlock()
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sc.mu.Lock()
				sc.statuses[resp.StatusCode]++
				sc.mu.Unlock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					return // this replica is going away
				}
			}
		}()
	}
	return sc
}

// heavyBody is an embed request of n inputs of about tokens tokens each.
func heavyBody(t testing.TB, n, tokens int) []byte {
	inputs := make([]string, n)
	for i := range inputs {
		inputs[i] = fmt.Sprintf("input %d ", i) + strings.Repeat("cold ", tokens)
	}
	return []byte(mustJSON(t, map[string]any{"inputs": inputs}))
}

// Shutdown under load: every request sent gets an HTTP answer (200 for what was admitted,
// 503 shutting_down for what came after), none a silent EOF; new connections are refused
// only once the admitted work is done; and Serve returns nil.
func TestShutdownUnderLoad(t *testing.T) {
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: tinyDir})
	ts := serveTCP(t, s, 20*time.Second)
	sc := startShutdownClients(ts, 32, heavyBody(t, 16, 250))
	time.Sleep(time.Second)
	if err := ts.shutdown(t, 30*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	sc.wg.Wait()
	t.Logf("%d requests sent; answers by status %v", sc.sent.Load(), sc.statuses)
	for _, err := range sc.lost {
		t.Errorf("a request got no answer: %v", err)
	}
	if sc.statuses[http.StatusOK] == 0 || sc.statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("answers %v: want 200s before and 503s during the drain", sc.statuses)
	}
	for code := range sc.statuses {
		if code != http.StatusOK && code != http.StatusServiceUnavailable && code != http.StatusTooManyRequests {
			t.Errorf("status %d during shutdown", code)
		}
	}
}

// When the admitted work does not fit the grace, what is still queued or computing when it
// runs out is answered 503 shutting_down: every admitted request still gets an answer, and
// Serve returns nil within the grace.
func TestShutdownAnswersWhatDoesNotFitTheGrace(t *testing.T) {
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: tinyDir, Queue: inference.QueueLimits{Sequences: 1 << 20, Tokens: 1 << 24}})
	ts := serveTCP(t, s, 2*time.Second)
	// 32 clients × 64 inputs of 500 tokens: far more than a 2 s grace computes.
	sc := startShutdownClients(ts, 32, heavyBody(t, 64, 500))
	deadline := time.Now().Add(30 * time.Second)
	for s.queueDepth() < 64*16 { // at least half the clients are admitted and queued
		if time.Now().After(deadline) {
			t.Fatalf("queue depth %d: the load never built up", s.queueDepth())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if err := ts.shutdown(t, 30*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v with a 2 s grace", took)
	}
	sc.wg.Wait()
	t.Logf("%d requests sent; answers by status %v", sc.sent.Load(), sc.statuses)
	for _, err := range sc.lost {
		t.Errorf("a request got no answer: %v", err)
	}
	if sc.statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("answers %v: the queued requests that did not fit should get 503", sc.statuses)
	}
}

// queueDepth is te_queue_size: sequences waiting in every lane.
func (s *Server) queueDepth() int { return s.core.QueueDepth() }

// A client trickling its body when shutdown begins was not admitted: it is answered 503 at
// once rather than waited for, and the shutdown ends long before the grace.
func TestShutdownCutsSlowBodies(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	ts := serveTCP(t, s, 30*time.Second)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"inputs": "a body that never finishes"}`
	fmt.Fprintf(conn, "POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(body), body[:8])
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Count() == 0 { // the handler is reading the body
		if time.Now().After(deadline) {
			t.Fatal("the request never reached its handler")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := ts.shutdown(t, 10*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a slow body held the shutdown for %v", took)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the slow client got no answer: %v", err)
	}
	var e errorResp
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != CodeShuttingDown {
		t.Errorf("slow body at shutdown: %d %+v", resp.StatusCode, e)
	}
}
