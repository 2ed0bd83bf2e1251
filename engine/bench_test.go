package engine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

// The benchmarks train the default network on MNIST with the same setup as
// the peer measurements in bench/peers (PyTorch, ConvNetJS): SGD, learning
// rate 0.01, momentum 0.9. bench/README.md has the commands and the numbers.

// benchHyper is SGD with learning rate 0.01 and momentum 0.9 at batch size n.
func benchHyper(n int) engine.Hyper {
	h := engine.DefaultHyper()
	h.Optimizer = engine.OptSGD
	h.LearningRate = 0.01
	h.Momentum = 0.9
	h.BatchSize = n
	return h
}

// benchData is the embedded MNIST, shared by every trainer (decoded once).
func benchData(tb testing.TB) engine.Data {
	tb.Helper()
	train, test, err := dataset.MNIST()
	if err != nil {
		tb.Fatal(err)
	}
	return engine.Data{Name: "mnist", Train: train, Test: test}
}

// newBenchTrainer builds the default network at batch size n and warms it
// up so that a step allocates nothing: enough steps for the running
// training accuracy to fill its window of the last 500 samples (it grows by
// append until then), then Reset (back to step 0 and the initial weights, so
// that the timed steps are those of a fresh trainer) and one step to size the
// rebuilt layers' buffers.
func newBenchTrainer(tb testing.TB, n int) *engine.Trainer {
	tb.Helper()
	tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: benchHyper(n)}, benchData(tb))
	if err != nil {
		tb.Fatal(err)
	}
	for range accWindow/n + 1 {
		if err := tr.StepBatch(); err != nil {
			tb.Fatal(err)
		}
	}
	tr.Reset()
	if err := tr.StepBatch(); err != nil {
		tb.Fatal(err)
	}
	return tr
}

// accWindow is how many recent samples the trainer's Metrics.TrainAcc
// covers.
const accWindow = 500

// benchBatches are the batch sizes measured: one sample per step (what a
// learner clicks through) and 20 (a typical minibatch).
var benchBatches = []int{1, 20}

