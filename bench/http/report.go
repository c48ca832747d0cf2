package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// repeat is one alternating round: HTTP load, raw mix, raw 1×16, HTTP single.
type repeat struct {
	rawBatch  int
	raw       rawResult
	http      loadResult
	meanBatch float64
	raw1x16   []time.Duration
	single    []time.Duration
	gc        gcDelta // during the HTTP load
}

func (r repeat) ratio() float64 { return r.http.tokensPerSec() / r.raw.tokensPerSec() }

func (r repeat) singleRatio() float64 {
	return percentile(r.single, 50).Seconds() / percentile(r.raw1x16, 50).Seconds()
}

// cpuPerKTokens is the process CPU time (ms) per 1000 tokens during the HTTP load.
func (r repeat) cpuPerKTokens() float64 {
	return float64(r.gc.procCPU.Microseconds()) / 1000 / (float64(r.http.tokens) / 1000)
}

func (r repeat) line(i int, gc string) string {
	return fmt.Sprintf("repeat %d, %s: http %s, mean batch %.1f, %d GC cycles (GC %.1f%% of Go CPU), CPU %.0f ms/1k tokens | "+
		"raw %.0f tokens/s (%d batches of %d) | ratio %.3f | single p50 %v vs raw 1x16 p50 %v (x%.2f)", i, gc, r.http, r.meanBatch,
		r.gc.cycles, 100*r.gc.gcShare, r.cpuPerKTokens(), r.raw.tokensPerSec(), r.raw.batches, r.rawBatch,
		r.ratio(), percentile(r.single, 50).Round(10*time.Microsecond), percentile(r.raw1x16, 50).Round(10*time.Microsecond), r.singleRatio())
}

// memory is what the run measured of the process's resident set (bytes).
type memory struct {
	start, beforeServer, server, afterRepeats, beforeSoak, afterSoak, peak int64
	weights, activations, mixActivations                                   int64
	soak                                                                   time.Duration
	soakRSS                                                                []int64 // after each eighth of the soak
}

// report prints one column per GC setting (reps[k] are setting k's repeats, in order).
func report(c config, reps [][]repeat, m memory) {
	row := func(name, target string, f func(k, r int) float64) {
		fmt.Printf("| %s |", name)
		for k := range reps {
			v := make([]float64, len(reps[k]))
			for r := range reps[k] {
				v[r] = f(k, r)
			}
			slices.Sort(v)
			fmt.Printf(" %.4g (%.4g–%.4g) |", median(v), v[0], v[len(v)-1])
		}
		fmt.Printf(" %s |\n", target)
	}
	col := func(f func(repeat) float64) func(k, r int) float64 {
		return func(k, r int) float64 { return f(reps[k][r]) }
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("\n## Results over %d repeats: median (min–max)\n\n| measure |", len(reps[0]))
	for _, g := range c.gc {
		fmt.Printf(" %s |", g.label)
	}
	fmt.Printf(" target |\n|%s\n", strings.Repeat(" --- |", len(c.gc)+2))
	row(fmt.Sprintf("raw encoder, batches of the server's mean size, texts of 3–%d tokens (tokens/s)", c.maxWords+2), "", col(func(r repeat) float64 { return r.raw.tokensPerSec() }))
	row(fmt.Sprintf("HTTP, %d clients (tokens/s)", c.clients), "", col(func(r repeat) float64 { return r.http.tokensPerSec() }))
	row("HTTP / raw throughput", "≥ 0.85", col(func(r repeat) float64 { return r.ratio() }))
	row("HTTP p50 latency (ms)", "", col(func(r repeat) float64 { return ms(percentile(r.http.latencies, 50)) }))
	row("HTTP p99 latency (ms)", "", col(func(r repeat) float64 { return ms(percentile(r.http.latencies, 99)) }))
	row("server's mean batch (sequences)", "", col(func(r repeat) float64 { return r.meanBatch }))
	row("raw 1×16 forward p50 (ms)", "", col(func(r repeat) float64 { return ms(percentile(r.raw1x16, 50)) }))
	row("HTTP single 16-token request p50 (ms)", "", col(func(r repeat) float64 { return ms(percentile(r.single, 50)) }))
	row("single / raw 1×16", "≤ 1.2", col(func(r repeat) float64 { return r.singleRatio() }))
	row("Go heap allocated during the HTTP load (MiB/s)", "", col(func(r repeat) float64 { return float64(r.gc.allocs) / (1 << 20) / r.http.elapsed.Seconds() }))
	row("GC cycles during the HTTP load", "", col(func(r repeat) float64 { return float64(r.gc.cycles) }))
	row("GC share of the Go runtime's busy CPU during the HTTP load (%)", "", col(func(r repeat) float64 { return 100 * r.gc.gcShare }))
	row("process CPU per 1000 tokens during the HTTP load (ms)", "", col(func(r repeat) float64 { return r.cpuPerKTokens() }))
	row("Go heap goal at the end of the HTTP load (MiB; raw encoder's weights live too)", "", col(func(r repeat) float64 { return float64(r.gc.heapGoal) / (1 << 20) }))
	if len(reps) > 1 {
		// Paired within a repeat: the settings ran minutes apart at most, so box load hits both.
		row(fmt.Sprintf("HTTP tokens/s ÷ %s's in the same repeat", c.gc[0].label), "", func(k, r int) float64 {
			return reps[k][r].http.tokensPerSec() / reps[0][r].http.tokensPerSec()
		})
		row(fmt.Sprintf("HTTP ÷ raw ratio ÷ %s's in the same repeat", c.gc[0].label), "", func(k, r int) float64 {
			return reps[k][r].ratio() / reps[0][r].ratio()
		})
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	fmt.Printf("\n## Memory (VmRSS)\n\n")
	fmt.Printf("- weights: %s; activations at --max-batch-tokens %d: %s; at the load mix (%d×%d tokens): %s\n",
		mib(m.weights), c.maxBatchTokens, mib(m.activations), c.clients, c.maxWords+2, mib(m.mixActivations))
	fmt.Printf("- start %s; checkpoint written, before the server %s; server loaded %s; after the repeats (raw encoder's second copy of the weights alive) %s; raw encoder freed %s; peak (VmHWM) %s\n",
		mib(m.start), mib(m.beforeServer), mib(m.server), mib(m.afterRepeats), mib(m.beforeSoak), mib(m.peak))
	bound := float64(m.weights + m.activations)
	fmt.Printf("- serving RSS / (weights + max-batch activations) = %.2f (target ≤ 1.3); / (weights + load-mix activations) = %.2f\n",
		float64(m.beforeSoak)/bound, float64(m.beforeSoak)/float64(m.weights+m.mixActivations))
	if m.soak > 0 {
		fmt.Printf("- soak %v: RSS before %s (just after freeing the raw encoder), after %s (%+.1f%%)\n", m.soak, mib(m.beforeSoak), mib(m.afterSoak),
			100*(float64(m.afterSoak)/float64(m.beforeSoak)-1))
		if n := len(m.soakRSS); n >= 2 {
			fmt.Printf("- soak growth from the first eighth (%s) to the last (%s): %+.1f%%\n", mib(m.soakRSS[0]), mib(m.soakRSS[n-1]),
				100*(float64(m.soakRSS[n-1])/float64(m.soakRSS[0])-1))
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// readRSS and readHWM read VmRSS and VmHWM from /proc/self/status (bytes; 0 when unavailable).
func readRSS() int64 { return procStatus("VmRSS:") }
func readHWM() int64 { return procStatus("VmHWM:") }

func procStatus(field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
