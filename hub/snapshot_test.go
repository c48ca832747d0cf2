package hub_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/hub/hubtest"
)

const repoID = "ibm/ColD-Fusion"

// tinyRoberta is the tiny checkpoint served as "main"; extra files a real
// repository has (README, a pytorch_model.bin next to the safetensors, an
// ONNX export) must not be downloaded.
func tinyRoberta(t *testing.T) map[string][]byte {
	files := hubtest.ReadDir(t, "../testdata/models/tiny-roberta")
	files["README.md"] = []byte("# tiny\n")
	files["pytorch_model.bin"] = hubtest.ReadDir(t, "../testdata/models/tiny-roberta-bin")["pytorch_model.bin"]
	files["onnx/model.onnx"] = []byte("not really onnx")
	return files
}

// fetched is what Snapshot must download from tinyRoberta.
var fetchedFromTiny = []string{"config.json", "merges.txt", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json"}

func newClient(t *testing.T, h *hubtest.Hub, cacheDir string) *hub.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &hub.Client{
		Endpoint:   h.URL,
		CacheDir:   cacheDir,
		HTTPClient: &http.Client{Transport: tr},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func repoRoot(cacheDir string) string { return filepath.Join(cacheDir, "models--ibm--ColD-Fusion") }

// checkSnapshot asserts the huggingface_hub layout: dir is
// snapshots/<commit>, holds exactly want, each entry a relative symlink to
// ../../blobs/<etag> (sha256 for LFS, git sha1 otherwise) whose content
// equals the original, and no .incomplete file is left.
func checkSnapshot(t *testing.T, h *hubtest.Hub, cacheDir, dir, commit string, want []string) {
	t.Helper()
	if wantDir := filepath.Join(repoRoot(cacheDir), "snapshots", commit); dir != wantDir {
		t.Fatalf("snapshot dir = %s, want %s", dir, wantDir)
	}
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("snapshot files = %v, want %v", got, want)
	}
	for _, name := range want {
		f := h.File(repoID, commit, name)
		p := filepath.Join(dir, filepath.FromSlash(name))
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatalf("%s is not a symlink: %v", name, err)
		}
		etag := f.GitSHA
		if f.LFS {
			etag = f.SHA256
		}
		wantTarget := strings.Repeat("../", strings.Count(name, "/")+2) + "blobs/" + etag
		if target != filepath.FromSlash(wantTarget) {
			t.Errorf("%s -> %s, want %s", name, target, wantTarget)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, f.Data) {
			t.Errorf("%s: content differs from the original (%d vs %d bytes)", name, len(b), len(f.Data))
		}
	}
	incomplete, _ := filepath.Glob(filepath.Join(repoRoot(cacheDir), "blobs", "*.incomplete"))
	if len(incomplete) != 0 {
		t.Errorf("left behind: %v", incomplete)
	}
}

func readRef(t *testing.T, cacheDir, rev string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(cacheDir), "refs", rev))
	if err != nil {
		t.Fatalf("read ref %s: %v", rev, err)
	}
	return string(b)
}

func TestSnapshotFreshDownload(t *testing.T) {
	for _, tc := range []struct {
		name        string
		redirectLFS bool
	}{
		{"lfs served by the hub", false},
		{"lfs redirected to a cdn", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hubtest.New(t)
			h.Set(func(f *hubtest.Faults) { f.RedirectLFS = tc.redirectLFS })
			commit := h.AddCommit(repoID, "main", tinyRoberta(t))
			cache := t.TempDir()
			dir, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
			if got := readRef(t, cache, "main"); got != commit {
				t.Errorf("refs/main = %q, want %q", got, commit)
			}
			cdnGets := h.Count(func(r hubtest.Request) bool { return r.CDN })
			if tc.redirectLFS != (cdnGets > 0) {
				t.Errorf("CDN requests = %d with redirectLFS=%v", cdnGets, tc.redirectLFS)
			}
			for _, r := range h.Log() {
				if r.Method == http.MethodGet && r.File != "" && r.Range != "" {
					t.Errorf("unexpected Range on a fresh download: %+v", r)
				}
			}
		})
	}
}

