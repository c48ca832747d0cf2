package inference

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/weights"
)

// CheckpointInfo describes one checkpoint: its identity, where it came from and its geometry.
type CheckpointInfo struct {
	ID, Digest               string
	Source, Revision, Commit string
	Dir                      string
	HiddenSize, NumLayers    int
	VocabSize                int
	HasPooler                bool
}

// HistoryEntry is one activation of a checkpoint (load, swap, fuse, rollback) and who asked.
type HistoryEntry struct {
	Checkpoint CheckpointInfo
	Action     string
	LoadedAt   time.Time
	Caller
}

// Caller says who asked for an admin change, for the history and the logs.
type Caller struct {
	RequestID, RemoteAddr string
}

// maxHistory bounds the history.
const maxHistory = 100

// admin is the state of admin changes. mu is held for the whole of one change (swap,
// rollback, fuse, head change), so changes never interleave; a second one arriving meanwhile
// fails with ErrBusy.
//
// Memory: history keeps metadata only (strings and numbers), never a checkpoint or an encoder,
// so the weights of a replaced checkpoint are freed once the last batch pinned to them finishes.
// Rollback therefore reloads the previous checkpoint from where it came from (its directory, or
// its fuse sources and weights) and checks that its digest is unchanged.
type admin struct {
	mu sync.Mutex

	hmu     sync.Mutex // guards history (read without taking mu)
	history []record
}

// record is one history entry plus how to load that checkpoint again (for rollback).
type record struct {
	entry HistoryEntry
	// dir to reload from, or fuseDirs+fuseWeights for an in-memory fuse.
	dir         string
	fuseDirs    []string
	fuseWeights []float64
}

func (a *admin) push(r record) {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	a.history = append(a.history, r)
	if len(a.history) > maxHistory {
		a.history = append([]record(nil), a.history[len(a.history)-maxHistory:]...)
	}
}

// last returns the i-th record from the end (0: current), or false.
func (a *admin) last(i int) (record, bool) {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	if i >= len(a.history) {
		return record{}, false
	}
	return a.history[len(a.history)-1-i], true
}

// History returns the served checkpoint and every activation, oldest first.
func (c *Core) History() (current CheckpointInfo, history []HistoryEntry, err error) {
	if _, err := c.ready(); err != nil {
		return CheckpointInfo{}, nil, err
	}
	c.admin.hmu.Lock()
	defer c.admin.hmu.Unlock()
	history = make([]HistoryEntry, len(c.admin.history))
	for i, r := range c.admin.history {
		history[i] = r.entry
	}
	if n := len(history); n > 0 {
		current = history[n-1].Checkpoint
	}
	return current, history, nil
}

// lockAdmin takes the admin lock (ErrBusy when another change holds it) and returns the
// served model.
func (c *Core) lockAdmin() (*served, func(), error) {
	if _, err := c.ready(); err != nil {
		return nil, nil, err
	}
	if !c.admin.mu.TryLock() {
		return nil, nil, errorf(ErrBusy,
			"another admin change (swap, rollback, fuse or head change) is running: retry when it has finished")
	}
	// Reload under the lock: a head change may have published a new snapshot meanwhile.
	m, err := c.ready()
	if err != nil {
		c.admin.mu.Unlock()
		return nil, nil, err
	}
	return m, c.admin.mu.Unlock, nil
}

// resolve maps an admin source to a local directory, logging refused sources.
func (c *Core) resolve(ctx context.Context, source, revision string, who Caller) (checkpoint.Resolved, error) {
	res, err := c.opts.Sources.Resolve(ctx, source, revision)
	if err != nil {
		var forbidden *checkpoint.ForbiddenError
		if errors.As(err, &forbidden) {
			c.log.Warn("admin: refused checkpoint source", "source", Clip(source), "reason", forbidden.Reason,
				"remote_addr", who.RemoteAddr, "request_id", who.RequestID)
		}
		return res, rejectCheckpoint(err)
	}
	return res, nil
}

// rejected logs a candidate that failed its checks (the served checkpoint is unchanged) and
// returns err. Faults of the server are left to the front end's error log.
func (c *Core) rejected(source string, who Caller, err error) error {
	var e *Error
	if errors.As(err, &e) || errors.Is(err, ErrInvalidCheckpoint) {
		c.log.Warn("admin: checkpoint rejected; still serving the current one", "source", Clip(source),
			"reason", err.Error(), "request_id", who.RequestID)
	}
	return err
}

