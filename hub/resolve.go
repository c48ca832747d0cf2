package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SnapshotOptions tunes Snapshot. The zero value fetches what a RoBERTa
// checkpoint needs.
type SnapshotOptions struct {
	// Extra names additional repository files to fetch when the repository
	// has them (for example a custom head file); absent ones are skipped.
	Extra []string
}

// weightLayouts are the weight formats Snapshot understands, best first:
// safetensors is preferred (no pickle, memory-mappable), then a sharded
// safetensors index, then PyTorch's pickle formats. Only one layout is
// downloaded.
var weightLayouts = []struct {
	file    string
	sharded bool // file is an index whose weight_map names the shards
}{
	{"model.safetensors", false},
	{"model.safetensors.index.json", true},
	{"pytorch_model.bin", false},
	{"pytorch_model.bin.index.json", true},
}

// tokenizerFiles are fetched when the repository has them.
var tokenizerFiles = []string{"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"}

// filePlan is what to fetch from one repository revision.
type filePlan struct {
	required []string // config.json and the weight file (or shard index)
	index    string   // the shard index among required, "" when unsharded
	optional []string // tokenizer files and extras that exist
}

// planFiles picks the files to fetch given which ones exist (the Hub's file
// listing online, the snapshot directory offline).
func planFiles(has func(string) bool, extra []string) (filePlan, error) {
	var p filePlan
	if !has("config.json") {
		return p, errors.New("no config.json (is this a transformers model repository?)")
	}
	p.required = append(p.required, "config.json")
	for _, w := range weightLayouts {
		if has(w.file) {
			p.required = append(p.required, w.file)
			if w.sharded {
				p.index = w.file
			}
			break
		}
	}
	if len(p.required) == 1 {
		names := make([]string, len(weightLayouts))
		for i, w := range weightLayouts {
			names[i] = w.file
		}
		return p, fmt.Errorf("no weights: none of %s", strings.Join(names, ", "))
	}
	for _, f := range append(append([]string(nil), tokenizerFiles...), extra...) {
		if has(f) {
			p.optional = append(p.optional, f)
		}
	}
	return p, nil
}

// readShardIndex returns the distinct shard files named by a
// *.index.json weight_map, sorted, each validated as a safe relative name.
func readShardIndex(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read shard index: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("parse shard index %s: %w", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("shard index %s has an empty weight_map", path)
	}
	seen := map[string]bool{}
	var shards []string
	for _, f := range idx.WeightMap {
		if seen[f] {
			continue
		}
		if err := validateFilename(f); err != nil {
			return nil, fmt.Errorf("shard index %s: %w", path, err)
		}
		seen[f] = true
		shards = append(shards, f)
	}
	sort.Strings(shards)
	return shards, nil
}

// Snapshot makes the files of repoID at revision (a branch, tag or commit
// sha; "" means "main") available locally and returns the snapshot directory
// $HF_HUB_CACHE/models--org--name/snapshots/<commit>, whose base name is the
// resolved commit sha.
//
// Online, it does what huggingface_hub's snapshot_download does: ask
// /api/models/{repo}/revision/{rev} for the commit sha and the file list,
// pick config.json, one weight layout (model.safetensors preferred, else a
// sharded safetensors index and its shards, else pytorch_model.bin) and the
// tokenizer files that exist, then for each file missing from the snapshot
// HEAD its resolve URL for the etag and download the blob unless it is
// already cached (from any earlier revision, or from Python). refs/<revision>
// is written last, once the snapshot is complete.
//
// Offline (Client.Offline), or when the Hub cannot be reached (network
// error, 5xx), the revision resolves through refs/<revision> (or is a commit
// sha) and the cached snapshot is returned if it holds a complete
// checkpoint; otherwise the error wraps ErrNotCached and names the repository
// and revision. Authentication and not-found answers (*HTTPError 401, 403,
// 404) are returned as they are, never masked by the cache.
func (c *Client) Snapshot(ctx context.Context, repoID, revision string, opts SnapshotOptions) (string, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if err := ValidateRepoID(repoID); err != nil {
		return "", err
	}
	if err := validateRevision(revision); err != nil {
		return "", err
	}
	for _, f := range opts.Extra {
		if err := validateFilename(f); err != nil {
			return "", fmt.Errorf("hub: extra file: %w", err)
		}
	}
	if err := c.check(); err != nil {
		return "", err
	}
	rc := newRepoCache(c.CacheDir, repoID)
	if c.Offline {
		dir, err := c.cachedSnapshot(rc, revision, opts)
		if err != nil {
			return "", fmt.Errorf("hub: %s@%s: offline mode (HF_HUB_OFFLINE): %w; run once with network access, or `huggingface-cli download %s --revision %s`",
				repoID, revision, err, repoID, revision)
		}
		return dir, nil
	}
	dir, err := c.download(ctx, rc, revision, opts)
	if err == nil {
		return dir, nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("hub: %s@%s: %w", repoID, revision, ctx.Err())
	}
	if !unreachable(err) {
		return "", fmt.Errorf("hub: %s@%s: %w", repoID, revision, err)
	}
	cached, cerr := c.cachedSnapshot(rc, revision, opts)
	if cerr != nil {
		return "", fmt.Errorf("hub: %s@%s: the Hub is unreachable (%w) and the cache cannot serve it: %w", repoID, revision, err, cerr)
	}
	c.logger().Warn("hub unreachable, using the cached snapshot", "repo", repoID, "revision", revision,
		"commit", filepath.Base(cached), "err", err)
	return cached, nil
}

