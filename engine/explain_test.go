package engine

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// randSet is n random (2, 9, 8) images in [−1, 1) with random labels 0 … 2.
type randSet struct {
	imgs   [][]float64
	labels []int
}

func newRandSet(seed int64, n int) *randSet {
	rng := rand.New(rand.NewSource(seed))
	s := &randSet{}
	for range n {
		img := make([]float64, 2*9*8)
		for i := range img {
			img[i] = 2*rng.Float64() - 1
		}
		s.imgs = append(s.imgs, img)
		s.labels = append(s.labels, rng.Intn(3))
	}
	return s
}

func (s *randSet) Len() int        { return len(s.imgs) }
func (s *randSet) Shape() []int    { return []int{2, 9, 8} }
func (s *randSet) NumClasses() int { return 3 }
func (s *randSet) Image(i int, dst []float64) int {
	copy(dst, s.imgs[i])
	return s.labels[i]
}

func randData() Data { return Data{Name: "rand", Train: newRandSet(1, 30), Test: newRandSet(2, 5)} }

// explainSpecs cover every layer kind, strides 1–3, padding 0–2, a
// non-square kernel, rows and columns no window covers (stride > kernel),
// overlapping max pools whose ReLU zeros tie, a conv whose outputs read only
// padding, and both forms of conv dL/dX (correlation at stride 1 with C ≥ 4).
var explainSpecs = []string{
	"conv(3,3,s1,p1) relu maxpool(3,s2,p1) conv(4,2x3,s2,p2) tanh avgpool(2,s1,p1,incpad) flatten dense(3)",
	"conv(2,2,s3,p0) sigmoid avgpool(2,s3,p0) dense(3)",
	"conv(3,3x2,s2,p1) leakyrelu(0.2) maxpool(2,s3) conv(2,1,s1,p2) relu dense(5) relu dense(3)",
	"conv(4,3,s1,p1) relu conv(3,3,s1,p2) relu avgpool(3,s2,p1) maxpool(2,s1,p1) dense(3)",
}

// explainHypers are SGD with momentum, Nesterov with weight decay, Adam with
// weight decay, and plain SGD.
func explainHypers() []Hyper {
	a := sgdHyper(3)
	b := sgdHyper(4)
	b.Nesterov, b.WeightDecay = true, 0.01
	c := DefaultHyper()
	c.BatchSize, c.WeightDecay, c.LearningRate = 3, 0.001, 0.01
	d := sgdHyper(2)
	d.Momentum = 0
	return []Hyper{a, b, c, d}
}

func newExplainTrainer(t *testing.T, spec string, h Hyper) *Trainer {
	t.Helper()
	tr, err := NewTrainer(Config{Spec: spec, Seed: 5, Hyper: h}, randData())
	if err != nil {
		t.Fatalf("NewTrainer(%s): %v", spec, err)
	}
	// Small random biases, so that no ReLU input sits at 0 everywhere.
	rng := rand.New(rand.NewSource(9))
	for _, ps := range tr.params {
		for _, p := range ps {
			if p.IsBias {
				for k := range p.Value.Data {
					p.Value.Data[k] = 0.2 * (rng.Float64() - 0.5)
				}
			}
		}
	}
	return tr
}

// seen counts the cases the explanations met, to show the tests reach them.
type seen struct {
	uncoveredConv, uncoveredPool, overlapWins, ties, padding, onlyPadding, probeGrad int
}

// closeSum reports whether sum is within float64 rounding of want, for
// terms of total magnitude scale.
func closeSum(sum, want, scale float64) bool {
	return math.Abs(sum-want) <= 1e-12*scale+1e-300
}

func absSum(terms []Term) float64 {
	s := 0.0
	for _, t := range terms {
		s += math.Abs(t.Product)
	}
	return s
}

