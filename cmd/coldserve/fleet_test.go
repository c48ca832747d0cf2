package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/hub/hubtest"
	"github.com/coldserve/coldserve/internal/fixture"
	"github.com/coldserve/coldserve/weights"
)

// fleetPoll is the replicas' --checkpoint-poll: short, so the test is quick, and long enough
// that a swap of the tiny model fits well inside one interval on a busy machine.
const fleetPoll = 2 * time.Second

const fleetToken = "fleet-admin-token"

// fleet is three coldserve processes that share one declared-checkpoint file, as the pods of
// one Deployment share their ConfigMap, each with its own Hugging Face cache (an emptyDir).
type fleet struct {
	procs  []*process
	client *http.Client
}

// status is GET /admin/checkpoint of replica i; an error while its model loads (503).
func (f *fleet) status(i int) (api.CheckpointStatus, error) {
	req, _ := http.NewRequest(http.MethodGet, f.procs[i].url("/admin/checkpoint"), nil)
	req.Header.Set("Authorization", "Bearer "+fleetToken)
	resp, err := f.client.Do(req)
	if err != nil {
		return api.CheckpointStatus{}, err
	}
	defer resp.Body.Close()
	var st api.CheckpointStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK || st.Declared == nil {
		return st, fmt.Errorf("GET /admin/checkpoint: %d, %v, %+v", resp.StatusCode, err, st)
	}
	return st, nil
}

// await polls every replica's status until all satisfy ok, and returns how long that took; past
// limit it fails the test with each replica's status and the end of its log.
func (f *fleet) await(t *testing.T, what string, limit time.Duration, ok func(api.CheckpointStatus) bool) time.Duration {
	t.Helper()
	start := time.Now()
	done := make([]bool, len(f.procs))
	for n := 0; n < len(f.procs); time.Sleep(20 * time.Millisecond) {
		for i := range f.procs {
			if st, err := f.status(i); !done[i] && err == nil && ok(st) {
				done[i] = true
				n++
			}
		}
		if n < len(f.procs) && time.Since(start) > limit {
			for i, p := range f.procs {
				st, err := f.status(i)
				if err != nil {
					t.Logf("replica %d: %v\n%s", i, err, lastLines(p.logs.String(), 8))
					continue
				}
				t.Logf("replica %d: current %s (%s), declared %+v, last attempt %+v\n%s", i, st.Current.ID, st.Current.Source,
					*st.Declared, st.Declared.LastAttempt, lastLines(p.logs.String(), 8))
			}
			t.Fatalf("%s: not every replica got there within %v", what, limit)
		}
	}
	took := time.Since(start)
	t.Logf("%s: %v", what, took.Round(time.Millisecond))
	return took
}

