package hubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// serveHub is the Hub server: it logs the request, applies the outage and auth faults, then
// routes to the metadata API or file resolve.
func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	var file string
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) == 5 && parts[2] == "resolve" {
		file = parts[4]
	}
	h.record(r, false, file)
	h.mu.Lock()
	down, token, gated := h.faults.Down, h.faults.Token, h.faults.Gated
	if h.faults.GateFiles && file == "" {
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
	case file != "":
		h.serveResolve(w, r, parts[0]+"/"+parts[1], parts[3], file)
	default:
		http.NotFound(w, r)
	}
}

// lookup resolves repoID@rev (a ref or a commit sha), writing the Hub's 404 on failure.
func (h *Hub) lookup(w http.ResponseWriter, repoID, rev string) (string, map[string]*File, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoID]
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

func (h *Hub) serveAPI(w http.ResponseWriter, r *http.Request) {
	repoID, rev, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/models/"), "/revision/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	commit, files, ok := h.lookup(w, repoID, rev)
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
	}{ID: repoID, SHA: commit}
	for name := range files {
		resp.Siblings = append(resp.Siblings, sibling{name})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *Hub) serveResolve(w http.ResponseWriter, r *http.Request, repoID, rev, name string) {
	commit, files, ok := h.lookup(w, repoID, rev)
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
	if !f.LFS {
		w.Header().Set("ETag", `"`+f.GitSHA+`"`)
		h.serveBytes(w, r, name, f.Data)
		return
	}
	w.Header().Set("X-Linked-Etag", `"`+f.SHA256+`"`)
	w.Header().Set("X-Linked-Size", strconv.Itoa(len(f.Data)))
	h.mu.Lock()
	redirect := h.faults.RedirectLFS
	h.mu.Unlock()
	if redirect {
		// The 302 itself carries the pointer file's etag; the client must
		// prefer X-Linked-Etag.
		w.Header().Set("ETag", `"`+f.GitSHA+`"`)
		w.Header().Set("Location", h.cdn.URL+"/blobs/"+f.SHA256+"?X-Amz-Signature=fake&name="+name)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	h.serveBytes(w, r, name, f.Data)
}

// serveCDN is the CDN server LFS redirects point at.
func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	h.record(r, true, name)
	h.mu.Lock()
	f := h.blobs[strings.TrimPrefix(r.URL.Path, "/blobs/")]
	h.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h.serveBytes(w, r, name, f.Data)
}

// serveBytes answers HEAD/GET for content with "bytes=N-" Range support and the injected
// faults.
func (h *Hub) serveBytes(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	h.mu.Lock()
	cut, cutting := h.faults.CutOnce[name]
	if cutting && r.Method == http.MethodGet {
		delete(h.faults.CutOnce, name)
	}
	corrupt := h.faults.Corrupt[name]
	stall := h.faults.Stall[name]
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
