// Package hub downloads model repositories from the Hugging Face Hub into the
// very same on-disk cache that Python's huggingface_hub uses, so a model that a
// Python user already fetched with transformers is reused without a byte of
// network traffic, and what coldserve fetches is reused by Python.
//
// The cache layout (see cache.go) is, for repository "ibm/ColD-Fusion":
//
//	$HF_HUB_CACHE/models--ibm--ColD-Fusion/
//	    blobs/<etag>                       file contents, named by the Hub's etag
//	    blobs/<etag>.incomplete            a download in progress (resumable)
//	    refs/main                          the commit sha that "main" resolved to
//	    snapshots/<commit>/config.json  -> ../../blobs/<etag>   (relative symlink)
//
// The etag of a file stored in Git LFS (weights) is the sha256 of its content,
// which is how downloads are verified; small files have a git blob sha1 etag.
//
// A Client is configured like huggingface_hub, from the environment
// (NewFromEnv), or with a struct literal in tests:
//
//	c := &hub.Client{Endpoint: srv.URL, CacheDir: t.TempDir()}
//	dir, err := c.Snapshot(ctx, "ibm/ColD-Fusion", "main", hub.SnapshotOptions{})
//
// dir is the snapshots/<commit> directory; its base name is the commit sha the
// revision resolved to, which identifies the checkpoint exactly.
package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DefaultEndpoint is the public Hub, used when Client.Endpoint and HF_ENDPOINT
// are empty.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the revision used when none is given.
const DefaultRevision = "main"

// userAgent identifies coldserve to the Hub, as huggingface_hub does for Python.
var userAgent = "coldserve-hub/1 (go/" + strings.TrimPrefix(runtime.Version(), "go") + ")"

// Client resolves and downloads Hub repositories into the shared cache. Its
// fields are plain configuration: set them before first use and do not change
// them afterwards. A Client is safe for concurrent use, and several processes
// (including Python ones) may share one cache: downloads of the same blob are
// serialised with the same lock files huggingface_hub uses.
type Client struct {
	// Endpoint is the Hub base URL; empty means DefaultEndpoint. Mirrors work
	// if they implement the same API (HF_ENDPOINT).
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer <token>" to the
	// endpoint's host only (never to the CDN hosts that LFS redirects to).
	Token string
	// CacheDir is the hub cache ($HF_HUB_CACHE, by default
	// ~/.cache/huggingface/hub). Required.
	CacheDir string
	// Offline forbids all network access: revisions resolve through
	// refs/<revision> in the cache only (HF_HUB_OFFLINE=1).
	Offline bool
	// HTTPClient is used for every request; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Progress receives download progress: a progress bar when it is a
	// terminal, one plain line per file otherwise; nil means silent.
	Progress io.Writer
	// Logger receives warnings (such as falling back to the cache when the Hub
	// is unreachable) and debug events; nil discards them.
	Logger *slog.Logger
}

// NewFromEnv builds a Client the way huggingface_hub configures itself:
//
//   - HF_ENDPOINT: Hub URL (default https://huggingface.co)
//   - HF_HOME: base directory (default $XDG_CACHE_HOME/huggingface, else
//     ~/.cache/huggingface)
//   - HF_HUB_CACHE (legacy HUGGINGFACE_HUB_CACHE): cache (default $HF_HOME/hub)
//   - HF_TOKEN (legacy HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH
//     (default $HF_HOME/token, written by `huggingface-cli login`)
//   - HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) = 1/true/yes/on: offline mode
//   - HF_HUB_DISABLE_PROGRESS_BARS = 1: no progress output
//
// Progress goes to stderr; set Logger to see warnings.
func NewFromEnv() (*Client, error) {
	home, err := hfHome()
	if err != nil {
		return nil, err
	}
	cacheDir := firstEnv("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
	if cacheDir == "" {
		cacheDir = filepath.Join(home, "hub")
	}
	if cacheDir, err = expandHome(cacheDir); err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if _, err := parseEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("hub: HF_ENDPOINT: %w", err)
	}
	token, err := envToken(home)
	if err != nil {
		return nil, err
	}
	c := &Client{
		Endpoint:   endpoint,
		Token:      token,
		CacheDir:   cacheDir,
		Offline:    envTrue(firstEnv("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")),
		HTTPClient: defaultHTTPClient(),
		Progress:   os.Stderr,
	}
	if envTrue(os.Getenv("HF_HUB_DISABLE_PROGRESS_BARS")) {
		c.Progress = nil
	}
	return c, nil
}

// defaultHTTPClient has no overall timeout (weights can take minutes) but
// bounds connecting and waiting for response headers, so a dead Hub is
// detected and Snapshot can fall back to the cache.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: tr}
}

// hfHome returns $HF_HOME with huggingface_hub's defaults, "~" expanded.
func hfHome() (string, error) {
	if h := os.Getenv("HF_HOME"); h != "" {
		return expandHome(h)
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return expandHome(filepath.Join(x, "huggingface"))
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: cannot locate the Hugging Face cache: set HF_HOME or HF_HUB_CACHE: %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface"), nil
}

// envToken returns HF_TOKEN, else the token file; a missing file means no
// token (public repositories need none).
func envToken(home string) (string, error) {
	if t := strings.TrimSpace(firstEnv("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")); t != "" {
		return t, nil
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path == "" {
		path = filepath.Join(home, "token")
	}
	path, err := expandHome(path)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hub: read token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// envTrue mirrors huggingface_hub's _is_true: 1, ON, YES, TRUE (any case).
func envTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: expand %q: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid endpoint %q: want http(s)://host", s)
	}
	return u, nil
}

func (c *Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// newRequest builds a request with the headers huggingface_hub sends. The
// token goes only to the endpoint's own host: LFS downloads are redirected to
// pre-signed CDN URLs that must not receive it. "Accept-Encoding: identity"
// keeps Content-Length and byte ranges about the stored bytes (and stops Go
// from transparently gunzipping).
func (c *Client) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept-Encoding", "identity")
	if c.Token != "" {
		if ep, err := url.Parse(c.endpoint()); err == nil && ep.Host == req.URL.Host {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
	}
	return req, nil
}

// check validates the configuration before any work.
func (c *Client) check() error {
	if c.CacheDir == "" {
		return fmt.Errorf("hub: Client.CacheDir is empty (use NewFromEnv for huggingface_hub's default)")
	}
	if !c.Offline {
		if _, err := parseEndpoint(c.endpoint()); err != nil {
			return fmt.Errorf("hub: %w", err)
		}
	}
	return nil
}