// checkCell explains one cell and checks it against the trace's value.
func checkCell(t *testing.T, tr *Trainer, q ExplainQuery, want float64, s *seen) Explanation {
	t.Helper()
	e, err := tr.Explain(q)
	if err != nil {
		t.Fatalf("Explain(%+v): %v", q, err)
	}
	if math.Float64bits(e.Value) != math.Float64bits(want) {
		t.Fatalf("Explain(%+v).Value = %v, want the trace's %v", q, e.Value, want)
	}
	if e.Sum != sumTerms(e.Terms) {
		t.Fatalf("Explain(%+v).Sum = %v, want Σ terms %v", q, e.Sum, sumTerms(e.Terms))
	}
	if e.Formula == "" {
		t.Errorf("Explain(%+v): no formula", q)
	}
	switch {
	case e.Batch != nil:
		b := e.Batch
		if !closeSum(b.Total, e.Value, absSlice(b.Shares)) {
			t.Fatalf("Explain(%+v): shares add up to %v, want %v", q, b.Total, e.Value)
		}
		if !q.Probe {
			if e.Sum != b.Shares[q.Sample] {
				t.Fatalf("Explain(%+v): terms add up to %v, want the sample's share %v", q, e.Sum, b.Shares[q.Sample])
			}
		} else {
			j := 0
			if q.Tensor == TensorDB {
				j = 1
			}
			own := tr.probe.params[q.Layer][j].Grad.Data[flat(q.Index, tr.params[q.Layer][j].Value.Shape)]
			if !closeSum(e.Sum, own, absSum(e.Terms)) {
				t.Fatalf("Explain(%+v): probe terms add up to %v, want its own gradient %v", q, e.Sum, own)
			}
			s.probeGrad++
		}
	case !closeSum(e.Sum, e.Value, absSum(e.Terms)):
		t.Fatalf("Explain(%+v): terms add up to %v, want %v (%d terms)", q, e.Sum, e.Value, len(e.Terms))
	}
	for _, term := range e.Terms {
		if term.Padding {
			s.padding++
			if term.Product != 0 || term.A.Value != 0 || term.Winner {
				t.Fatalf("Explain(%+v): padding term %+v adds something", q, term)
			}
		}
	}
	return e
}

func absSlice(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += math.Abs(x)
	}
	return s
}

// checkLayerDetails checks what each layer kind's terms say.
func checkLayerDetails(t *testing.T, tr *Trainer, q ExplainQuery, e Explanation, s *seen) {
	t.Helper()
	switch l := tr.layers[q.Layer].(type) {
	case *Conv2D:
		checkConvDetails(t, l, q, e, s)
	case *MaxPool2D:
		checkMaxPoolDetails(t, l, q, e, s)
	case *AvgPool2D:
		if q.Tensor == TensorDX && len(e.Terms) == 0 {
			s.uncoveredPool++
			if e.Value != 0 || e.Note == "" {
				t.Fatalf("Explain(%+v): an uncovered cell is %v, note %q", q, e.Value, e.Note)
			}
		}
	}
}

func checkConvDetails(t *testing.T, l *Conv2D, q ExplainQuery, e Explanation, s *seen) {
	t.Helper()
	C, H, W := l.in[0], l.in[1], l.in[2]
	F, OH, OW, S, P := l.out[0], l.out[1], l.out[2], l.stride, l.pad
	switch q.Tensor {
	case TensorY:
		if len(e.Terms) != 1+C*l.kh*l.kw {
			t.Fatalf("Explain(%+v): %d terms, want 1 + %d·%d·%d", q, len(e.Terms), C, l.kh, l.kw)
		}
		real := 0
		for _, term := range e.Terms[1:] {
			iy, jx := term.A.Index[1], term.A.Index[2]
			if out := iy < 0 || iy >= H || jx < 0 || jx >= W; out != term.Padding {
				t.Fatalf("Explain(%+v): term %+v padding = %v", q, term, term.Padding)
			}
			if !term.Padding {
				real++
			}
		}
		if real == 0 {
			s.onlyPadding++
			if e.Value != e.Terms[0].Product {
				t.Fatalf("Explain(%+v): a window of padding only is %v, want its bias %v", q, e.Value, e.Terms[0].Product)
			}
		}
	case TensorDX:
		c, iy, jx := q.Index[0], q.Index[1], q.Index[2]
		want := 0
		for range F {
			for y := range OH {
				for x := range OW {
					if ky, kx := iy-y*S+P, jx-x*S+P; ky >= 0 && ky < l.kh && kx >= 0 && kx < l.kw {
						want++
					}
				}
			}
		}
		if len(e.Terms) != want {
			t.Fatalf("Explain(%+v): %d terms, want the %d windows that read the cell", q, len(e.Terms), want)
		}
		for _, term := range e.Terms {
			f, y, x := term.A.Index[0], term.A.Index[1], term.A.Index[2]
			tf, tc, ky, kx := term.B.Index[0], term.B.Index[1], term.B.Index[2], term.B.Index[3]
			ok := f == tf && tc == c && y*S+ky-P == iy && x*S+kx-P == jx &&
				slices.Equal(term.Rotated, []int{l.kh - 1 - ky, l.kw - 1 - kx}) &&
				slices.Equal(term.Dilated, []int{y*S + l.kh - 1 - P, x*S + l.kw - 1 - P}) &&
				slices.Equal(term.Dilated, []int{iy + term.Rotated[0], jx + term.Rotated[1]})
			if !ok {
				t.Fatalf("Explain(%+v): term %+v does not meet the cell", q, term)
			}
		}
		if want == 0 {
			s.uncoveredConv++
			if e.Value != 0 || !strings.Contains(e.Note, "No window reads") {
				t.Fatalf("Explain(%+v): an uncovered cell is %v, note %q", q, e.Value, e.Note)
			}
		}
	case TensorDW:
		if len(e.Terms) != OH*OW {
			t.Fatalf("Explain(%+v): %d terms, want H'·W' = %d", q, len(e.Terms), OH*OW)
		}
	}
}

