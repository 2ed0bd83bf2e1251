package engine

import (
	"math"
	"slices"
)

// Explaining a number: the page asks how one number of the trace was
// computed, and Explain answers from what the layers kept (their input, the
// max-pool switches, dL/dY) as a list of terms whose sum is that number. The
// answers of each layer kind sit in <layer>_explain.go; the update's in
// update_explain.go. A question never changes the trainer.
//
// Questions read the trainer's step as it stands: the progress and whether
// Update ran (t.progress, t.updated), the weights before the update (t.old),
// the batch and its labels (t.x, t.labels), the per-layer activations and
// gradients (t.outs, t.gradOuts, t.gradIns), the loss (t.loss, t.batchLoss)
// and the probe's network (t.probePass). The optimizer's state is read in
// one function only, Trainer.lastUpdate.

// LossLayer is ExplainQuery.Layer for the softmax cross-entropy after the
// last layer (as Phase.Layer is −1 for the loss).
const LossLayer = -1

// Tensor names of an ExplainQuery.
const (
	TensorY       = "Y"       // a layer's output, per sample (OutShape)
	TensorDY      = "dY"      // dL/dY (OutShape): answered by the stage that computed it
	TensorDX      = "dX"      // dL/dX (InShape)
	TensorDW      = "dW"      // dL/dW of the batch (the weights' shape)
	TensorDB      = "db"      // dL/db of the batch
	TensorUpdateW = "updateW" // a weight after this step's Update
	TensorUpdateB = "updateb" // a bias after this step's Update

	// At LossLayer:
	TensorLoss      = "loss"      // the sample's cross-entropy (index [])
	TensorBatchLoss = "batchloss" // the batch's mean cross-entropy (index [])
	TensorProb      = "p"         // softmax probability p[k]
	TensorDLogit    = "dz"        // dL/dz[k] for the logits z, = dY of the last layer
)

// ExplainQuery asks how one number was computed.
type ExplainQuery struct {
	Layer  int    // 0 … L−1, or LossLayer
	Tensor string // one of the Tensor… names
	// Index into the tensor: per sample for Y, dY, dX (e.g. (c, y, x) or
	// (k)); into the parameter for dW, db, updateW, updateb (e.g.
	// (f, c, ky, kx)); (k) for p and dz; empty for loss and batchloss.
	Index  []int
	Sample int  // the sample's index within the batch
	Probe  bool // ask about the probe image's own pass (see TraceOptions)
}

// Explanation is how one number was computed: Value is the engine's number
// (the one the trace holds), and the Terms add up to it.
type Explanation struct {
	Layer  int    // the layer that computed the number, or LossLayer
	Name   string // e.g. "conv 1", "loss"
	Tensor string
	Index  []int
	Sample int  // the sample within the batch; −1 for the probe
	Probe  bool // the number is the probe's (for dW, db and the update: see Batch)
	Value  float64
	// Formula is the formula with this number's indices, e.g.
	// "Y[2,5,7] = b[2] + Σ_c,ky,kx W[2,c,ky,kx] · X[c, 5+ky−2, 7+kx−2]".
	Formula string
	// Terms add up to Value (for dW and db, to the shown sample's share:
	// see Batch). A term that takes no part has Product 0: a padding cell,
	// a max-pool cell that is not its window's maximum.
	Terms []Term
	// Sum is Σ Terms' Product, added in order; it equals Value to float64
	// rounding (the engine may add in another order, or fuse multiply-adds).
	Sum float64
	// Note says what the formula alone does not: why a cell is 0, ties,
	// which weights were used.
	Note string
	// Lines are intermediate quantities worked out with numbers, in order:
	// an activation's derivative, the softmax, the optimizer's steps.
	Lines []Quantity
	// Window is the geometry of a conv or pool layer's window.
	Window *Window
	// Batch, for dW and db, adds each sample's share up to Value.
	Batch *BatchSum
	// Update, for updateW and updateb, is the optimizer's step.
	Update *UpdateDetail
}

