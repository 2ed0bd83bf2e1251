package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// walkSpecs add to explainSpecs a padding larger than the kernel (the
// dilated plane is cropped), a last row and column no window reads, and a
// 1×1 kernel.
var walkSpecs = append(slices.Clone(explainSpecs),
	"conv(2,1,s2,p2) relu dense(3)",
	"conv(3,3x2,s2,p0) relu conv(2,2x3,s3,p1) dense(3)",
	"conv(2,3,s1,p0) tanh conv(2,1,s1,p0) dense(3)",
)

// convLayers lists the indices of the conv layers of tr.
func convLayers(tr *Trainer) []int {
	var out []int
	for i, l := range tr.layers {
		if _, ok := l.(*Conv2D); ok {
			out = append(out, i)
		}
	}
	return out
}

// TestWalkConv checks the walk-through of every filter and channel of every
// conv layer, for two samples and the probe, at every phase from the
// layer's backward on: the dW result is SampleShare's plane bit for bit and
// its steps are the products of the direct formula with running sums; the
// dX result is the trace's dL/dX bit for bit, its dilated plane and taps
// are the direct formula's, and the filters' partial sums add up to it.
func TestWalkConv(t *testing.T) {
	for si, spec := range walkSpecs {
		tr := newExplainTrainer(t, spec, explainHypers()[si%4])
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		L := len(tr.layers)
		for range 2*L + 2 {
			if _, err := tr.StepPhase(); err != nil {
				t.Fatal(err)
			}
			for _, i := range convLayers(tr) {
				if !tr.backwardDone(i) {
					continue
				}
				for _, opt := range []TraceOptions{{Sample: 0}, {Sample: 1}, {Probe: true}} {
					checkWalk(t, tr, spec, i, opt)
				}
			}
		}
	}
}