func checkMaxPoolDetails(t *testing.T, l *MaxPool2D, q ExplainQuery, e Explanation, s *seen) {
	t.Helper()
	switch q.Tensor {
	case TensorY:
		// The winner is the first maximum in row-major order; padding never wins.
		best, first, winners := math.Inf(-1), -1, 0
		for k, term := range e.Terms {
			if !term.Padding && term.A.Value > best {
				best, first = term.A.Value, k
			}
			if term.Winner {
				winners++
			}
		}
		if winners != 1 || !e.Terms[first].Winner || e.Value != best {
			t.Fatalf("Explain(%+v): winner is not the first maximum %v at term %d: %+v", q, best, first, e.Terms)
		}
		if strings.Contains(e.Note, "tie") {
			s.ties++
		}
	case TensorDX:
		wins := 0
		for _, term := range e.Terms {
			if term.Winner != slices.Equal(term.Switch, q.Index) {
				t.Fatalf("Explain(%+v): term %+v winner %v", q, term, term.Winner)
			}
			if term.Winner {
				wins++
			}
		}
		if wins > 1 {
			s.overlapWins++
		}
		if len(e.Terms) == 0 {
			s.uncoveredPool++
		}
		if wins == 0 && (e.Value != 0 || e.Note == "") {
			t.Fatalf("Explain(%+v): a cell that wins nothing is %v, note %q", q, e.Value, e.Note)
		}
	}
}

// checkAll explains every number of the trace of opt and checks each.
func checkAll(t *testing.T, tr *Trainer, opt TraceOptions, s *seen) {
	t.Helper()
	trace := tr.Trace(opt)
	q := func(layer int, tensor string, idx []int) ExplainQuery {
		return ExplainQuery{Layer: layer, Tensor: tensor, Index: idx, Sample: opt.Sample, Probe: opt.Probe}
	}
	each := func(layer int, tensor string, tt *Tensor, shape []int) {
		if tt == nil {
			if _, err := tr.Explain(q(layer, tensor, make([]int, len(shape)))); err == nil {
				t.Fatalf("Explain(layer %d, %s) before it is computed: no error", layer, tensor)
			}
			return
		}
		for k, want := range tt.Data {
			qq := q(layer, tensor, unflat(k, shape))
			e := checkCell(t, tr, qq, want, s)
			checkLayerDetails(t, tr, qq, e, s)
		}
	}
	for i, lt := range trace.Layers {
		each(i, TensorY, lt.Output, lt.OutShape)
		each(i, TensorDY, lt.GradOutput, lt.OutShape)
		each(i, TensorDX, lt.GradInput, lt.InShape)
		if lt.Weights == nil {
			continue
		}
		each(i, TensorDW, lt.GradWeights, lt.Weights.Shape)
		each(i, TensorDB, lt.GradBias, lt.Bias.Shape)
		var w, b *Tensor
		if lt.DeltaWeights != nil {
			w, b = lt.Weights, lt.Bias
		}
		each(i, TensorUpdateW, w, lt.Weights.Shape)
		each(i, TensorUpdateB, b, lt.Bias.Shape)
		if lt.DeltaWeights != nil {
			for k, d := range lt.DeltaWeights.Data {
				e, _ := tr.Explain(q(i, TensorUpdateW, unflat(k, lt.Weights.Shape)))
				if math.Float64bits(e.Update.Delta) != math.Float64bits(d) || e.Sum != e.Value {
					t.Fatalf("update of W%v of layer %d: Δ %v, want %v; Σ terms %v, want exactly %v", unflat(k, lt.Weights.Shape), i, e.Update.Delta, d, e.Sum, e.Value)
				}
			}
		}
	}
	if trace.Probs == nil {
		return
	}
	checkCell(t, tr, q(LossLayer, TensorLoss, nil), trace.Loss, s)
	checkCell(t, tr, q(LossLayer, TensorBatchLoss, nil), trace.BatchLoss, s)
	for k, p := range trace.Probs {
		checkCell(t, tr, q(LossLayer, TensorProb, []int{k}), p, s)
	}
	if g := trace.Layers[len(trace.Layers)-1].GradOutput; g != nil {
		for k, want := range g.Data {
			checkCell(t, tr, q(LossLayer, TensorDLogit, []int{k}), want, s)
		}
	}
}

