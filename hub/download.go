package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxAttempts bounds how often one blob download is retried (resuming with
// a Range request each time) after a network failure within one Snapshot.
const maxAttempts = 5

// fileMeta is what a HEAD of a file's resolve URL tells us, read exactly as
// huggingface_hub's get_hf_file_metadata does.
type fileMeta struct {
	commit   string // X-Repo-Commit
	etag     string // X-Linked-Etag (LFS: sha256 of the content), else ETag (git blob sha1)
	size     int64  // X-Linked-Size, else Content-Length; -1 when unknown
	location string // where to GET the bytes: the CDN Location of an LFS redirect, else the resolve URL
}

// resolveURL is {endpoint}/{repo}/resolve/{commit}/{file}, the file name
// escaped per path segment (huggingface_hub's hf_hub_url).
func (c *Client) resolveURL(repoID, commit, file string) string {
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.endpoint() + "/" + repoID + "/resolve/" + commit + "/" + strings.Join(segs, "/")
}

// headFile fetches a file's metadata. Like huggingface_hub it does not follow
// absolute redirects (an LFS file answers 302 to a pre-signed CDN URL, and
// the X-Linked-* headers of that 302 are the metadata we want) but follows
// relative ones, which the Hub uses for renamed repositories.
func (c *Client) headFile(ctx context.Context, rc repoCache, revision, commit, file string) (*fileMeta, error) {
	noRedirect := *c.httpClient()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := c.resolveURL(rc.repoID, commit, file)
	for hops := 0; ; hops++ {
		req, err := c.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return nil, err
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", file, err)
		}
		resp.Body.Close()
		location := u
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			target, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return nil, fmt.Errorf("metadata of %s: bad redirect Location %q", file, resp.Header.Get("Location"))
			}
			if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Host == "" {
				if hops >= 10 {
					return nil, fmt.Errorf("metadata of %s: too many redirects", file)
				}
				u = target.String()
				continue
			}
			location = target.String()
		} else if resp.StatusCode != http.StatusOK {
			return nil, newHTTPError(resp, rc.repoID, revision, file)
		}
		meta := &fileMeta{
			commit:   resp.Header.Get("X-Repo-Commit"),
			etag:     normalizeEtag(firstHeader(resp.Header, "X-Linked-Etag", "ETag")),
			size:     -1,
			location: location,
		}
		if s := firstHeader(resp.Header, "X-Linked-Size", "Content-Length"); s != "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				meta.size = n
			}
		}
		if err := validateEtag(meta.etag); err != nil {
			return nil, fmt.Errorf("metadata of %s: %w (the Hub sends an ETag for every file; is HF_ENDPOINT a Hub?)", file, err)
		}
		return meta, nil
	}
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// normalizeEtag turns `W/"abc"` or `"abc"` into `abc`, the blob file name.
func normalizeEtag(e string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(e), "W/"), `"`)
}

// fetchFile makes snapshots/<commit>/<file> exist. A file already in the
// snapshot costs no request at all; a file whose blob is cached (downloaded
// for another revision, or by Python) costs one HEAD and no content GET.
func (c *Client) fetchFile(ctx context.Context, rc repoCache, revision, commit, file string) error {
	pointer := rc.pointerPath(commit, file)
	if fileExists(pointer) {
		return nil
	}
	meta, err := c.headFile(ctx, rc, revision, commit, file)
	if err != nil {
		return err
	}
	blob := rc.blobPath(meta.etag)
	if !fileExists(blob) {
		if err := c.downloadBlob(ctx, rc, revision, file, meta); err != nil {
			return fmt.Errorf("download %s: %w", file, err)
		}
	}
	return linkPointer(blob, pointer)
}

