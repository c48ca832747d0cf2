package rollout

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

const poll = 10 * time.Second

// fakeCore stands in for *inference.Core: it resolves sources with the real resolver and
// decides each swap by the directory's name. "drifted" is held by any drift gate, "broken"
// fails to load; anything else swaps in.
type fakeCore struct {
	sources *checkpoint.Resolver

	mu     sync.Mutex
	served inference.CheckpointInfo
	ready  bool
	busy   bool
	swaps  []inference.SwapRequest
}

func info(dir string) inference.CheckpointInfo {
	name := filepath.Base(dir)
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return inference.CheckpointInfo{ID: "sha256:" + digest[:12], Digest: digest, Source: name, Dir: dir}
}

func (f *fakeCore) History() (inference.CheckpointInfo, []inference.HistoryEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready {
		return inference.CheckpointInfo{}, nil, &inference.Error{Kind: inference.ErrNotReady, Msg: "loading"}
	}
	return f.served, nil, nil
}

func (f *fakeCore) Swap(ctx context.Context, req inference.SwapRequest) (*inference.Activation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return nil, &inference.Error{Kind: inference.ErrBusy, Msg: "busy"}
	}
	f.swaps = append(f.swaps, req)
	res, err := f.sources.Resolve(ctx, req.Source, req.Revision)
	if err != nil {
		return nil, err
	}
	cand := info(res.Dir)
	cand.Commit = res.Commit
	drift := inference.Drift{Mean: 0.99, Min: 0.97, Probes: 10, Comparable: true}
	switch name := filepath.Base(res.Dir); {
	case name == "broken":
		return nil, fmt.Errorf("%w: model.safetensors is truncated", inference.ErrInvalidCheckpoint)
	case name == "drifted" && req.MinCosine != nil:
		drift.Min = 0.5
		return nil, &inference.DriftError{Candidate: cand, Drift: drift, MinCosine: *req.MinCosine}
	}
	act := &inference.Activation{Checkpoint: cand, Previous: f.served, Drift: drift, Swapped: true}
	f.served = cand
	return act, nil
}

// adminSwap replaces the served checkpoint as POST /admin/checkpoint would.
func (f *fakeCore) adminSwap(dir string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.served = info(dir)
}

func (f *fakeCore) set(change func(*fakeCore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeCore) swapCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.swaps)
}

func (f *fakeCore) servedName() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return filepath.Base(f.served.Dir)
}

// fleet is one reconciler over a fake core serving root/a, with the declaration in a
// ConfigMap-like directory.
type fleet struct {
	root string
	core *fakeCore
	cm   *fixture.ConfigMap
	r    *Reconciler
	reg  *prometheus.Registry
}

