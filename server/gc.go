package server

// DefaultGCPercent is the Go GC percent (as GOGC) that coldserve serve runs with unless the
// GOGC environment variable is set; bench/http uses it too, so its soak measures what serving
// runs. The float32 weights live in the Go heap, so at the runtime's default of 100 garbage may
// grow to about the weights' size before a collection. The weights are pointer-free slices,
// which the collector does not scan, so collecting more often costs little CPU
// (bench/RESULTS.md, HTTP end to end). A percent, unlike a memory limit fixed from one
// checkpoint's size, scales with the live heap: during a hot swap, when two checkpoints are
// briefly live, the headroom grows with them instead of making the collector run back to back.
const DefaultGCPercent = 10
