package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelFor checks that every index is covered exactly once, in chunks of at least
// minChunk (but the last), for sizes around the thread count, with calls from several
// goroutines at once.
func TestParallelFor(t *testing.T) {
	for _, tc := range []struct{ n, minChunk int }{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {7, 2}, {100, 16}, {1000, 1}} {
		t.Run(fmt.Sprintf("n=%d,min=%d", tc.n, tc.minChunk), func(t *testing.T) {
			var wg sync.WaitGroup
			for g := 0; g < 3; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						hits := make([]atomic.Int32, tc.n)
						ParallelFor(tc.n, tc.minChunk, func(lo, hi int) {
							if hi-lo < tc.minChunk && hi != tc.n {
								t.Errorf("chunk [%d, %d) under %d", lo, hi, tc.minChunk)
							}
							for i := lo; i < hi; i++ {
								hits[i].Add(1)
							}
						})
						for i := range hits {
							if h := hits[i].Load(); h != 1 {
								t.Errorf("index %d run %d times", i, h)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
