package engine

import (
	"math"
	"strings"
	"testing"
)

func TestSoftmaxCrossEntropyValues(t *testing.T) {
	tests := []struct {
		name   string
		logits []float64
		k      int
		labels []int
		loss   float64
		dz     []float64
	}{
		{"uniform", []float64{0, 0, 0, 0}, 4, []int{2}, math.Log(4), []float64{0.25, 0.25, -0.75, 0.25}},
		{"shift invariant at ±1000", []float64{1000, 1000, -1000, -1000}, 2, []int{0, 1},
			(math.Log(2) + math.Log(2)) / 2, []float64{-0.25, 0.25, 0.25, -0.25}},
		{"confident and wrong", []float64{1000, -1000}, 2, []int{1}, 2000, []float64{1, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l SoftmaxCrossEntropy
			n := len(tc.logits) / tc.k
			got := l.Forward(&Tensor{Shape: []int{n, tc.k}, Data: tc.logits}, tc.labels)
			if math.Abs(got-tc.loss) > 1e-12*math.Max(1, tc.loss) {
				t.Errorf("loss = %v, want %v", got, tc.loss)
			}
			g := l.Backward()
			for i, w := range tc.dz {
				if math.Abs(g.Data[i]-w) > 1e-12 || math.IsNaN(g.Data[i]) {
					t.Errorf("dL/dz[%d] = %v, want %v", i, g.Data[i], w)
				}
			}
			for i := range n {
				s := 0.0
				for _, p := range l.Probs.Data[i*tc.k : (i+1)*tc.k] {
					s += p
				}
				if math.Abs(s-1) > 1e-15 {
					t.Errorf("probs of sample %d sum to %v", i, s)
				}
			}
		})
	}
}

func TestSoftmaxCrossEntropyPanics(t *testing.T) {
	tests := []struct {
		labels []int
		want   string
	}{
		{[]int{3}, "engine: SoftmaxCrossEntropy.Forward: label 3 of sample 0 outside 0…2"},
		{[]int{-1}, "engine: SoftmaxCrossEntropy.Forward: label -1"},
		{[]int{0, 1}, "engine: SoftmaxCrossEntropy.Forward: 2 labels for 1 samples"},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				r, _ := recover().(string)
				if !strings.HasPrefix(r, tc.want) {
					t.Errorf("labels %v: panic %q, want %q", tc.labels, r, tc.want)
				}
			}()
			var l SoftmaxCrossEntropy
			l.Forward(NewTensor(1, 3), tc.labels)
		}()
	}
}