// download is the online path of Snapshot.
func (c *Client) download(ctx context.Context, rc repoCache, revision string, opts SnapshotOptions) (string, error) {
	info, err := c.repoInfo(ctx, rc.repoID, revision)
	if err != nil {
		return "", err
	}
	listed := make(map[string]bool, len(info.Siblings))
	for _, s := range info.Siblings {
		listed[s.RFilename] = true
	}
	plan, err := planFiles(func(f string) bool { return listed[f] }, opts.Extra)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", info.SHA, err)
	}
	fetch := func(file string, required bool) error {
		err := c.fetchFile(ctx, rc, revision, info.SHA, file)
		var he *HTTPError
		if !required && errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
			c.logger().Debug("optional file listed but not found; skipping", "repo", rc.repoID, "file", file)
			return nil
		}
		return err
	}
	for _, f := range plan.required {
		if err := fetch(f, true); err != nil {
			return "", err
		}
	}
	if plan.index != "" {
		shards, err := readShardIndex(rc.pointerPath(info.SHA, plan.index))
		if err != nil {
			return "", err
		}
		for _, f := range shards {
			if err := fetch(f, true); err != nil {
				return "", err
			}
		}
	}
	for _, f := range plan.optional {
		if err := fetch(f, false); err != nil {
			return "", err
		}
	}
	if err := rc.writeRef(revision, info.SHA); err != nil {
		return "", err
	}
	return rc.snapshotDir(info.SHA), nil
}

// cachedSnapshot resolves revision without network and checks that the
// snapshot holds a loadable checkpoint: config.json, one weight layout (with
// every shard of a sharded one). Tokenizer files stay optional, as online.
func (c *Client) cachedSnapshot(rc repoCache, revision string, opts SnapshotOptions) (string, error) {
	commit := revision
	if !IsCommitHash(revision) {
		var err error
		if commit, err = rc.readRef(revision); err != nil {
			return "", err
		}
	}
	dir := rc.snapshotDir(commit)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%w: no snapshot %s", ErrNotCached, dir)
	}
	has := func(f string) bool { return fileExists(rc.pointerPath(commit, f)) }
	plan, err := planFiles(has, opts.Extra)
	if err != nil {
		return "", fmt.Errorf("%w: snapshot %s is incomplete: %v", ErrNotCached, dir, err)
	}
	if plan.index != "" {
		shards, err := readShardIndex(rc.pointerPath(commit, plan.index))
		if err != nil {
			return "", fmt.Errorf("%w: snapshot %s: %v", ErrNotCached, dir, err)
		}
		for _, s := range shards {
			if !has(s) {
				return "", fmt.Errorf("%w: snapshot %s is incomplete: missing shard %s", ErrNotCached, dir, s)
			}
		}
	}
	return dir, nil
}

// repoInfo is the part of /api/models/{repo}/revision/{rev} that Snapshot
// needs: the commit the revision points at and the repository's files.
type repoInfo struct {
	ID       string `json:"id"`
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// maxRepoInfoBytes bounds the API answer (a file listing) we are willing to parse.
const maxRepoInfoBytes = 32 << 20

func (c *Client) repoInfo(ctx context.Context, repoID, revision string) (*repoInfo, error) {
	u := c.endpoint() + "/api/models/" + repoID + "/revision/" + url.PathEscape(revision)
	req, err := c.newRequest(ctx, http.MethodGet, u)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("resolve revision: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, newHTTPError(resp, repoID, revision, "")
	}
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRepoInfoBytes)).Decode(&info); err != nil {
		return nil, fmt.Errorf("resolve revision: decode %s: %w", req.URL.Redacted(), err)
	}
	if !IsCommitHash(info.SHA) {
		return nil, fmt.Errorf("resolve revision: %s answered sha %q, not a commit sha", req.URL.Redacted(), info.SHA)
	}
	for _, s := range info.Siblings {
		if err := validateFilename(s.RFilename); err != nil {
			return nil, fmt.Errorf("resolve revision: %w", err)
		}
	}
	return &info, nil
}

// unreachable reports whether err means "the Hub could not be asked" (network
// failure, timeout, 5xx, 429) as opposed to a definite answer. Like
// huggingface_hub, only then is the cache used instead.
func unreachable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.As(err, new(*bodyReadError))
}
