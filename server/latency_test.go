package server

import (
	"slices"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Measurements of the default network on MNIST. Run with
//
//	go test ./server -run '^$' -bench . -benchtime 500x
//
// BenchmarkFrameBytes reports the bytes of a full exact keyframe (every
// kind, sample 0) and of the average q8 frame while training;
// BenchmarkStepPhaseLatency the time from sending step_phase to the frame
// arriving over loopback (p50, p99).

func defaultTrainer(b *testing.B) *engine.Trainer {
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

func BenchmarkFrameBytes(b *testing.B) {
	t := defaultTrainer(b)
	sub := protocol.DefaultSubscription()
	var enc protocol.FrameEncoder
	var keyBytes, q8Bytes, frames int
	for i := 0; i < b.N; i++ {
		if err := t.StepBatch(); err != nil {
			b.Fatal(err)
		}
		tr := t.Trace(engine.TraceOptions{})
		key, err := enc.Encode(tr, &sub, protocol.FrameMeta{Exact: true, Keyframe: true})
		if err != nil {
			b.Fatal(err)
		}
		q8, err := enc.Encode(tr, &sub, protocol.FrameMeta{})
		if err != nil {
			b.Fatal(err)
		}
		keyBytes, q8Bytes, frames = keyBytes+len(key), q8Bytes+len(q8), frames+1
	}
	b.ReportMetric(float64(keyBytes)/float64(frames), "keyframe-bytes")
	b.ReportMetric(float64(q8Bytes)/float64(frames), "q8-bytes")
}

// BenchmarkEncode times encoding one full trace of the default network
// after Update.
func BenchmarkEncode(b *testing.B) {
	t := defaultTrainer(b)
	if err := t.StepBatch(); err != nil {
		b.Fatal(err)
	}
	tr := t.Trace(engine.TraceOptions{})
	sub := protocol.DefaultSubscription()
	var enc protocol.FrameEncoder
	for _, exact := range []bool{true, false} {
		name := "q8"
		if exact {
			name = "f32"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				buf, err := enc.Encode(tr, &sub, protocol.FrameMeta{Exact: exact})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(buf)))
			}
		})
	}
	// what a session does for each frame while it trains: take the trace
	// the default subscription reads (borrowing the trainer's buffers)
	// and encode it in 8 bits, its statistics computed anew
	b.Run("q8-new-trace", func(b *testing.B) {
		opts := engine.TraceOptions{Sample: sub.Sample, Skip: ^sub.TraceParts(), Borrow: true}
		for i := 0; i < b.N; i++ {
			buf, err := enc.Encode(t.Trace(opts), &sub, protocol.FrameMeta{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
		}
	})
	// a trace the encoder has not seen: its colour-scale statistics are
	// computed (once a trace, then shared by the frames of every subscription)
	b.Run("f32-first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var fresh protocol.FrameEncoder
			buf, err := fresh.Encode(tr, &sub, protocol.FrameMeta{Exact: true})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
		}
	})
}

func BenchmarkStepPhaseLatency(b *testing.B) {
	_, ts := newTestServer(b, Config{CmdRate: 1e6})
	c := dial(b, ts, "")
	c.frame() // the keyframe
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		c.cmd("step_phase", nil)
		c.frame()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.5), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
