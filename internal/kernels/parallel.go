package kernels

import "sync"

// ParallelFor splits [0, n) into contiguous chunks of at least minChunk items and runs
// fn(lo, hi) on them concurrently, one goroutine per chunk, at most Threads() chunks. The
// element-wise kernels (GELU, softmax rows, LayerNorm rows) and attention's heads use it;
// products get their threads from OpenMP instead (the packed kernels' team, the BLAS library).
func ParallelFor(n, minChunk int, fn func(lo, hi int)) {
	parts := min(Threads(), n/max(minChunk, 1))
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