// Term is one addend: A·B, or A alone when B.Name is "".
type Term struct {
	A, B Operand
	// Product is what the term adds to the sum: A·B (as the engine
	// computes it), A alone, or 0 for a cell that takes no part.
	Product float64
	// Padding: A is a cell of the zero padding outside the input (its
	// Index lies outside the input; its value is 0).
	Padding bool
	// Winner, for max pooling: A is its window's maximum (Y), or the
	// window A is dL/dY of was won by the asked cell (dX).
	Winner bool
	// Switch, for max-pool dX: the input cell (c, iy, ix) that won A's
	// window.
	Switch []int
	// Rotated, for conv dX: B's tap (u, v) = (KH−1−ky, KW−1−kx) in the
	// filter rotated by 180°.
	Rotated []int
	// Dilated, for conv dX: A's cell (row, col) in dL/dY dilated by the
	// stride and zero-padded by KH−1−P rows and KW−1−P columns, the plane
	// the rotated filter slides over (see Window).
	Dilated []int
}

// Operand is one factor of a term.
type Operand struct {
	// Name is the tensor ("X", "W", "b", "dY", "p", "loss") or the factor
	// ("1/area", "f'(X)", "1/N", "−lr") it comes from; "" for no operand.
	Name string
	// Index into that tensor: per sample for X and dY, into the parameter
	// for W and b, the sample for a per-sample value; nil for a scalar.
	Index []int
	Value float64
}

// Quantity is one intermediate value: Name = Formula = Value, with the
// numbers of the names the formula uses in Args, e.g. "m̂" = "m / (1 − β1ᵗ)".
type Quantity struct {
	Name    string
	Formula string
	Args    []Arg
	Value   float64
}

// Arg is a named number a Quantity's formula uses.
type Arg struct {
	Name  string
	Value float64
}

// Window is the geometry of a conv or pool layer for the asked cell.
type Window struct {
	KH, KW, Stride, Pad int
	InH, InW            int // the input's height and width
	OutH, OutW          int // H', W'
	// Origin is where the window starts: for Y and dW, the input cell
	// (row, col) under its top-left tap, negative in the padding; for conv
	// dX, the cell (row, col) of the dilated plane.
	Origin []int
	// PlaneH, PlaneW, for conv dX: the size of the plane the rotated
	// filter slides over, H+KH−1 by W+KW−1: dL/dY dilated by the stride
	// ((H'−1)·S + 1 rows), zero-padded by KH−1−P rows above (KW−1−P
	// columns to the left) and as many below (to the right) as make the
	// plane that size, so that every input cell's window lies within it:
	// KH−1−P plus the rows past the last window, (H+2P−KH) mod S. A
	// negative padding crops.
	PlaneH, PlaneW int
}

// BatchSum is how a batch gradient adds up from the samples. The loss is the
// batch mean, so dL/dY carries a factor 1/N: sample n's share, the sum of its
// terms, is its own gradient dL_n/dθ divided by N, and the batch gradient
// (the one Update uses) is the sum of the shares, the mean of the samples'
// own gradients.
type BatchSum struct {
	N      int
	Shares []float64 // (N) each sample's share
	Total  float64   // Σ Shares, equal to the Value to float64 rounding
}

// Folded is an explanation's terms, largest first, with the small ones
// folded: what a page shows of a long sum.
type Folded struct {
	Top       []Term  // the terms of largest |Product|, largest first (ties in term order)
	Folded    int     // how many terms are not in Top
	FoldedSum float64 // their sum
	Total     float64 // the sum of all terms, Explanation.Sum
}

// Largest returns the k terms of largest |Product| and folds the others.
// k ≤ 0 folds every term.
func (e *Explanation) Largest(k int) Folded {
	order := make([]int, len(e.Terms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		pa, pb := math.Abs(e.Terms[a].Product), math.Abs(e.Terms[b].Product)
		switch {
		case pa > pb:
			return -1
		case pa < pb:
			return 1
		}
		return 0
	})
	k = min(max(k, 0), len(order))
	f := Folded{Folded: len(order) - k, Total: e.Sum}
	for _, i := range order[:k] {
		f.Top = append(f.Top, e.Terms[i])
	}
	for _, i := range order[k:] {
		f.FoldedSum += e.Terms[i].Product
	}
	return f
}

// sumTerms adds the terms' products in order.
func sumTerms(terms []Term) float64 {
	s := 0.0
	for _, t := range terms {
		s += t.Product
	}
	return s
}
