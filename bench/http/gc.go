package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// gcSetting is one Go GC configuration the repeats run under.
type gcSetting struct {
	label   string
	percent int // applied with debug.SetGCPercent; 0: leave the runtime as GOGC configured it
}

func (s gcSetting) apply() {
	if s.percent > 0 {
		debug.SetGCPercent(s.percent)
	}
}

// gcSettings parses -gc-percent (comma-separated percents). As coldserve serve does, a GOGC
// environment variable wins over the default; an explicit -gc-percent wins over GOGC here,
// so one run can compare settings.
func gcSettings(list string, given bool, gogc string) ([]gcSetting, error) {
	if !given && gogc != "" {
		return []gcSetting{{label: "GOGC=" + gogc}}, nil
	}
	var out []gcSetting
	for _, f := range strings.Split(list, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 {
			return nil, fmt.Errorf("-gc-percent %q: want positive integers, comma-separated", list)
		}
		out = append(out, gcSetting{label: fmt.Sprintf("gc %d", p), percent: p})
	}
	return out, nil
}

// gcStats is a snapshot of the collector's and the process's CPU counters.
type gcStats struct {
	gcCPU, busyCPU float64 // runtime estimates (seconds): GC work; all CPU but idle
	cycles         uint64
	heapGoal       uint64
	heapLive       uint64
	allocs         uint64        // bytes allocated on the heap since start
	goMapped       uint64        // memory the Go runtime holds from the OS, less what it released
	procCPU        time.Duration // user + system time of the process, BLAS threads included
}

var gcMetrics = []string{"/cpu/classes/gc/total:cpu-seconds", "/cpu/classes/total:cpu-seconds",
	"/cpu/classes/idle:cpu-seconds", "/gc/cycles/total:gc-cycles", "/gc/heap/goal:bytes", "/gc/heap/live:bytes", "/gc/heap/allocs:bytes",
	"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes"}

func readGCStats() gcStats {
	s := make([]metrics.Sample, len(gcMetrics))
	for i, name := range gcMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return gcStats{
		gcCPU: s[0].Value.Float64(), busyCPU: s[1].Value.Float64() - s[2].Value.Float64(),
		cycles: s[3].Value.Uint64(), heapGoal: s[4].Value.Uint64(), heapLive: s[5].Value.Uint64(), allocs: s[6].Value.Uint64(),
		goMapped: s[7].Value.Uint64() - s[8].Value.Uint64(),
		procCPU:  time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
}

// gcDelta is what happened between two snapshots.
type gcDelta struct {
	gcShare  float64 // GC's share of the Go runtime's busy CPU (runtime estimate)
	cycles   uint64
	heapGoal uint64 // at the end
	allocs   uint64 // bytes allocated
	procCPU  time.Duration
}

func (a gcStats) to(b gcStats) gcDelta {
	d := gcDelta{cycles: b.cycles - a.cycles, heapGoal: b.heapGoal, allocs: b.allocs - a.allocs, procCPU: b.procCPU - a.procCPU}
	if busy := b.busyCPU - a.busyCPU; busy > 0 {
		d.gcShare = (b.gcCPU - a.gcCPU) / busy
	}
	return d
}

func envGOGC() string { return os.Getenv("GOGC") }

// writeHeapProfile writes the live heap, as of a fresh collection, for go tool pprof.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	return f.Close()
}