func checkWalk(t *testing.T, tr *Trainer, spec string, i int, opt TraceOptions) {
	t.Helper()
	l := tr.layers[i].(*Conv2D)
	F, C, H, W := l.out[0], l.in[0], l.in[1], l.in[2]
	OH, OW, S, P, KH, KW := l.out[1], l.out[2], l.stride, l.pad, l.kh, l.kw
	K := KH * KW
	shares, err := tr.SampleShare(i, opt)
	if err != nil {
		t.Fatal(err)
	}
	trace := tr.Trace(opt)
	dx := trace.Layers[i].GradInput.Data
	done, _ := tr.Done()
	where := func(grad string, f, c int) string {
		return fmt.Sprintf("%s: %s %s after %v, f=%d c=%d, %+v", spec, tr.layerName(i), grad, done, f, c, opt)
	}
	partials := make([]float64, C*H*W)
	v, err := tr.viewOf(opt.Sample, opt.Probe)
	if err != nil {
		t.Fatal(err)
	}
	dyAll, wAll := v.of(v.src.gradOuts[i]), v.weights(i, 0)
	for f := range F {
		for c := range C {
			wk, err := tr.WalkConv(i, TensorDW, f, c, opt)
			if err != nil {
				t.Fatalf("%s: %v", where("dW", f, c), err)
			}
			if len(wk.Steps) != OH*OW || len(wk.X) != H*W || len(wk.Delta) != OH*OW || len(wk.W) != K {
				t.Fatalf("%s: %d steps, planes %d, %d, %d", where("dW", f, c), len(wk.Steps), len(wk.X), len(wk.Delta), len(wk.W))
			}
			want := shares[0].Data[(f*C+c)*K : (f*C+c+1)*K]
			if !sameFloats(wk.Result, want) {
				t.Fatalf("%s: result %v, SampleShare %v", where("dW", f, c), wk.Result, want)
			}
			prev := make([]float64, K)
			for s, st := range wk.Steps {
				y, xo := s/OW, s%OW
				if st.At != [2]int{y, xo} {
					t.Fatalf("%s: step %d at %v", where("dW", f, c), s, st.At)
				}
				for ky := range KH {
					for kx := range KW {
						k := ky*KW + kx
						iy, jx := y*S+ky-P, xo*S+kx-P
						p := 0.0
						if iy >= 0 && iy < H && jx >= 0 && jx < W {
							p = wk.X[iy*W+jx] * wk.Delta[s]
						}
						if st.Products[k] != p || st.Sums[k] != prev[k]+st.Products[k] {
							t.Fatalf("%s: step %d tap %d: product %v sum %v, want %v, %v", where("dW", f, c), s, k, st.Products[k], st.Sums[k], p, prev[k]+p)
						}
					}
				}
				prev = st.Sums
			}
			if !sameFloats(prev, wk.Result) {
				t.Fatalf("%s: result is not the last sums", where("dW", f, c))
			}

			wk, err = tr.WalkConv(i, TensorDX, f, c, opt)
			if err != nil {
				t.Fatalf("%s: %v", where("dX", f, c), err)
			}
			plane := dx[c*H*W : (c+1)*H*W]
			if !sameFloats(wk.Result, plane) {
				t.Fatalf("%s: result %v, trace's dL/dX %v", where("dX", f, c), wk.Result, plane)
			}
			ph, pw := KH-1-P, KW-1-P
			DH, DW := H+KH-1, W+KW-1
			e, err := tr.Explain(ExplainQuery{Layer: i, Tensor: TensorDX, Index: []int{c, 0, 0}, Sample: opt.Sample, Probe: opt.Probe})
			if err != nil || e.Window.PlaneH != DH || e.Window.PlaneW != DW {
				t.Fatalf("%s: the explanation's plane %v, %v; want %d×%d", where("dX", f, c), e.Window, err, DH, DW)
			}
			if wk.DilatedH != DH || wk.DilatedW != DW || len(wk.Dilated) != DH*DW {
				t.Fatalf("%s: dilated %d×%d (%d), want %d×%d", where("dX", f, c), wk.DilatedH, wk.DilatedW, len(wk.Dilated), DH, DW)
			}
			// dilated[r, q] is δ[(r−ph)/S, (q−pw)/S] where that is a cell
			at := func(r, q int) float64 {
				y, x := r-ph, q-pw
				if y < 0 || x < 0 || y%S != 0 || x%S != 0 || y/S >= OH || x/S >= OW {
					return 0
				}
				return wk.Delta[y/S*OW+x/S]
			}
			for r := range DH {
				for q := range DW {
					if wk.Dilated[r*DW+q] != at(r, q) {
						t.Fatalf("%s: dilated[%d,%d] = %v, want %v", where("dX", f, c), r, q, wk.Dilated[r*DW+q], at(r, q))
					}
				}
			}
			// the taps against the explanation's terms of filter f
			for s, st := range wk.Steps {
				iy, jx := s/W, s%W
				if st.At != [2]int{iy, jx} || st.Origin != [2]int{iy, jx} || st.Value != plane[s] {
					t.Fatalf("%s: step %d at %v origin %v value %v", where("dX", f, c), s, st.At, st.Origin, st.Value)
				}
				want := make([]float64, K)
				for _, term := range l.termsDX(dyAll, wAll, c, iy, jx) {
					u, v := term.Rotated[0], term.Rotated[1]
					if d := term.Dilated; d[0] != iy+u || d[1] != jx+v || d[0] >= DH || d[1] >= DW {
						t.Fatalf("%s: step %d: a term at %v of the dilated plane, want (%d, %d) within %d×%d", where("dX", f, c), s, d, iy+u, jx+v, DH, DW)
					}
					if term.A.Index[0] == f {
						want[u*KW+v] = term.Product
					}
				}
				for k := range K {
					if st.Taps[k] != want[k] && !(st.Taps[k] == 0 && want[k] == 0) {
						t.Fatalf("%s: step %d tap %d = %v, want %v", where("dX", f, c), s, k, st.Taps[k], want[k])
					}
				}
				var partial float64
				for _, p := range st.Taps {
					partial += p
				}
				if st.Partial != partial {
					t.Fatalf("%s: step %d partial %v, Σ taps %v", where("dX", f, c), s, st.Partial, partial)
				}
				partials[c*H*W+s] += st.Partial
			}
		}
	}
	if bad := closeScaled(partials, dx, 1e-12); bad >= 0 {
		t.Fatalf("%s layer %d probe=%v sample %d: Σ_f partial of dL/dX[%d] = %v, trace %v", spec, i, opt.Probe, opt.Sample, bad, partials[bad], dx[bad])
	}
}

// sameFloats reports whether a and b hold the same values bit for bit.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestWalkConvUncovered: with stride 3 and a 2×2 kernel, rows and columns
// between the windows are read by no window: their dL/dX is 0 and every tap
// of their step is 0.
func TestWalkConvUncovered(t *testing.T) {
	tr := newExplainTrainer(t, "conv(2,2,s3,p0) relu dense(3)", sgdHyper(3))
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	wk, err := tr.WalkConv(0, TensorDX, 1, 1, TraceOptions{Sample: 1})
	if err != nil {
		t.Fatal(err)
	}
	uncovered := 0
	for _, st := range wk.Steps {
		i, j := st.At[0], st.At[1]
		if i%3 != 2 && j%3 != 2 && i < 8 && j < 8 { // rows and columns 0,1, 3,4, 6,7 are read
			continue
		}
		uncovered++
		if st.Value != 0 || st.Partial != 0 || slices.ContainsFunc(st.Taps, func(v float64) bool { return v != 0 }) {
			t.Errorf("uncovered cell %v: value %v partial %v taps %v, want 0", st.At, st.Value, st.Partial, st.Taps)
		}
	}
	if uncovered == 0 {
		t.Fatal("no uncovered cell")
	}
}

