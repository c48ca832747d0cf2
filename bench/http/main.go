// Command http load-tests coldserve end to end over HTTP on the roberta-base geometry and
// compares it, in the same run, with the raw encoder:
//
//   - throughput: C concurrent clients POST /v1/embed with one text of 1–62 words (3–64 tokens
//     with <s> and </s>) each, for a bounded time; tokens/s and p50/p99 latency, against
//     encoder.Encoder.Forward on batches of the server's mean batch size drawn from the same
//     length mix;
//   - latency: one 16-token request at a time on the idle server, against a raw 1×16 forward;
//   - memory: VmRSS before and after, the weight bytes, and an optional soak under load.
//
// The checkpoint is weightgen seed 0 written to a temporary directory with the tiny-roberta
// tokenizer files (the full RoBERTa vocabulary). The server runs in-process on 127.0.0.1.
// Raw and HTTP measurements alternate within each repeat so load on the box hits both alike.
//
//	OMP_NUM_THREADS=2 go run ./bench/http -duration 20s -repeats 3
//	OMP_NUM_THREADS=2 go run ./bench/http -repeats 1 -soak 10m
//	OMP_NUM_THREADS=2 go run ./bench/http -gc-percent 20,100   # GC settings side by side
//
// The Go collector runs at server.DefaultGCPercent, as coldserve serve does (GOGC, when set,
// wins); -gc-percent with several values runs every repeat under each in turn, alternating the
// order, and reports them side by side. The soak runs under the first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/coldserve/coldserve/bench/internal/cpuinfo"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/server"
	"github.com/coldserve/coldserve/weights"
)

type config struct {
	clients        int
	duration       time.Duration
	repeats        int
	single         int
	soak           time.Duration
	maxWords       int
	workers        int
	threads        int
	dtype          encoder.DType
	maxBatchTokens int
	cacheBytes     int64
	batchWait      time.Duration
	soakMemLimit   int64
	tokenizerDir   string
	gc             []gcSetting
	memProfile     string
}

