package server

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldserve/coldserve/api"
)

// fusedGolden is testdata/golden/tiny_fused.json.
type fusedGolden struct {
	Items []struct {
		Text string    `json:"text"`
		IDs  []int32   `json:"ids"`
		Mean []float64 `json:"mean"`
	} `json:"items"`
}

// Sixteen clients embed without pause while the checkpoint is swapped ten times between tiny
// (seed 0), the fused model and the sentiment model's encoder. No request may fail, and every
// response's vectors must equal the reference of the checkpoint the response names: the
// goldens for tiny and fused, a lone forward pass for sentiment.
func TestSwapUnderTraffic(t *testing.T) {
	root := checkpointRoot(t)
	srv := newAdminServer(t, root, 2)
	h := srv.Handler()

	var fg fusedGolden
	readGolden(t, "tiny_fused.json", &fg)
	var tg tinyGolden
	readGolden(t, "tiny.json", &tg)
	tinyMean := map[string][]float64{}
	for _, it := range tg.Items {
		tinyMean[it.Text] = it.Mean
	}
	texts := make([]string, len(fg.Items))
	ids := make([][]int32, len(fg.Items))
	for i, it := range fg.Items {
		texts[i], ids[i] = it.Text, it.IDs
	}
	sentiment := forwardMean(t, root+"/sentiment", ids)

	// want[checkpoint id][text index] is the reference mean vector.
	want := map[string][][]float64{}
	ckIDs := map[string]string{}
	for _, name := range []string{"tiny", "fused", "sentiment"} {
		var resp api.CheckpointResponse
		code, raw := adminDo(t, h, http.MethodPost, "/admin/checkpoint", map[string]any{"source": name, "dry_run": true})
		if code != http.StatusOK {
			t.Fatalf("dry run %s: %d %s", name, code, raw)
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		ckIDs[name] = resp.Checkpoint.ID
		vecs := make([][]float64, len(texts))
		for i := range texts {
			switch name {
			case "tiny":
				vecs[i] = tinyMean[texts[i]]
			case "fused":
				vecs[i] = fg.Items[i].Mean
			case "sentiment":
				vecs[i] = widen(sentiment[i])
			}
			if vecs[i] == nil {
				t.Fatalf("no reference for %q on %s", texts[i], name)
			}
		}
		want[resp.Checkpoint.ID] = vecs
	}
	if len(want) != 3 {
		t.Fatalf("the three checkpoints must have distinct ids: %v", ckIDs)
	}

	// Each client may send minPerClient requests plus two per completed swap, and stops after the
	// tenth swap; each swap waits for some responses after the previous one, so traffic spans
	// every checkpoint while keeping the total near 16 × 24.
	const clients, minPerClient = 16, 4
	swapsDone := make(chan struct{})
	var failed, checked, sent, swapped atomic.Int64
	quota := func() int { return minPerClient + 2*int(swapped.Load()) }
	seen := sync.Map{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for r := 0; ; r++ {
				for r >= quota() {
					select {
					case <-swapsDone:
						return
					case <-time.After(time.Millisecond):
					}
				}
				sent.Add(1)
				// Mixed lengths and batch sizes: 1 to 4 consecutive texts.
				lo := (c*7 + r*3) % len(texts)
				n := 1 + (c+r)%4
				var batch []int
				for k := 0; k < n; k++ {
					batch = append(batch, (lo+k)%len(texts))
				}
				in := make([]string, len(batch))
				for k, i := range batch {
					in[k] = texts[i]
				}
				code, raw := do(t, h, http.MethodPost, "/v1/embed", map[string]any{"inputs": in})
				if code != http.StatusOK {
					failed.Add(1)
					t.Errorf("client %d request %d: %d %s", c, r, code, raw)
					continue
				}
				var resp embedResp
				if err := json.Unmarshal(raw, &resp); err != nil {
					t.Error(err)
					continue
				}
				ref, ok := want[resp.Checkpoint]
				if !ok {
					t.Errorf("response names unknown checkpoint %s", resp.Checkpoint)
					continue
				}
				seen.Store(resp.Checkpoint, true)
				for k, i := range batch {
					if d := maxAbs(resp.Embeddings[k], ref[i]); d > 1e-5 {
						t.Errorf("%s on %s: max diff %g", texts[i], resp.Checkpoint, d)
					}
				}
				checked.Add(1)
			}
		}(c)
	}
	go func() { wg.Wait(); close(stop) }()

	order := []string{"fused", "sentiment", "tiny", "sentiment", "fused", "tiny", "fused", "sentiment", "tiny", "fused"}
	for i, name := range order {
		// Wait for 8 more responses, or for every response the quota allows: clients that used
		// up their quota before this loop read before send no more until the next swap.
		for before := checked.Load(); checked.Load() < min(before+8, int64(clients*quota())) && failed.Load() == 0; {
			time.Sleep(time.Millisecond)
		}
		var resp api.CheckpointResponse
		code, raw := adminDo(t, h, http.MethodPost, "/admin/checkpoint", map[string]any{"source": name})
		if code != http.StatusOK {
			t.Fatalf("swap %d to %s: %d %s", i, name, code, raw)
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Checkpoint.ID != ckIDs[name] || !resp.Swapped {
			t.Fatalf("swap %d: got %+v, want %s swapped", i, resp.Checkpoint, ckIDs[name])
		}
		swapped.Add(1)
		t.Logf("swap %d to %s: %.3fs", i, name, resp.LoadSeconds)
		if !resp.Drift.Comparable || resp.Drift.Probes == 0 || resp.Drift.MinCosine > resp.Drift.MeanCosine+1e-12 {
			t.Errorf("swap %d: drift %+v", i, resp.Drift)
		}
	}
	close(swapsDone)
	<-stop
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	if checked.Load() != sent.Load() {
		t.Fatalf("checked %d responses of %d requests", checked.Load(), sent.Load())
	}
	n := 0
	seen.Range(func(_, _ any) bool { n++; return true })
	if n != 3 {
		t.Fatalf("responses came from %d checkpoints, want all 3", n)
	}
	t.Logf("%d responses over %d checkpoints", checked.Load(), n)

	// After the swaps, the served checkpoint is the last one and the history lists them all.
	var st api.CheckpointStatus
	code, raw := adminDo(t, h, http.MethodGet, "/admin/checkpoint", nil)
	if code != http.StatusOK {
		t.Fatalf("status: %d %s", code, raw)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.Current.ID != ckIDs["fused"] || len(st.History) != 1+len(order) {
		t.Fatalf("current %s, history %d entries", st.Current.ID, len(st.History))
	}
	for i, e := range st.History[1:] {
		if e.Checkpoint.ID != ckIDs[order[i]] || e.Action != "swap" || e.RequestID == "" || e.LoadedAt.IsZero() {
			t.Errorf("history %d: %+v", i+1, e)
		}
	}
	var em embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": texts[0]}, http.StatusOK, &em)
	if em.Checkpoint != ckIDs["fused"] {
		t.Fatalf("after the swaps /v1/embed answers from %s, want %s", em.Checkpoint, ckIDs["fused"])
	}
}
