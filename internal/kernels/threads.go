package kernels

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
)

// threads is SetThreads's value; 0 until it is called.
var threads atomic.Int32

// SetThreads sets how many threads one operation uses: the BLAS library's threads for a
// matrix multiply, the OpenMP team of a packed linear layer (Matrix.Linear) and the
// goroutines of the element-wise passes (ParallelFor). It is process-global: call it once at
// start-up, before any Forward. n <= 0 leaves the default (see Threads).
func SetThreads(n int) {
	if n > 0 {
		threads.Store(int32(n))
		setBLASThreads(n)
	}
}

// Threads is how many threads one operation uses: SetThreads's value, else OMP_NUM_THREADS
// (its first entry, as OpenMP reads it), else GOMAXPROCS. Workers × Threads should not exceed
// the cores.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return defaultThreads()
}

func defaultThreads() int {
	first, _, _ := strings.Cut(os.Getenv("OMP_NUM_THREADS"), ",")
	if n, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
