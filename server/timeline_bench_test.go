package server

import (
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// BenchmarkTimelineSnapshot is what the history costs a step of the
// default network on MNIST: "step" trains alone, "snapshot" is the
// history's share of a step (the probe's pass at the new weights, the
// copy, the thinning), timed apart from the step it follows.
//
//	go test ./server -run '^$' -bench TimelineSnapshot -benchtime 300x
func BenchmarkTimelineSnapshot(b *testing.B) {
	b.Run("step", func(b *testing.B) {
		t := mnistTrainer(b)
		for b.Loop() {
			if err := t.StepBatch(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("snapshot", func(b *testing.B) { snapshotCost(b, 0) })
	// after 2,000 steps a step's snapshot mostly reuses the array of the
	// one the thinning dropped
	b.Run("snapshot-after-2000", func(b *testing.B) { snapshotCost(b, 2000) })
}

func snapshotCost(b *testing.B, warm int) {
	{
		t := mnistTrainer(b)
		h := &timeline{budget: DefaultTimelineBytes, density: tlMaxDensity}
		h.observe(t)
		for range warm {
			if err := t.StepBatch(); err != nil {
				b.Fatal(err)
			}
			h.observe(t)
		}
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			if err := t.StepBatch(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			h.observe(t)
		}
		b.ReportMetric(float64(h.bytes()), "history-bytes")
	}
}

// BenchmarkTimeline10k trains the default network 10,000 steps with its
// history and reports the bytes the history holds then (and its
// snapshots), within the default budget.
//
//	go test ./server -run '^$' -bench Timeline10k -benchtime 1x
func BenchmarkTimeline10k(b *testing.B) {
	for range b.N {
		t := mnistTrainer(b)
		h := &timeline{budget: DefaultTimelineBytes, density: tlMaxDensity}
		h.observe(t)
		var most int64
		for range 10000 {
			if err := t.StepBatch(); err != nil {
				b.Fatal(err)
			}
			h.observe(t)
			most = max(most, h.bytes())
		}
		if most > DefaultTimelineBytes {
			b.Fatalf("history held %d bytes, over its budget %d", most, DefaultTimelineBytes)
		}
		b.ReportMetric(float64(h.bytes()), "history-bytes")
		b.ReportMetric(float64(most), "most-bytes")
		b.ReportMetric(float64(len(h.snaps)), "snapshots")
		b.ReportMetric(float64(h.density), "density")
		b.ReportMetric(float64(h.layout.snapBytes()), "snapshot-bytes")
	}
}

// mnistTrainer is the default network on the embedded MNIST.
func mnistTrainer(b *testing.B) *engine.Trainer {
	b.Helper()
	d := &dataSets{sets: map[string]engine.Data{}}
	data, err := d.get(protocol.DataMNIST)
	if err != nil {
		b.Fatal(err)
	}
	t, err := engine.NewTrainer(engine.DefaultConfig(), data)
	if err != nil {
		b.Fatal(err)
	}
	return t
}
