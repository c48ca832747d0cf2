package main

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/server"
)

func TestPlanGC(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want gcPlan
	}{
		{"default", nil, nil, gcPlan{percent: server.DefaultGCPercent, apply: true, source: "default"}},
		{"flag", []string{"--gc-percent", "50"}, nil, gcPlan{percent: 50, apply: true, source: "--gc-percent"}},
		{"env", nil, map[string]string{"COLDSERVE_GC_PERCENT": "30"}, gcPlan{percent: 30, apply: true, source: "COLDSERVE_GC_PERCENT"}},
		{"flag beats env", []string{"--gc-percent", "15"}, map[string]string{"COLDSERVE_GC_PERCENT": "30"},
			gcPlan{percent: 15, apply: true, source: "--gc-percent"}},
		{"GOGC wins over the default", nil, map[string]string{"GOGC": "100"}, gcPlan{source: "GOGC"}},
		{"GOGC wins over the flag", []string{"--gc-percent", "10"}, map[string]string{"GOGC": "off"},
			gcPlan{source: "GOGC", ignored: true}},
		{"GOGC wins over the env", nil, map[string]string{"GOGC": "50", "COLDSERVE_GC_PERCENT": "10"},
			gcPlan{source: "GOGC", ignored: true}},
		// A memory limit bounds the heap together with the percent: it does not turn it off.
		{"GOMEMLIMIT keeps the percent", nil, map[string]string{"GOMEMLIMIT": "1GiB"},
			gcPlan{percent: server.DefaultGCPercent, apply: true, source: "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := env(tt.env)
			c, err := parseServe(append([]string{"--model", "demo"}, tt.args...), getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := planGC(c, getenv); got != tt.want {
				t.Errorf("planGC = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseServeRejectsBadGCPercent(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"zero", []string{"--gc-percent", "0"}, nil},
		{"negative", []string{"--gc-percent", "-1"}, nil},
		{"not a number", []string{"--gc-percent", "off"}, nil},
		{"bad env", nil, map[string]string{"COLDSERVE_GC_PERCENT": "20%"}},
		{"zero env", nil, map[string]string{"COLDSERVE_GC_PERCENT": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseServe(append([]string{"--model", "demo"}, tt.args...), env(tt.env), io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestApplyGC checks that the plan reaches the runtime and the log, and that restore undoes it.
func TestApplyGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tests := []struct {
		name    string
		plan    gcPlan
		env     map[string]string
		percent int      // the runtime's percent after applyGC
		logs    []string // substrings of the log
	}{
		{"applied", gcPlan{percent: 17, apply: true, source: "default"}, nil, 17,
			[]string{"gc_percent=17", "source=default", "GOMEMLIMIT=none"}},
		{"GOGC left alone", gcPlan{source: "GOGC"}, map[string]string{"GOGC": "100", "GOMEMLIMIT": "2GiB"}, 100,
			[]string{"GOGC=100", "source=GOGC", "GOMEMLIMIT=2GiB"}},
		{"flag ignored warns", gcPlan{source: "GOGC", ignored: true}, map[string]string{"GOGC": "100"}, 100,
			[]string{"level=WARN", "--gc-percent ignored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, _ := newLogger(&buf, "text", "info")
			restore := applyGC(log, tt.plan, env(tt.env))
			got := debug.SetGCPercent(tt.percent) // reads the percent (and writes it back)
			restore()
			if got != tt.percent {
				t.Errorf("GC percent %d, want %d", got, tt.percent)
			}
			if after := debug.SetGCPercent(100); after != 100 {
				t.Errorf("restore left GC percent %d, want 100", after)
			}
			for _, s := range tt.logs {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, buf.String())
				}
			}
		})
	}
}