// Activation is the outcome of a swap, rollback or activated fuse.
type Activation struct {
	Checkpoint, Previous CheckpointInfo
	LoadSeconds          float64
	Drift                Drift
	Swapped, DryRun      bool
}

// SwapRequest asks to replace the main encoder's checkpoint.
type SwapRequest struct {
	Source, Revision string // a directory or a Hub id, resolved with Options.Sources
	SHA256           string // the expected digest, or ""
	// AllowGeometryChange accepts a checkpoint whose vectors are not comparable with the served ones.
	AllowGeometryChange bool
	DryRun              bool // check and measure drift, but do not swap
	// MinCosine is a drift gate (nil: none): a candidate whose minimum cosine similarity to the
	// served vectors on the probe texts is below it is held with a *DriftError, not swapped.
	MinCosine *float64
	Caller    Caller
}

// Swap loads, checks and swaps in a new main checkpoint under traffic: requests already
// admitted finish on the old weights. A failure never replaces the served model.
func (c *Core) Swap(ctx context.Context, req SwapRequest) (*Activation, error) {
	if req.Source == "" {
		return nil, errorf(ErrInvalidInput, "source is required: a directory or a Hub id")
	}
	if req.SHA256 != "" {
		if _, err := weights.ParseExpected(req.SHA256); err != nil {
			return nil, errorf(ErrInvalidInput, "%v", err)
		}
	}
	if err := CheckMinCosine(req.MinCosine); err != nil {
		return nil, err
	}
	m, unlock, err := c.lockAdmin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	res, err := c.resolve(ctx, req.Source, req.Revision, req.Caller)
	if err != nil {
		return nil, err
	}
	ck, err := weights.Load(ctx, res.Dir)
	if err != nil {
		return nil, rejectCheckpoint(err)
	}
	spec := candidateSpec{
		ck:            ck,
		info:          CheckpointInfo{Source: req.Source, Dir: res.Dir, Commit: res.Commit},
		tokenizerDir:  res.Dir,
		expectedSHA:   req.SHA256,
		allowGeometry: req.AllowGeometryChange,
		rec:           record{dir: res.Dir, entry: HistoryEntry{Caller: req.Caller}},
	}
	if res.Hub {
		spec.info.Revision = revisionOr(req.Revision)
	}
	cand, err := c.prepare(ctx, m, spec)
	if err != nil {
		return nil, c.rejected(req.Source, req.Caller, err)
	}
	if err := c.gateDrift(cand, req.MinCosine, req.Caller); err != nil {
		return nil, err
	}
	return c.activate(m, cand, "swap", start, req.DryRun), nil
}

func revisionOr(rev string) string {
	if rev == "" {
		return "main"
	}
	return rev
}

// Rollback reloads the checkpoint served before the current one (from its directory, or by
// fusing its sources again), checks that its digest is unchanged, probes it and swaps it in.
// Two rollbacks in a row return to where they started.
func (c *Core) Rollback(ctx context.Context, who Caller) (*Activation, error) {
	m, unlock, err := c.lockAdmin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	prev, ok := c.admin.last(1)
	if !ok {
		return nil, errorf(ErrNoPrevious, "there is no previous checkpoint to roll back to")
	}
	var ck *weights.Checkpoint
	tokDir := prev.dir
	if len(prev.fuseDirs) > 0 {
		ck, err = weights.FuseDirs(ctx, prev.fuseDirs, prev.fuseWeights)
		tokDir = prev.fuseDirs[0]
	} else {
		ck, err = weights.Load(ctx, prev.dir)
	}
	if err != nil {
		return nil, c.rejected(prev.entry.Checkpoint.Source, who, rejectCheckpoint(err))
	}
	if got := ck.Digest(); got != prev.entry.Checkpoint.Digest {
		return nil, errorf(ErrSourceChanged,
			"%s now holds weights sha256:%s, not the previous checkpoint's sha256:%s: swap explicitly with POST /admin/checkpoint",
			prev.entry.Checkpoint.Source, got, prev.entry.Checkpoint.Digest)
	}
	rec := record{dir: prev.dir, fuseDirs: prev.fuseDirs, fuseWeights: prev.fuseWeights, entry: HistoryEntry{Caller: who}}
	info := prev.entry.Checkpoint
	cand, err := c.prepare(ctx, m, candidateSpec{ck: ck, info: info, tokenizerDir: tokDir, allowGeometry: true, rec: rec})
	if err != nil {
		return nil, c.rejected(info.Source, who, err)
	}
	return c.activate(m, cand, "rollback", start, false), nil
}

