package server

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/coldserve/coldserve/engine"
	"github.com/coldserve/coldserve/inference"
)

// metrics holds the Prometheus collectors of one Server, registered on its own registry (no
// global state). Names, labels and buckets follow Hugging Face TEI's te_* metrics where the two
// overlap, so existing dashboards translate; HTTP-level series are coldserve_http_*.
type metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec   // route, method, status
	httpDuration *prometheus.HistogramVec // route, method, status

	requestCount        *prometheus.CounterVec // method: single|batch (TEI)
	requestSuccess      *prometheus.CounterVec // method
	requestFailure      *prometheus.CounterVec // err
	requestDuration     prometheus.Histogram
	tokenizationSeconds prometheus.Histogram
	queueSeconds        prometheus.Histogram
	inferenceSeconds    prometheus.Histogram
	inputLength         prometheus.Histogram

	batchSize     prometheus.Histogram
	batchTokens   prometheus.Histogram
	batchDuration prometheus.Histogram
	batchCount    prometheus.Counter
	batchSuccess  prometheus.Counter
	batchFailure  prometheus.Counter

	refused *prometheus.CounterVec // stage: admission|queue_full|queue_wait

	cacheHits      *prometheus.CounterVec // kind: embed|classify
	cacheMisses    *prometheus.CounterVec // kind
	cacheEvictions prometheus.Counter
}

// teDurationBuckets are TEI's duration buckets: 35 steps of ×1.5 from 15 µs (seconds).
func teDurationBuckets() []float64 {
	b := make([]float64, 35)
	v := 0.00001
	for i := range b {
		v *= 1.5
		b[i] = v
	}
	return b
}

// powersOfTwo returns 1, 2, 4, ... up to 2^(n-1), keeping those <= limit when limit > 0.
func powersOfTwo(n int, limit int) []float64 {
	var b []float64
	for i := 0; i < n; i++ {
		v := math.Pow(2, float64(i))
		if limit > 0 && v > float64(limit) {
			break
		}
		b = append(b, v)
	}
	return b
}

