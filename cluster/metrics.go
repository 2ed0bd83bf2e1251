package cluster

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// linkMetrics are the link's Prometheus metrics.
type linkMetrics struct {
	connected prometheus.Gauge
	out, in   *prometheus.CounterVec // messages by kind
	bytesOut  prometheus.Counter
	bytesIn   prometheus.Counter
	dropped   *prometheus.CounterVec // by reason
}

func newLinkMetrics() *linkMetrics {
	return &linkMetrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_nats_connected",
			Help: "1 while the replica is connected to NATS."}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_nats_messages_out_total",
			Help: "NATS messages sent, by kind (frame, state, metrics, reply, count, gone, a request's name, response)."}, []string{"kind"}),
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_nats_messages_in_total",
			Help: "NATS messages received, by kind."}, []string{"kind"}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_nats_bytes_out_total",
			Help: "Payload bytes of the NATS messages sent."}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_nats_bytes_in_total",
			Help: "Payload bytes of the NATS messages received."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_nats_messages_dropped_total",
			Help: "NATS messages dropped, by reason: malformed (did not decode), behind (replaced by a newer frame before it was sent), slow (the NATS client's buffer was full), full, too_large, unsent."}, []string{"reason"}),
	}
}

func (m *linkMetrics) register(reg prometheus.Registerer) error {
	return errors.Join(reg.Register(m.connected), reg.Register(m.out), reg.Register(m.in),
		reg.Register(m.bytesOut), reg.Register(m.bytesIn), reg.Register(m.dropped))
}

func (m *linkMetrics) countOut(kind string, n int) {
	m.out.WithLabelValues(kind).Inc()
	m.bytesOut.Add(float64(n))
}

func (m *linkMetrics) countIn(kind string, n int) {
	m.in.WithLabelValues(kind).Inc()
	m.bytesIn.Add(float64(n))
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if c.Write(&m) != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