// FuseRequest asks for ColD Fusion's fuse step over several checkpoints.
type FuseRequest struct {
	Sources []string
	Weights []float64 // one non-negative weight per source (nil: equal)
	// Output is a directory to write the fused checkpoint to ("": none).
	Output string
	// Activate swaps the fused checkpoint in, as Swap does.
	Activate, AllowGeometryChange bool
	Caller                        Caller
}

// Fused is the outcome of a fuse.
type Fused struct {
	Checkpoint CheckpointInfo
	Output     string
	Activation *Activation // when activated
}

// Fuse averages the encoders of several checkpoints (heads are left out), writes the result
// as a directory transformers loads when asked, and swaps it in when asked.
func (c *Core) Fuse(ctx context.Context, req FuseRequest) (*Fused, error) {
	if err := validateFuse(req); err != nil {
		return nil, err
	}
	m, unlock, err := c.lockAdmin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	dirs := make([]string, len(req.Sources))
	for i, src := range req.Sources {
		res, err := c.resolve(ctx, src, "", req.Caller)
		if err != nil {
			return nil, err
		}
		dirs[i] = res.Dir
	}
	out := ""
	if req.Output != "" {
		if out, err = c.opts.Sources.Output(req.Output); err != nil {
			return nil, rejectCheckpoint(err)
		}
	}
	ck, err := weights.FuseDirs(ctx, dirs, req.Weights)
	if err != nil {
		return nil, rejectCheckpoint(err)
	}
	source := "fuse(" + strings.Join(req.Sources, ", ") + ")"
	if req.Weights != nil {
		source = fmt.Sprintf("fuse(%s; weights %v)", strings.Join(req.Sources, ", "), req.Weights)
	}
	info := CheckpointInfo{Source: source, ID: ck.ID(), Digest: ck.Digest(), Dir: out}
	fillGeometry(&info, ck)
	resp := &Fused{Checkpoint: info, Output: out}
	rec := record{fuseDirs: dirs, fuseWeights: req.Weights}
	if out != "" {
		if err := weights.WriteFused(out, ck, dirs[0]); err != nil {
			return nil, err
		}
		rec = record{dir: out}
		c.log.Info("admin: fused checkpoint written", "output", out, "checkpoint", info.ID, "sources", req.Sources)
	}
	if req.Activate {
		rec.entry.Caller = req.Caller
		cand, err := c.prepare(ctx, m, candidateSpec{ck: ck, info: info, tokenizerDir: dirs[0],
			allowGeometry: req.AllowGeometryChange, rec: rec})
		if err != nil {
			return nil, c.rejected(source, req.Caller, err)
		}
		resp.Activation = c.activate(m, cand, "fuse", start, false)
	}
	return resp, nil
}

// validateFuse requires sources, one non-negative weight per source when weights are given,
// and something to do (an output, activation or both).
func validateFuse(req FuseRequest) error {
	switch {
	case len(req.Sources) == 0:
		return errorf(ErrInvalidInput, "sources is empty: name the checkpoints to fuse")
	case req.Weights != nil && len(req.Weights) != len(req.Sources):
		return errorf(ErrInvalidInput, "%d weights for %d sources", len(req.Weights), len(req.Sources))
	case req.Output == "" && !req.Activate:
		return errorf(ErrInvalidInput, "nothing to do: set output, activate or both")
	}
	for i, w := range req.Weights {
		if !(w >= 0) {
			return errorf(ErrInvalidInput, "weight %d is %v: weights must be non-negative", i, w)
		}
	}
	return nil
}

// HeadChange is the outcome of adding or removing a head.
type HeadChange struct {
	Name, Checkpoint string // the head and the checkpoint of the encoder that feeds it
	Labels           []string
	OwnEncoder       bool
	Heads            []string // every head now loaded, sorted
}

// AddHeadRequest asks to add a classification head at run time.
type AddHeadRequest struct {
	Name, Source, Revision string
	Caller                 Caller
}

