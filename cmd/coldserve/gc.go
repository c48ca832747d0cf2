package main

import (
	"log/slog"
	"runtime/debug"
)

// gcPlan is what start-up does to the Go collector.
type gcPlan struct {
	percent int    // the GC percent set when apply is true
	apply   bool   // false when GOGC is set: the user configured the runtime directly
	source  string // where the percent came from: --gc-percent, COLDSERVE_GC_PERCENT, default or GOGC
	ignored bool   // --gc-percent or COLDSERVE_GC_PERCENT was given but GOGC wins
}

// planGC decides the GC percent: GOGC in the environment wins (the runtime has already applied
// it), otherwise --gc-percent (flag, COLDSERVE_GC_PERCENT or the default). GOMEMLIMIT is left to
// the runtime either way; it bounds the heap together with the percent.
func planGC(c serveConfig, getenv func(string) string) gcPlan {
	if getenv("GOGC") != "" {
		return gcPlan{source: "GOGC", ignored: c.gcSource != "default"}
	}
	return gcPlan{percent: c.gcPercent, apply: true, source: c.gcSource}
}

// applyGC carries out p, logs what the collector runs with and returns a function that restores
// the previous percent (serve calls it on return, so a test process keeps its own setting).
func applyGC(log *slog.Logger, p gcPlan, getenv func(string) string) (restore func()) {
	restore = func() {}
	if p.apply {
		prev := debug.SetGCPercent(p.percent)
		restore = func() { debug.SetGCPercent(prev) }
	}
	memLimit := getenv("GOMEMLIMIT")
	if memLimit == "" {
		memLimit = "none"
	}
	if p.ignored {
		log.Warn("--gc-percent ignored: GOGC is set and wins", "GOGC", getenv("GOGC"))
	}
	if p.apply {
		log.Info("go gc", "gc_percent", p.percent, "source", p.source, "GOMEMLIMIT", memLimit)
	} else {
		log.Info("go gc", "GOGC", getenv("GOGC"), "source", p.source, "GOMEMLIMIT", memLimit)
	}
	return restore
}
