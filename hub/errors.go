package hub

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrNotCached reports that a repository revision is needed from the local
// cache (offline mode, or the Hub is unreachable) but is not there, or is
// there only partially. Test for it with errors.Is; the wrapping message names
// the repository, the revision and what exactly is missing.
var ErrNotCached = errors.New("not in the local Hugging Face cache")

// HTTPError is a non-success answer from the Hub (or its CDN). StatusCode is
// the HTTP status; Code and Message carry the Hub's own X-Error-Code and
// X-Error-Message headers when it sends them ("RepoNotFound",
// "RevisionNotFound", "EntryNotFound", "GatedRepo"), which is how the Hub
// tells a missing repository apart from a missing revision or file.
//
// The Hub answers 401 both for private repositories and for repositories that
// do not exist (so as not to leak names), so a 401 message always suggests
// HF_TOKEN as well as checking the name.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Code       string // X-Error-Code, may be empty
	Message    string // X-Error-Message or a snippet of the body, may be empty
	Repo       string
	Revision   string
	File       string // empty for repository-level requests
	HasToken   bool   // whether an Authorization header was sent
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if hint := e.hint(); hint != "" {
		b.WriteString(": ")
		b.WriteString(hint)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (hub says: %s)", e.Message)
	}
	return b.String()
}

// hint turns a status into advice an operator can act on.
func (e *HTTPError) hint() string {
	tokenAdvice := "set HF_TOKEN (or run `huggingface-cli login`, which writes $HF_HOME/token) with a token that can read it"
	if e.HasToken {
		tokenAdvice = "the token sent (HF_TOKEN or $HF_HOME/token) was rejected or has no access to it; check it"
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("repository %q does not exist or is private/gated; check the name, and if it is private or gated %s", e.Repo, tokenAdvice)
	case e.StatusCode == http.StatusForbidden || e.Code == "GatedRepo":
		return fmt.Sprintf("access to repository %q is restricted (gated or private): accept its conditions on the Hub and %s", e.Repo, tokenAdvice)
	case e.StatusCode == http.StatusNotFound && e.Code == "RevisionNotFound":
		return fmt.Sprintf("revision %q not found in repository %q", e.Revision, e.Repo)
	case e.StatusCode == http.StatusNotFound && e.Code == "EntryNotFound":
		return fmt.Sprintf("file %q not found in %s@%s", e.File, e.Repo, e.Revision)
	case e.StatusCode == http.StatusNotFound && e.File != "":
		return fmt.Sprintf("file %q not found in %s@%s", e.File, e.Repo, e.Revision)
	case e.StatusCode == http.StatusNotFound:
		return fmt.Sprintf("repository %q or revision %q not found (if the repository is private, %s)", e.Repo, e.Revision, tokenAdvice)
	}
	return ""
}

// Missing reports whether the Hub said the repository, revision or file is not there: a 404,
// or the 401 it gives for private and nonexistent repositories alike.
func (e *HTTPError) Missing() bool {
	return e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusUnauthorized
}

// Temporary reports whether retrying later may succeed (5xx and 429). Such
// errors, like network errors, make Snapshot fall back to the cache.
func (e *HTTPError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// ChecksumError reports a downloaded LFS file whose sha256 differs from the
// Hub's etag (for LFS files the etag is the sha256 of the content). The
// corrupt download has been deleted when this is returned, so a retry starts
// from scratch.
type ChecksumError struct {
	Repo     string
	File     string
	Expected string // sha256 hex from the Hub
	Got      string // sha256 hex of what was received
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s/%s: sha256 mismatch: the Hub says %s, downloaded content hashes to %s (corrupt download deleted; retry)",
		e.Repo, e.File, e.Expected, e.Got)
}

// newHTTPError builds an HTTPError from a response, reading at most a small
// snippet of the body for the message. It does not close the body.
func newHTTPError(resp *http.Response, repo, revision, file string) *HTTPError {
	e := &HTTPError{
		Method:     resp.Request.Method,
		URL:        resp.Request.URL.Redacted(),
		StatusCode: resp.StatusCode,
		Code:       resp.Header.Get("X-Error-Code"),
		Message:    resp.Header.Get("X-Error-Message"),
		Repo:       repo,
		Revision:   revision,
		File:       file,
		HasToken:   resp.Request.Header.Get("Authorization") != "",
	}
	if e.Message == "" && resp.Request.Method != http.MethodHead && resp.Body != nil {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		e.Message = strings.TrimSpace(string(snippet))
	}
	return e
}
