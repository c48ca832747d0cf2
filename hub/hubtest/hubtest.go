// Package hubtest is a minimal fake Hugging Face Hub for other packages' tests: it serves the
// two endpoints package hub uses (model revision metadata and file resolve, with the Hub's
// X-Repo-Commit, ETag, X-Linked-Etag and X-Linked-Size headers, HEAD and GET) from local
// directories, so that `--model OWNER/NAME` and admin Hub sources can be tested without the
// internet. Package hub's own tests use a richer fake with fault injection (cut connections,
// corruption, gating); this one serves content faithfully and counts requests.
package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Hub is a running fake Hub. Point hub.Client.Endpoint (or HF_ENDPOINT) at URL.
type Hub struct {
	URL string

	mu       sync.Mutex
	repos    map[string]map[string]string            // repo -> ref -> commit
	commits  map[string]map[string]map[string][]byte // repo -> commit -> file -> content
	requests int
}

// New starts a fake Hub closed at the end of the test.
func New(t testing.TB) *Hub {
	t.Helper()
	h := &Hub{repos: map[string]map[string]string{}, commits: map[string]map[string]map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// AddDir publishes the regular files of dir as a commit of repo and points ref at it. The
// commit sha is derived from the content; it is returned.
func (h *Hub) AddDir(t testing.TB, repo, ref, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	sum := sha1.New()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
		fmt.Fprintf(sum, "%s %d\n", e.Name(), len(b))
		sum.Write(b)
	}
	commit := hex.EncodeToString(sum.Sum(nil))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.repos[repo] == nil {
		h.repos[repo] = map[string]string{}
		h.commits[repo] = map[string]map[string][]byte{}
	}
	h.repos[repo][ref] = commit
	h.commits[repo][commit] = files
	return commit
}

// Requests is the number of requests served so far.
func (h *Hub) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

func (h *Hub) lookup(repo, rev string) (string, map[string][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	commit := rev
	if c, ok := h.repos[repo][rev]; ok {
		commit = c
	}
	return commit, h.commits[repo][commit]
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/models/"); ok {
		repo, rev, ok := strings.Cut(rest, "/revision/")
		commit, files := h.lookup(repo, rev)
		if !ok || files == nil {
			w.Header().Set("X-Error-Code", "RepoNotFound")
			http.Error(w, "Repository not found", http.StatusNotFound)
			return
		}
		type sibling struct {
			RFilename string `json:"rfilename"`
		}
		resp := struct {
			ID       string    `json:"id"`
			SHA      string    `json:"sha"`
			Siblings []sibling `json:"siblings"`
		}{ID: repo, SHA: commit}
		for name := range files {
			resp.Siblings = append(resp.Siblings, sibling{name})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	commit, files := h.lookup(parts[0]+"/"+parts[1], parts[3])
	data, ok := files[parts[4]]
	if files == nil || !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	if strings.HasSuffix(parts[4], ".safetensors") || strings.HasSuffix(parts[4], ".bin") {
		s := sha256.Sum256(data)
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(s[:])+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(data)))
		w.Header().Set("ETag", `"`+hex.EncodeToString(s[:])+`"`)
	} else {
		g := sha1.New()
		fmt.Fprintf(g, "blob %d\x00", len(data))
		g.Write(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(g.Sum(nil))+`"`)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
