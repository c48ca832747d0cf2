package kernels

import (
	"runtime"
	"sync"
)

// ParallelFor splits [0, n) into contiguous chunks of at least minChunk items and runs
// fn(lo, hi) on them concurrently, one goroutine per chunk, at most GOMAXPROCS chunks.
// The element-wise kernels (GELU, softmax rows, LayerNorm rows) use it; matrix products
// get their threads from BLAS instead.
func ParallelFor(n, minChunk int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), n/max(minChunk, 1))
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + parts - 1) / parts
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	fn(0, min(step, n))
	wg.Wait()
}
