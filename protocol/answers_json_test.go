package protocol

import (
	"encoding/json"
	"math"
	"testing"
)

// The answers' lists as encoding/json writes them without the hand-written
// MarshalJSON of Terms and WalkSteps.
type (
	plainOperand struct {
		Name  string `json:"name"`
		Index []int  `json:"index"`
		Value F64    `json:"value"`
	}
	plainTerm struct {
		A       plainOperand  `json:"a"`
		B       *plainOperand `json:"b"`
		Product F64           `json:"product"`
		Padding bool          `json:"padding"`
		Winner  bool          `json:"winner"`
		Switch  []int         `json:"switch"`
		Rotated []int         `json:"rotated"`
		Dilated []int         `json:"dilated"`
	}
	plainStep struct {
		At       []int `json:"at"`
		Products F64s  `json:"products,omitempty"`
		Sums     F64s  `json:"sums,omitempty"`
		Origin   []int `json:"origin,omitempty"`
		Taps     F64s  `json:"taps,omitempty"`
		Partial  *F64  `json:"partial,omitempty"`
		Value    *F64  `json:"value,omitempty"`
	}
)

// TestAnswersJSON: Terms and WalkSteps write what encoding/json writes for
// the same fields, byte for byte, names with characters to escape included.
func TestAnswersJSON(t *testing.T) {
	names := []string{"X", "f'(X)", "−lr", "1/area", `a"b\c`, "<&>", "tab\tnl\nctl\x01", "bad\xffutf8", "sep\u2028", "δ"}
	var terms Terms
	var plain []plainTerm
	for i, n := range names {
		v := []float64{0.1 + 0.2, -1e-9, math.NaN(), 0, 1e22, math.Inf(1), -2.5, 3, 7e-7, 123456789}[i]
		term := Term{A: Operand{Name: n, Index: []int{i, -1, 2}, Value: F64(v)}, Product: F64(v * 2), Padding: i%2 == 0, Winner: i%3 == 0}
		p := plainTerm{A: plainOperand{Name: n, Index: []int{i, -1, 2}, Value: F64(v)}, Product: F64(v * 2), Padding: i%2 == 0, Winner: i%3 == 0}
		if i%2 == 1 {
			term.B = &Operand{Name: names[len(names)-1-i], Value: F64(-v)}
			p.B = &plainOperand{Name: names[len(names)-1-i], Value: F64(-v)}
			term.Rotated, term.Dilated = []int{1, 2}, []int{3, 4}
			p.Rotated, p.Dilated = []int{1, 2}, []int{3, 4}
		} else {
			term.Switch, p.Switch = []int{0, 5, 6}, []int{0, 5, 6}
		}
		terms, plain = append(terms, term), append(plain, p)
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"terms", terms, plain},
		{"no terms", Terms{}, []plainTerm{}},
		{"nil terms", Terms(nil), []plainTerm(nil)},
	} {
		got, err := json.Marshal(tt.got)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(tt.want)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
		}
	}

	half, nan := F64(0.5), F64(math.NaN())
	steps := WalkSteps{
		{At: []int{0, 1}, Products: []float64{1, 0, -0.25}, Sums: []float64{1, 2, math.Inf(-1)}},
		{At: []int{2, 3}, Origin: []int{2, 3}, Taps: []float64{0, 0.1}, Partial: &half, Value: &nan},
		{At: []int{4, 5}, Origin: []int{4, 5}, Taps: []float64{0, 0}, Partial: new(F64), Value: new(F64)},
	}
	var plainSteps []plainStep
	for _, s := range steps {
		plainSteps = append(plainSteps, plainStep(s))
	}
	got, _ := json.Marshal(steps)
	want, _ := json.Marshal(plainSteps)
	if string(got) != string(want) {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	var back []WalkStep
	if err := json.Unmarshal(got, &back); err != nil || len(back) != 3 || *back[1].Partial != 0.5 || back[1].Value != nil || *back[2].Value != 0 {
		t.Errorf("steps read back %+v, %v", back, err)
	}
}