// TestWalkConvErrors: a layer that is not conv, a grad, filter, channel or
// sample that does not exist, and a layer whose backward has not run.
func TestWalkConvErrors(t *testing.T) {
	tr := newExplainTrainer(t, explainSpecs[0], sgdHyper(3))
	if _, err := tr.WalkConv(0, TensorDW, 0, 0, TraceOptions{}); err == nil || !strings.Contains(err.Error(), "not computed yet") {
		t.Errorf("before a step: error %v", err)
	}
	L := len(tr.layers)
	for range L + 2 { // forward, loss, backward of the last two layers
		tr.StepPhase()
	}
	if _, err := tr.WalkConv(3, TensorDX, 0, 0, TraceOptions{}); err == nil || !strings.Contains(err.Error(), "backward · conv 2 has not run") {
		t.Errorf("before the layer's backward: error %v", err)
	}
	if err := tr.StepBatch(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		layer, f, c int
		grad        string
		opt         TraceOptions
		want        string
	}{
		{1, 0, 0, TensorDW, TraceOptions{}, "relu 1 is a relu layer"},
		{-1, 0, 0, TensorDW, TraceOptions{}, "layer -1"},
		{L, 0, 0, TensorDW, TraceOptions{}, "layer 8"},
		{0, 0, 0, TensorDY, TraceOptions{}, `grad "dY"`},
		{0, 3, 0, TensorDW, TraceOptions{}, "filter 3 of conv 1: want 0 … 2"},
		{3, 0, 3, TensorDX, TraceOptions{}, "channel 3 of conv 2: want 0 … 2"},
		{0, 0, -1, TensorDX, TraceOptions{}, "channel -1"},
		{0, 0, 0, TensorDX, TraceOptions{Sample: 3}, "sample 3"},
	} {
		if _, err := tr.WalkConv(tt.layer, tt.grad, tt.f, tt.c, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WalkConv(%d, %s, %d, %d, %+v) error %v, want %q", tt.layer, tt.grad, tt.f, tt.c, tt.opt, err, tt.want)
		}
	}
}

// TestTraceShares: a trace asked for the shares carries SampleShare's
// tensors for the layers whose backward has run (nil for the others and
// without Shares), and the shares of the batch's samples add up to the
// batch's gradient.
func TestTraceShares(t *testing.T) {
	for si, spec := range explainSpecs {
		tr := newExplainTrainer(t, spec, explainHypers()[si%4])
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
		L := len(tr.layers)
		for p := range 2*L + 2 {
			if _, err := tr.StepPhase(); err != nil {
				t.Fatal(err)
			}
			if tr.Trace(TraceOptions{Sample: 1}).Layers[0].SampleGradWeights != nil {
				t.Fatalf("spec %d: shares without TraceOptions.Shares", si)
			}
			N := len(tr.batchIdx)
			sums := map[int][]float64{}
			for n := range N {
				trace := tr.Trace(TraceOptions{Sample: n, Shares: true})
				for i, lt := range trace.Layers {
					if len(tr.params[i]) == 0 || !tr.backwardDone(i) {
						if lt.SampleGradWeights != nil || lt.SampleGradBias != nil {
							t.Fatalf("spec %d phase %d layer %d: shares before its backward", si, p, i)
						}
						continue
					}
					gs, _ := tr.SampleShare(i, TraceOptions{Sample: n})
					if lt.SampleGradWeights == nil || !sameFloats(lt.SampleGradWeights.Data, gs[0].Data) || !sameFloats(lt.SampleGradBias.Data, gs[1].Data) {
						t.Fatalf("spec %d phase %d layer %d sample %d: trace's shares differ from SampleShare", si, p, i, n)
					}
					if sums[i] == nil {
						sums[i] = make([]float64, len(gs[0].Data))
					}
					for k, v := range gs[0].Data {
						sums[i][k] += v
					}
				}
			}
			for i, s := range sums {
				if bad := closeScaled(s, tr.params[i][0].Grad.Data, 1e-12); bad >= 0 {
					t.Fatalf("spec %d layer %d: Σ shares of dW[%d] = %v, batch %v", si, i, bad, s[bad], tr.params[i][0].Grad.Data[bad])
				}
			}
			probe := tr.Trace(TraceOptions{Probe: true, Shares: true})
			for i, lt := range probe.Layers {
				if lt.SampleGradWeights == nil {
					continue
				}
				gs, _ := tr.SampleGrad(i, TraceOptions{Probe: true})
				if !sameFloats(lt.SampleGradWeights.Data, gs[0].Data) {
					t.Fatalf("spec %d layer %d: the probe's share is not its gradient", si, i)
				}
			}
		}
	}
}

// TestWalkChangesNothing: walk-throughs and traces with shares leave the
// trainer the same bit for bit.
func TestWalkChangesNothing(t *testing.T) {
	tr := newExplainTrainer(t, walkSpecs[4], sgdHyper(3))
	for range 2 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	tr.Trace(TraceOptions{Probe: true})
	before := trainerDigest(tr)
	for _, i := range convLayers(tr) {
		for _, g := range []string{TensorDW, TensorDX} {
			for _, opt := range []TraceOptions{{Sample: 1}, {Probe: true}} {
				if _, err := tr.WalkConv(i, g, 0, 0, opt); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tr.Trace(TraceOptions{Sample: 1, Shares: true})
	tr.Trace(TraceOptions{Probe: true, Shares: true})
	if trainerDigest(tr) != before {
		t.Fatal("walk-throughs changed the trainer")
	}
}
