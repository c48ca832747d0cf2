package inference

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/internal/fixture"
)

const (
	tinyDir      = "../testdata/models/tiny-roberta"
	sentimentDir = "../testdata/models/tiny-roberta-sentiment"
)

// quietLogger drops logs below error so test output stays readable.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// newCore loads cfg into a Core, closed at test end.
func newCore(t testing.TB, opts Options, cfg ModelConfig) *Core {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// newAdminCore serves root/tiny with admin sources under root.
func newAdminCore(t testing.TB, root string) *Core {
	t.Helper()
	return newCore(t, Options{Sources: &checkpoint.Resolver{Roots: []string{root}}},
		ModelConfig{Dir: filepath.Join(root, "tiny"), Encoder: encoder.EncoderOptions{Workers: 1}})
}

func checkpointRoot(t testing.TB) string { return fixture.CheckpointRoot(t, tinyDir, sentimentDir) }

func sourcesIn(root string) *checkpoint.Resolver { return &checkpoint.Resolver{Roots: []string{root}} }

// countingObserver counts forward passes and cache hits by kind.
type countingObserver struct {
	nopObserver
	passes atomic.Int64
	mu     sync.Mutex
	hit    map[string]int
}

func (o *countingObserver) BatchDone(engine.BatchStats) { o.passes.Add(1) }

func (o *countingObserver) CacheLookup(kind string, hit bool) {
	if !hit {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hit == nil {
		o.hit = map[string]int{}
	}
	o.hit[kind]++
}

func (o *countingObserver) hits(kind string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hit[kind]
}
