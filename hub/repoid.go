package hub

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
)

// repoPartRE is one segment of a repository id, following huggingface_hub's
// validate_repo_id: word characters, '-' and '.', starting and ending with a
// word character (the \b anchors of REPO_ID_REGEX).
var repoPartRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// commitRE is a full git commit sha, which huggingface_hub treats as an
// immutable revision (REGEX_COMMIT_HASH).
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// sha256RE is an LFS etag: the sha256 of the file content.
var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidateRepoID checks a repository id against the Hub's rules: "name" or
// "namespace/name", each part made of letters, digits, '_', '-', '.',
// starting and ending with a letter, digit or '_', the name at most 96
// characters, and no "--" or ".." anywhere ("--" separates parts in cache
// folder names, ".." would escape the cache).
func ValidateRepoID(id string) error {
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return fmt.Errorf("hub: invalid repo id %q: want \"namespace/name\"", id)
	}
	for _, p := range parts {
		if !repoPartRE.MatchString(p) {
			return fmt.Errorf("hub: invalid repo id %q: parts may use letters, digits, '_', '-', '.', and must start and end with a letter, digit or '_'", id)
		}
	}
	if len(parts[len(parts)-1]) > 96 {
		return fmt.Errorf("hub: invalid repo id %q: name longer than 96 characters", id)
	}
	if strings.Contains(id, "--") || strings.Contains(id, "..") {
		return fmt.Errorf("hub: invalid repo id %q: \"--\" and \"..\" are not allowed", id)
	}
	return nil
}

// IsRepoID decides whether a --model/source argument names a Hub repository
// rather than a local directory. The rule is deliberately strict so that a
// mistyped local path is never sent to the network:
//
//   - anything that exists on the local filesystem is a path;
//   - anything starting with '/', '.', '~' or containing '\' is a path;
//   - otherwise it is a repo id exactly when it has the form "namespace/name"
//     and passes ValidateRepoID ("ibm/ColD-Fusion",
//     "ibm/ColD-Fusion-itr13-seed0").
//
// Legacy single-segment ids such as "roberta-base" are not recognised (the Hub
// redirects them to "FacebookAI/roberta-base"; spell that instead), because a
// bare word is far more likely to be a local directory that does not exist.
func IsRepoID(s string) bool {
	if s == "" || strings.ContainsAny(s, `\~`) || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return false
	}
	if _, err := os.Lstat(s); err == nil {
		return false
	}
	return strings.Count(s, "/") == 1 && ValidateRepoID(s) == nil
}

// validateRevision rejects revisions that would escape refs/ when used as a
// path (huggingface_hub stores "refs/pr/1" as refs/refs/pr/1, so '/' is fine).
func validateRevision(rev string) error {
	if rev == "" || strings.ContainsAny(rev, "\\\x00") || strings.HasPrefix(rev, "/") {
		return fmt.Errorf("hub: invalid revision %q", rev)
	}
	for _, seg := range strings.Split(rev, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("hub: invalid revision %q", rev)
		}
	}
	return nil
}

// validateFilename rejects repository file names that are not clean relative
// paths, so a hostile listing or shard index cannot write outside the
// snapshot directory.
func validateFilename(name string) error {
	if name == "" || strings.ContainsAny(name, "\\\x00") || path.IsAbs(name) || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("invalid file name %q in repository", name)
	}
	return nil
}

// validateEtag rejects etags that are not safe as a file name under blobs/.
func validateEtag(etag string) error {
	if etag == "" || strings.ContainsAny(etag, "/\\\x00") || etag == "." || etag == ".." {
		return fmt.Errorf("unusable etag %q", etag)
	}
	return nil
}

// IsCommitHash reports whether rev is a full 40-hex commit sha, which is an
// immutable revision: once its snapshot is cached no network is needed.
func IsCommitHash(rev string) bool { return commitRE.MatchString(rev) }