// TestExplainEveryNumber explains every number of the trace, for a sample
// of the batch and for the probe, in networks of every layer kind, with
// every optimizer, at a phase with forward numbers only, after the last
// backward phase, and after Update: each value is the trace's, bit for bit,
// and its terms add up to it.
func TestExplainEveryNumber(t *testing.T) {
	var s seen
	for si, spec := range explainSpecs {
		for hi, h := range explainHypers() {
			t.Run(fmt.Sprintf("spec%d_%s%d", si, h.Optimizer, hi), func(t *testing.T) {
				tr := newExplainTrainer(t, spec, h)
				for range 2 { // the optimizer state is not fresh
					if err := tr.StepBatch(); err != nil {
						t.Fatal(err)
					}
				}
				L := len(tr.layers)
				for ph := range 2*L + 2 {
					if _, err := tr.StepPhase(); err != nil {
						t.Fatal(err)
					}
					if ph != L && ph != 2*L && ph != 2*L+1 {
						continue
					}
					checkAll(t, tr, TraceOptions{Sample: h.BatchSize - 1}, &s)
					checkAll(t, tr, TraceOptions{Probe: true}, &s)
				}
			})
		}
	}
	t.Logf("%+v", s)
	if s.uncoveredConv == 0 || s.uncoveredPool == 0 || s.overlapWins == 0 || s.ties == 0 || s.padding == 0 || s.onlyPadding == 0 || s.probeGrad == 0 {
		t.Errorf("some cases were never met: %+v", s)
	}
}

// TestExplainConvByHand checks a conv explanation against numbers worked
// out by hand: a 1×3×3 input, one 2×2 filter, stride 2, padding 1.
func TestExplainConvByHand(t *testing.T) {
	l, err := NewConv2D(Shape{1, 3, 3}, 1, 2, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.W.Value.Data, []float64{1, 2, 3, 4})
	l.B.Value.Data[0] = 0.5
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	// Y[0,1,1] reads X rows 1…2, columns 1…2: 1·5 + 2·6 + 3·8 + 4·9 + 0.5.
	terms := l.termsY(x, l.W.Value.Data, l.B.Value.Data, 0, 1, 1)
	if got := sumTerms(terms); got != 77.5 {
		t.Errorf("Y[0,1,1] = %v, want 77.5", got)
	}
	// Y[0,0,0] reads only X[0,0,0] = 1 (through W[0,0,1,1] = 4); the rest is padding.
	terms = l.termsY(x, l.W.Value.Data, l.B.Value.Data, 0, 0, 0)
	pad := 0
	for _, term := range terms {
		if term.Padding {
			pad++
		}
	}
	if got := sumTerms(terms); got != 4.5 || pad != 3 {
		t.Errorf("Y[0,0,0] = %v with %d padding taps, want 4.5 with 3", got, pad)
	}
	// dL/dX[0,1,1] with dY = [[1, 10], [100, 1000]]: row 1 and column 1
	// are read only by Y[0,1,1], through W[0,0,0,0] = 1, the tap (1,1) of the
	// rotated filter; X[0,2,2] through W[0,0,1,1] = 4.
	dy := []float64{1, 10, 100, 1000}
	terms = l.termsDX(dy, l.W.Value.Data, 0, 1, 1)
	if got := sumTerms(terms); got != 1000 || len(terms) != 1 || !slices.Equal(terms[0].Rotated, []int{1, 1}) || !slices.Equal(terms[0].Dilated, []int{2, 2}) {
		t.Errorf("dX[0,1,1] = %v from %+v, want 1000 from dY[0,1,1] and tap (1,1), dilated cell (2,2)", got, terms)
	}
	if got := sumTerms(l.termsDX(dy, l.W.Value.Data, 0, 2, 2)); got != 4000 {
		t.Errorf("dX[0,2,2] = %v, want 4000", got)
	}
	// At stride 1 without padding, X[1,1] is read by all four outputs:
	// Y[0,0] through W[1,1] = 4, Y[0,1] through W[1,0] = 3, Y[1,0] through
	// W[0,1] = 2 and Y[1,1] through W[0,0] = 1.
	l, err = NewConv2D(Shape{1, 3, 3}, 1, 2, 2, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.W.Value.Data, []float64{1, 2, 3, 4})
	terms = l.termsDX(dy, l.W.Value.Data, 0, 1, 1)
	if got, want := sumTerms(terms), 4.0+30+200+1000; got != want || len(terms) != 4 {
		t.Errorf("dX[0,1,1] = %v from %d terms, want %v from 4", got, len(terms), want)
	}
	if r := terms[0].Rotated; !slices.Equal(r, []int{0, 0}) || !slices.Equal(terms[0].B.Index, []int{0, 0, 1, 1}) {
		t.Errorf("first term meets tap %v rotated to %v, want W[0,0,1,1] at (0,0)", terms[0].B.Index, r)
	}
}