// downloadBlob downloads one blob into blobs/<etag>. It holds the same lock
// file huggingface_hub uses, writes to blobs/<etag>.incomplete and resumes
// from its current length with a Range request, both across retries here
// and across runs (a killed process leaves the .incomplete file behind, as
// Python does). The result is checked against the expected size and, for
// LFS files, against the sha256 the etag carries; a bad download is deleted.
func (c *Client) downloadBlob(ctx context.Context, rc repoCache, revision, file string, meta *fileMeta) error {
	blob := rc.blobPath(meta.etag)
	if err := os.MkdirAll(filepath.Dir(blob), 0o777); err != nil {
		return fmt.Errorf("create blobs dir: %w", err)
	}
	unlock, err := lockFile(ctx, rc.lockPath(meta.etag))
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer unlock()
	if fileExists(blob) {
		return nil // another process finished it while we waited for the lock
	}
	incomplete := blob + ".incomplete"
	prog := c.newProgress(rc.repoID, file, meta.size)
	for attempt := 1; ; attempt++ {
		err = c.downloadAttempt(ctx, rc, revision, file, meta, incomplete, prog)
		if err == nil || ctx.Err() != nil || !retryable(err) || attempt == maxAttempts {
			break
		}
		wait := min(250*time.Millisecond<<(attempt-1), 4*time.Second)
		c.logger().Warn("download interrupted; resuming", "repo", rc.repoID, "file", file, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if ctx.Err() != nil {
		prog.finish(false)
		return ctx.Err() // .incomplete stays: the next run resumes it
	}
	if err != nil {
		prog.finish(false)
		return err
	}
	if err := verifyBlob(incomplete, rc.repoID, file, meta); err != nil {
		prog.finish(false)
		os.Remove(incomplete)
		return err
	}
	if err := os.Rename(incomplete, blob); err != nil {
		prog.finish(false)
		return fmt.Errorf("move into cache: %w", err)
	}
	prog.finish(true)
	return nil
}

// errRangeMismatch is a 206 answer for another range than asked; the partial
// file is discarded and the download restarts.
var errRangeMismatch = errors.New("server answered a different byte range than requested")

// downloadAttempt GETs the blob once, appending to the .incomplete file. A
// server that ignores Range (200) restarts it from the first byte.
func (c *Client) downloadAttempt(ctx context.Context, rc repoCache, revision, file string, meta *fileMeta, incomplete string, prog *progress) (err error) {
	f, err := os.OpenFile(incomplete, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		return fmt.Errorf("open %s: %w", incomplete, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", incomplete, cerr)
		}
	}()
	restart := func() error {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("truncate %s: %w", incomplete, err)
		}
		_, err := f.Seek(0, io.SeekStart)
		return err
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("seek %s: %w", incomplete, err)
	}
	if meta.size >= 0 && off == meta.size {
		return nil // complete already (a previous run stopped just before the rename)
	}
	if meta.size >= 0 && off > meta.size {
		if err := restart(); err != nil {
			return err
		}
		off = 0
	}
	req, err := c.newRequest(ctx, http.MethodGet, meta.location)
	if err != nil {
		return err
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != off {
			if err := restart(); err != nil {
				return err
			}
			return fmt.Errorf("%w: asked bytes=%d-, got Content-Range %q", errRangeMismatch, off, resp.Header.Get("Content-Range"))
		}
	case resp.StatusCode == http.StatusOK:
		if off > 0 {
			if err := restart(); err != nil {
				return err
			}
			off = 0
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		if err := restart(); err != nil {
			return err
		}
		return fmt.Errorf("%w: asked bytes=%d-, got 416", errRangeMismatch, off)
	default:
		return newHTTPError(resp, rc.repoID, revision, file)
	}
	prog.set(off)
	if _, err := io.Copy(f, io.TeeReader(bodyReader{resp.Body}, prog)); err != nil {
		return err
	}
	return nil
}

// contentRangeStart parses the first byte of "bytes 100-199/200".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	startStr, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(startStr, 10, 64)
	return n, err == nil
}

// bodyReadError marks a failure while reading a response body (a cut
// connection), as opposed to a failure writing to disk: only the former is
// worth retrying.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "read response body: " + e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyReadError{err}
	}
	return n, err
}

// retryable: network failures (request or body), a confused range answer,
// and 5xx/429. Not 4xx, not disk errors.
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.As(err, new(*bodyReadError)) || errors.Is(err, errRangeMismatch)
}

// verifyBlob checks a finished download: its size against the Hub's, and for
// LFS files (64-hex etag) its sha256 against the etag. Small git files carry
// a git-sha1 etag and are checked by size only, as huggingface_hub does.
func verifyBlob(path, repoID, file string, meta *fileMeta) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if meta.size >= 0 && fi.Size() != meta.size {
		return fmt.Errorf("consistency check failed: %s has %d bytes, the Hub says %d; retry", file, fi.Size(), meta.size)
	}
	if !sha256RE.MatchString(meta.etag) {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("verify: hash %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != meta.etag {
		return &ChecksumError{Repo: repoID, File: file, Expected: meta.etag, Got: got}
	}
	return nil
}
