// Package cleantime is contention-aware timing for a shared box, a port of
// ../shared/peers/cleantime.py so our numbers and the peers' are filtered the same way. Each
// timed call also measures
//
//	foreign CPU      = box busy CPU-seconds (/proc/stat) − this process's CPU-seconds (getrusage)
//	foreign pressure = growth of /proc/pressure/cpu "some" total − growth of this process's
//	                   threads' run-queue wait (/proc/self/task/*/schedstat)
//
// and a call is contended (dropped and retried) when foreign CPU > tolAbs + tolFrac·ncpu·wall
// or foreign pressure > psiAbs + psiFrac·wall. The pressure term differs from cleantime.py,
// which counts all of it: our encoder's Go goroutines and OpenMP threads together wait for the
// two cores for ~15–25 % of a quiet pass, and that wait, part of our own cost, flagged every
// call contended. bench/encoder and bench/compare share this package.
package cleantime

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const clockTicks = 100 // USER_HZ on Linux

func boxBusy() float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)
	if len(fields) < 8 {
		return 0
	}
	var busy float64
	for i, name := range []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq"} {
		if name == "idle" || name == "iowait" {
			continue
		}
		v, _ := strconv.ParseFloat(fields[1+i], 64)
		busy += v
	}
	return busy / clockTicks
}

func psiSome() float64 {
	raw, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	_, total, ok := strings.Cut(line, "total=")
	if !ok {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(total), 64)
	return v / 1e6
}

// ownRunDelay is the time this process's threads have spent runnable but waiting for a CPU
// (schedstat's second field, ns), summed over its threads. A thread that exits takes its
// share with it, which only makes the pressure correction smaller.
func ownRunDelay() float64 {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	var ns float64
	for _, t := range tasks {
		raw, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(raw)); len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[1], 64)
			ns += v
		}
	}
	return ns / 1e9
}

func ownCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// WaitQuiet blocks until other processes use under threshold of the box over window, or
// maxWait has passed; it returns how long it waited.
func WaitQuiet(threshold float64, window, maxWait time.Duration) time.Duration {
	start := time.Now()
	ncpu := float64(runtime.NumCPU())
	for {
		b0, o0, w0 := boxBusy(), ownCPU(), time.Now()
		time.Sleep(window)
		foreign := (boxBusy() - b0) - (ownCPU() - o0)
		if foreign/(ncpu*time.Since(w0).Seconds()) < threshold || time.Since(start) > maxWait {
			return time.Since(start)
		}
		time.Sleep(2 * time.Second)
	}
}

// QuietWait is how long to wait for a quiet box before a shape and after a contended run:
// $QUIET_WAIT seconds, as for the peers' cleantime.py, default 120.
func QuietWait() time.Duration {
	if v, err := strconv.ParseFloat(os.Getenv("QUIET_WAIT"), 64); err == nil && v >= 0 {
		return time.Duration(v * float64(time.Second))
	}
	return 120 * time.Second
}

// Options are clean_bench's knobs.
type Options struct {
	Warmup, Runs int           // untimed calls, then this many clean timed calls
	MaxSeconds   time.Duration // then stop at >= 5 clean calls (or at 2·MaxSeconds)
	QuietWait    time.Duration // bound on each wait for a quiet box
	// KeepContended keeps (and still counts) contended calls instead of retrying them, for a
	// box that is never quiet: then only same-window, alternating comparisons mean anything.
	KeepContended bool
}

// Result is the median, min and max over the clean calls.
type Result struct {
	Median, Min, Max time.Duration
	Runs, Dropped    int // with KeepContended, Dropped counts contended calls that were kept
	Waited           time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("median %.1f ms  min %.1f  max %.1f  (%d clean runs, %d contended dropped)",
		MS(r.Median), MS(r.Min), MS(r.Max), r.Runs, r.Dropped)
}

// MS is d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / 1e6 }

// Bench mirrors cleantime.clean_bench: wait for a quiet box, warm up, then time calls until
// o.Runs clean ones (or o.MaxSeconds once 5 are clean, or 2·o.MaxSeconds), dropping contended
// calls. It fails when fn does, or when no call was clean.
func Bench(fn func() error, o Options) (Result, error) {
	const tolAbs, tolFrac, psiAbs, psiFrac, minRuns = 0.03, 0.05, 0.002, 0.10, 5
	ncpu := float64(runtime.NumCPU())
	res := Result{Waited: WaitQuiet(0.05, time.Second, o.QuietWait)}
	for range o.Warmup {
		if err := fn(); err != nil {
			return res, err
		}
	}
	var clean []time.Duration
	start := time.Now()
	for len(clean) < o.Runs {
		b0, o0, p0, d0 := boxBusy(), ownCPU(), psiSome(), ownRunDelay()
		t0 := time.Now()
		if err := fn(); err != nil {
			return res, err
		}
		dt := time.Since(t0)
		foreign := max(0, (boxBusy()-b0)-(ownCPU()-o0))
		psi := (psiSome() - p0) - (ownRunDelay() - d0)
		if foreign > tolAbs+tolFrac*ncpu*dt.Seconds() || psi > psiAbs+psiFrac*dt.Seconds() {
			res.Dropped++
			if o.KeepContended {
				clean = append(clean, dt)
			} else {
				WaitQuiet(0.05, time.Second, o.QuietWait)
			}
		} else {
			clean = append(clean, dt)
		}
		if el := time.Since(start); (el > o.MaxSeconds && len(clean) >= minRuns) || el > 2*o.MaxSeconds {
			break
		}
	}
	if len(clean) == 0 {
		return res, fmt.Errorf("no clean run (%d contended)", res.Dropped)
	}
	slices.Sort(clean)
	res.Runs, res.Min, res.Max = len(clean), clean[0], clean[len(clean)-1]
	if len(clean)%2 == 1 {
		res.Median = clean[len(clean)/2]
	} else {
		res.Median = (clean[len(clean)/2-1] + clean[len(clean)/2]) / 2
	}
	return res, nil
}
