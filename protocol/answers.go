package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The answers to questions (see explain.go). Field order is the order on
// the wire; the numbers are the engine's float64 (F64, F64s).

// Explanation answers an explain message: Value is the number the trace
// holds; the terms add up to Sum (equal to Value to float64 rounding).
type Explanation struct {
	Type string          `json:"type"` // TypeExplanation
	V    int             `json:"v"`
	ID   json.RawMessage `json:"id,omitempty"`
	// The number explained: for dY of layer i, the stage that computed it,
	// dX of layer i+1 (or dz of the loss).
	Layer  int    `json:"layer"`
	Name   string `json:"name"` // e.g. "conv 2", "loss"
	Tensor string `json:"tensor"`
	Index  []int  `json:"index"`
	Sample int    `json:"sample"` // −1 for the probe
	Probe  bool   `json:"probe"`
	Step   int    `json:"step"` // the optimizer step the trainer is at
	Done   *Phase `json:"done"` // the last phase run (null before the first of a step)
	Value  F64    `json:"value"`
	Sum    F64    `json:"sum"` // Σ of all the terms' products, in order
	// Formula with this number's indices, e.g. "Y[2,5,7] = b[2] + Σ_c,ky,kx …".
	Formula string `json:"formula"`
	Note    string `json:"note"`
	// Terms: all of them in the engine's order when TermsTotal ≤ the
	// request's limit (Folded is then 0); else the limit largest by
	// |product|, largest first, and Folded more whose sum is FoldedSum.
	Terms      Terms      `json:"terms"`
	TermsTotal int        `json:"terms_total"`
	Folded     int        `json:"folded"`
	FoldedSum  F64        `json:"folded_sum"`
	Lines      []Quantity `json:"lines"` // intermediate quantities, in order
	Window     *Window    `json:"window"`
	Batch      *BatchSum  `json:"batch"`  // dW, db: each sample's share
	Update     *Update    `json:"update"` // updateW, updateb: the optimizer's step
}

// Term is one addend: A·B, or A alone when B is null.
type Term struct {
	A       Operand  `json:"a"`
	B       *Operand `json:"b"`
	Product F64      `json:"product"` // what the term adds: 0 for a cell that takes no part
	Padding bool     `json:"padding"` // A is a cell of the zero padding
	Winner  bool     `json:"winner"`  // max pooling: A won its window
	Switch  []int    `json:"switch"`  // max-pool dX: the input cell (c, iy, ix) that won A's window
	Rotated []int    `json:"rotated"` // conv dX: B's tap (u, v) in the filter rotated by 180°
	Dilated []int    `json:"dilated"` // conv dX: A's cell (row, col) in δ dilated and padded
}

// Operand is one factor of a term: a tensor's cell ("X", "W", "b", "dY",
// "p", "loss") or a factor ("1/area", "f'(X)", "1/N", "−lr").
type Operand struct {
	Name  string `json:"name"`
	Index []int  `json:"index"` // null for a scalar
	Value F64    `json:"value"`
}

// Quantity is an intermediate value: Name = Formula = Value, with the
// numbers its formula uses in Args.
type Quantity struct {
	Name    string `json:"name"`
	Formula string `json:"formula"`
	Args    []Arg  `json:"args"`
	Value   F64    `json:"value"`
}

// Arg is a named number of a Quantity's formula.
type Arg struct {
	Name  string `json:"name"`
	Value F64    `json:"value"`
}

// Window is the geometry of a conv or pool layer for the asked cell.
type Window struct {
	KH     int `json:"kh"`
	KW     int `json:"kw"`
	Stride int `json:"stride"`
	Pad    int `json:"pad"`
	InH    int `json:"in_h"`
	InW    int `json:"in_w"`
	OutH   int `json:"out_h"`
	OutW   int `json:"out_w"`
	// Origin: for Y and dW the input cell (row, col) under the top-left
	// tap (negative in the padding); for conv dX the cell of the dilated
	// plane.
	Origin []int `json:"origin"`
	PlaneH int   `json:"plane_h"` // conv dX: δ dilated by the stride and padded by KH−1−P (0 otherwise)
	PlaneW int   `json:"plane_w"`
}