// TestSampleGradMean checks that the samples' own gradients average to the
// batch's gradient, and that the probe's is its own pass's.
func TestSampleGradMean(t *testing.T) {
	for si, spec := range explainSpecs {
		tr := newExplainTrainer(t, spec, explainHypers()[1])
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		tr.Trace(TraceOptions{Probe: true})
		N := len(tr.batchIdx)
		for i, ps := range tr.params {
			if len(ps) == 0 {
				if _, err := tr.SampleGrad(i, TraceOptions{}); err == nil {
					t.Errorf("spec %d: SampleGrad(%d) of a layer without parameters: no error", si, i)
				}
				continue
			}
			mean := make([][]float64, len(ps))
			for j, p := range ps {
				mean[j] = make([]float64, len(p.Value.Data))
			}
			for n := range N {
				gs, err := tr.SampleGrad(i, TraceOptions{Sample: n})
				if err != nil {
					t.Fatal(err)
				}
				for j, g := range gs {
					for k, v := range g.Data {
						mean[j][k] += v / float64(N)
					}
				}
			}
			for j, p := range ps {
				if bad := closeScaled(mean[j], p.Grad.Data, 1e-12); bad >= 0 {
					t.Errorf("spec %d layer %d: mean of the samples' dL/d%s[%d] = %v, batch gradient %v", si, i, p.Name, bad, mean[j][bad], p.Grad.Data[bad])
				}
			}
			gs, err := tr.SampleGrad(i, TraceOptions{Probe: true})
			if err != nil {
				t.Fatal(err)
			}
			for j, g := range gs {
				if bad := closeScaled(g.Data, tr.probe.params[i][j].Grad.Data, 1e-12); bad >= 0 {
					t.Errorf("spec %d layer %d: probe's dL/d%s[%d] = %v, its pass's %v", si, i, ps[j].Name, bad, g.Data[bad], tr.probe.params[i][j].Grad.Data[bad])
				}
			}
		}
	}
}

// closeScaled reports the first index where got and want differ by more
// than rel times the largest |want|, or −1.
func closeScaled(got, want []float64, rel float64) int {
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range got {
		if !(math.Abs(got[i]-want[i]) <= rel*scale) {
			return i
		}
	}
	return -1
}

// TestLargest checks the ordering and folding of terms.
func TestLargest(t *testing.T) {
	e := Explanation{Terms: []Term{{Product: 1}, {Product: -5}, {Product: 0.5}, {Product: 5}, {Product: -2}}}
	e.Sum = sumTerms(e.Terms)
	f := e.Largest(3)
	var got []float64
	for _, term := range f.Top {
		got = append(got, term.Product)
	}
	if !slices.Equal(got, []float64{-5, 5, -2}) || f.Folded != 2 || f.FoldedSum != 1.5 || f.Total != -0.5 {
		t.Errorf("Largest(3) = %v, %d folded summing to %v, total %v; want [-5 5 -2], 2, 1.5, -0.5", got, f.Folded, f.FoldedSum, f.Total)
	}
	if f := e.Largest(10); len(f.Top) != 5 || f.Folded != 0 {
		t.Errorf("Largest(10): %d terms, %d folded", len(f.Top), f.Folded)
	}
	if f := e.Largest(-1); len(f.Top) != 0 || f.Folded != 5 || f.FoldedSum != e.Sum {
		t.Errorf("Largest(-1): %d terms, %d folded summing to %v", len(f.Top), f.Folded, f.FoldedSum)
	}
}

