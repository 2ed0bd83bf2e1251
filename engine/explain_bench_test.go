package engine_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// explainBatches are the batch sizes the question benchmarks measure: the
// default (8) and a typical minibatch (20).
var explainBatches = []int{8, 20}

// explainQueries are questions about the default network, one of each kind,
// the largest sums included: conv 1's dL/dW has 28·28 terms per sample, conv
// 2's Y 8·5·5, the dense layer's Y 16·4·4.
var explainQueries = []struct {
	name string
	q    engine.ExplainQuery
}{
	{"conv1_Y", engine.ExplainQuery{Layer: 0, Tensor: engine.TensorY, Index: []int{7, 14, 14}}},
	{"conv1_dX", engine.ExplainQuery{Layer: 0, Tensor: engine.TensorDX, Index: []int{0, 14, 14}}},
	{"conv1_dW", engine.ExplainQuery{Layer: 0, Tensor: engine.TensorDW, Index: []int{7, 0, 2, 2}}},
	{"relu1_dX", engine.ExplainQuery{Layer: 1, Tensor: engine.TensorDX, Index: []int{7, 14, 14}}},
	{"maxpool1_Y", engine.ExplainQuery{Layer: 2, Tensor: engine.TensorY, Index: []int{7, 7, 7}}},
	{"maxpool1_dX", engine.ExplainQuery{Layer: 2, Tensor: engine.TensorDX, Index: []int{7, 14, 14}}},
	{"conv2_Y", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorY, Index: []int{15, 7, 7}}},
	{"conv2_dX", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorDX, Index: []int{7, 7, 7}}},
	{"conv2_dW", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorDW, Index: []int{15, 7, 2, 2}}},
	{"conv2_db", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorDB, Index: []int{15}}},
	{"dense_Y", engine.ExplainQuery{Layer: 6, Tensor: engine.TensorY, Index: []int{3}}},
	{"dense_dX", engine.ExplainQuery{Layer: 6, Tensor: engine.TensorDX, Index: []int{15, 3, 3}}},
	{"dense_dW", engine.ExplainQuery{Layer: 6, Tensor: engine.TensorDW, Index: []int{3, 200}}},
	{"loss_dz", engine.ExplainQuery{Layer: engine.LossLayer, Tensor: engine.TensorDLogit, Index: []int{3}}},
	{"loss", engine.ExplainQuery{Layer: engine.LossLayer, Tensor: engine.TensorLoss}},
	{"update_W", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorUpdateW, Index: []int{15, 7, 2, 2}}},
	{"probe_conv2_Y", engine.ExplainQuery{Layer: 3, Tensor: engine.TensorY, Index: []int{15, 7, 7}, Probe: true}},
}

// BenchmarkExplain times one question after a full step of the default
// network (every number computed).
func BenchmarkExplain(b *testing.B) {
	for _, n := range explainBatches {
		tr := newBenchTrainer(b, n)
		tr.Trace(engine.TraceOptions{Probe: true}) // the probe's pass, once per step
		for _, qc := range explainQueries {
			b.Run(fmt.Sprintf("batch=%d/%s", n, qc.name), func(b *testing.B) {
				q := qc.q
				q.Sample = n - 1
				b.ReportAllocs()
				for b.Loop() {
					if _, err := tr.Explain(q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkExplainLargest times ordering a long sum (conv 1's dL/dW, 784
// terms) and folding all but the 20 largest terms.
func BenchmarkExplainLargest(b *testing.B) {
	tr := newBenchTrainer(b, 8)
	e, err := tr.Explain(engine.ExplainQuery{Layer: 0, Tensor: engine.TensorDW, Index: []int{7, 0, 2, 2}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Largest(20)
	}
}

// BenchmarkSampleGrad times one sample's own gradient of each conv layer
// and the dense layer.
func BenchmarkSampleGrad(b *testing.B) {
	for _, n := range explainBatches {
		tr := newBenchTrainer(b, n)
		for _, layer := range []int{0, 3, 6} {
			b.Run(fmt.Sprintf("batch=%d/layer=%d", n, layer), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := tr.SampleGrad(layer, engine.TraceOptions{Sample: n - 1}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGradCheck times one gradient check: two forward passes from the
// layer on, on layers of their own (conv 1's is the whole network's, twice),
// beside forward_pass, one forward pass and loss of the batch, for scale.
func BenchmarkGradCheck(b *testing.B) {
	params := []struct {
		name         string
		layer, param int
		index        []int
	}{
		{"conv1_W", 0, 0, []int{7, 0, 2, 2}},
		{"conv2_W", 3, 0, []int{15, 7, 2, 2}},
		{"dense_W", 6, 0, []int{3, 200}},
	}
	for _, n := range explainBatches {
		tr := newBenchTrainer(b, n)
		b.Run(fmt.Sprintf("batch=%d/forward_pass", n), func(b *testing.B) {
			benchForwardPass(b, n)
		})
		for _, p := range params {
			b.Run(fmt.Sprintf("batch=%d/%s", n, p.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := tr.GradCheck(p.layer, p.param, p.index, engine.DefaultGradCheckH); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchForwardPass times the default network's forward pass and loss on a
// batch of n MNIST images.
func benchForwardPass(b *testing.B, n int) {
	data := benchData(b)
	specs, err := engine.ParseSpec(engine.DefaultSpec)
	if err != nil {
		b.Fatal(err)
	}
	layers, err := engine.BuildLayers(specs, engine.Shape{1, 28, 28}, 10, rand.New(rand.NewSource(1)))
	if err != nil {
		b.Fatal(err)
	}
	x := engine.NewTensor(n, 1, 28, 28)
	labels := make([]int, n)
	for i := range n {
		labels[i] = data.Train.Image(i, x.Data[i*784:(i+1)*784])
	}
	var loss engine.SoftmaxCrossEntropy
	b.ReportAllocs()
	for b.Loop() {
		y := x
		for _, l := range layers {
			y = l.Forward(y)
		}
		loss.Forward(y, labels)
	}
}