// BatchSum is how a batch gradient adds up from the samples' shares.
type BatchSum struct {
	N      int  `json:"n"`
	Shares F64s `json:"shares"` // (N)
	Total  F64  `json:"total"`
}

// Update is the optimizer's step on one parameter value (engine.UpdateDetail).
type Update struct {
	Optimizer    string `json:"optimizer"`
	Before       F64    `json:"before"`
	After        F64    `json:"after"`
	Delta        F64    `json:"delta"`
	Grad         F64    `json:"grad"`
	WeightDecay  F64    `json:"weight_decay"`
	G            F64    `json:"g"`
	LearningRate F64    `json:"learning_rate"`
	Flushed      bool   `json:"flushed"`
	// SGD
	Momentum  F64  `json:"momentum"`
	Nesterov  bool `json:"nesterov"`
	First     bool `json:"first"`
	BufBefore F64  `json:"buf_before"`
	BufAfter  F64  `json:"buf_after"`
	Direction F64  `json:"direction"`
	// Adam
	Beta1           F64 `json:"beta1"`
	Beta2           F64 `json:"beta2"`
	Epsilon         F64 `json:"epsilon"`
	Step            int `json:"step"`
	MBefore         F64 `json:"m_before"`
	MAfter          F64 `json:"m_after"`
	VBefore         F64 `json:"v_before"`
	VAfter          F64 `json:"v_after"`
	BiasCorrection1 F64 `json:"bias_correction1"`
	BiasCorrection2 F64 `json:"bias_correction2"`
	Denom           F64 `json:"denom"`
	// Any other optimizer: its state buffers.
	State []StateChange `json:"state"`
}

// StateChange is one optimizer state buffer's value before and after.
type StateChange struct {
	Name   string `json:"name"`
	Before F64    `json:"before"`
	After  F64    `json:"after"`
}

// Walkthrough answers a walk message: the backward convolution of one
// filter f and input channel c of a conv layer, step by step, for one
// sample. X (InH·InW) is the input plane X[c], Delta (OutH·OutW) is
// δ[f] = dL/dY[f], W (KH·KW) is W[f,c], all row-major.
//
// Grad "dW": Steps go over the output cells (y, x) in row-major order; each
// has the KH·KW Products X[c, y·S+ky−P, x·S+kx−P]·δ[f,y,x] (0 on the
// padding) and the running Sums; Result (KH·KW) is the last Sums, this
// sample's share of dL/dW[f,c].
//
// Grad "dX": Dilated (DilatedH·DilatedW) is δ[f] dilated by the stride and
// zero-padded by KH−1−P rows and KW−1−P columns; Steps go over the input
// cells (i, j) in row-major order, each with the Origin of the rotated
// filter in Dilated, its KH·KW Taps rot180(W)[u,v]·Dilated[row+u, col+v],
// their sum Partial (filter f's share) and Value, dL/dX[c,i,j] summed over
// every filter; Result (InH·InW) is dL/dX[c].
type Walkthrough struct {
	Type     string          `json:"type"` // TypeWalkthrough
	V        int             `json:"v"`
	ID       json.RawMessage `json:"id,omitempty"`
	Layer    int             `json:"layer"`
	Name     string          `json:"name"`
	Grad     string          `json:"grad"`
	Filter   int             `json:"filter"`
	Channel  int             `json:"channel"`
	Sample   int             `json:"sample"` // −1 for the probe
	Probe    bool            `json:"probe"`
	Step     int             `json:"step"`
	Done     *Phase          `json:"done"`
	Stride   int             `json:"stride"`
	Pad      int             `json:"pad"`
	KH       int             `json:"kh"`
	KW       int             `json:"kw"`
	InH      int             `json:"in_h"`
	InW      int             `json:"in_w"`
	OutH     int             `json:"out_h"`
	OutW     int             `json:"out_w"`
	X        F64s            `json:"x"`
	Delta    F64s            `json:"delta"`
	W        F64s            `json:"w"`
	DilatedH int             `json:"dilated_h,omitempty"` // dX only
	DilatedW int             `json:"dilated_w,omitempty"`
	Dilated  F64s            `json:"dilated,omitempty"`
	Steps    WalkSteps       `json:"steps"`
	Result   F64s            `json:"result"`
}