func main() {
	var c config
	flag.IntVar(&c.clients, "clients", 32, "concurrent HTTP clients (and the raw encoder's batch size)")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "load time per repeat (the raw mix runs about as long)")
	flag.IntVar(&c.repeats, "repeats", 3, "alternating raw/HTTP repeats; medians, min and max are reported")
	flag.IntVar(&c.single, "single", 15, "sequential 16-token requests (and raw 1×16 forwards) per repeat")
	flag.DurationVar(&c.soak, "soak", 0, "memory soak under load after the repeats (0: none), e.g. 10m")
	flag.Int64Var(&c.soakMemLimit, "soak-memlimit", 0, "Go soft memory limit in bytes for the soak (as GOMEMLIMIT; 0: none): the weights live in the Go heap, so without a limit the GC lets garbage grow to about their size before collecting")
	flag.IntVar(&c.maxWords, "max-words", 62, "longest text in words (one token each): 62 gives 64 tokens with specials")
	flag.IntVar(&c.workers, "workers", 1, "server --workers")
	flag.IntVar(&c.threads, "threads", 0, "BLAS threads (0: OMP_NUM_THREADS / library default)")
	dtype := flag.String("dtype", string(encoder.Float32), "server --dtype, and the raw encoder's: float32, or bf16 (needs AVX512-BF16 or AMX and the oneDNN build)")
	flag.IntVar(&c.maxBatchTokens, "max-batch-tokens", 16384, "server --max-batch-tokens")
	flag.Int64Var(&c.cacheBytes, "cache-bytes", -1, "server result cache in bytes (-1: off, so every text costs compute)")
	flag.DurationVar(&c.batchWait, "batch-wait", 0, "server --batch-wait")
	flag.StringVar(&c.tokenizerDir, "tokenizer", "testdata/models/tiny-roberta", "directory whose tokenizer files are copied next to the weights")
	flag.StringVar(&c.memProfile, "memprofile", "", "write a heap profile (live objects, after a GC) to this file at the end, for go tool pprof")
	gcList := flag.String("gc-percent", strconv.Itoa(server.DefaultGCPercent), "Go GC percent, as coldserve --gc-percent (default: the server's); comma-separated values run each repeat under each, side by side; the soak uses the first. Without this flag a GOGC environment variable wins")
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "gc-percent" })
	var err error
	if c.dtype, err = encoder.ParseDType(*dtype); err != nil {
		slog.Error("bench/http", "err", err)
		os.Exit(2)
	}
	if c.gc, err = gcSettings(*gcList, given, envGOGC()); err != nil {
		slog.Error("bench/http", "err", err)
		os.Exit(2)
	}
	if err := run(c); err != nil {
		slog.Error("bench/http failed", "err", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.clients < 1 || c.repeats < 1 || c.maxWords < 1 || c.maxWords > 510 {
		return fmt.Errorf("need clients >= 1, repeats >= 1 and 1 <= max-words <= 510")
	}
	kernels.SetThreads(c.threads)
	c.gc[0].apply() // from the start, as coldserve serve applies it before loading
	rss0 := readRSS()
	dir, err := os.MkdirTemp("", "coldserve-bench-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	if err := buildCheckpoint(dir, c.tokenizerDir); err != nil {
		return err
	}
	fmt.Printf("# bench/http: roberta-base geometry (weightgen seed 0) in %s, built in %v\n", dir, time.Since(t0).Round(time.Millisecond))
	fmt.Printf("# %s, GOMAXPROCS=%d, OMP_NUM_THREADS=%q, threads=%d, kernels: %s, dtype=%s, clients=%d, workers=%d, max-batch-tokens=%d, batch-wait=%v, cache-bytes=%d, GC: %s\n",
		cpuinfo.Model(), runtime.GOMAXPROCS(0), os.Getenv("OMP_NUM_THREADS"), kernels.Threads(), kernels.Path(), c.dtype, c.clients, c.workers, c.maxBatchTokens, c.batchWait, c.cacheBytes, labels(c.gc))

	gen, err := newTextGen(dir, 1)
	if err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	rssBeforeServer := readRSS()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CacheBytes: c.cacheBytes})
	if err != nil {
		return err
	}
	tLoad := time.Now()
	if err := srv.Load(ctx, inference.ModelConfig{Dir: dir, MaxBatchTokens: c.maxBatchTokens, BatchWait: c.batchWait,
		Encoder: encoder.EncoderOptions{Workers: c.workers, DType: c.dtype}}); err != nil {
		return err
	}
	fmt.Printf("# server loaded the checkpoint in %v (%s)\n", time.Since(tLoad).Round(time.Millisecond), c.gc[0].label)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, 30*time.Second) }()
	cl := newClient("http://" + ln.Addr().String())
	runtime.GC()
	debug.FreeOSMemory()
	rssServer := readRSS()

	// The raw encoder: the same weights loaded again (its memory is released before the soak).
	ck, err := weights.Load(ctx, dir)
	if err != nil {
		return err
	}
	weightBytes := int64(0)
	for _, t := range ck.Tensors {
		weightBytes += 4 * int64(len(t.Data))
	}
	cfg := ck.Config
	raw, err := encoder.NewEncoder(ck, encoder.EncoderOptions{Workers: 1, DType: c.dtype})
	if err != nil {
		return err
	}
	ck = nil

	// Warm up both paths (machines compiled, scratch grown, connections open).
	if _, err := rawMix(ctx, raw, gen, c.clients, c.maxWords, 2*time.Second); err != nil {
		return err
	}
	if _, err := load(ctx, cl, gen, c.clients, c.maxWords, 3*time.Second); err != nil {
		return err
	}

	reps := make([][]repeat, len(c.gc)) // per GC setting, per repeat
	for r := 0; r < c.repeats; r++ {
		for j := range c.gc {
			k := j
			if r%2 == 1 { // alternate the order so drift on the box hits every setting alike
				k = len(c.gc) - 1 - j
			}
			rep, err := runRepeat(ctx, c, c.gc[k], cl, raw, gen)
			if err != nil {
				return err
			}
			fmt.Println(rep.line(r+1, c.gc[k].label))
			reps[k] = append(reps[k], rep)
		}
	}
	rssAfterRepeats := readRSS()

	c.gc[0].apply()
	raw = nil
	runtime.GC()
	debug.FreeOSMemory()
	mem := memory{start: rss0, beforeServer: rssBeforeServer, server: rssServer, afterRepeats: rssAfterRepeats,
		beforeSoak: readRSS(), weights: weightBytes,
		activations:    activationBytes(cfg, c.maxBatchTokens) * int64(c.workers),
		mixActivations: activationBytes(cfg, c.clients*(c.maxWords+2)) * int64(c.workers)}
	if c.soak > 0 {
		// Load in eight slices, reading RSS after each: a leak grows slice after slice, while
		// caches (compiled machines, GC heap headroom) level off after the first ones.
		if c.soakMemLimit > 0 {
			debug.SetMemoryLimit(c.soakMemLimit)
		}
		fmt.Printf("# soak: %v under load, %s, memory limit %d; after each eighth (MiB): RSS / Go live heap / heap goal / Go runtime's memory (mapped, not released; RSS less this is C memory and code)\n", c.soak, c.gc[0].label, c.soakMemLimit)
		total := loadResult{}
		s0 := readGCStats()
		for i := range 8 {
			part, err := load(ctx, cl, gen, c.clients, c.maxWords, c.soak/8)
			if err != nil {
				return err
			}
			total.requests += part.requests
			total.tokens += part.tokens
			total.elapsed += part.elapsed
			total.latencies = append(total.latencies, part.latencies...)
			mem.soakRSS = append(mem.soakRSS, readRSS())
			st := readGCStats()
			fmt.Printf("#   %d/8 %s: %.0f / %.0f / %.0f / %.0f\n", i+1, time.Now().UTC().Format("15:04:05"),
				float64(mem.soakRSS[i])/(1<<20), float64(st.heapLive)/(1<<20), float64(st.heapGoal)/(1<<20), float64(st.goMapped)/(1<<20))
		}
		d := s0.to(readGCStats())
		fmt.Printf("# soak: %s; %.1f MiB/s allocated, %d GC cycles, GC %.1f%% of the Go runtime's busy CPU\n", total,
			float64(d.allocs)/(1<<20)/total.elapsed.Seconds(), d.cycles, 100*d.gcShare)
		mem.afterSoak = readRSS()
		mem.soak = c.soak
	}
	mem.peak = readHWM()
	if c.memProfile != "" {
		if err := writeHeapProfile(c.memProfile); err != nil {
			return err
		}
	}
	report(c, reps, mem)

	cancel()
	return <-served
}

