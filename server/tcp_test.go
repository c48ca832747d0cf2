package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tcpServer is a Server answering on a loopback port through Serve, as in production.
type tcpServer struct {
	*Server
	addr   string
	stop   context.CancelFunc
	served chan error
}

// serveTCP starts s on 127.0.0.1; shutdown (or the end of the test) stops it with grace.
func serveTCP(t testing.TB, s *Server, grace time.Duration) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ts := &tcpServer{Server: s, addr: ln.Addr().String(), stop: stop, served: make(chan error, 1)}
	go func() { ts.served <- s.Serve(ctx, ln, grace) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-ts.served:
		case <-time.After(grace + 10*time.Second):
			t.Error("Serve did not return")
		}
	})
	return ts
}

// shutdown begins a graceful shutdown (SIGTERM) and returns Serve's result.
func (ts *tcpServer) shutdown(t testing.TB, within time.Duration) error {
	t.Helper()
	ts.stop()
	select {
	case err := <-ts.served:
		ts.served <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("Serve did not return within %v of shutdown", within)
		return nil
	}
}

func (ts *tcpServer) url(path string) string { return "http://" + ts.addr + path }

// rawPost writes a whole request (headers, then all of body, chunked when contentLength is
// false) before it reads anything, as Python's urllib and requests do, then reads the answer.
func rawPost(t testing.TB, addr, path string, body io.Reader, size int64, contentLength bool) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	w := bufio.NewWriterSize(conn, 64<<10)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n", path, addr)
	if contentLength {
		fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", size)
		_, err = io.Copy(w, body)
	} else {
		fmt.Fprint(w, "Transfer-Encoding: chunked\r\n\r\n")
		buf := make([]byte, 32<<10)
		for err == nil {
			var n int
			n, err = body.Read(buf)
			if n > 0 {
				fmt.Fprintf(w, "%x\r\n", n)
				w.Write(buf[:n])
				fmt.Fprint(w, "\r\n")
			}
		}
		if err == io.EOF {
			_, err = fmt.Fprint(w, "0\r\n\r\n")
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("writing the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, err
}

// jsonBody is a valid embed request of at least size bytes: {"inputs": ["word word …", ...]}.
func jsonBody(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"inputs": [`)
	text := `"` + strings.Repeat("word ", 200) + `"`
	for b.Len() < size {
		if b.Len() > len(`{"inputs": [`) {
			b.WriteByte(',')
		}
		b.WriteString(text)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
