package tokenizer

import (
	"testing"
)

// Benchmark texts, from the golden file: English prose (the GPL paragraphs, items 60-100) and
// mixed scripts (Latin with diacritics, Cyrillic, Greek, Arabic, Hebrew, CJK, Korean,
// Devanagari, Thai, emoji, math, symbols: items 21-36 and 48-51).
func benchTexts(b *testing.B, kind string) []string {
	items := loadGolden(b)
	var idx []int
	switch kind {
	case "prose":
		for i := 60; i <= 100; i++ {
			idx = append(idx, i)
		}
	case "mixed":
		for i := 21; i <= 36; i++ {
			idx = append(idx, i)
		}
		idx = append(idx, 48, 49, 50, 51)
	}
	var texts []string
	for _, i := range idx {
		texts = append(texts, items[i].Text)
	}
	return texts
}

// BenchmarkEncode reports text tokens per second on one goroutine (one core), without
// truncation. "cached" is the serving steady state (words seen before); "nocache" sends every
// word through BPE.
func BenchmarkEncode(b *testing.B) {
	for _, kind := range []string{"prose", "mixed"} {
		for _, cached := range []bool{true, false} {
			name := kind + "/cached"
			if !cached {
				name = kind + "/nocache"
			}
			b.Run(name, func(b *testing.B) {
				tok, err := Load(modelDir)
				if err != nil {
					b.Fatal(err)
				}
				if !cached {
					tok.setCacheSize(0)
				}
				texts := benchTexts(b, kind)
				tokens, bytes := 0, 0
				for _, s := range texts {
					e, _ := tok.EncodeWith(s, Options{MaxLength: NoTruncation})
					tokens += e.Len() - 2
					bytes += len(s)
				}
				b.SetBytes(int64(bytes))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for _, s := range texts {
						tok.EncodeWith(s, Options{MaxLength: NoTruncation})
					}
				}
				b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// BenchmarkEncodeParallel is the prose benchmark on all cores at once, sharing one tokenizer and
// its cache, as a server does.
func BenchmarkEncodeParallel(b *testing.B) {
	tok := testTokenizer(b)
	texts := benchTexts(b, "prose")
	tokens := 0
	for _, s := range texts {
		e, _ := tok.EncodeWith(s, Options{MaxLength: NoTruncation})
		tokens += e.Len() - 2
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for _, s := range texts {
				tok.EncodeWith(s, Options{MaxLength: NoTruncation})
			}
		}
	})
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkDecode(b *testing.B) {
	tok := testTokenizer(b)
	var ids [][]int
	tokens := 0
	for _, s := range benchTexts(b, "prose") {
		e, _ := tok.EncodeWith(s, Options{MaxLength: NoTruncation})
		ids = append(ids, e.IDs)
		tokens += e.Len()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, x := range ids {
			tok.Decode(x, true)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