// newMetrics registers every collector on reg (nil: a new registry). queueDepth reports the
// sequences waiting in the engines, cacheBytes the bytes held by the result cache.
func newMetrics(reg *prometheus.Registry, queueDepth, cacheBytes func() float64) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	dur := teDurationBuckets()
	m := &metrics{
		registry: reg,
		httpRequests: f.NewCounterVec(prometheus.CounterOpts{Name: "coldserve_http_requests_total",
			Help: "HTTP requests by route, method and status code."}, []string{"route", "method", "status"}),
		httpDuration: f.NewHistogramVec(prometheus.HistogramOpts{Name: "coldserve_http_request_duration_seconds",
			Help: "HTTP request latency by route, method and status code.", Buckets: dur}, []string{"route", "method", "status"}),

		requestCount: f.NewCounterVec(prometheus.CounterOpts{Name: "te_request_count",
			Help: "Embed and classify requests received (method: single or batch input)."}, []string{"method"}),
		requestSuccess: f.NewCounterVec(prometheus.CounterOpts{Name: "te_request_success",
			Help: "Embed and classify requests answered successfully."}, []string{"method"}),
		requestFailure: f.NewCounterVec(prometheus.CounterOpts{Name: "te_request_failure",
			Help: "Embed and classify requests that failed, by error code."}, []string{"err"}),
		requestDuration: f.NewHistogram(prometheus.HistogramOpts{Name: "te_request_duration",
			Help: "End-to-end embed/classify latency in seconds.", Buckets: dur}),
		tokenizationSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "te_request_tokenization_duration",
			Help: "Tokenization time per request in seconds.", Buckets: dur}),
		queueSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "te_request_queue_duration",
			Help: "Time a request waited for its first batch, in seconds.", Buckets: dur}),
		inferenceSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "te_request_inference_duration",
			Help: "Forward-pass time spent on a request, in seconds.", Buckets: dur}),
		inputLength: f.NewHistogram(prometheus.HistogramOpts{Name: "te_request_input_length",
			Help: "Tokens per input (after truncation).", Buckets: powersOfTwo(20, 512)}),

		batchSize: f.NewHistogram(prometheus.HistogramOpts{Name: "te_batch_next_size",
			Help: "Sequences per forward pass.", Buckets: powersOfTwo(13, 0)}),
		batchTokens: f.NewHistogram(prometheus.HistogramOpts{Name: "te_batch_next_tokens",
			Help: "Padded tokens (longest × sequences) per forward pass.", Buckets: powersOfTwo(21, 0)}),
		batchDuration: f.NewHistogram(prometheus.HistogramOpts{Name: "te_batch_inference_duration",
			Help: "Forward-pass wall time in seconds.", Buckets: dur}),
		batchCount:   f.NewCounter(prometheus.CounterOpts{Name: "te_batch_inference_count", Help: "Forward passes started."}),
		batchSuccess: f.NewCounter(prometheus.CounterOpts{Name: "te_batch_inference_success", Help: "Forward passes that succeeded."}),
		batchFailure: f.NewCounter(prometheus.CounterOpts{Name: "te_batch_inference_failure", Help: "Forward passes that failed."}),

		refused: f.NewCounterVec(prometheus.CounterOpts{Name: "coldserve_requests_refused_total",
			Help: "Embed and classify requests refused with 429, by stage: admission (before the body was parsed or tokenized), " +
				"queue_full (tokenized, but its exact size did not fit the queue), queue_wait (waited longer than --max-queue-wait)."}, []string{"stage"}),

		cacheHits: f.NewCounterVec(prometheus.CounterOpts{Name: "coldserve_cache_hits_total",
			Help: "Results found in the result cache, per input, by kind: embed (a pooled vector) or classify (a head's logits)."}, []string{"kind"}),
		cacheMisses: f.NewCounterVec(prometheus.CounterOpts{Name: "coldserve_cache_misses_total",
			Help: "Results looked up in the result cache and not found, per input, by kind."}, []string{"kind"}),
		cacheEvictions: f.NewCounter(prometheus.CounterOpts{Name: "coldserve_cache_evictions_total",
			Help: "Cached results evicted to keep the cache within --cache-bytes."}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: "te_queue_size", Help: "Input sequences waiting for a forward pass."}, queueDepth)
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: "coldserve_cache_bytes",
		Help: "Bytes held by the result cache (keys, vectors, overhead)."}, cacheBytes)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// BatchDone implements engine.Observer.
func (m *metrics) BatchDone(s engine.BatchStats) {
	m.batchCount.Inc()
	m.batchSize.Observe(float64(s.Sequences))
	m.batchTokens.Observe(float64(s.PaddedTokens))
	m.batchDuration.Observe(s.Duration.Seconds())
	if s.Err != nil {
		m.batchFailure.Inc()
	} else {
		m.batchSuccess.Inc()
	}
}

// stages records one embed/classify request's per-stage timings and input lengths.
func (m *metrics) stages(st *inference.Stats) {
	m.tokenizationSeconds.Observe(st.Tokenize.Seconds())
	m.queueSeconds.Observe(st.Queue.Seconds())
	m.inferenceSeconds.Observe(st.Inference.Seconds())
	for _, n := range st.Lengths {
		m.inputLength.Observe(float64(n))
	}
}

// Refused implements inference.Observer.
func (m *metrics) Refused(stage string) { m.refused.WithLabelValues(stage).Inc() }

// CacheLookup implements inference.Observer.
func (m *metrics) CacheLookup(kind string, hit bool) {
	if hit {
		m.cacheHits.WithLabelValues(kind).Inc()
	} else {
		m.cacheMisses.WithLabelValues(kind).Inc()
	}
}

// CacheEvicted implements inference.Observer.
func (m *metrics) CacheEvicted() { m.cacheEvictions.Inc() }
