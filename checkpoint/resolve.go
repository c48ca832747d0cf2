package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/coldserve/coldserve/hub"
)

// HubClient is the part of *hub.Client the resolver uses (tests substitute a client pointed at
// a fake Hub).
type HubClient interface {
	Snapshot(ctx context.Context, repoID, revision string, opts hub.SnapshotOptions) (string, error)
}

// Kinds of resolver and checkpoint error, for errors.Is: the typed errors of this package
// match one of them, so a front end maps kinds to statuses with one table.
var (
	ErrForbidden      = errors.New("source not allowed")           // *ForbiddenError
	ErrNotFound       = errors.New("source not found")             // *NotFoundError, a Hub 404/401 or cache miss
	ErrHubUnavailable = errors.New("hugging face hub unavailable") // any other *HubError
	ErrOutputExists   = errors.New("output exists")                // *OutputExistsError
	ErrDigestMismatch = errors.New("digest mismatch")              // *DigestMismatchError
)

func (e *ForbiddenError) Is(target error) bool    { return target == ErrForbidden }
func (e *NotFoundError) Is(target error) bool     { return target == ErrNotFound }
func (e *OutputExistsError) Is(target error) bool { return target == ErrOutputExists }

// Is makes a Hub failure ErrNotFound when the Hub says the repo or revision does not exist (or
// is private: the Hub answers 401 for both) or an offline cache lacks it, else ErrHubUnavailable.
func (e *HubError) Is(target error) bool {
	var httpErr *hub.HTTPError
	missing := errors.Is(e.Err, hub.ErrNotCached) || errors.As(e.Err, &httpErr) && httpErr.Missing()
	if missing {
		return target == ErrNotFound
	}
	return target == ErrHubUnavailable
}

// ForbiddenError says a source is not allowed: a local path outside every checkpoint root
// (after resolving symlinks, so "../" and links cannot escape), or a Hub id while the Hub is
// disabled. The HTTP layer answers 403.
type ForbiddenError struct {
	Source string
	Reason string
	// What names the refused path in the message: "source" (the default) or "output".
	What string
}

// Paths in messages are cut to maxQuoted characters: they come from admin requests, and an
// error answer must not echo a huge one back.
const maxQuoted = 200

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("%s %.*q is not allowed: %s", whatOr(e.What), maxQuoted, e.Source, e.Reason)
}

// NotFoundError says a local source (or a fuse output's parent) does not exist (404).
type NotFoundError struct {
	Source string
	Err    error
	What   string // as in ForbiddenError
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %.*q: %v", whatOr(e.What), maxQuoted, e.Source, e.Err)
}

// bare strips the path from a file-system error (the message quotes the source already, cut
// to maxQuoted), keeping what went wrong: "no such file or directory", "file name too long".
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func whatOr(what string) string {
	if what == "" {
		return "source"
	}
	return what
}
func (e *NotFoundError) Unwrap() error { return e.Err }

// HubError says a Hub source could not be fetched; Err is the hub package's error
// (*hub.HTTPError, hub.ErrNotCached, a network error).
type HubError struct {
	Repo, Revision string
	Err            error
}

func (e *HubError) Error() string {
	return fmt.Sprintf("download %.*s@%.*s: %v", maxQuoted, e.Repo, maxQuoted, e.Revision, e.Err)
}
func (e *HubError) Unwrap() error { return e.Err }

// Resolver turns an admin-supplied source into a local checkpoint directory.
//
// A source is a Hub id ("ibm/ColD-Fusion") when it has the shape of one and no local file of
// that name exists under a root; otherwise it is a local path. A relative local path is taken
// relative to the first root. A local path is allowed only when, after filepath.EvalSymlinks,
// it lies inside one of Roots (also resolved): this is what stops "../../etc" and symlinks out
// of the roots. With no roots, no local path is allowed.
type Resolver struct {
	// Roots are the directories local sources must resolve into (--checkpoint-root).
	Roots []string
	// AllowHub permits Hub ids (--allow-hub); Hub must then be set.
	AllowHub bool
	// Hub downloads Hub ids into the shared Hugging Face cache.
	Hub HubClient
}

// Resolved is where a source was found.
type Resolved struct {
	// Dir is the local directory to load (for a Hub id, the snapshots/<commit> directory).
	Dir string
	// Hub is true when the source was a Hub id; Commit is then the commit it resolved to.
	Hub    bool
	Commit string
}

