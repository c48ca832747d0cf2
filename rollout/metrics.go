package rollout

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the reconciler's Prometheus collectors. coldserve_checkpoint_info, which names
// the served checkpoint, is the server's: it exists with or without a declaration.
type metrics struct {
	converged prometheus.Gauge
	swaps     *prometheus.CounterVec // result: ok|held|rejected
}

func newMetrics(reg prometheus.Registerer) metrics {
	f := promauto.With(reg)
	m := metrics{
		converged: f.NewGauge(prometheus.GaugeOpts{Name: "coldserve_checkpoint_converged",
			Help: "1 when the served checkpoint is the one --checkpoint-file declares, else 0 (pending, held, rejected, overridden by an admin change, or an unusable file)."}),
		swaps: f.NewCounterVec(prometheus.CounterOpts{Name: "coldserve_checkpoint_swaps_total",
			Help: "Attempts to serve the declared checkpoint, by result: ok (swapped in), held (below the min_cosine drift gate), rejected (did not resolve, load, validate or probe)."},
			[]string{"result"}),
	}
	for _, result := range []string{ResultOK, ResultHeld, ResultRejected} {
		m.swaps.WithLabelValues(result) // export zeros, so rate() and increase() see the first one
	}
	return m
}
