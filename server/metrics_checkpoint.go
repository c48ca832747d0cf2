package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/coldserve/coldserve/inference"
)

// checkpointInfo exports coldserve_checkpoint_info{id,source,revision} 1 for the served
// checkpoint, read from the core at each scrape, so that one query shows which checkpoint each
// replica of a fleet serves. Before the model is loaded it exports nothing.
type checkpointInfo struct {
	core *inference.Core
	desc *prometheus.Desc
}

func newCheckpointInfo(core *inference.Core) checkpointInfo {
	return checkpointInfo{core: core, desc: prometheus.NewDesc("coldserve_checkpoint_info",
		"The served checkpoint: its id (as in responses), source and Hub revision; the value is always 1.",
		[]string{"id", "source", "revision"}, nil)}
}

func (c checkpointInfo) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c checkpointInfo) Collect(ch chan<- prometheus.Metric) {
	cur, _, err := c.core.History()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, cur.ID, cur.Source, cur.Revision)
}
