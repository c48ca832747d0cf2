package server

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

const adminToken = "s3cret-admin-token"

func checkpointRoot(t testing.TB) string { return fixture.CheckpointRoot(t, tinyDir, sentimentDir) }

func copyDir(t testing.TB, src, dst string) { fixture.CopyDir(t, src, dst) }

// newAdminServer serves root/tiny with the admin API enabled on root.
func newAdminServer(t testing.TB, root string, workers int) *Server {
	t.Helper()
	return newServer(t, Options{Admin: AdminOptions{Token: adminToken,
		Sources: &checkpoint.Resolver{Roots: []string{root}}}},
		inference.ModelConfig{Dir: filepath.Join(root, "tiny"), Encoder: encoder.EncoderOptions{Workers: workers}})
}

// admin sends an authenticated admin request and returns the status and body.
func adminDo(t testing.TB, h http.Handler, method, path string, body any) (int, []byte) {
	t.Helper()
	return doAuth(t, h, method, path, body, "Bearer "+adminToken)
}

func doAuth(t testing.TB, h http.Handler, method, path string, body any, auth string) (int, []byte) {
	t.Helper()
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(w, r)
	})
	return do(t, wrapped, method, path, body)
}

func forwardMean(t testing.TB, dir string, ids [][]int32) [][]float32 {
	return fixture.ForwardMean(t, dir, ids)
}