// Resolve finds source. revision applies to Hub ids only (empty: "main").
func (r *Resolver) Resolve(ctx context.Context, source, revision string) (Resolved, error) {
	if strings.TrimSpace(source) == "" {
		return Resolved{}, &ForbiddenError{Source: source, Reason: "empty source"}
	}
	if hub.IsRepoID(source) && !r.existsUnderRoot(source) {
		if !r.AllowHub || r.Hub == nil {
			return Resolved{}, &ForbiddenError{Source: source, Reason: "Hugging Face Hub sources are disabled (start the server with --allow-hub)"}
		}
		dir, err := r.Hub.Snapshot(ctx, source, revision, hub.SnapshotOptions{})
		if err != nil {
			return Resolved{}, &HubError{Repo: source, Revision: revisionOrMain(revision), Err: err}
		}
		return Resolved{Dir: dir, Hub: true, Commit: filepath.Base(dir)}, nil
	}
	dir, err := r.local(source)
	if err != nil {
		return Resolved{}, err
	}
	return Resolved{Dir: dir}, nil
}

func revisionOrMain(rev string) string {
	if rev == "" {
		return hub.DefaultRevision
	}
	return rev
}

// existsUnderRoot reports whether a relative source names an existing entry of the first root,
// so a local directory called "org/name" wins over the Hub id of the same spelling.
func (r *Resolver) existsUnderRoot(source string) bool {
	if len(r.Roots) == 0 || filepath.IsAbs(source) {
		return false
	}
	_, err := os.Stat(filepath.Join(r.Roots[0], source))
	return err == nil
}

// local resolves a local path and checks it lies inside a root.
func (r *Resolver) local(source string) (string, error) {
	if len(r.Roots) == 0 {
		return "", &ForbiddenError{Source: source, Reason: "no --checkpoint-root is configured, so local sources are disabled"}
	}
	path := source
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.Roots[0], path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		// Refuse to say whether a path outside the roots exists: check the lexical path first.
		if !r.inside(filepath.Clean(path)) {
			return "", &ForbiddenError{Source: source, Reason: "outside every --checkpoint-root"}
		}
		return "", &NotFoundError{Source: source, Err: bare(err)}
	}
	if !r.inside(real) {
		return "", &ForbiddenError{Source: source, Reason: "resolves outside every --checkpoint-root"}
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", &NotFoundError{Source: source, Err: bare(err)}
	}
	if !st.IsDir() {
		return "", &NotFoundError{Source: source, Err: errors.New("not a directory")}
	}
	return real, nil
}

// inside reports whether path (already cleaned or resolved) is a root or lies below one.
func (r *Resolver) inside(path string) bool {
	for _, root := range r.Roots {
		rr, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(rr, path)
		if err != nil {
			continue
		}
		if rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)) {
			return true
		}
	}
	return false
}

// OutputExistsError says a fuse output directory already holds files (409).
type OutputExistsError struct{ Dir string }

func (e *OutputExistsError) Error() string {
	return fmt.Sprintf("output %.*q already exists and is not empty: choose a new directory", maxQuoted, e.Dir)
}

// Output resolves a directory to write (relative: under the first root). Its parent must exist
// and resolve inside a root; the directory itself must not exist or be empty.
func (r *Resolver) Output(path string) (string, error) {
	if len(r.Roots) == 0 {
		return "", &ForbiddenError{What: "output", Source: path, Reason: "no --checkpoint-root is configured, so outputs are disabled"}
	}
	if strings.TrimSpace(path) == "" {
		return "", &ForbiddenError{What: "output", Source: path, Reason: "empty output"}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.Roots[0], path)
	}
	path = filepath.Clean(path)
	parent, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		if !r.inside(filepath.Dir(path)) {
			return "", &ForbiddenError{What: "output", Source: path, Reason: "outside every --checkpoint-root"}
		}
		return "", &NotFoundError{What: "output", Source: path, Err: fmt.Errorf("parent directory: %w", bare(err))}
	}
	out := filepath.Join(parent, filepath.Base(path))
	if real, err := filepath.EvalSymlinks(out); err == nil {
		out = real
	}
	if !r.inside(out) {
		return "", &ForbiddenError{What: "output", Source: path, Reason: "resolves outside every --checkpoint-root"}
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return "", &OutputExistsError{Dir: out}
	}
	return out, nil
}
