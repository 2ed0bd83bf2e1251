package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/backpropviz/backpropviz/protocol"
)

// newCommandLatency is bpv_command_duration_seconds{cmd}: how long a
// session took to carry out an admitted command, from taking it to having
// replied and published (step_epoch and play only start). Every command
// of protocol.Commands has its series from the start.
func newCommandLatency(reg prometheus.Registerer) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bpv_command_duration_seconds",
		Help:    "Time a session took to carry out a command (step_batch: one optimizer step and its frames), by command.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}, // 0.5 ms … 33 s
		[]string{"cmd"})
	for _, c := range protocol.Commands {
		h.WithLabelValues(c)
	}
	reg.MustRegister(h)
	return h
}