func newFleet(t *testing.T, declaration string) *fleet {
	t.Helper()
	root := t.TempDir()
	for _, name := range []string{"a", "b", "drifted", "broken"} {
		if err := os.Mkdir(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sources := &checkpoint.Resolver{Roots: []string{root}}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{root: real, core: &fakeCore{sources: sources, served: info(filepath.Join(root, "a")), ready: true},
		cm: fixture.NewConfigMap(t, "checkpoint.yaml", declaration), reg: prometheus.NewRegistry()}
	f.r, err = New(Options{File: f.cm.Path(), Poll: poll, Sources: sources, Registerer: f.reg})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run starts the reconciler in the bubble and lets its first poll finish.
func (f *fleet) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.r.Run(ctx, f.core)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	synctest.Wait()
}

// startFleet is newFleet, run.
func startFleet(t *testing.T, declaration string) *fleet {
	f := newFleet(t, declaration)
	f.run(t)
	return f
}

// polls lets n poll intervals pass.
func polls(n int) {
	time.Sleep(time.Duration(n) * poll)
	synctest.Wait()
}

// declare writes a new declaration and lets one poll interval pass.
func (f *fleet) declare(t *testing.T, doc string) {
	f.cm.Write(t, doc)
	polls(1)
}

// check asserts the state, the served directory, the swaps asked of the core so far and the
// metrics.
func (f *fleet) check(t *testing.T, state, served string, swaps int, results map[string]float64) {
	t.Helper()
	st := f.r.Status()
	if st.State != state || st.Converged != (state == StateConverged) {
		t.Errorf("state %q converged %v, want %q (last attempt %+v, file error %q)", st.State, st.Converged, state, st.LastAttempt, st.FileError)
	}
	if got := f.core.servedName(); got != served {
		t.Errorf("serving %s, want %s", got, served)
	}
	if got := f.core.swapCount(); got != swaps {
		t.Errorf("%d swaps asked, want %d", got, swaps)
	}
	if got := testutil.ToFloat64(f.r.metrics.converged); got != map[bool]float64{true: 1}[state == StateConverged] {
		t.Errorf("coldserve_checkpoint_converged = %v in state %s", got, state)
	}
	for _, result := range []string{ResultOK, ResultHeld, ResultRejected} {
		if got := testutil.ToFloat64(f.r.metrics.swaps.WithLabelValues(result)); got != results[result] {
			t.Errorf("coldserve_checkpoint_swaps_total{result=%q} = %v, want %v", result, got, results[result])
		}
	}
}

// The served checkpoint already is the declared one: nothing is swapped. A new declaration
// (the ConfigMap's symlink swap, with the file's mtime unchanged) is swapped in at the next
// poll; writing the same content again changes nothing.
func TestConvergesOnChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		f.check(t, StateConverged, "a", 0, nil)
		if st := f.r.Status(); st.Dir != filepath.Join(f.root, "a") || st.LastAttempt != nil {
			t.Errorf("status %+v", st)
		}

		f.declare(t, "source: b\n")
		f.check(t, StateConverged, "b", 1, map[string]float64{ResultOK: 1})
		st := f.r.Status()
		a := st.LastAttempt
		if a == nil || a.Result != ResultOK || a.Checkpoint == nil || a.Checkpoint.Dir != filepath.Join(f.root, "b") ||
			a.Drift == nil || a.Version != st.Version || a.Declaration.Source != "b" {
			t.Fatalf("last attempt %+v", a)
		}
		if req := f.core.swaps[0]; req.Source != "b" || req.Revision != "main" || req.Caller.RequestID != "checkpoint-file@"+st.Version {
			t.Errorf("swap request %+v", req)
		}

		f.cm.Write(t, "source: b\n")
		polls(3)
		f.check(t, StateConverged, "b", 1, map[string]float64{ResultOK: 1})
	})
}

// The declared fields reach the core's swap, and a drifted candidate is held: the old
// checkpoint serves, and the same declaration is not tried again.
func TestHeldByDriftGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		f.declare(t, "source: drifted\nrevision: v2\nsha256: sha256:0123456789ab\nmin_cosine: 0.9\nallow_geometry_change: true\n")
		f.check(t, StateHeld, "a", 1, map[string]float64{ResultHeld: 1})
		req := f.core.swaps[0]
		if req.Source != "drifted" || req.Revision != "v2" || req.SHA256 != "sha256:0123456789ab" || req.MinCosine == nil ||
			*req.MinCosine != 0.9 || !req.AllowGeometryChange {
			t.Errorf("swap request %+v", req)
		}
		a := f.r.Status().LastAttempt
		if a.Result != ResultHeld || a.Drift == nil || a.Drift.Min != 0.5 || !strings.Contains(a.Reason, "0.9000") {
			t.Errorf("last attempt %+v", a)
		}
		polls(100)
		f.check(t, StateHeld, "a", 1, map[string]float64{ResultHeld: 1})

		f.declare(t, "source: drifted\n") // no gate: accepted on purpose
		f.check(t, StateConverged, "drifted", 2, map[string]float64{ResultHeld: 1, ResultOK: 1})
	})
}