// metric reads one sample of replica i's /metrics, e.g. `coldserve_checkpoint_swaps_total{result="ok"}`.
func (f *fleet) metric(t *testing.T, i int, series string) string {
	t.Helper()
	resp, err := f.client.Get(f.procs[i].url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return "absent"
}

// fleetGoldens returns the texts of tiny_fused.json and, by checkpoint id, each text's mean
// vector under tiny-roberta (tiny.json) and under the fused seeds 0, 1, 2 (tiny_fused.json).
func fleetGoldens(t *testing.T, tinyID, fusedID string) ([]string, map[string][][]float64) {
	t.Helper()
	type golden struct {
		Items []struct {
			Text string    `json:"text"`
			Mean []float64 `json:"mean"`
		} `json:"items"`
	}
	read := func(name string) golden {
		var g golden
		raw, err := os.ReadFile("../../testdata/golden/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	tiny, fused := read("tiny.json"), read("tiny_fused.json")
	tinyMean := map[string][]float64{}
	for _, it := range tiny.Items {
		tinyMean[it.Text] = it.Mean
	}
	texts := make([]string, len(fused.Items))
	want := map[string][][]float64{}
	for i, it := range fused.Items {
		texts[i] = it.Text
		if tinyMean[it.Text] == nil {
			t.Fatalf("%q is in tiny_fused.json but not in tiny.json", it.Text)
		}
		want[tinyID] = append(want[tinyID], tinyMean[it.Text])
		want[fusedID] = append(want[fusedID], it.Mean)
	}
	return texts, want
}

func checkpointID(t *testing.T, dir string) string {
	t.Helper()
	ck, err := weights.Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return ck.ID()
}

// traffic is 16 clients spread over the replicas, each embedding 1 to 4 texts per request
// and checking every vector against the golden of the checkpoint its response names.
type traffic struct {
	failed, checked atomic.Int64
	mu              sync.Mutex
	seen            map[string]int // responses by checkpoint id
	errs            []string
	stop            chan struct{}
	wg              sync.WaitGroup
}

func (f *fleet) startTraffic(t *testing.T, texts []string, want map[string][][]float64) *traffic {
	tr := &traffic{seen: map[string]int{}, stop: make(chan struct{})}
	fail := func(format string, args ...any) {
		tr.failed.Add(1)
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if len(tr.errs) < 10 {
			tr.errs = append(tr.errs, fmt.Sprintf(format, args...))
		}
	}
	for c := range 16 {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			p := f.procs[c%len(f.procs)]
			for r := 0; ; r++ {
				select {
				case <-tr.stop:
					return
				case <-time.After(30 * time.Millisecond): // a client's think time: load, not a flood
				}
				lo, n := (c*5+r*3)%len(texts), 1+(c+r)%4
				batch := make([]int, n)
				in := make([]string, n)
				for k := range batch {
					batch[k] = (lo + k) % len(texts)
					in[k] = texts[batch[k]]
				}
				body, _ := json.Marshal(map[string]any{"inputs": in})
				resp, err := f.client.Post(p.url("/v1/embed"), "application/json", bytes.NewReader(body))
				if err != nil {
					fail("client %d request %d: %v", c, r, err)
					continue
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var er struct {
					Checkpoint string      `json:"checkpoint"`
					Embeddings [][]float64 `json:"embeddings"`
				}
				if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &er) != nil || len(er.Embeddings) != n {
					fail("client %d request %d: %d %v %.200s", c, r, resp.StatusCode, err, raw)
					continue
				}
				ref, ok := want[er.Checkpoint]
				if !ok {
					fail("client %d request %d: response names checkpoint %s, which has no golden", c, r, er.Checkpoint)
					continue
				}
				for k, i := range batch {
					if d := maxDiff(er.Embeddings[k], ref[i]); d > 1e-5 {
						fail("client %d request %d: %q on %s is %g away from its golden", c, r, texts[i], er.Checkpoint, d)
					}
				}
				tr.checked.Add(1)
				tr.mu.Lock()
				tr.seen[er.Checkpoint]++
				tr.mu.Unlock()
			}
		}()
	}
	return tr
}

// finish stops the clients and fails the test if any request failed or a vector was wrong.
func (tr *traffic) finish(t *testing.T) {
	t.Helper()
	close(tr.stop)
	tr.wg.Wait()
	if n := tr.failed.Load(); n > 0 {
		t.Errorf("%d requests failed or answered wrong vectors; first ones:\n%s", n, strings.Join(tr.errs, "\n"))
	}
	t.Logf("%d responses checked, by checkpoint: %v", tr.checked.Load(), tr.seen)
}

// Three replicas share one declared-checkpoint file, written the way the kubelet updates a
// ConfigMap volume, under 16 clients. A new declaration converges every replica within three
// poll intervals; a broken checkpoint is rejected and a drifted one held by all three while
// they keep serving; a moving ref on the (fake) Hub rolls out when its commit changes, with no
// download while it does not. No request fails, and every response's vectors equal the golden
// of the checkpoint it names.
func TestFleetConvergesOnDeclaredCheckpoint(t *testing.T) {
	root := fixture.CheckpointRoot(t, "../../testdata/models/tiny-roberta", "../../testdata/models/tiny-roberta-sentiment")
	tinyDir, fusedDir := filepath.Join(root, "tiny"), filepath.Join(root, "fused")
	fixture.CopyDir(t, tinyDir, filepath.Join(root, "broken"))
	weightsFile := filepath.Join(root, "broken", "model.safetensors")
	st, err := os.Stat(weightsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(weightsFile, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	tinyID, fusedID := checkpointID(t, tinyDir), checkpointID(t, fusedDir)
	texts, want := fleetGoldens(t, tinyID, fusedID)

	hf := hubtest.New(t)
	tinyCommit := hf.AddDir(t, "org/iter", "main", tinyDir)

	cm := fixture.NewConfigMap(t, "checkpoint.yaml", "source: tiny\n")
	f := &fleet{client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	defer f.client.CloseIdleConnections()
	for range 3 {
		f.procs = append(f.procs, startProcessEnv(t,
			[]string{"HF_ENDPOINT=" + hf.URL, "HF_HOME=" + t.TempDir(), "HF_HUB_CACHE=", "HF_TOKEN=", "HF_HUB_OFFLINE=",
				"HF_HUB_DISABLE_PROGRESS_BARS=1", "OMP_NUM_THREADS=1"},
			"--model", tinyDir, "--checkpoint-root", root, "--allow-hub", "--admin-token", fleetToken,
			"--checkpoint-file", cm.Path(), "--checkpoint-poll", fleetPoll.String(), "--cache-bytes", "0"))
	}
	declares := func(state, source string) func(api.CheckpointStatus) bool {
		return func(st api.CheckpointStatus) bool {
			d := st.Declared
			return d.State == state && d.Desired != nil && d.Desired.Source == source
		}
	}
	serving := func(id string, also func(api.CheckpointStatus) bool) func(api.CheckpointStatus) bool {
		return func(st api.CheckpointStatus) bool { return st.Current.ID == id && also(st) }
	}
	converge := 3 * fleetPoll
	f.await(t, "start-up on the declared tiny", 60*time.Second, serving(tinyID, declares("converged", "tiny")))

	tr := f.startTraffic(t, texts, want)
	defer func() {
		if tr != nil {
			tr.finish(t)
		}
	}()
	time.Sleep(fleetPoll / 2)

	cm.Write(t, "source: fused\n")
	f.await(t, "the fused checkpoint rolls out", converge, serving(fusedID, declares("converged", "fused")))

	cm.Write(t, "source: broken\n")
	f.await(t, "a truncated checkpoint is rejected", 10*fleetPoll, serving(fusedID, func(st api.CheckpointStatus) bool {
		a := st.Declared.LastAttempt
		return declares("rejected", "broken")(st) && a != nil && a.Source == "broken" && strings.Contains(a.Reason, "model.safetensors")
	}))

	cm.Write(t, "source: tiny\nmin_cosine: 0.9\n")
	f.await(t, "tiny is held by the drift gate", 10*fleetPoll, serving(fusedID, func(st api.CheckpointStatus) bool {
		a := st.Declared.LastAttempt
		return declares("held", "tiny")(st) && a != nil && a.Result == "held" && a.Drift != nil && a.Drift.MinCosine < 0.9 &&
			a.Checkpoint != nil && a.Checkpoint.ID == tinyID
	}))

	onCommit := func(id, commit string) func(api.CheckpointStatus) bool {
		return serving(id, func(st api.CheckpointStatus) bool {
			return declares("converged", "org/iter")(st) && st.Current.Commit == commit && st.Declared.Desired.Commit == commit
		})
	}
	cm.Write(t, "source: org/iter\nrevision: main\n")
	f.await(t, "the Hub's org/iter@main rolls out", converge, onCommit(tinyID, tinyCommit))
	gets := hf.ContentGETs("model.safetensors")
	time.Sleep(2 * fleetPoll)
	if got := hf.ContentGETs("model.safetensors"); got != gets {
		t.Errorf("the weights were downloaded %d more times while main did not move", got-gets)
	}

	fusedCommit := hf.AddDir(t, "org/iter", "main", fusedDir)
	f.await(t, "a new commit on main rolls out by itself", converge, onCommit(fusedID, fusedCommit))
	if got := hf.ContentGETs("model.safetensors") - gets; got != len(f.procs) {
		t.Errorf("the new commit's weights were downloaded %d times, want once per replica", got)
	}
	time.Sleep(fleetPoll / 2)
	tr.finish(t)
	tr = nil

	for i := range f.procs {
		for series, want := range map[string]string{
			`coldserve_checkpoint_converged`:                                                    "1",
			`coldserve_checkpoint_swaps_total{result="ok"}`:                                     "3",
			`coldserve_checkpoint_swaps_total{result="held"}`:                                   "1",
			`coldserve_checkpoint_info{id="` + fusedID + `",revision="main",source="org/iter"}`: "1",
		} {
			if got := f.metric(t, i, series); got != want {
				t.Errorf("replica %d: %s = %s, want %s", i, series, got, want)
			}
		}
		if got := f.metric(t, i, `coldserve_checkpoint_swaps_total{result="rejected"}`); got == "0" || got == "absent" {
			t.Errorf("replica %d: no rejection counted", i)
		}
	}
}
