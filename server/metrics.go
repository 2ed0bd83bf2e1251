package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// serverMetrics are the Prometheus metrics served at /metrics. Each Server
// has its own registry, so tests can run several servers.
type serverMetrics struct {
	reg           *prometheus.Registry
	sessions      prometheus.Gauge
	conns         prometheus.Gauge
	framesSent    prometheus.Counter
	framesDropped prometheus.Counter
	bytesSent     prometheus.Counter
	steps         prometheus.Counter
	limitHits     *prometheus.CounterVec
	evicted       *prometheus.CounterVec
	memInUse      prometheus.Gauge
	memBudget     prometheus.Gauge
	chunkedWrites prometheus.Counter // flow.go
	coarseFrames  prometheus.Counter // flow.go
	prompts       prometheus.Counter // prompt_session.go
	promptAnswers prometheus.Counter
	trainSeconds  prometheus.Counter // session.go
}

func newServerMetrics() *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_sessions",
			Help: "Private sessions (one trainer each), attached or waiting to be resumed."}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_connections",
			Help: "Open websockets."}),
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_frames_sent_total",
			Help: "Binary trace frames written to clients."}),
		framesDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_frames_dropped_total",
			Help: "Trace frames replaced in a mailbox by a newer one before the client took them."}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_bytes_sent_total",
			Help: "Bytes of websocket messages written to clients (payloads)."}),
		steps: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_steps_total",
			Help: "Optimizer steps run by all sessions."}),
		trainSeconds: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_training_seconds_total",
			Help: "Seconds the sessions spent running phases of training (the engine's work, wall clock): against the time they ran, what serving them added."}),
		prompts: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_prompts_total",
			Help: "Prompts (predict, then reveal) asked in rooms."}),
		promptAnswers: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_prompt_answers_total",
			Help: "Students' answers to prompts counted (a changed answer counts again)."}),
		limitHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_limit_hits_total",
			Help: "Requests refused by a limit, by limit."}, []string{"limit"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bpv_sessions_evicted_total",
			Help: "Sessions evicted, by reason: abandoned (no client for the resume grace period), limit (no client, replaced by a new session at the cap of sessions), idle (no command for the idle timeout), memory (no client, replaced by a new session within the memory budget)."},
			[]string{"reason"}),
	}
	m.memInUse = prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_memory_in_use_bytes",
		Help: "Bytes of the memory budget held by the sessions' trainers (estimated before each is built), and reserved for trainers being built."})
	m.memBudget = prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_memory_budget_bytes",
		Help: "The memory budget of all sessions' trainers together (-max-memory)."})
	for reason := range evictReasons {
		m.evicted.WithLabelValues(reason) // shown at 0 from the start
	}
	m.chunkedWrites = prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_chunked_writes_total",
		Help: "Large messages written in chunks with pings between them (a slow link, a chart history)."})
	m.coarseFrames = prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_frames_coarse_total",
		Help: "Trace frames sent 8-bit instead of exact to a page whose link is slow."})
	m.reg.MustRegister(m.prompts, m.promptAnswers, m.sessions, m.conns, m.framesSent, m.framesDropped, m.bytesSent, m.steps, m.trainSeconds,
		m.limitHits, m.evicted, m.memInUse, m.memBudget, m.chunkedWrites, m.coarseFrames,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
