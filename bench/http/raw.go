package main

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/coldserve/coldserve/encoder"
)

// rawResult is the raw encoder on the load test's length mix.
type rawResult struct {
	batches int
	tokens  int // real tokens (padding excluded), as the HTTP throughput counts them
	elapsed time.Duration
}

func (r rawResult) tokensPerSec() float64 { return float64(r.tokens) / r.elapsed.Seconds() }

// rawMix calls Forward on batches of n texts of 1..maxWords words (the mix n clients send)
// for about d, and counts real tokens.
func rawMix(ctx context.Context, enc *encoder.Encoder, g *textGen, n, maxWords int, d time.Duration) (rawResult, error) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var res rawResult
	start := time.Now()
	for time.Since(start) < d || res.batches == 0 {
		ids := make([][]int32, n)
		for i := range ids {
			_, ids[i] = g.text(r, 1+r.IntN(maxWords))
			res.tokens += len(ids[i])
		}
		t := time.Now()
		if _, err := enc.Forward(ctx, ids); err != nil {
			return res, err
		}
		res.elapsed += time.Since(t) // forward time only: building the batch is not the encoder's
		res.batches++
	}
	return res, nil
}

// rawSingle times n forwards of one 16-token sequence.
func rawSingle(ctx context.Context, enc *encoder.Encoder, g *textGen, n int) ([]time.Duration, error) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	lat := make([]time.Duration, 0, n)
	for range n {
		_, ids := g.text(r, 14)
		t := time.Now()
		if _, err := enc.Forward(ctx, [][]int32{ids}); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}