// TestExplainErrors checks that bad questions get clear errors, never a
// panic, and that numbers not yet computed are refused.
func TestExplainErrors(t *testing.T) {
	tr := newExplainTrainer(t, explainSpecs[0], sgdHyper(3))
	// before any step: the preview (the probe's forward pass) is explained,
	// what it lacks is refused with the reason
	if _, err := tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorDY, Index: []int{0, 0, 0}}); err == nil || !strings.Contains(err.Error(), "no step has started") {
		t.Errorf("dY before any step: %v", err)
	}
	tr.StepPhase() // forward 0
	tr.StepPhase() // forward 1
	tests := []struct {
		q    ExplainQuery
		want string
	}{
		{ExplainQuery{Layer: 9, Tensor: TensorY}, "layer 9: the network has layers 0 … 7"},
		{ExplainQuery{Layer: -2, Tensor: TensorY}, "layer -2"},
		{ExplainQuery{Layer: 0, Tensor: "Z", Index: []int{0, 0, 0}}, `tensor "Z" of conv 1: want one of Y, dY, dX, dW, db, updateW, updateb`},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, 0}}, "want 3 indices"},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{3, 0, 0}}, "index [3 0 0] outside Y of conv 1 of shape (3,9,8)"},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, -1, 0}}, "outside"},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, 0, 0}, Sample: 3}, "sample 3: the batch has samples 0 … 2"},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, 0, 0}, Sample: -1}, "sample -1"},
		{ExplainQuery{Layer: 2, Tensor: TensorY, Index: []int{0, 0, 0}}, "Y[0,0,0] of maxpool 1 is not computed yet: forward · maxpool 1 has not run in this step"},
		{ExplainQuery{Layer: 1, Tensor: TensorDX, Index: []int{0, 0, 0}}, "dL/dX[0,0,0] of relu 1 is not computed yet: backward · relu 1 has not run"},
		{ExplainQuery{Layer: 1, Tensor: TensorDW, Index: []int{0}}, "dW of relu 1: relu 1 has no parameters"},
		{ExplainQuery{Layer: 0, Tensor: TensorDW, Index: []int{0, 0, 0, 0}}, "dL/dW[0,0,0,0] of conv 1 is not computed yet"},
		{ExplainQuery{Layer: 0, Tensor: TensorDY, Index: []int{0, 5, 4}}, "δ[0,5,4] of conv 1 is not computed yet: backward · relu 1 has not run"},
		{ExplainQuery{Layer: 0, Tensor: TensorUpdateW, Index: []int{0, 0, 0, 0}}, "W[0,0,0,0] after the update of conv 1 is not computed yet: update has not run"},
		{ExplainQuery{Layer: LossLayer, Tensor: TensorLoss}, "loss of the loss is not computed yet: loss has not run"},
		{ExplainQuery{Layer: LossLayer, Tensor: TensorDLogit, Index: []int{0}}, "dz of the loss is not computed yet: backward · dense 1 has not run"},
		{ExplainQuery{Layer: LossLayer, Tensor: TensorY}, `tensor "Y" of the loss: want one of loss, batchloss, p, dz`},
		{ExplainQuery{Layer: 0, Tensor: TensorY, Index: nil}, "want 3 indices"},
	}
	for _, tc := range tests {
		_, err := tr.Explain(tc.q)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Explain(%+v) = %v, want an error containing %q", tc.q, err, tc.want)
		}
	}
	for tr.Next().Kind != PhaseUpdate {
		tr.StepPhase()
	}
	if _, err := tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: TensorProb, Index: []int{3}}); err == nil || !strings.Contains(err.Error(), "index [3] outside p of the loss of shape (3)") {
		t.Errorf("p[3] of 3 classes: %v", err)
	}
	if _, err := tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: TensorLoss, Index: []int{0}}); err == nil || !strings.Contains(err.Error(), "want 0 indices") {
		t.Errorf("loss with an index: %v", err)
	}
	// The update cannot be worked out again once the learning rate changed.
	tr.StepPhase()
	h := sgdHyper(3)
	h.LearningRate = 0.5
	if err := tr.SetHyper(h); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorUpdateW, Index: []int{0, 0, 0, 0}}); err != errHyperChanged {
		t.Errorf("update after SetHyper: %v, want %v", err, errHyperChanged)
	}
}

