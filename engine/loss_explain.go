package engine

import (
	"fmt"
	"math"
	"strings"
)

// Explaining the loss's numbers (see explain.go), from the formulas of
// SoftmaxCrossEntropy, for one sample's logits z (K) with m = max_j z[j]:
//
//	p[k]      = exp(z[k] − m) / S,  S = Σ_j exp(z[j] − m)
//	loss      = log S − (z[label] − m)
//	batchloss = (1/N) Σ_n loss_n
//	dL/dz[k]  = (p[k] − onehot(label)[k]) / N

var lossTensors = []string{TensorLoss, TensorBatchLoss, TensorProb, TensorDLogit}

// explainLoss answers loss, batchloss, p and dz.
func (v *view) explainLoss(tensor string, idx []int) (Explanation, error) {
	t := v.t
	L := len(t.layers)
	K := t.layers[L-1].OutShape()[0]
	var shape []int
	switch tensor {
	case TensorLoss, TensorBatchLoss, TensorProb:
		if tensor == TensorProb {
			shape = []int{K}
		}
		if !v.lossDone() {
			return Explanation{}, t.notYet(tensor+" of the loss", Phase{PhaseLoss, -1})
		}
	case TensorDLogit:
		shape = []int{K}
		if !v.backwardDone(L - 1) {
			return Explanation{}, t.notYet("dz of the loss", Phase{PhaseBackward, L - 1})
		}
	default:
		return Explanation{}, fmt.Errorf("tensor %q of the loss: want one of %s", tensor, strings.Join(lossTensors, ", "))
	}
	if err := checkIndex(tensor+" of the loss", idx, shape); err != nil {
		return Explanation{}, err
	}
	e := Explanation{Layer: LossLayer, Name: "loss", Tensor: tensor, Index: append([]int{}, idx...)}
	loss := &v.src.loss
	label := loss.Labels[v.n]
	z := v.of(v.src.outs[L-1])
	m := z[0]
	for _, zj := range z[1:] {
		m = max(m, zj)
	}
	s := 0.0
	exps := make([]Quantity, K)
	for j, zj := range z {
		ej := math.Exp(zj - m)
		s += ej
		exps[j] = Quantity{Name: fmt.Sprintf("exp(z[%d] − m)", j), Formula: fmt.Sprintf("exp(z[%d] − m)", j),
			Args: []Arg{{Name: fmt.Sprintf("z[%d]", j), Value: zj}, {Name: "m", Value: m}}, Value: ej}
	}
	mLine := Quantity{Name: "m", Formula: "max_j z[j]", Value: m}
	sLine := Quantity{Name: "S", Formula: "Σ_j exp(z[j] − m)", Value: s}
	N := v.src.x.Shape[0]
	inv := 1 / float64(N)
	switch tensor {
	case TensorLoss:
		e.Value = loss.PerSample[v.n]
		e.Formula = fmt.Sprintf("loss = log Σ_j exp(z[j]) − z[%d] = log S − (z[%d] − m)", label, label)
		e.Lines = append(append([]Quantity{mLine}, exps...), sLine)
		e.Terms = []Term{
			{A: Operand{Name: "log S", Value: math.Log(s)}, Product: math.Log(s)},
			{A: Operand{Name: "−(z[label] − m)", Index: []int{label}, Value: -(z[label] - m)}, Product: -(z[label] - m)},
		}
		e.Note = fmt.Sprintf("The label is %d. Subtracting m = max z keeps exp from overflowing and does not change the loss.", label)
	case TensorBatchLoss:
		b := &t.loss
		e.Value = t.batchLoss
		e.Formula = "batchloss = (1/N) Σ_n loss_n"
		invN := 1 / float64(len(b.PerSample))
		for n, ln := range b.PerSample {
			e.Terms = append(e.Terms, Term{A: Operand{Name: "loss", Index: []int{n}, Value: ln}, B: Operand{Name: "1/N", Value: invN}, Product: ln * invN})
		}
		if v.probe {
			e.Note = "The batch's mean loss: the probe image is not in the batch."
		}
	case TensorProb:
		k := idx[0]
		e.Value = v.of(loss.Probs)[k]
		e.Formula = fmt.Sprintf("p[%d] = exp(z[%d] − m) / S", k, k)
		e.Lines = []Quantity{mLine, exps[k], sLine}
		e.Terms = []Term{{A: Operand{Name: fmt.Sprintf("exp(z[%d] − m)", k), Index: []int{k}, Value: exps[k].Value},
			B: Operand{Name: "1/S", Value: 1 / s}, Product: exps[k].Value / s}}
	case TensorDLogit:
		k := idx[0]
		e.Value = v.of(v.src.gradOuts[L-1])[k]
		p := v.of(loss.Probs)[k]
		e.Formula = fmt.Sprintf("dL/dz[%d] = (p[%d] − onehot(%d)[%d]) / N, N = %d", k, k, label, k, N)
		e.Terms = []Term{{A: Operand{Name: "p", Index: []int{k}, Value: p}, B: Operand{Name: "1/N", Value: inv}, Product: p * inv}}
		if k == label {
			e.Terms = append(e.Terms, Term{A: Operand{Name: "−onehot", Index: []int{k}, Value: -1}, B: Operand{Name: "1/N", Value: inv}, Product: -inv})
		}
		e.Note = fmt.Sprintf("The label is %d. The loss is the mean over the batch of %d, hence the 1/N.", label, N)
		if v.probe {
			e.Note = fmt.Sprintf("The label is %d. The probe's own pass is a batch of one: N = 1.", label)
		}
	}
	return e, nil
}