// WalkStep is one step of a Walkthrough: Products and Sums for dW; Origin,
// Taps, Partial and Value for dX.
type WalkStep struct {
	At       []int `json:"at"` // (y, x) for dW, (i, j) for dX
	Products F64s  `json:"products,omitempty"`
	Sums     F64s  `json:"sums,omitempty"`
	Origin   []int `json:"origin,omitempty"`
	Taps     F64s  `json:"taps,omitempty"`
	Partial  *F64  `json:"partial,omitempty"` // null (not finite) reads as nil
	Value    *F64  `json:"value,omitempty"`
}

// GradCheck answers a gradcheck message (engine.GradCheckResult): the
// central difference (LossPlus − LossMinus)/(2h) of the batch's mean loss
// against backprop's gradient.
type GradCheck struct {
	Type      string          `json:"type"` // TypeGradCheck
	V         int             `json:"v"`
	ID        json.RawMessage `json:"id,omitempty"`
	Layer     int             `json:"layer"`
	Name      string          `json:"name"`
	Param     string          `json:"param"`
	Index     []int           `json:"index"`
	Step      int             `json:"step"`
	Done      *Phase          `json:"done"`
	H         F64             `json:"h"`
	Weight    F64             `json:"weight"`
	Loss      F64             `json:"loss"`
	LossPlus  F64             `json:"loss_plus"`
	LossMinus F64             `json:"loss_minus"`
	Numeric   F64             `json:"numeric"`
	Backprop  F64             `json:"backprop"`
	RelError  F64             `json:"rel_error"`
	// Kinks: layers whose non-differentiable choices changed at w ± h;
	// the difference then need not match. Empty when none.
	Kinks []Kink `json:"kinks"`
}

// Kink is a layer whose choices (a ReLU's mask, max-pool switches) differ
// at w − h (Minus cells) or w + h (Plus cells) from those at w.
type Kink struct {
	Layer int    `json:"layer"`
	Name  string `json:"name"`
	What  string `json:"what"`
	Minus int    `json:"minus"`
	Plus  int    `json:"plus"`
}

// Look is the owner's look message as every page of the session receives
// it (and, with an id, as the owner sends it).
type Look struct {
	Type   string          `json:"type"` // TypeLook
	V      int             `json:"v"`
	ID     json.RawMessage `json:"id,omitempty"`
	Layer  int             `json:"layer"`
	Tensor string          `json:"tensor"`
	Index  []int           `json:"index"`
}

// F64 is a number carried with full float64 precision (the shortest
// decimal that reads back as the same float64); NaN and ±Inf are written
// as null, which reads back as NaN.
type F64 float64

// MarshalJSON implements json.Marshaler.
func (f F64) MarshalJSON() ([]byte, error) { return appendF64(nil, float64(f)), nil }

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (f *F64) UnmarshalJSON(b []byte) error {
	v, err := parseF64(b)
	*f = F64(v)
	return err
}

// F64s is a list of F64, written as one JSON array.
type F64s []float64

// MarshalJSON implements json.Marshaler.
func (s F64s) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+len(s)*20)
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendF64(b, v)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON implements json.Unmarshaler; null items read as NaN.
func (s *F64s) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(F64s, len(raw))
	for i, r := range raw {
		v, err := parseF64(r)
		if err != nil {
			return err
		}
		out[i] = v
	}
	*s = out
	return nil
}

// appendF64 writes v as encoding/json writes a float64 (the shortest
// decimal, exponent form below 1e-6 and from 1e21), or null.
func appendF64(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func parseF64(b []byte) (float64, error) {
	if string(b) == "null" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, fmt.Errorf("number %.40s: %w", b, err)
	}
	return v, nil
}
