package hub

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// repoCache addresses one repository's folder in the huggingface_hub cache.
// Every path it builds comes from validated parts (repo id, revision, file
// name, etag), so none can leave the folder.
type repoCache struct {
	cacheDir string // $HF_HUB_CACHE
	repoID   string
	root     string // $HF_HUB_CACHE/models--org--name
}

// repoFolderName is huggingface_hub's repo_folder_name for model repos:
// "models--" + the id with "/" replaced by "--".
func repoFolderName(repoID string) string {
	return "models--" + strings.ReplaceAll(repoID, "/", "--")
}

func newRepoCache(cacheDir, repoID string) repoCache {
	name := repoFolderName(repoID)
	return repoCache{cacheDir: cacheDir, repoID: repoID, root: filepath.Join(cacheDir, name)}
}

func (r repoCache) snapshotDir(commit string) string {
	return filepath.Join(r.root, "snapshots", commit)
}

// pointerPath is where a file appears in a snapshot (a symlink to its blob).
func (r repoCache) pointerPath(commit, file string) string {
	return filepath.Join(r.snapshotDir(commit), filepath.FromSlash(file))
}

func (r repoCache) blobPath(etag string) string {
	return filepath.Join(r.root, "blobs", etag)
}

func (r repoCache) refPath(revision string) string {
	return filepath.Join(r.root, "refs", filepath.FromSlash(revision))
}

// lockPath matches huggingface_hub: $HF_HUB_CACHE/.locks/models--org--name/<etag>.lock,
// so a Go and a Python process downloading the same blob wait for each other.
func (r repoCache) lockPath(etag string) string {
	return filepath.Join(r.cacheDir, ".locks", filepath.Base(r.root), etag+".lock")
}

// readRef returns the commit sha that refs/<revision> records, or ErrNotCached.
func (r repoCache) readRef(revision string) (string, error) {
	b, err := os.ReadFile(r.refPath(revision))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: no refs/%s in %s", ErrNotCached, revision, r.root)
	}
	if err != nil {
		return "", fmt.Errorf("read ref %s: %w", revision, err)
	}
	commit := strings.TrimSpace(string(b))
	if !IsCommitHash(commit) {
		return "", fmt.Errorf("ref %s holds %q, not a commit sha", r.refPath(revision), commit)
	}
	return commit, nil
}

// writeRef records revision -> commit (huggingface_hub writes the bare sha,
// no newline). It is written through a temporary file and a rename, so a
// reader never sees a half-written ref. A commit sha needs no ref.
func (r repoCache) writeRef(revision, commit string) error {
	if revision == commit {
		return nil
	}
	if old, err := r.readRef(revision); err == nil && old == commit {
		return nil
	}
	path := r.refPath(revision)
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ref-*")
	if err != nil {
		return fmt.Errorf("write ref: %w", err)
	}
	_, werr := tmp.WriteString(commit)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		// CreateTemp makes 0600 files; refs are as readable as the rest.
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write ref %s: %w", revision, werr)
	}
	return nil
}

// fileExists reports whether path exists and, through symlinks, is a regular
// file. A dangling snapshot symlink (blob deleted) does not count.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// linkPointer makes snapshots/<commit>/<file> a relative symlink to its blob,
// exactly as huggingface_hub does ("../../blobs/<etag>"), so the cache keeps
// working when moved. A stale or dangling pointer is replaced. Where symlinks
// are not supported the blob is copied instead (huggingface_hub degrades
// similarly).
func linkPointer(blob, pointer string) error {
	if err := os.MkdirAll(filepath.Dir(pointer), 0o777); err != nil {
		return fmt.Errorf("create snapshot dir: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		return fmt.Errorf("link %s: %w", pointer, err)
	}
	if target, err := os.Readlink(pointer); err == nil && target == rel && fileExists(pointer) {
		return nil
	}
	if err := os.Remove(pointer); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", pointer, err)
	}
	err = os.Symlink(rel, pointer)
	if err == nil || (errors.Is(err, os.ErrExist) && fileExists(pointer)) {
		return nil // created, or a concurrent process just created it
	}
	if cerr := copyFile(blob, pointer); cerr != nil {
		return fmt.Errorf("link %s: symlink: %v; copy: %w", pointer, err, cerr)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