// TestExplainUpdateBias checks that weight decay skips biases and that the
// Adam and SGD steps reproduce the trace's ΔW (beyond TestExplainEveryNumber,
// which checks every value): here, the first SGD step fills the buffer.
func TestExplainUpdateFirstStep(t *testing.T) {
	h := sgdHyper(2)
	h.WeightDecay = 0.1
	tr := newExplainTrainer(t, explainSpecs[1], h)
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	e, err := tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorUpdateW, Index: []int{1, 1, 0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	u := e.Update
	if !u.First || u.BufAfter != u.G || u.WeightDecay != 0.1 || u.G != u.Grad+0.1*u.Before {
		t.Errorf("first SGD step: %+v", u)
	}
	e, err = tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorUpdateB, Index: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Update.WeightDecay != 0 || !strings.Contains(e.Note, "Weight decay skips biases") {
		t.Errorf("bias update: λ = %v, note %q", e.Update.WeightDecay, e.Note)
	}
}

// scratchFields are buffers that every use overwrites before reading (the
// conv layer's GEMM scratch): the trace's on-demand dL/dX of a first conv
// layer writes them too. Everything else must stay the same bits.
var scratchFields = map[string]bool{"cols": true, "dcols": true, "gwT": true, "dyT": true, "dyPad": true, "dxWide": true, "xPad": true, "yWide": true}

// digest writes every value reachable from v (unexported fields included,
// floats as bits, maps in key order), leaving out scratchFields.
func digest(b *strings.Builder, v reflect.Value, seenPtr map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil;")
			return
		}
		if seenPtr[v.Pointer()] {
			fmt.Fprintf(b, "seen;")
			return
		}
		seenPtr[v.Pointer()] = true
		digest(b, v.Elem(), seenPtr)
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil;")
			return
		}
		fmt.Fprintf(b, "%s:", v.Elem().Type())
		digest(b, v.Elem(), seenPtr)
	case reflect.Struct:
		b.WriteString("{")
		for i := range v.NumField() {
			if scratchFields[v.Type().Field(i).Name] {
				continue
			}
			b.WriteString(v.Type().Field(i).Name + "=")
			digest(b, v.Field(i), seenPtr)
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		fmt.Fprintf(b, "[%d:", v.Len())
		for i := range v.Len() {
			digest(b, v.Index(i), seenPtr)
		}
		b.WriteString("]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map{")
		for _, k := range keys {
			fmt.Fprintf(b, "%v:", k)
			digest(b, v.MapIndex(k), seenPtr)
		}
		b.WriteString("}")
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(b, "%x;", math.Float64bits(v.Float()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(b, "%d;", v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		fmt.Fprintf(b, "%d;", v.Uint())
	case reflect.Bool:
		fmt.Fprintf(b, "%v;", v.Bool())
	case reflect.String:
		fmt.Fprintf(b, "%q;", v.String())
	case reflect.Func, reflect.Chan:
		fmt.Fprintf(b, "%v;", v.IsNil())
	default:
		panic("digest: " + v.Kind().String())
	}
}

// trainerDigest is the trainer's whole state (weights, optimizer state,
// step, data cursor and order, activations, gradients, switches, the probe's
// network) as a string.
func trainerDigest(tr *Trainer) string {
	var b strings.Builder
	digest(&b, reflect.ValueOf(tr), map[uintptr]bool{})
	return b.String()
}

// TestQuestionsChangeNothing asks every kind of question, good and bad, at
// every phase of a step, and checks that the trainer is the same bit for
// bit afterwards, and that it then trains exactly as one never asked.
func TestQuestionsChangeNothing(t *testing.T) {
	for si, spec := range explainSpecs {
		h := explainHypers()[si%4]
		asked, quiet := newExplainTrainer(t, spec, h), newExplainTrainer(t, spec, h)
		for range 2 {
			asked.StepBatch()
			quiet.StepBatch()
		}
		L := len(asked.layers)
		for range 2*L + 2 {
			asked.StepPhase()
			quiet.StepPhase()
			for _, tr := range []*Trainer{asked, quiet} {
				tr.Trace(TraceOptions{Sample: 1})
				tr.Trace(TraceOptions{Probe: true}) // the page has shown the probe
			}
			done, _ := asked.Done()
			before := trainerDigest(asked)
			askEverything(asked)
			if after := trainerDigest(asked); after != before {
				t.Fatalf("spec %d after %v: questions changed the trainer", si, done)
			}
			if trainerDigest(quiet) != before {
				t.Fatalf("spec %d after %v: the trainer differs from one never asked", si, done)
			}
		}
		for range 3 {
			asked.StepBatch()
			quiet.StepBatch()
		}
		if !sameBits(weights(asked), weights(quiet)) {
			t.Errorf("spec %d: a trainer that was asked trains differently", si)
		}
	}
}

// askEverything asks one question of every kind, good or not, and checks
// gradients with GradCheck.
func askEverything(tr *Trainer) {
	for _, probe := range []bool{false, true} {
		for i, l := range tr.layers {
			zeros := func(s []int) []int { return make([]int, len(s)) }
			for _, tensor := range layerTensors {
				shape := []int(l.OutShape())
				if tensor == TensorDX {
					shape = l.InShape()
				}
				if ps := tr.params[i]; len(ps) > 0 && (tensor == TensorDW || tensor == TensorUpdateW) {
					shape = ps[0].Value.Shape
				} else if len(ps) > 0 && (tensor == TensorDB || tensor == TensorUpdateB) {
					shape = ps[1].Value.Shape
				}
				tr.Explain(ExplainQuery{Layer: i, Tensor: tensor, Index: zeros(shape), Sample: 1, Probe: probe})
				last := make([]int, len(shape))
				for d := range shape {
					last[d] = shape[d] - 1
				}
				tr.Explain(ExplainQuery{Layer: i, Tensor: tensor, Index: last, Sample: 0, Probe: probe})
			}
			tr.SampleGrad(i, TraceOptions{Sample: 1, Probe: probe})
			if len(tr.params[i]) > 0 {
				tr.GradCheck(i, 0, zeros(tr.params[i][0].Value.Shape), DefaultGradCheckH)
				tr.GradCheck(i, 1, []int{0}, 1e-3)
			}
		}
		for _, tensor := range lossTensors {
			tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: tensor, Index: []int{0}, Probe: probe})
			tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: tensor, Probe: probe})
		}
		tr.Explain(ExplainQuery{Layer: 99, Tensor: TensorY})
		tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{0, 0, 0}, Sample: 99})
	}
}

