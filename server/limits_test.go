package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coldserve/coldserve/inference"
)

// A body over --payload-limit gets its JSON 413 even from a client that writes the whole body
// before it reads (Python's urllib and requests), with a Content-Length or chunked: the
// server reads and discards the rest instead of resetting the connection under the client.
func TestOversizedBodyGetsJSON413(t *testing.T) {
	ts := serveTCP(t, newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir}), 5*time.Second)
	for _, size := range []int{5 << 20, 50 << 20} {
		body := jsonBody(size)
		for _, withLength := range []bool{true, false} {
			t.Run(fmt.Sprintf("%dMB content-length=%v", size>>20, withLength), func(t *testing.T) {
				resp, raw, err := rawPost(t, ts.addr, "/v1/embed", bytes.NewReader(body), int64(len(body)), withLength)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(t, raw) != CodePayloadTooLarge {
					t.Errorf("status %d %s", resp.StatusCode, raw)
				}
			})
		}
	}
}

// The same with Python's urllib, the client most of our users have, where python3 exists.
func TestOversizedBodyPythonUrllib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Go client in TestOversizedBodyGetsJSON413 covers the same behaviour")
	}
	ts := serveTCP(t, newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir}), 5*time.Second)
	script := filepath.Join(t.TempDir(), "post.py")
	if err := os.WriteFile(script, []byte(`
import json, sys, urllib.error, urllib.request
url, mb = sys.argv[1], int(sys.argv[2])
body = b'{"inputs": ["' + b"word " * (mb * 1024 * 1024 // 5) + b'"]}'
for chunked in (False, True):
    data = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=60)
        print("no error for chunked=%s" % chunked); sys.exit(1)
    except urllib.error.HTTPError as e:
        answer = json.load(e)
        if e.code != 413 or answer["error"]["code"] != "payload_too_large":
            print("chunked=%s: %d %r" % (chunked, e.code, answer)); sys.exit(1)
print("ok")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"5", "50"} {
		t.Run(mb+"MB", func(t *testing.T) {
			out, err := exec.Command(py, script, ts.url("/v1/embed"), mb).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ok") {
				t.Errorf("urllib: %v\n%s", err, out)
			}
		})
	}
}

// A client trickling its body is cut at the body read timeout with 408, and a client that
// never reads a large answer is cut at the write timeout: neither holds its connection, and
// the memory of the answers it did not read comes back.
func TestSlowClientsAreCut(t *testing.T) {
	s := newServer(t, Options{Timeouts: Timeouts{BodyRead: 300 * time.Millisecond, Write: 300 * time.Millisecond}},
		inference.ModelConfig{Dir: tinyDir})
	ts := serveTCP(t, s, 5*time.Second)

	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"inputs": "a slow body"}`
		fmt.Fprintf(conn, "POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body), body[:5])
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a slow body: %v", err)
		}
		var e errorResp
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusRequestTimeout || e.Error.Code != CodeBodyTimeout {
			t.Errorf("slow body: %d %+v", resp.StatusCode, e)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("cut after %v", waited)
		}
	})

	t.Run("answer never read", func(t *testing.T) {
		// pooling "none" of 64 inputs of ~500 tokens: an answer of several MB.
		inputs := make([]string, 64)
		for i := range inputs {
			inputs[i] = strings.Repeat("hello world ", 250)
		}
		raw, _ := json.Marshal(map[string]any{"inputs": inputs, "pooling": "none"})
		heapBefore := liveHeap()
		var conns []net.Conn
		for range 4 {
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096) // a client that reads nothing: keep the kernel from buffering the answer
			}
			fmt.Fprintf(conn, "POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(raw), raw)
		}
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		// Every handler finishes (its write cut by the timeout) while the clients still read nothing.
		deadline := time.Now().Add(60 * time.Second)
		for s.active.Count() > 0 || testutil.ToFloat64(s.metrics.batchCount) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d requests still held by clients that do not read", s.active.Count())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if grown := liveHeap() - heapBefore; grown > 32<<20 {
			t.Errorf("live heap %d MB above where it started after the cut clients", grown>>20)
		}
	})
}

// liveHeap is the heap in use after two collections (the second frees what sync.Pools, such
// as encoding/json's buffers, kept through the first).
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// --request-timeout: a request that cannot finish in time is dropped before it costs compute
// and answered 504 timeout; --max-request-tokens bounds the tokens of one request.
func TestRequestLimits(t *testing.T) {
	long := strings.Repeat("token ", 400)
	inputs := []string{long, long, long, long}
	t.Run("request timeout", func(t *testing.T) {
		s := newServer(t, Options{Timeouts: Timeouts{Request: time.Nanosecond}}, inference.ModelConfig{Dir: tinyDir})
		before := testutil.ToFloat64(s.metrics.batchCount)
		code, _, raw := request(t, s.Handler(), http.MethodPost, "/v1/embed", mustJSON(t, map[string]any{"inputs": inputs}), nil)
		if code != http.StatusGatewayTimeout || errorCode(t, raw) != CodeTimeout {
			t.Errorf("status %d %s", code, raw)
		}
		if n := testutil.ToFloat64(s.metrics.batchCount) - before; n != 0 {
			t.Errorf("%v forward passes ran for a request past its deadline", n)
		}
	})
	t.Run("max request tokens", func(t *testing.T) {
		s := newServer(t, Options{MaxRequestTokens: 1000}, inference.ModelConfig{Dir: tinyDir})
		code, _, raw := request(t, s.Handler(), http.MethodPost, "/v1/embed", mustJSON(t, map[string]any{"inputs": inputs}), nil)
		if code != http.StatusRequestEntityTooLarge || errorCode(t, raw) != CodeTooManyTokens {
			t.Errorf("4 × 400 tokens over a limit of 1000: %d %s", code, raw)
		}
		code, _, raw = request(t, s.Handler(), http.MethodPost, "/v1/embed", mustJSON(t, map[string]any{"inputs": inputs[:2]}), nil)
		if code != http.StatusOK {
			t.Errorf("2 × 400 tokens within the limit: %d %s", code, raw)
		}
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