// AddHead adds a head: a head-only checkpoint runs on the served encoder, a full finetuned
// checkpoint on its own encoder (with its own queue). Requests already running keep the heads
// they started with.
func (c *Core) AddHead(ctx context.Context, req AddHeadRequest) (*HeadChange, error) {
	if req.Name == "" || req.Source == "" {
		return nil, errorf(ErrInvalidInput, "name and source are required")
	}
	if err := checkHeadName(req.Name); err != nil {
		return nil, errorf(ErrInvalidInput, "%v", err)
	}
	m, unlock, err := c.lockAdmin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, dup := m.heads[req.Name]; dup {
		return nil, errorf(ErrHeadExists, "head %q is already loaded: DELETE /admin/heads/%s first", req.Name, req.Name)
	}
	res, err := c.resolve(ctx, req.Source, req.Revision, req.Caller)
	if err != nil {
		return nil, err
	}
	next := m.clone()
	var added []*lane
	newLane := func(ck *weights.Checkpoint, tok *codec) (*lane, error) {
		l, err := next.newLane(ck, tok)
		if err != nil {
			return nil, err
		}
		next.lanes = append(next.lanes, l)
		added = append(added, l)
		return l, nil
	}
	fail := func(err error) (*HeadChange, error) {
		for _, l := range added {
			_ = l.eng.Close(context.Background())
		}
		return nil, c.rejected(req.Source, req.Caller, rejectCheckpoint(err))
	}
	mainEnc := m.main.eng.Current()
	if err := next.loadHead(ctx, HeadSpec{Name: req.Name, Dir: res.Dir}, mainEnc.CheckpointID(), mainEnc.Config().VocabSize,
		m.main.tok, newLane, c.log); err != nil {
		return fail(err)
	}
	for _, l := range added {
		if _, err := probe(ctx, through(l), [][]int32{l.tok.probeIDs()}); err != nil {
			return fail(err)
		}
	}
	slices.Sort(next.headNames)
	c.publish(m, next)
	h := next.heads[req.Name]
	c.log.Info("admin: head added", "head", req.Name, "source", req.Source, "own_encoder", h.lane != next.main,
		"request_id", req.Caller.RequestID)
	return &HeadChange{Name: req.Name, Checkpoint: h.lane.eng.Current().CheckpointID(), Labels: h.head.Labels(),
		OwnEncoder: h.lane != next.main, Heads: next.headNames}, nil
}

// RemoveHead removes a head. Requests already running finish with it; a head's own encoder
// is closed once they have.
func (c *Core) RemoveHead(name string, who Caller) (*HeadChange, error) {
	m, unlock, err := c.lockAdmin()
	if err != nil {
		return nil, err
	}
	defer unlock()
	h, ok := m.heads[name]
	if !ok {
		return nil, errorf(ErrUnknownHead, "unknown head %q", Clip(name))
	}
	next := m.clone()
	delete(next.heads, name)
	next.headNames = slices.DeleteFunc(next.headNames, func(n string) bool { return n == name })
	used := false
	for _, other := range next.heads {
		used = used || other.lane == h.lane
	}
	if h.lane != m.main && !used {
		next.lanes = slices.DeleteFunc(next.lanes, func(l *lane) bool { return l == h.lane })
	}
	c.publish(m, next)
	c.log.Info("admin: head removed", "head", name, "request_id", who.RequestID)
	return &HeadChange{Name: name, Checkpoint: h.lane.eng.Current().CheckpointID(), Labels: h.head.Labels(),
		OwnEncoder: h.lane != m.main, Heads: next.headNames}, nil
}

// clone copies the snapshot's head tables so that a modified copy can be published; lanes
// (engines, encoders) are shared.
func (m *served) clone() *served {
	return &served{
		name: m.name, main: m.main, lanes: slices.Clone(m.lanes), heads: maps.Clone(m.heads),
		headNames: slices.Clone(m.headNames), ownHead: m.ownHead, maxInputTokens: m.maxInputTokens,
		encOpts: m.encOpts, maxBatchTokens: m.maxBatchTokens, queue: m.queue, batchWait: m.batchWait, obs: m.obs, log: m.log,
		startInfo: m.startInfo,
	}
}

// publish makes next the served snapshot and retires old; lanes old had and next has not are
// drained and closed once the last request using old has finished.
func (c *Core) publish(old, next *served) {
	c.model.Store(next)
	var gone []*lane
	for _, l := range old.lanes {
		if !slices.Contains(next.lanes, l) {
			gone = append(gone, l)
		}
	}
	done := old.refs.Retire()
	if len(gone) == 0 {
		return
	}
	go func() {
		<-done
		for _, l := range gone {
			if err := l.eng.Close(context.Background()); err != nil {
				c.log.Error("admin: close a removed head's encoder", "err", err)
			}
		}
	}()
}