func TestSnapshotWeightSelection(t *testing.T) {
	tiny := hubtest.ReadDir(t, "../testdata/models/tiny-roberta")
	bin := hubtest.ReadDir(t, "../testdata/models/tiny-roberta-bin")
	sharded := hubtest.ReadDir(t, "../testdata/models/tiny-roberta-bf16-sharded")
	withBin := hubtest.ReadDir(t, "../testdata/models/tiny-roberta")
	withBin["pytorch_model.bin"] = bin["pytorch_model.bin"]
	noWeights := map[string][]byte{"config.json": tiny["config.json"], "vocab.json": tiny["vocab.json"]}
	noConfig := map[string][]byte{"model.safetensors": tiny["model.safetensors"]}
	for _, tc := range []struct {
		name    string
		files   map[string][]byte
		want    []string // snapshot content; nil means an error containing wantErr
		wantErr string
	}{
		{"safetensors preferred over bin", withBin, fetchedFromTiny, ""},
		{"bin fallback", bin, []string{"config.json", "pytorch_model.bin"}, ""},
		{"sharded safetensors", sharded, []string{"config.json", "merges.txt", "model-00001-of-00002.safetensors",
			"model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "vocab.json"}, ""},
		{"no weights", noWeights, nil, "no weights"},
		{"no config", noConfig, nil, "no config.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hubtest.New(t)
			commit := h.AddCommit(repoID, "main", tc.files)
			cache := t.TempDir()
			dir, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "", hub.SnapshotOptions{})
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if n := h.ContentGETs(""); n != 0 {
					t.Errorf("%d content downloads for an unusable repository", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSnapshot(t, h, cache, dir, commit, tc.want)
			if n := h.Count(func(r hubtest.Request) bool { return r.File == "pytorch_model.bin" }); len(tc.files) == len(withBin) && n != 0 {
				t.Errorf("pytorch_model.bin requested %d times although model.safetensors exists", n)
			}
		})
	}
}

func TestSnapshotCachedReuse(t *testing.T) {
	h := hubtest.New(t)
	h.AddCommit(repoID, "main", tinyRoberta(t))
	cache := t.TempDir()
	c := newClient(t, h, cache)
	first, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.ContentGETs(""); n != len(fetchedFromTiny) {
		t.Fatalf("first snapshot made %d content GETs, want %d", n, len(fetchedFromTiny))
	}
	before := len(h.Log())
	second, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Errorf("second snapshot %s != first %s", second, first)
	}
	// Only the revision lookup: no HEAD, no GET of any file.
	for _, r := range h.Log()[before:] {
		if r.File != "" {
			t.Errorf("cached snapshot still requested %s %s", r.Method, r.Path)
		}
	}
	if n := len(h.Log()) - before; n != 1 {
		t.Errorf("second snapshot made %d requests, want 1 (the revision lookup)", n)
	}
}

// Files downloaded by Python into the same layout must be reused: a blob
// already present is linked, not downloaded, and a complete snapshot costs
// no file request at all.
func TestSnapshotReusesPythonCache(t *testing.T) {
	h := hubtest.New(t)
	files := tinyRoberta(t)
	commit := h.AddCommit(repoID, "main", files)
	cache := t.TempDir()
	root := repoRoot(cache)
	// What huggingface_hub left: the weights blob (as if hf_hub_download of
	// model.safetensors for another revision), no snapshot entry for it.
	weights := h.File(repoID, commit, "model.safetensors")
	if err := os.MkdirAll(filepath.Join(root, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(root, "blobs", weights.SHA256)
	if err := os.WriteFile(blob, weights.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(blob)

	c := newClient(t, h, cache)
	dir, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
	if n := h.ContentGETs("model.safetensors"); n != 0 {
		t.Errorf("model.safetensors downloaded %d times although its blob was cached", n)
	}
	after, _ := os.Stat(filepath.Join(dir, "model.safetensors"))
	if !os.SameFile(before, after) {
		t.Error("snapshot entry does not point at the pre-existing blob")
	}
}

func TestSnapshotRevisionPinning(t *testing.T) {
	h := hubtest.New(t)
	v1Files := tinyRoberta(t)
	v1 := h.AddCommit(repoID, "v1", v1Files)
	v2Files := tinyRoberta(t)
	v2Files["config.json"] = append(bytes.TrimSpace(v2Files["config.json"]), '\n', '\n') // same model, new config blob
	v2 := h.AddCommit(repoID, "main", v2Files)
	cache := t.TempDir()
	c := newClient(t, h, cache)
	ctx := context.Background()

	for _, tc := range []struct{ rev, commit string }{
		{"v1", v1}, {"main", v2}, {v1, v1}, // a commit sha pins exactly
	} {
		dir, err := c.Snapshot(ctx, repoID, tc.rev, hub.SnapshotOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.rev, err)
		}
		checkSnapshot(t, h, cache, dir, tc.commit, fetchedFromTiny)
	}
	if readRef(t, cache, "v1") != v1 || readRef(t, cache, "main") != v2 {
		t.Errorf("refs: v1=%s main=%s, want %s %s", readRef(t, cache, "v1"), readRef(t, cache, "main"), v1, v2)
	}
	if _, err := os.Stat(filepath.Join(repoRoot(cache), "refs", v1)); err == nil {
		t.Error("a ref file was written for a commit sha")
	}
	// The weights are one blob shared by both snapshots: downloaded once.
	if n := h.ContentGETs("model.safetensors"); n != 1 {
		t.Errorf("model.safetensors downloaded %d times, want 1", n)
	}
	if n := h.ContentGETs("config.json"); n != 2 {
		t.Errorf("config.json downloaded %d times, want 2 (it differs)", n)
	}

	// main moves back to v1's commit: refs/main follows.
	h.SetRef(repoID, "main", v1)
	dir, err := c.Snapshot(ctx, repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != v1 || readRef(t, cache, "main") != v1 {
		t.Errorf("after moving main: dir %s, refs/main %s, want %s", dir, readRef(t, cache, "main"), v1)
	}
}

func TestSnapshotSendsTokenToHubOnly(t *testing.T) {
	h := hubtest.New(t)
	h.Set(func(f *hubtest.Faults) { f.Token, f.RedirectLFS = "hf_secret", true })
	commit := h.AddCommit(repoID, "main", tinyRoberta(t))
	cache := t.TempDir()
	c := newClient(t, h, cache)
	c.Token = "hf_secret"
	dir, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
	var hubReqs, cdnReqs int
	for _, r := range h.Log() {
		switch {
		case r.CDN && r.Auth != "":
			t.Errorf("token leaked to the CDN: %s %s", r.Method, r.Path)
		case r.CDN:
			cdnReqs++
		case r.Auth != "Bearer hf_secret":
			t.Errorf("hub request without the token: %s %s (Authorization %q)", r.Method, r.Path, r.Auth)
		default:
			hubReqs++
		}
	}
	if hubReqs == 0 || cdnReqs == 0 {
		t.Errorf("hub requests %d, cdn requests %d: want both", hubReqs, cdnReqs)
	}
}

func TestSnapshotHTTPErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hubToken  string
		gated     bool
		gateFiles bool
		client    string
		repo, rev string
		status    int
		wantInMsg []string
	}{
		{"private without token", "hf_good", false, false, "", repoID, "main", 401, []string{"HF_TOKEN", repoID}},
		{"wrong token", "hf_good", false, false, "hf_bad", repoID, "main", 401, []string{"HF_TOKEN", "rejected"}},
		{"gated", "hf_good", true, false, "", repoID, "main", 403, []string{"HF_TOKEN", "gated"}},
		{"gated files, public metadata", "hf_good", true, true, "", repoID, "main", 403, []string{"HF_TOKEN", "gated", "HEAD"}},
		{"missing repo", "", false, false, "", "ibm/nope", "main", 404, []string{"ibm/nope", "not found"}},
		{"missing revision", "", false, false, "", repoID, "v9", 404, []string{`revision "v9" not found`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hubtest.New(t)
			h.Set(func(f *hubtest.Faults) { f.Token, f.Gated, f.GateFiles = tc.hubToken, tc.gated, tc.gateFiles })
			h.AddCommit(repoID, "main", tinyRoberta(t))
			cache := t.TempDir()
			c := newClient(t, h, cache)
			c.Token = tc.client
			_, err := c.Snapshot(context.Background(), tc.repo, tc.rev, hub.SnapshotOptions{})
			var he *hub.HTTPError
			if !errors.As(err, &he) || he.StatusCode != tc.status {
				t.Fatalf("err = %v, want *HTTPError %d", err, tc.status)
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if errors.Is(err, hub.ErrNotCached) {
				t.Error("a definite Hub answer was reported as a cache miss")
			}
		})
	}
}

// downloadOnce fills cache with main of tinyRoberta (or files) and returns the commit.
func downloadOnce(t *testing.T, cache string, files ...map[string][]byte) (string, *hubtest.Hub) {
	h := hubtest.New(t)
	content := tinyRoberta(t)
	if len(files) > 0 {
		content = files[0]
	}
	commit := h.AddCommit(repoID, "main", content)
	if _, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	return commit, h
}

func TestSnapshotOffline(t *testing.T) {
	cache := t.TempDir()
	commit, h := downloadOnce(t, cache)
	h.Close() // any network use would now fail loudly
	partial := t.TempDir()
	pcommit, _ := downloadOnce(t, partial)
	if err := os.Remove(filepath.Join(repoRoot(partial), "snapshots", pcommit, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	sharded := t.TempDir()
	scommit, _ := downloadOnce(t, sharded, hubtest.ReadDir(t, "../testdata/models/tiny-roberta-bf16-sharded"))
	if err := os.Remove(filepath.Join(repoRoot(sharded), "snapshots", scommit, "model-00002-of-00002.safetensors")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cache, rev string
		wantCommit       string // "" means ErrNotCached
		wantInMsg        []string
	}{
		{"hit by branch", cache, "main", commit, nil},
		{"hit by default revision", cache, "", commit, nil},
		{"hit by commit sha", cache, commit, commit, nil},
		{"miss: never downloaded", t.TempDir(), "main", "", []string{repoID, "main", "HF_HUB_OFFLINE", "refs/main"}},
		{"miss: unknown revision", cache, "v2", "", []string{repoID, "v2", "refs/v2"}},
		{"miss: unknown commit", cache, strings.Repeat("ab", 20), "", []string{repoID, "no snapshot", strings.Repeat("ab", 20)}},
		{"miss: missing shard", sharded, "main", "", []string{"missing shard model-00002-of-00002.safetensors"}},
		{"miss: incomplete snapshot", partial, "main", "", []string{"incomplete", "no weights"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &hub.Client{Endpoint: "http://127.0.0.1:1", CacheDir: tc.cache, Offline: true}
			dir, err := c.Snapshot(context.Background(), repoID, tc.rev, hub.SnapshotOptions{})
			if tc.wantCommit != "" {
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(dir) != tc.wantCommit {
					t.Errorf("dir %s, want commit %s", dir, tc.wantCommit)
				}
				if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
					t.Error(err)
				}
				return
			}
			if !errors.Is(err, hub.ErrNotCached) {
				t.Fatalf("err = %v, want ErrNotCached", err)
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestNewFromEnvOffline(t *testing.T) {
	cache := t.TempDir()
	commit, h := downloadOnce(t, cache)
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_ENDPOINT", h.URL)
	c, err := hub.NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	before := len(h.Log())
	dir, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil || filepath.Base(dir) != commit {
		t.Fatalf("dir %s err %v, want commit %s", dir, err, commit)
	}
	if n := len(h.Log()) - before; n != 0 {
		t.Errorf("offline mode made %d requests", n)
	}
}

// Like huggingface_hub, an unreachable Hub (network error, 5xx) falls back
// to the cache; a cache miss then wraps ErrNotCached.
func TestSnapshotFallsBackToCacheWhenHubUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		breakH func(h *hubtest.Hub)
	}{
		{"server gone", func(h *hubtest.Hub) { h.Close() }},
		{"503", func(h *hubtest.Hub) { h.Set(func(f *hubtest.Faults) { f.Down = http.StatusServiceUnavailable }) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			commit, h := downloadOnce(t, cache)
			tc.breakH(h)
			c := newClient(t, h, cache)
			dir, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
			if err != nil || filepath.Base(dir) != commit {
				t.Fatalf("dir %s err %v, want the cached commit %s", dir, err, commit)
			}
			_, err = newClient(t, h, t.TempDir()).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
			if !errors.Is(err, hub.ErrNotCached) || !strings.Contains(err.Error(), "unreachable") {
				t.Fatalf("err = %v, want ErrNotCached mentioning the unreachable Hub", err)
			}
		})
	}
}

func TestSnapshotResumesAfterCutConnection(t *testing.T) {
	const cutAt = 1 << 20
	for _, tc := range []struct {
		name        string
		redirectLFS bool
	}{{"hub", false}, {"cdn", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := hubtest.New(t)
			commit := h.AddCommit(repoID, "main", tinyRoberta(t))
			h.Set(func(f *hubtest.Faults) { f.RedirectLFS, f.CutOnce["model.safetensors"] = tc.redirectLFS, cutAt })
			cache := t.TempDir()
			dir, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
			var ranges []string
			for _, r := range h.Log() {
				if r.Method == http.MethodGet && r.File == "model.safetensors" {
					ranges = append(ranges, r.Range)
				}
			}
			if want := []string{"", "bytes=1048576-"}; strings.Join(ranges, "|") != strings.Join(want, "|") {
				t.Errorf("GET Range headers = %q, want %q", ranges, want)
			}
		})
	}
}

// A process killed mid-download leaves blobs/<etag>.incomplete; the next run
// continues from its length.
func TestSnapshotResumesIncompleteFromEarlierRun(t *testing.T) {
	h := hubtest.New(t)
	commit := h.AddCommit(repoID, "main", tinyRoberta(t))
	weights := h.File(repoID, commit, "model.safetensors")
	cache := t.TempDir()
	blobs := filepath.Join(repoRoot(cache), "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	const have = 123457
	if err := os.WriteFile(filepath.Join(blobs, weights.SHA256+".incomplete"), weights.Data[:have], 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
	n := h.Count(func(r hubtest.Request) bool {
		return r.Method == http.MethodGet && r.File == "model.safetensors" && r.Range == "bytes=123457-"
	})
	if n != 1 || h.ContentGETs("model.safetensors") != 1 {
		t.Errorf("want exactly one GET with Range bytes=123457-, got %+v", h.Log())
	}
}

func TestSnapshotChecksumMismatch(t *testing.T) {
	h := hubtest.New(t)
	commit := h.AddCommit(repoID, "main", tinyRoberta(t))
	weights := h.File(repoID, commit, "model.safetensors")
	h.Set(func(f *hubtest.Faults) { f.Corrupt["model.safetensors"] = true })
	cache := t.TempDir()
	c := newClient(t, h, cache)
	_, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	var ce *hub.ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ChecksumError", err)
	}
	if ce.Expected != weights.SHA256 || ce.Got == weights.SHA256 || ce.File != "model.safetensors" {
		t.Errorf("checksum error %+v", ce)
	}
	left, _ := filepath.Glob(filepath.Join(repoRoot(cache), "blobs", weights.SHA256+"*"))
	if len(left) != 0 {
		t.Errorf("corrupt download left behind: %v", left)
	}
	if _, err := os.Lstat(filepath.Join(repoRoot(cache), "snapshots", commit, "model.safetensors")); err == nil {
		t.Error("snapshot links a corrupt file")
	}
	if _, err := os.Stat(filepath.Join(repoRoot(cache), "refs", "main")); err == nil {
		t.Error("refs/main written for an incomplete snapshot")
	}
	// Offline, the half-done snapshot is not served.
	off := &hub.Client{CacheDir: cache, Offline: true}
	if _, err := off.Snapshot(context.Background(), repoID, commit, hub.SnapshotOptions{}); !errors.Is(err, hub.ErrNotCached) {
		t.Errorf("offline after failed download: err = %v, want ErrNotCached", err)
	}
	// Once the Hub serves good bytes, a retry succeeds.
	h.Set(func(f *hubtest.Faults) { f.Corrupt["model.safetensors"] = false })
	dir, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, cache, dir, commit, fetchedFromTiny)
}

func TestSnapshotContextCancellation(t *testing.T) {
	t.Run("already cancelled", func(t *testing.T) {
		h := hubtest.New(t)
		h.AddCommit(repoID, "main", tinyRoberta(t))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(t, h, t.TempDir()).Snapshot(ctx, repoID, "main", hub.SnapshotOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(h.Log()); n != 0 {
			t.Errorf("%d requests reached the Hub", n)
		}
	})
	t.Run("mid download", func(t *testing.T) {
		h := hubtest.New(t)
		commit := h.AddCommit(repoID, "main", tinyRoberta(t))
		weights := h.File(repoID, commit, "model.safetensors")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h.Set(func(f *hubtest.Faults) { f.Stall["model.safetensors"] = cancel })
		cache := t.TempDir()
		start := time.Now()
		_, err := newClient(t, h, cache).Snapshot(ctx, repoID, "main", hub.SnapshotOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancellation took %v", d)
		}
		blob := filepath.Join(repoRoot(cache), "blobs", weights.SHA256)
		if _, err := os.Stat(blob); err == nil {
			t.Error("a blob was finalised for a cancelled download")
		}
		if _, err := os.Stat(blob + ".incomplete"); err != nil {
			t.Errorf("the partial download should stay for resuming: %v", err)
		}
	})
}

// Two concurrent Snapshots of one repository (two goroutines here, a Go and a
// Python process in production) download each blob once: the second waits on
// the lock file and then finds the blob.
func TestSnapshotConcurrentCallsDownloadOnce(t *testing.T) {
	h := hubtest.New(t)
	commit := h.AddCommit(repoID, "main", tinyRoberta(t))
	cache := t.TempDir()
	c := newClient(t, h, cache)
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Go(func() {
			dirs[i], errs[i] = c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
		})
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	checkSnapshot(t, h, cache, dirs[0], commit, fetchedFromTiny)
	if n := h.ContentGETs("model.safetensors"); n != 1 {
		t.Errorf("model.safetensors downloaded %d times by concurrent snapshots, want 1", n)
	}
}

func TestSnapshotExtraFiles(t *testing.T) {
	h := hubtest.New(t)
	commit := h.AddCommit(repoID, "main", tinyRoberta(t))
	cache := t.TempDir()
	opts := hub.SnapshotOptions{Extra: []string{"README.md", "absent.json"}}
	dir, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, h, cache, dir, commit, append([]string{"README.md"}, fetchedFromTiny...))
}

// A hostile repository cannot make Snapshot write outside its snapshot.
func TestSnapshotRejectsEscapingFileNames(t *testing.T) {
	h := hubtest.New(t)
	files := hubtest.ReadDir(t, "../testdata/models/tiny-roberta-bf16-sharded")
	files["model.safetensors.index.json"] = []byte(`{"weight_map": {"a": "../../../../escape.safetensors"}}`)
	h.AddCommit(repoID, "main", files)
	cache := t.TempDir()
	_, err := newClient(t, h, cache).Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{})
	if err == nil || !strings.Contains(err.Error(), "invalid file name") {
		t.Fatalf("err = %v, want an invalid file name error", err)
	}
	if n := h.Count(func(r hubtest.Request) bool { return strings.Contains(r.Path, "escape") }); n != 0 {
		t.Errorf("the escaping shard was requested %d times", n)
	}
}

func TestSnapshotPlainProgressWhenNotATerminal(t *testing.T) {
	h := hubtest.New(t)
	h.AddCommit(repoID, "main", tinyRoberta(t))
	var out bytes.Buffer
	c := newClient(t, h, t.TempDir())
	c.Progress = &out
	if _, err := c.Snapshot(context.Background(), repoID, "main", hub.SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2*len(fetchedFromTiny) {
		t.Fatalf("progress output has %d lines, want a start and an end line per file:\n%s", len(lines), out.String())
	}
	if !strings.Contains(out.String(), "downloaded "+repoID+"/model.safetensors (6.6 MB") {
		t.Errorf("no completion line for the weights:\n%s", out.String())
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("carriage returns (a progress bar) written to a non-terminal")
	}
}
