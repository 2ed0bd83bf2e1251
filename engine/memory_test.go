package engine_test

import (
	"runtime"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// liveHeap is the bytes of live objects on the heap, after a collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestEstimateMemoryBoundsTheTrainer builds trainers of small and of the
// largest networks the limits allow, at their largest batch, runs steps, a
// probe pass, a test evaluation and a trace of everything, and measures the
// live heap they hold: the estimate, made before anything was allocated,
// is at least that and not more than 1.6 times it plus 8 MiB (so it bounds
// the memory without refusing networks the machine can hold).
func TestEstimateMemoryBoundsTheTrainer(t *testing.T) {
	data := mnistData(t)
	cases := []struct {
		name, spec, opt string
		batch           int
	}{
		{"default", engine.DefaultSpec, "adam", 8},
		{"default, batch 128", engine.DefaultSpec, "sgd", 128},
		// Every activation the limits allow: 16M per step.
		{"widest 1×1 convolution", "conv(650,1) relu maxpool(28) dense(10)", "adam", 16},
		{"deep convolutions", "conv(32,3,s1,p1) relu conv(32,3,s2,p1) tanh avgpool(2) flatten dense(10)", "rmsprop", 32},
		// Nearly every parameter the limits allow: 2M.
		{"widest dense", "dense(2500) relu dense(10)", "rmsprop", 64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := engine.DefaultConfig()
			cfg.Spec, cfg.Hyper.Optimizer, cfg.Hyper.BatchSize = c.spec, c.opt, c.batch
			est, err := engine.EstimateMemory(cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			before := liveHeap()
			tr, err := engine.NewTrainer(cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := tr.StepBatch(); err != nil {
					t.Fatal(err)
				}
			}
			tr.Trace(engine.TraceOptions{Probe: true})
			tr.EvalTest(100)
			trace := tr.Trace(engine.TraceOptions{Shares: true})
			got := liveHeap() - before
			runtime.KeepAlive(tr)
			runtime.KeepAlive(trace)
			t.Logf("%s: live heap %.1f MiB, estimate %s", c.spec, float64(got)/(1<<20), est)
			if est.Total() < got {
				t.Errorf("estimate %d bytes < %d bytes held", est.Total(), got)
			}
			if float64(est.Total()) > 1.6*float64(got)+8<<20 {
				t.Errorf("estimate %d bytes > 1.6 × %d bytes held + 8 MiB", est.Total(), got)
			}
		})
	}
}

// TestEstimateMemoryRefusesWhatNewTrainerRefuses: a spec or batch size
// NewTrainer refuses has no estimate either.
func TestEstimateMemoryRefusesWhatNewTrainerRefuses(t *testing.T) {
	data := mnistData(t)
	for _, c := range []struct {
		spec  string
		batch int
	}{
		{"conv(650,1) relu maxpool(28) dense(10)", 17},
		{"dense(3000) dense(10)", 1},
		{"conv(8,40) dense(10)", 1},
		{"nonsense", 1},
	} {
		cfg := engine.DefaultConfig()
		cfg.Spec, cfg.Hyper.BatchSize = c.spec, c.batch
		_, errT := engine.NewTrainer(cfg, data)
		_, errE := engine.EstimateMemory(cfg, data)
		if errT == nil || errE == nil {
			t.Errorf("%s at batch %d: NewTrainer error %v, EstimateMemory error %v; want both", c.spec, c.batch, errT, errE)
		}
	}
}