// A rejected declaration keeps the old checkpoint and is tried again after a backoff that
// doubles, not at every poll; a change of the file is tried at once.
func TestRejectedBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		f.declare(t, "source: broken\n")
		f.check(t, StateRejected, "a", 1, map[string]float64{ResultRejected: 1})
		st := f.r.Status()
		if !strings.Contains(st.LastAttempt.Reason, "truncated") || !st.RetryAt.Equal(time.Now().Add(DefaultBackoff)) {
			t.Errorf("rejection %+v, retry at %v (now %v)", st.LastAttempt, st.RetryAt, time.Now())
		}
		// DefaultBackoff is 3 polls: retried at the third, then after 6 more, then 12 more.
		for i, wait := range []int{3, 6, 12} {
			polls(wait - 1)
			f.check(t, StateRejected, "a", 1+i, map[string]float64{ResultRejected: float64(1 + i)})
			polls(1)
			f.check(t, StateRejected, "a", 2+i, map[string]float64{ResultRejected: float64(2 + i)})
		}

		f.declare(t, "source: b\n")
		f.check(t, StateConverged, "b", 5, map[string]float64{ResultRejected: 4, ResultOK: 1})
		if st := f.r.Status(); !st.RetryAt.IsZero() {
			t.Errorf("a retry is still scheduled after converging: %v", st.RetryAt)
		}
	})
}

// A source outside the roots is refused by the resolver's rules, as an admin request would be.
func TestForbiddenSourceRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		f.declare(t, "source: /etc\n")
		f.check(t, StateRejected, "a", 0, map[string]float64{ResultRejected: 1})
		if r := f.r.Status().LastAttempt.Reason; !strings.Contains(r, "checkpoint-root") {
			t.Errorf("reason %q", r)
		}
	})
}

// An admin swap away from the declaration wins until the declaration changes.
func TestAdminChangeWinsUntilFileChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		f.core.adminSwap(filepath.Join(f.root, "b"))
		polls(5)
		f.check(t, StateOverridden, "b", 0, nil)

		f.declare(t, "# rolled out again\nsource: a\n")
		f.check(t, StateConverged, "a", 1, map[string]float64{ResultOK: 1})
	})
}

// A file that cannot be read or parsed is reported; the served checkpoint stays.
func TestInvalidFileKeepsServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := startFleet(t, "source: a\n")
		for _, doc := range []string{"source: b\nmin_cosine: 2\n", "sourc: b\n"} {
			f.declare(t, doc)
			f.check(t, StateInvalid, "a", 0, nil)
			if st := f.r.Status(); st.Declared != nil || st.FileError == "" {
				t.Errorf("%q: status %+v", doc, st)
			}
		}
		if err := os.Remove(f.cm.Path()); err != nil {
			t.Fatal(err)
		}
		polls(1)
		f.check(t, StateInvalid, "a", 0, nil)
		if err := os.Symlink(filepath.Join("..data", f.cm.Key), f.cm.Path()); err != nil {
			t.Fatal(err)
		}
		f.declare(t, "source: b\n")
		f.check(t, StateConverged, "b", 1, map[string]float64{ResultOK: 1})
	})
}

// Nothing happens while the model loads, and an admin change in progress only delays the swap.
func TestWaitsForLoadAndAdminChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, "source: b\n")
		f.core.set(func(c *fakeCore) { c.ready, c.busy = false, true })
		f.run(t)
		f.check(t, StatePending, "a", 0, nil)
		f.core.set(func(c *fakeCore) { c.ready = true })
		polls(3)
		f.check(t, StatePending, "a", 0, nil)
		f.core.set(func(c *fakeCore) { c.busy = false })
		polls(1)
		f.check(t, StateConverged, "b", 1, map[string]float64{ResultOK: 1})
	})
}

// New refuses a missing or invalid file and bad options: start-up mistakes fail at once.
func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("revision: main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("source: m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := &checkpoint.Resolver{}
	for _, tc := range []struct {
		name string
		opts Options
		err  string
	}{
		{"no file", Options{Sources: sources}, "no declaration file"},
		{"missing file", Options{File: filepath.Join(dir, "absent.yaml"), Sources: sources}, "absent.yaml"},
		{"invalid file", Options{File: bad, Sources: sources}, "source is required"},
		{"no resolver", Options{File: good}, "resolver"},
		{"negative poll", Options{File: good, Sources: sources, Poll: -time.Second}, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New: %v, want an error with %q", err, tc.err)
			}
		})
	}
	if _, err := New(Options{File: good, Sources: sources}); err != nil {
		t.Fatal(err)
	}
}