// runRepeat is one alternating round under GC setting g: HTTP load, raw mix at the server's
// mean batch, raw 1×16, idle 16-token requests.
func runRepeat(ctx context.Context, c config, g gcSetting, cl *client, raw *encoder.Encoder, gen *textGen) (repeat, error) {
	g.apply()
	runtime.GC() // start each setting from a collected heap
	var rep repeat
	before, err := cl.batchStats()
	if err != nil {
		return rep, err
	}
	s0 := readGCStats()
	if rep.http, err = load(ctx, cl, gen, c.clients, c.maxWords, c.duration); err != nil {
		return rep, err
	}
	rep.gc = s0.to(readGCStats())
	after, err := cl.batchStats()
	if err != nil {
		return rep, err
	}
	rep.meanBatch = (after.sum - before.sum) / max(1, after.count-before.count)
	// The same mix: the server's mean batch size over the same length distribution.
	rep.rawBatch = max(1, int(math.Round(rep.meanBatch)))
	if rep.raw, err = rawMix(ctx, raw, gen, rep.rawBatch, c.maxWords, c.duration); err != nil {
		return rep, err
	}
	if rep.raw1x16, err = rawSingle(ctx, raw, gen, c.single); err != nil {
		return rep, err
	}
	if rep.single, err = single(ctx, cl, gen, c.single); err != nil {
		return rep, err
	}
	return rep, nil
}

func labels(gc []gcSetting) string {
	l := make([]string, len(gc))
	for i, g := range gc {
		l[i] = g.label
	}
	return strings.Join(l, ", ")
}

// buildCheckpoint writes the weightgen roberta-base checkpoint and copies the tokenizer files.
func buildCheckpoint(dir, tokDir string) error {
	if err := weights.WriteGenerated(dir, weights.RobertaBaseConfig(), 0, weights.GenerateOptions{}); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	for _, name := range []string{"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		raw, err := os.ReadFile(filepath.Join(tokDir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy tokenizer: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			return fmt.Errorf("copy tokenizer: %w", err)
		}
	}
	return nil
}

// activationBytes is the scratch one worker holds for a batch of n tokens (the encoder's own
// bound, attention scores of a longest possible sequence included).
func activationBytes(cfg weights.Config, n int) int64 {
	return encoder.ScratchBytes(cfg, encoder.Float32, n, min(n, cfg.MaxPositionEmbeddings-cfg.PadTokenID-1))
}