// BenchmarkTrainStep times one optimizer step (every phase, through
// Update) of the default network. ns/op is one step; img/s is training
// images per second; allocs/op must be 0 in steady state (a new epoch's
// shuffle, once every 60000 images, is the only allocation).
func BenchmarkTrainStep(b *testing.B) {
	for _, n := range benchBatches {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			tr := newBenchTrainer(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if err := tr.StepBatch(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// TestTrainStepAllocs: once a trainer is warmed up at a batch size (see
// newBenchTrainer), a whole optimizer step (every phase through Update)
// allocates nothing.
func TestTrainStepAllocs(t *testing.T) {
	for _, n := range benchBatches {
		t.Run(fmt.Sprintf("batch=%d", n), func(t *testing.T) {
			tr := newBenchTrainer(t, n)
			var err error
			allocs := testing.AllocsPerRun(5, func() {
				if e := tr.StepBatch(); e != nil {
					err = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("StepBatch at batch %d: %v allocations per step, want 0", n, allocs)
			}
		})
	}
}

// phaseName turns a phase label ("forward · conv 1") into a benchmark name
// ("forward-conv1").
func phaseName(tr *engine.Trainer, p engine.Phase) string {
	s := tr.PhaseLabel(p)
	s = strings.ReplaceAll(s, " · ", "-")
	return strings.ReplaceAll(s, " ", "")
}

// BenchmarkPhase times each phase of a step at batch 20, one sub-benchmark
// a phase. Every iteration runs a whole step phase by phase (so ns/op is a
// step, like BenchmarkTrainStep/batch=20) and clocks the named phase alone:
// ns/phase is its mean time and %step its share of the step. The first
// forward phase includes loading the batch and zeroing dL/dW.
func BenchmarkPhase(b *testing.B) {
	const n = 20
	probe, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: benchHyper(n)}, benchData(b))
	if err != nil {
		b.Fatal(err)
	}
	var phases []engine.Phase
	for {
		p, err := probe.StepPhase()
		if err != nil {
			b.Fatal(err)
		}
		phases = append(phases, p)
		if p.Kind == engine.PhaseUpdate {
			break
		}
	}
	for k, want := range phases {
		b.Run(phaseName(probe, want), func(b *testing.B) {
			tr := newBenchTrainer(b, n)
			var inPhase time.Duration
			b.ReportAllocs()
			for b.Loop() {
				for i := range phases {
					start := time.Now()
					p, err := tr.StepPhase()
					if i == k {
						inPhase += time.Since(start)
					}
					if err != nil {
						b.Fatal(err)
					}
					if i == k && p != want {
						b.Fatalf("phase %d is %v, want %v", i, p, want)
					}
				}
			}
			b.ReportMetric(float64(inPhase.Nanoseconds())/float64(b.N), "ns/phase")
			b.ReportMetric(100*inPhase.Seconds()/b.Elapsed().Seconds(), "%step")
		})
	}
}

// BenchmarkTrace measures the cost of taking the visualized sample's trace
// after Update (the fullest trace: feature maps, gradients, switches, W,
// dL/dW, ΔW and the momentum buffers) against the step itself. Every
// iteration is one StepBatch plus one Trace, so ns/op, B/op and allocs/op
// cover both (the step allocates nothing); ns/trace and ns/step are the two
// parts and trace/step their ratio (the target is below 0.2).
//
// The frame-batch=N variants take what the page's default subscription
// draws: every part but dL/dX (TraceOptions.Skip TraceGradInput), which
// spares computing the first layer's dL/dX. The server-batch=N variants
// take the trace the server takes for that subscription: without dL/dX and
// the optimizer state (no frame carries it), borrowing the trainer's
// buffers instead of copying them (TraceOptions.Borrow), as the server
// encodes the frame at once.
func BenchmarkTrace(b *testing.B) {
	for _, n := range benchBatches {
		traceBench(b, fmt.Sprintf("batch=%d", n), n, engine.TraceOptions{})
	}
	for _, n := range benchBatches {
		traceBench(b, fmt.Sprintf("frame-batch=%d", n), n, engine.TraceOptions{Skip: engine.TraceGradInput})
	}
	for _, n := range benchBatches {
		traceBench(b, fmt.Sprintf("server-batch=%d", n), n, engine.TraceOptions{Skip: engine.TraceGradInput | engine.TraceOptState, Borrow: true})
	}
}

// traceBench is one BenchmarkTrace: StepBatch and Trace(opt) at batch n.
func traceBench(b *testing.B, name string, n int, opt engine.TraceOptions) {
	b.Run(name, func(b *testing.B) {
		tr := newBenchTrainer(b, n)
		var step, trace time.Duration
		var sink *engine.Trace
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			if err := tr.StepBatch(); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			sink = tr.Trace(opt)
			t2 := time.Now()
			step += t1.Sub(t0)
			trace += t2.Sub(t1)
		}
		if sink.Layers[0].DeltaWeights == nil {
			b.Fatal("trace after Update has no ΔW")
		}
		b.ReportMetric(float64(step.Nanoseconds())/float64(b.N), "ns/step")
		b.ReportMetric(float64(trace.Nanoseconds())/float64(b.N), "ns/trace")
		b.ReportMetric(trace.Seconds()/step.Seconds(), "trace/step")
	})
}

// heapNow is the live heap in bytes after a full collection.
func heapNow() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapDelta is after − before in MiB, or 0 if the heap shrank.
func heapDelta(before, after uint64) float64 {
	if after < before {
		return 0
	}
	return float64(after-before) / (1 << 20)
}

// BenchmarkTrainerMemory reports the live heap held by one trainer of the
// default network at batch 20, beyond the shared MNIST sets (decoded before
// the first reading): heap-MiB after building it and running 5 steps (the
// target is below 8), and eval-heap-MiB after EvalTest has also run (the
// evaluation network of batch 100 is kept for the next call). It is a
// reading, not a timing: ns/op is the cost of building, stepping and
// evaluating on 200 test images.
func BenchmarkTrainerMemory(b *testing.B) {
	data := benchData(b)
	var trained, evaluated float64
	for b.Loop() {
		before := heapNow()
		tr, err := engine.NewTrainer(engine.Config{Spec: engine.DefaultSpec, Seed: 1, Hyper: benchHyper(20)}, data)
		if err != nil {
			b.Fatal(err)
		}
		for range 5 {
			if err := tr.StepBatch(); err != nil {
				b.Fatal(err)
			}
		}
		trained = heapDelta(before, heapNow())
		tr.EvalTest(200)
		evaluated = heapDelta(before, heapNow())
		runtime.KeepAlive(tr)
	}
	b.ReportMetric(trained, "heap-MiB")
	b.ReportMetric(evaluated, "eval-heap-MiB")
}
