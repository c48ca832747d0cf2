package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/coldserve/coldserve/bench/internal/shapes"
)

// shape is one benchmark input: batch sequences of seq tokens each.
type shape = shapes.Shape

// timing is one engine's result for one shape in one pass (times in ms). Err is set when the
// engine ran but produced no timing (a failure, or no clean run on a busy box).
type timing struct {
	MedianMS  float64 `json:"median_ms,omitempty"`
	MinMS     float64 `json:"min_ms,omitempty"`
	MaxMS     float64 `json:"max_ms,omitempty"`
	TokensSec float64 `json:"tokens_per_s,omitempty"`
	Runs      int     `json:"runs"`
	Dropped   int     `json:"dropped_contended"`
	Err       string  `json:"error,omitempty"`
}

func (t timing) ok() bool { return t.Err == "" && t.MedianMS > 0 }

// engineReport is one engine's results, Passes[pass][shape]; Absent says why it did not run.
type engineReport struct {
	Name   string     `json:"name"`
	Info   string     `json:"info,omitempty"`
	Absent string     `json:"absent,omitempty"`
	Passes [][]timing `json:"passes,omitempty"`
}

// stat is the median, min and max of N values.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// summarize ignores NaNs and non-positive values (missing results); N = 0 when none is left.
func summarize(xs []float64) stat {
	var v []float64
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return stat{}
	}
	slices.Sort(v)
	s := stat{Min: v[0], Max: v[len(v)-1], N: len(v)}
	if n := len(v); n%2 == 1 {
		s.Median = v[n/2]
	} else {
		s.Median = (v[n/2-1] + v[n/2]) / 2
	}
	return s
}

// perPass collects f(timing) of engine e at shape i over the passes; 0 where it has no result.
func perPass(e *engineReport, i int, f func(timing) float64) []float64 {
	out := make([]float64, len(e.Passes))
	for p, row := range e.Passes {
		if i < len(row) && row[i].ok() {
			out[p] = f(row[i])
		}
	}
	return out
}

// ratios is a[p]/b[p] for each pass where both have a result (0 elsewhere): same-pass ratios
// are what a shared box can compare, since both sides saw the same minutes.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for p := range a {
		if p < len(b) && a[p] > 0 && b[p] > 0 {
			out[p] = a[p] / b[p]
		}
	}
	return out
}

func tokensPerSec(t timing) float64 { return t.TokensSec }
func medianMS(t timing) float64     { return t.MedianMS }

// shapeSummary is one table row.
type shapeSummary struct {
	Shape     string          `json:"shape"`
	TokensSec map[string]stat `json:"tokens_per_s"`    // per engine, over passes
	MedianMS  map[string]stat `json:"median_ms"`       // per engine, over passes
	Ratio     map[string]stat `json:"ours_over_peer"`  // ours ÷ peer tokens/s, same-pass
	Latency   map[string]stat `json:"ours_ms_over_ms"` // ours ÷ peer ms/batch, same-pass
}

// summarizeShapes builds the rows; engines[0] is ours, the rest are its peers.
func summarizeShapes(shapes []shape, engines []*engineReport) []shapeSummary {
	out := make([]shapeSummary, len(shapes))
	ours := engines[0]
	for i, s := range shapes {
		r := shapeSummary{Shape: s.String(), TokensSec: map[string]stat{}, MedianMS: map[string]stat{},
			Ratio: map[string]stat{}, Latency: map[string]stat{}}
		for _, e := range engines {
			if e.Absent != "" {
				continue
			}
			r.TokensSec[e.Name] = summarize(perPass(e, i, tokensPerSec))
			r.MedianMS[e.Name] = summarize(perPass(e, i, medianMS))
			if e != ours && ours.Absent == "" {
				r.Ratio[e.Name] = summarize(ratios(perPass(ours, i, tokensPerSec), perPass(e, i, tokensPerSec)))
				r.Latency[e.Name] = summarize(ratios(perPass(ours, i, medianMS), perPass(e, i, medianMS)))
			}
		}
		out[i] = r
	}
	return out
}

// cell prints "median (min–max)" with format f, noting how many of passes contributed when
// some are missing.
func cell(s stat, f string, passes int) string {
	if s.N == 0 {
		return "no result"
	}
	out := fmt.Sprintf(f, s.Median)
	if s.N > 1 {
		out += fmt.Sprintf(" ("+f+"–"+f+")", s.Min, s.Max)
	}
	if s.N < passes {
		out += fmt.Sprintf(" [%d/%d passes]", s.N, passes)
	}
	return out
}

// engineCell is cell for a present engine and "absent" otherwise.
func engineCell(e *engineReport, m map[string]stat, f string, passes int) string {
	if e.Absent != "" {
		return "absent"
	}
	return cell(m[e.Name], f, passes)
}

// writeTables renders the throughput table (tokens/s and same-pass ratios) and the latency
// table (ms per batch and same-pass ms ratios) as markdown.
func writeTables(b *strings.Builder, rows []shapeSummary, shapes []shape, engines []*engineReport, passes int) {
	writeTable(b, rows, shapes, engines, passes, " tokens/s", "", "%.0f",
		func(r shapeSummary) (map[string]stat, map[string]stat) { return r.TokensSec, r.Ratio })
	b.WriteString("\nLatency, ms per batch (median of the passes' medians, min–max over passes):\n\n")
	writeTable(b, rows, shapes, engines, passes, " ms", " ms", "%.1f",
		func(r shapeSummary) (map[string]stat, map[string]stat) { return r.MedianMS, r.Latency })
}

// writeTable renders one table: a column per engine (unit names the cells, f formats them)
// and a column per peer with ours ÷ peer (ratioUnit follows each name in the header); pick
// chooses a row's per-engine values and ratios.
func writeTable(b *strings.Builder, rows []shapeSummary, shapes []shape, engines []*engineReport, passes int,
	unit, ratioUnit, f string, pick func(shapeSummary) (values, ratios map[string]stat)) {
	ours, peers := engines[0], engines[1:]
	hdr := []string{"shape"}
	for _, e := range engines {
		hdr = append(hdr, e.Name+unit)
	}
	for _, p := range peers {
		hdr = append(hdr, ours.Name+ratioUnit+" ÷ "+p.Name+ratioUnit)
	}
	writeRow(b, hdr)
	writeRow(b, slices.Repeat([]string{"---"}, len(hdr)))
	for i, r := range rows {
		values, ratios := pick(r)
		row := []string{shapes[i].Label()}
		for _, e := range engines {
			row = append(row, engineCell(e, values, f, passes))
		}
		for _, p := range peers {
			row = append(row, ratioCell(ours, p, ratios, passes))
		}
		writeRow(b, row)
	}
}

func ratioCell(ours, peer *engineReport, m map[string]stat, passes int) string {
	if ours.Absent != "" || peer.Absent != "" {
		return "—"
	}
	return cell(m[peer.Name], "%.2f", passes)
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// writeFailures lists every timing an engine that ran did not produce, and why, so a
// "no result" cell is never left unexplained.
func writeFailures(b *strings.Builder, shapes []shape, engines []*engineReport) {
	first := true
	for _, e := range engines {
		for p, row := range e.Passes {
			for i, t := range row {
				if t.ok() {
					continue
				}
				if first {
					b.WriteString("\nNo result:\n\n")
					first = false
				}
				why := t.Err
				if why == "" {
					why = "not run (interrupted)"
				}
				fmt.Fprintf(b, "- %s, %s, pass %d: %s\n", e.Name, shapes[i].Label(), p+1, why)
			}
		}
	}
}