// TestExplainPreview: before the first phase of a step the trace shows the
// probe image's forward pass (Preview); a question about a feature map or
// the loss is answered from that pass, with a note that says so, and its
// sum is the number the preview shows.
func TestExplainPreview(t *testing.T) {
	tr := newExplainTrainer(t, explainSpecs[0], sgdHyper(3))
	pv := tr.Trace(TraceOptions{Preview: true})
	if !pv.Probe {
		t.Fatalf("the preview trace is not the probe's")
	}
	e, err := tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorY, Index: []int{1, 2, 3}})
	if err != nil {
		t.Fatalf("Y of conv 1 in the preview: %v", err)
	}
	shape := pv.Layers[0].Output.Shape
	want := pv.Layers[0].Output.Data[(1*shape[1]+2)*shape[2]+3]
	if !e.Probe || e.Value != want || math.Abs(e.Sum-want) > 1e-12 {
		t.Errorf("Y[1,2,3] of conv 1: probe %v, value %v, sum %v; the preview shows %v", e.Probe, e.Value, e.Sum, want)
	}
	if !strings.Contains(e.Note, "preview") {
		t.Errorf("note %q: want it to say the answer reads the preview", e.Note)
	}
	l, err := tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: TensorLoss})
	if err != nil || l.Value != pv.Loss {
		t.Errorf("the preview's loss: %v, %v; the trace shows %v", l.Value, err, pv.Loss)
	}
	if _, err := tr.Explain(ExplainQuery{Layer: 0, Tensor: TensorDW, Index: []int{0, 0, 0, 0}}); err == nil || !strings.Contains(err.Error(), "no step has started") {
		t.Errorf("dW of conv 1 in the preview: %v, want the reason it is not computed", err)
	}
	if _, err := tr.Explain(ExplainQuery{Layer: LossLayer, Tensor: TensorBatchLoss}); err == nil || !strings.Contains(err.Error(), "no step has started") {
		t.Errorf("the batch's mean loss in the preview: %v, want the reason (no batch yet)", err)
	}
	// a question changes nothing: the step has still not started
	if _, started := tr.Done(); started {
		t.Errorf("a question started the step")
	}
}
