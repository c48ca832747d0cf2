package hub_test

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

// fakeHub is a local stand-in for huggingface.co built on httptest. It serves
// the two endpoints the client uses, with the headers the real Hub sends:
//
//   - GET /api/models/{org}/{name}/revision/{rev} -> {"id","sha","siblings"}
//   - HEAD/GET /{org}/{name}/resolve/{rev}/{file} with X-Repo-Commit, ETag
//     (git blob sha1 for small files), X-Linked-Etag/X-Linked-Size (sha256 and
//     size for LFS files), Content-Length, Range support; LFS files optionally
//     answer 302 to a second server playing the CDN (a different host, so the
//     token must not reach it).
//
// Faults are injected per file name: cut the body once after N bytes, serve
// corrupted bytes, or stall mid-body.
type fakeHub struct {
	t   *testing.T
	srv *httptest.Server
	cdn *httptest.Server

	mu          sync.Mutex
	repos       map[string]*fakeRepo
	blobs       map[string]*fakeFile // by sha256, for the CDN
	requests    []fakeRequest
	token       string // when set, every Hub request must carry it
	gated       bool   // with token set: a wrong/missing token gets 403 GatedRepo instead of 401
	gateFiles   bool   // with token set: only file downloads need it (gated repos' metadata is public)
	redirectLFS bool
	down        int             // >0: answer every request with this status (e.g. 503)
	cutOnce     map[string]int  // file -> cut the body after this many bytes, once
	corrupt     map[string]bool // file -> flip a byte of what is served
	stall       map[string]func()
}

type fakeRepo struct {
	refs    map[string]string               // branch/tag -> commit
	commits map[string]map[string]*fakeFile // commit -> file -> content
}

type fakeFile struct {
	data   []byte
	lfs    bool
	sha256 string
	gitSHA string
}

// fakeRequest is one request as the fake saw it.
type fakeRequest struct {
	CDN    bool
	Method string
	Path   string
	File   string // for resolve and CDN requests
	Range  string
	Auth   string
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{t: t, repos: map[string]*fakeRepo{}, blobs: map[string]*fakeFile{},
		cutOnce: map[string]int{}, corrupt: map[string]bool{}, stall: map[string]func(){}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(h.cdn.Close)
	t.Cleanup(h.srv.Close)
	return h
}

// with changes the fake's behaviour under its lock (handlers run on other goroutines).
func (h *fakeHub) with(change func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	change()
}

func newFakeFile(data []byte, name string) *fakeFile {
	f := &fakeFile{data: data}
	s := sha256.Sum256(data)
	f.sha256 = hex.EncodeToString(s[:])
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(data))
	g.Write(data)
	f.gitSHA = hex.EncodeToString(g.Sum(nil))
	// Like the Hub: weights and anything over 1 MiB live in LFS.
	f.lfs = len(data) > 1<<20 || strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin")
	return f
}

// addCommit adds a commit holding files to repo and points ref at it. The
// commit sha is derived from the content, like git's.
func (h *fakeHub) addCommit(repo, ref string, files map[string][]byte) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repo]
	if r == nil {
		r = &fakeRepo{refs: map[string]string{}, commits: map[string]map[string]*fakeFile{}}
		h.repos[repo] = r
	}
	g := sha1.New()
	fmt.Fprintf(g, "%s %d", repo, len(r.commits))
	c := map[string]*fakeFile{}
	for name, data := range files {
		f := newFakeFile(data, name)
		c[name] = f
		fmt.Fprintf(g, " %s:%s", name, f.gitSHA)
		if f.lfs {
			h.blobs[f.sha256] = f
		}
	}
	sha := hex.EncodeToString(g.Sum(nil))
	r.commits[sha] = c
	if ref != "" {
		r.refs[ref] = sha
	}
	return sha
}

func (h *fakeHub) setRef(repo, ref, commit string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repos[repo].refs[ref] = commit
}

func (h *fakeHub) file(repo, commit, name string) *fakeFile {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repos[repo].commits[commit][name]
}

// loadDir reads a testdata model directory.
func loadDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

func (h *fakeHub) record(r *http.Request, cdn bool, file string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, fakeRequest{CDN: cdn, Method: r.Method, Path: r.URL.Path, File: file,
		Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization")})
}

// count returns how many recorded requests match.
func (h *fakeHub) count(match func(fakeRequest) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if match(r) {
			n++
		}
	}
	return n
}

func (h *fakeHub) all() []fakeRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fakeRequest(nil), h.requests...)
}

