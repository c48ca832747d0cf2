package main

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/weights"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want stat
	}{
		{"odd count", []float64{3, 1, 2}, stat{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even count averages the middle two", []float64{4, 1, 3, 2}, stat{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{"missing passes are left out", []float64{0, 5, math.NaN(), 7, math.Inf(1)}, stat{Median: 6, Min: 5, Max: 7, N: 2}},
		{"nothing", []float64{0, 0}, stat{}},
	}
	for _, tc := range tests {
		if got := summarize(tc.xs); got != tc.want {
			t.Errorf("%s: summarize(%v) = %+v, want %+v", tc.name, tc.xs, got, tc.want)
		}
	}
}

func TestRatiosSamePassOnly(t *testing.T) {
	tests := []struct {
		a, b, want []float64
	}{
		{[]float64{200, 100, 300}, []float64{100, 100, 150}, []float64{2, 1, 2}},
		{[]float64{200, 0, 300}, []float64{100, 100, 0}, []float64{2, 0, 0}},
		{[]float64{200, 100}, []float64{50}, []float64{4, 0}},
	}
	for _, tc := range tests {
		if got := ratios(tc.a, tc.b); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ratios(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// ms builds a timing of median m ms for s.
func ms(s shape, m float64) timing {
	return timing{MedianMS: m, MinMS: m, MaxMS: m, TokensSec: float64(s.Tokens()) / (m / 1000), Runs: 3}
}

func TestTables(t *testing.T) {
	shapes := []shape{{Batch: 1, Seq: 16}, {Batch: 8, Seq: 128}}
	ours := &engineReport{Name: "ours", Passes: [][]timing{
		{ms(shapes[0], 80), ms(shapes[1], 2000)},
		{ms(shapes[0], 100), ms(shapes[1], 4000)},
		{ms(shapes[0], 160), {Err: "no clean run (9 contended)"}},
	}}
	ort := &engineReport{Name: "ORT", Passes: [][]timing{
		{ms(shapes[0], 160), ms(shapes[1], 4000)},
		{ms(shapes[0], 100), ms(shapes[1], 2000)},
		{ms(shapes[0], 80), ms(shapes[1], 2048)},
	}}
	torch := &engineReport{Name: "torch", Absent: "no torch"}
	engines := []*engineReport{ours, ort, torch}
	rows := summarizeShapes(shapes, engines)

	// 1×16: ours 200, 160, 100 tokens/s; ORT 100, 160, 200: same-pass ratios 2, 1, 0.5.
	if got, want := rows[0].Ratio["ORT"], (stat{Median: 1, Min: 0.5, Max: 2, N: 3}); got != want {
		t.Errorf("1x16 ours/ORT = %+v, want %+v", got, want)
	}
	if got, want := rows[0].Latency["ORT"], (stat{Median: 1, Min: 0.5, Max: 2, N: 3}); got != want {
		t.Errorf("1x16 ours ms/ORT ms = %+v, want %+v", got, want)
	}
	// 8×128: pass 3 has no ours result, so only passes 1 and 2 give ratios (2 and 0.5).
	if got, want := rows[1].Ratio["ORT"], (stat{Median: 1.25, Min: 0.5, Max: 2, N: 2}); got != want {
		t.Errorf("8x128 ours/ORT = %+v, want %+v", got, want)
	}
	if _, ok := rows[0].Ratio["torch"]; ok {
		t.Errorf("an absent peer got a ratio: %+v", rows[0].Ratio)
	}

	var b strings.Builder
	writeTables(&b, rows, shapes, engines, 3)
	writeFailures(&b, shapes, engines)
	out := b.String()
	for _, want := range []string{
		"| shape | ours tokens/s | ORT tokens/s | torch tokens/s | ours ÷ ORT | ours ÷ torch |",
		"| 1×16 | 160 (100–200) | 160 (100–200) | absent | 1.00 (0.50–2.00) | — |",
		"| 8×128 | 384 (256–512) [2/3 passes] | 500 (256–512) | absent | 1.25 (0.50–2.00) [2/3 passes] | — |",
		"| 1×16 | 100.0 (80.0–160.0) | 100.0 (80.0–160.0) | absent | 1.00 (0.50–2.00) | — |",
		"- ours, 8×128, pass 3: no clean run (9 contended)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n- ") != 1 {
		t.Errorf("want exactly one failure line:\n%s", out)
	}
}

func TestMaxAbsDiff(t *testing.T) {
	a := [][][]float32{{{1, 2}, {3, 4}}, {{5, 6}}}
	tests := []struct {
		name    string
		b       [][][]float32
		want    float64
		wantErr bool
	}{
		{"equal", [][][]float32{{{1, 2}, {3, 4}}, {{5, 6}}}, 0, false},
		{"largest difference wins", [][][]float32{{{1, 2.5}, {3, 4}}, {{5, 5}}}, 1, false},
		{"NaN is the worst", [][][]float32{{{1, 2}, {3, float32(math.NaN())}}, {{5, 6}}}, math.NaN(), false},
		{"fewer sequences", [][][]float32{{{1, 2}, {3, 4}}}, 0, true},
		{"fewer tokens", [][][]float32{{{1, 2}}, {{5, 6}}}, 0, true},
		{"narrower rows", [][][]float32{{{1, 2}, {3, 4}}, {{5}}}, 0, true},
	}
	for _, tc := range tests {
		got, err := maxAbsDiff(a, tc.b)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: maxAbsDiff = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckIDsCutsOddRows(t *testing.T) {
	cfg := weights.RobertaBaseConfig()
	ids := checkIDs(cfg, shape{Batch: 3, Seq: 16})
	full := encoder.SyntheticIDs(cfg, 3, 16)
	for b, want := range []int{16, 12, 16} {
		row := ids[b]
		if len(row) != want || row[0] != int32(cfg.BosTokenID) || row[len(row)-1] != int32(cfg.EosTokenID) {
			t.Fatalf("row %d = %v, want %d tokens framed by <s> … </s>", b, row, want)
		}
		if !reflect.DeepEqual(row[:want-1], full[b][:want-1]) {
			t.Errorf("row %d differs from SyntheticIDs before its </s>", b)
		}
	}
}

func TestParseTorchJSON(t *testing.T) {
	// What torch_peer.py bench --json writes: Python's json emits NaN for a shape with no clean run.
	raw := []byte(`{"meta": {"impl": "torch", "torch": "1.13.0a0", "threads": 2, "dtype": "fp32", "libs": ["/x/libdnnl.so"]},
 "results": [
  {"batch": 1, "seq": 16, "tokens": 16, "runs": 0, "dropped_contended": 2, "median_ms": NaN, "min_ms": NaN, "max_ms": NaN, "tokens_per_s": NaN},
  {"batch": 8, "seq": 128, "tokens": 1024, "runs": 3, "dropped_contended": 1, "median_ms": 1505.5, "min_ms": 1465.25, "max_ms": 1525.0, "tokens_per_s": 680.25}
 ]}`)
	shapes := []shape{{Batch: 1, Seq: 16}, {Batch: 8, Seq: 128}, {Batch: 4, Seq: 512}}
	got, tj, err := parseTorchJSON(raw, shapes)
	if err != nil {
		t.Fatal(err)
	}
	want := []timing{
		{Err: "no clean run (2 contended)", Dropped: 2},
		{MedianMS: 1505.5, MinMS: 1465.25, MaxMS: 1525, TokensSec: 680.25, Runs: 3, Dropped: 1},
		{Err: "missing from torch_peer.py output"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseTorchJSON = %+v\nwant %+v", got, want)
	}
	if tj.Meta.Torch != "1.13.0a0" || len(tj.Meta.Libs) != 1 {
		t.Errorf("meta = %+v", tj.Meta)
	}
	if _, _, err := parseTorchJSON([]byte(`{"results": [`), shapes); err == nil {
		t.Error("truncated JSON parsed without error")
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"-shapes", "-shapes"},
		{"1x16,8x128", "1x16,8x128"},
		{"/tmp/a b", "'/tmp/a b'"},
		{"", "''"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestTorchDType(t *testing.T) {
	for _, tc := range []struct {
		in   encoder.DType
		want string
	}{{encoder.Float32, "fp32"}, {encoder.BFloat16, "bf16"}} {
		if got := torchDType(tc.in); got != tc.want {
			t.Errorf("torchDType(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestFlopsPerToken pins the count to ../shared/peers/README.md's 174.6 MFLOP per token for
// roberta-base at seq 128.
func TestFlopsPerToken(t *testing.T) {
	cfg := weights.RobertaBaseConfig()
	for _, tc := range []struct {
		seq  int
		want float64 // MFLOP
	}{{128, 174.6}, {16, 170.5}, {512, 188.7}} {
		if got := flopsPerToken(cfg, tc.seq) * 1e-6; math.Abs(got-tc.want) > 0.05 {
			t.Errorf("seq %d: %.2f MFLOP per token, want %.1f", tc.seq, got, tc.want)
		}
	}
}

// TestWriteLimits checks the share table: each engine against the GEMM of its precision
// (ORT always float32), absent engines and unmeasured bounds said as such.
func TestWriteLimits(t *testing.T) {
	cfg := weights.RobertaBaseConfig()
	shapes := []shape{{Batch: 8, Seq: 128}}
	fpt := flopsPerToken(cfg, 128)
	// Bounds of 1000 (float32) and 4000 (bf16) tokens/s at seq 128.
	limits := []gemmLimit{
		{Name: "sgemm", DType: "float32", Best: 1000 * fpt * 1e-9, Median: 1, Runs: 3},
		{Name: "ours", Best: 5000 * fpt * 1e-9, Runs: 3},
		{Name: "bf16", DType: "bf16", Best: 4000 * fpt * 1e-9, Runs: 3},
	}
	ours := &engineReport{Name: "ours", Passes: [][]timing{{ms(shapes[0], 1024)}}} // 1000 tokens/s
	ort := &engineReport{Name: "ORT", Passes: [][]timing{{ms(shapes[0], 2048)}}}   // 500 tokens/s
	torch := &engineReport{Name: "torch", Absent: "no torch"}
	engines := []*engineReport{ours, ort, torch}
	rows := summarizeShapes(shapes, engines)
	for _, tc := range []struct {
		dtype encoder.DType
		want  string
	}{
		{encoder.Float32, "| 8×128 | 174.6 | 1000 | 4000 | 1.00 (float32) | 0.50 (float32) | absent |"},
		{encoder.BFloat16, "| 8×128 | 174.6 | 1000 | 4000 | 0.25 (bf16) | 0.50 (float32) | absent |"},
	} {
		var b strings.Builder
		writeLimits(&b, limits, rows, shapes, engines, options{dtype: tc.dtype, threads: 2}, cfg)
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: no row %q in\n%s", tc.dtype, tc.want, b.String())
		}
		if !strings.Contains(b.String(), "(for comparison)") {
			t.Errorf("%s: the comparison GEMM is not marked as such:\n%s", tc.dtype, b.String())
		}
	}
}
