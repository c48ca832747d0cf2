package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

// BenchmarkEmbedHTTP measures the whole HTTP path (JSON, tokenization, queue, batching, forward,
// pooling) on the tiny checkpoint with 1, 16 and 64 concurrent clients, each sending one ~90-token
// text per request, so that the serving overhead around the encoder shows. Reported: requests/s
// and the mean number of sequences per forward pass (how much the batcher coalesced).
//
//	go test -run '^$' -bench EmbedHTTP ./server
func BenchmarkEmbedHTTP(b *testing.B) {
	text := strings.TrimSpace(strings.Repeat("ColD Fusion trains one model from many finetuned ones. ", 8))
	body, _ := json.Marshal(map[string]any{"inputs": []string{text}})
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newServer(b, Options{}, inference.ModelConfig{Dir: tinyDir})
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			passes0 := countPasses(b, s)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						r, err := client.Post(srv.URL+"/v1/embed", "application/json", bytes.NewReader(body))
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, r.Body)
						r.Body.Close()
						if r.StatusCode != 200 {
							b.Errorf("status %d", r.StatusCode)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			if passes := countPasses(b, s) - passes0; passes > 0 {
				b.ReportMetric(float64(b.N)/float64(passes), "seqs/batch")
			}
		})
	}
}

func countPasses(b *testing.B, s *Server) int { return forwardPasses(b, s) }
