package engine_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// TestParallelSameBits trains the same networks at GOMAXPROCS 1, 2 and 8
// and wants the same saved state (weights, optimizer state, step) bit for
// bit: the parts a step is split into never share a sum.
func TestParallelSameBits(t *testing.T) {
	data := benchData(t)
	every := engine.DefaultConfig()
	every.Spec = "conv(6,3,s1,p1) tanh avgpool(2,s2,p0) conv(8,3,s2,p1) leakyrelu(0.1) maxpool(3,s1,p1) conv(5,1,s1,p0) sigmoid dense(10)"
	wide := engine.DefaultConfig()
	wide.Spec = "conv(6,5,s1,p2) relu maxpool(2,s2,p0) conv(13,3,s1,p1) relu dense(10)"
	tests := []struct {
		name  string
		cfg   engine.Config
		batch int
	}{
		{"default-b1", engine.DefaultConfig(), 1},
		{"default-b7", engine.DefaultConfig(), 7},
		{"default-b20", engine.DefaultConfig(), 20},
		{"every-layer-b9", every, 9},
		{"wide-b5", wide, 5},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range tests {
		var want string
		for _, procs := range []int{1, 2, 8} {
			runtime.GOMAXPROCS(procs)
			cfg := tc.cfg
			cfg.Hyper.BatchSize = tc.batch
			tr, err := engine.NewTrainer(cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			for range 4 {
				if err := tr.StepBatch(); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := tr.Save(&buf); err != nil {
				t.Fatal(err)
			}
			tr.Trace(engine.TraceOptions{}) // the first layer's dL/dX, on its own
			got := fmt.Sprintf("%x", sha256.Sum256(buf.Bytes()))
			if procs == 1 {
				want = got
			} else if got != want {
				t.Errorf("%s at GOMAXPROCS %d: state %s, want %s (GOMAXPROCS 1)", tc.name, procs, got[:16], want[:16])
			}
		}
	}
}