// contentGETs counts GETs of file bytes (Hub resolve or CDN) for file ("" = any).
func (h *fakeHub) contentGETs(file string) int {
	return h.count(func(r fakeRequest) bool {
		return r.Method == http.MethodGet && r.File != "" && (file == "" || r.File == file)
	})
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	var file string
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) == 5 && parts[2] == "resolve" {
		file = parts[4]
	}
	h.record(r, false, file)
	h.mu.Lock()
	down, token, gated := h.down, h.token, h.gated
	if h.gateFiles && file == "" {
		token = ""
	}
	h.mu.Unlock()
	if down != 0 {
		http.Error(w, "hub is down", down)
		return
	}
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		if gated {
			w.Header().Set("X-Error-Code", "GatedRepo")
			w.Header().Set("X-Error-Message", "Access to model is restricted. You must be authenticated.")
			http.Error(w, "gated", http.StatusForbidden)
			return
		}
		http.Error(w, `{"error":"Invalid username or password."}`, http.StatusUnauthorized)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/models/"):
		h.serveAPI(w, r)
	case len(parts) == 5 && parts[2] == "resolve":
		h.serveResolve(w, r, parts[0]+"/"+parts[1], parts[3], parts[4])
	default:
		http.NotFound(w, r)
	}
}

// lookup resolves repo@rev (a ref or a commit sha), writing the Hub's 404 on failure.
func (h *fakeHub) lookup(w http.ResponseWriter, repo, rev string) (string, map[string]*fakeFile, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repo]
	if rp == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return "", nil, false
	}
	commit := rev
	if c, ok := rp.refs[rev]; ok {
		commit = c
	}
	files, ok := rp.commits[commit]
	if !ok {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id: "+rev, http.StatusNotFound)
		return "", nil, false
	}
	return commit, files, true
}

func (h *fakeHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	repoPart, rev, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/models/"), "/revision/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	commit, files, ok := h.lookup(w, repoPart, rev)
	if !ok {
		return
	}
	type sibling struct {
		RFilename string `json:"rfilename"`
	}
	resp := struct {
		ID       string    `json:"id"`
		SHA      string    `json:"sha"`
		Siblings []sibling `json:"siblings"`
	}{ID: repoPart, SHA: commit}
	for name := range files {
		resp.Siblings = append(resp.Siblings, sibling{name})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *fakeHub) serveResolve(w http.ResponseWriter, r *http.Request, repo, rev, name string) {
	commit, files, ok := h.lookup(w, repo, rev)
	if !ok {
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	f := files[name]
	if f == nil {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if !f.lfs {
		w.Header().Set("ETag", `"`+f.gitSHA+`"`)
		h.serveBytes(w, r, name, f.data)
		return
	}
	w.Header().Set("X-Linked-Etag", `"`+f.sha256+`"`)
	w.Header().Set("X-Linked-Size", strconv.Itoa(len(f.data)))
	h.mu.Lock()
	redirect := h.redirectLFS
	h.mu.Unlock()
	if redirect {
		// The 302 itself carries the pointer file's etag; the client must
		// prefer X-Linked-Etag.
		w.Header().Set("ETag", `"`+f.gitSHA+`"`)
		w.Header().Set("Location", h.cdn.URL+"/blobs/"+f.sha256+"?X-Amz-Signature=fake&name="+name)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+f.sha256+`"`)
	h.serveBytes(w, r, name, f.data)
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	h.record(r, true, name)
	h.mu.Lock()
	f := h.blobs[strings.TrimPrefix(r.URL.Path, "/blobs/")]
	h.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h.serveBytes(w, r, name, f.data)
}

// serveBytes answers HEAD/GET for content with "bytes=N-" Range support and
// the injected faults.
func (h *fakeHub) serveBytes(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	h.mu.Lock()
	cut, cutting := h.cutOnce[name]
	if cutting && r.Method == http.MethodGet {
		delete(h.cutOnce, name)
	}
	corrupt := h.corrupt[name]
	stall := h.stall[name]
	h.mu.Unlock()

	if corrupt {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	start := 0
	if rg := r.Header.Get("Range"); rg != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n < 0 || n >= len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data)))
	}
	body := data[start:]
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if start > 0 {
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if r.Method == http.MethodHead {
		return
	}
	switch {
	case cutting && cut < len(body):
		_, _ = w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	case stall != nil:
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		stall()
		<-r.Context().Done()
	default:
		_, _ = w.Write(body)
	}
}
