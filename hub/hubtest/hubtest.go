// Package hubtest is a fake Hugging Face Hub built on httptest, for tests that must not reach
// the internet: package hub's own tests and other packages' (`--model OWNER/NAME`, admin Hub
// sources). It serves the two endpoints package hub uses, with the headers the real Hub sends:
//
//   - GET /api/models/{org}/{name}/revision/{rev} -> {"id","sha","siblings"}
//   - HEAD/GET /{org}/{name}/resolve/{rev}/{file} with X-Repo-Commit, ETag (git blob sha1 for
//     small files), X-Linked-Etag/X-Linked-Size (sha256 and size for LFS files),
//     Content-Length and "bytes=N-" Range support; LFS files optionally answer 302 to a
//     second server playing the CDN (a different host, so the token must not reach it).
//
// By default it serves content faithfully. Faults (auth, gating, an outage, a connection cut
// mid-body, corrupted bytes, a stalled body) are switched on with Hub.Set. Every request is
// logged, so tests can assert what the client fetched and how.
//
// hubtest does not import package hub, so any test package may use it.
package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Hub is a running fake Hub. Point hub.Client.Endpoint (or HF_ENDPOINT) at URL.
type Hub struct {
	URL string

	srv *httptest.Server
	cdn *httptest.Server

	mu       sync.Mutex
	repos    map[string]*repo
	blobs    map[string]*File // by sha256, for the CDN
	requests []Request
	faults   Faults
}

// Faults are the misbehaviours a Hub can be told to show. Change them with Hub.Set.
type Faults struct {
	Token       string // when set, every Hub request must carry "Bearer "+Token
	Gated       bool   // with Token set: a wrong/missing token gets 403 GatedRepo instead of 401
	GateFiles   bool   // with Token set: only file downloads need it (gated repos' metadata is public)
	RedirectLFS bool   // LFS files answer 302 to the CDN server
	Down        int    // >0: answer every Hub request with this status (e.g. 503)

	CutOnce map[string]int    // file -> cut the body after this many bytes, once
	Corrupt map[string]bool   // file -> flip a byte of what is served
	Stall   map[string]func() // file -> serve half the body, call this, then hang until the client gives up
}

// File is one file of a commit as the fake serves it.
type File struct {
	Data   []byte
	LFS    bool   // weights and anything over 1 MiB live in LFS, like on the Hub
	SHA256 string // hex; the ETag of an LFS file
	GitSHA string // hex git blob sha1; the ETag of a small file
}

// Request is one request as the fake saw it.
type Request struct {
	CDN    bool
	Method string
	Path   string
	File   string // for resolve and CDN requests
	Range  string
	Auth   string
}

type repo struct {
	refs    map[string]string           // branch/tag -> commit
	commits map[string]map[string]*File // commit -> file -> content
}

// New starts a fake Hub (and its CDN) closed at the end of the test.
func New(t testing.TB) *Hub {
	t.Helper()
	h := &Hub{repos: map[string]*repo{}, blobs: map[string]*File{}, faults: Faults{
		CutOnce: map[string]int{}, Corrupt: map[string]bool{}, Stall: map[string]func(){},
	}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(h.cdn.Close)
	t.Cleanup(h.srv.Close)
	h.URL = h.srv.URL
	return h
}

// Set changes the fake's faults under its lock (handlers run on other goroutines).
func (h *Hub) Set(change func(*Faults)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	change(&h.faults)
}

// Close shuts the Hub server down (the CDN stays up), so any further request fails with a
// network error, as when the Hub is unreachable.
func (h *Hub) Close() { h.srv.Close() }

// ReadDir reads the regular files of dir, by name.
func ReadDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// AddDir publishes the regular files of dir as a commit of repo, points ref at it and
// returns the commit sha.
func (h *Hub) AddDir(t testing.TB, repo, ref, dir string) string {
	t.Helper()
	return h.AddCommit(repo, ref, ReadDir(t, dir))
}

// AddCommit adds a commit holding files to repoID and points ref at it (unless ref is "").
// The commit sha is derived from the repository, its commit count and the content, like
// git's; it is returned.
func (h *Hub) AddCommit(repoID, ref string, files map[string][]byte) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repoID]
	if r == nil {
		r = &repo{refs: map[string]string{}, commits: map[string]map[string]*File{}}
		h.repos[repoID] = r
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	g := sha1.New()
	fmt.Fprintf(g, "%s %d", repoID, len(r.commits))
	c := map[string]*File{}
	for _, name := range names {
		f := newFile(files[name], name)
		c[name] = f
		fmt.Fprintf(g, " %s:%s", name, f.GitSHA)
		if f.LFS {
			h.blobs[f.SHA256] = f
		}
	}
	sha := hex.EncodeToString(g.Sum(nil))
	r.commits[sha] = c
	if ref != "" {
		r.refs[ref] = sha
	}
	return sha
}

func newFile(data []byte, name string) *File {
	s := sha256.Sum256(data)
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(data))
	g.Write(data)
	return &File{
		Data:   data,
		LFS:    len(data) > 1<<20 || strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin"),
		SHA256: hex.EncodeToString(s[:]),
		GitSHA: hex.EncodeToString(g.Sum(nil)),
	}
}

// SetRef points ref of repoID at commit.
func (h *Hub) SetRef(repoID, ref, commit string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repos[repoID].refs[ref] = commit
}

// File returns the file name of commit in repoID, or nil.
func (h *Hub) File(repoID, commit, name string) *File {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.repos[repoID]; r != nil {
		return r.commits[commit][name]
	}
	return nil
}

func (h *Hub) record(r *http.Request, cdn bool, file string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, Request{CDN: cdn, Method: r.Method, Path: r.URL.Path, File: file,
		Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization")})
}

// Requests is the number of requests served so far (Hub and CDN).
func (h *Hub) Requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

// Log returns a copy of every request served so far, in order.
func (h *Hub) Log() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// Count returns how many logged requests match.
func (h *Hub) Count(match func(Request) bool) int {
	n := 0
	for _, r := range h.Log() {
		if match(r) {
			n++
		}
	}
	return n
}

// ContentGETs counts GETs of file bytes (Hub resolve or CDN) for file ("" = any file).
func (h *Hub) ContentGETs(file string) int {
	return h.Count(func(r Request) bool {
		return r.Method == http.MethodGet && r.File != "" && (file == "" || r.File == file)
	})
}
