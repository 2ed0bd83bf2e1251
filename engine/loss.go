package engine

import "fmt"

// SoftmaxCrossEntropy is the softmax of the logits z (N, K) followed by the
// cross-entropy with integer labels, averaged over the batch:
//
//	p[n,k] = exp(z[n,k]) / Σ_j exp(z[n,j])
//	L      = (1/N) Σ_n (log Σ_j exp(z[n,j]) − z[n,label_n])
//	dL/dz  = (p − onehot(label)) / N
//
// The log-sum-exp subtracts max_j z[n,j] first, so logits of any finite size
// give a finite loss and gradient. exp and log are portableExp and
// portableLog: the same bits on every machine.
type SoftmaxCrossEntropy struct {
	Probs     *Tensor   // (N, K) softmax of the logits of the last Forward
	PerSample []float64 // (N) cross-entropy of each sample
	Labels    []int     // (N) the labels of the last Forward (a copy)
	Loss      float64   // mean of PerSample
	DLogits   *Tensor   // (N, K) dL/dz of the last Backward
}

// Forward computes the softmax and the mean cross-entropy of logits (N, K)
// with labels (N). It panics if logits is not (N, K), len(labels) != N, or
// a label is outside 0 … K−1.
func (l *SoftmaxCrossEntropy) Forward(logits *Tensor, labels []int) float64 {
	if logits == nil || len(logits.Shape) != 2 || logits.Shape[0] < 1 || logits.Shape[1] < 1 || len(logits.Data) != logits.Shape[0]*logits.Shape[1] {
		var s any = "nil"
		if logits != nil {
			s = Shape(logits.Shape)
		}
		panic(fmt.Sprintf("engine: SoftmaxCrossEntropy.Forward: logits %v, want (N,K)", s))
	}
	N, K := logits.Shape[0], logits.Shape[1]
	if len(labels) != N {
		panic(fmt.Sprintf("engine: SoftmaxCrossEntropy.Forward: %d labels for %d samples", len(labels), N))
	}
	for n, c := range labels {
		if c < 0 || c >= K {
			panic(fmt.Sprintf("engine: SoftmaxCrossEntropy.Forward: label %d of sample %d outside 0…%d", c, n, K-1))
		}
	}
	l.Labels = append(l.Labels[:0], labels...)
	l.Probs = batchTensor(l.Probs, N, Shape{K})
	if cap(l.PerSample) < N {
		l.PerSample = make([]float64, N)
	}
	l.PerSample = l.PerSample[:N]
	total := 0.0
	for n := range N {
		z := logits.Data[n*K : (n+1)*K]
		p := l.Probs.Data[n*K : (n+1)*K]
		m := z[0]
		for _, v := range z[1:] {
			m = max(m, v)
		}
		sum := 0.0
		for k, v := range z {
			p[k] = portableExp(v - m)
			sum += p[k]
		}
		for k := range p {
			p[k] /= sum
		}
		// log Σ exp(z) − z[label] = log(sum) + m − z[label]
		l.PerSample[n] = portableLog(sum) - (z[labels[n]] - m)
		total += l.PerSample[n]
	}
	l.Loss = total / float64(N)
	return l.Loss
}

// Backward returns dL/dlogits (N, K) = (softmax − onehot)/N for the last
// Forward. The tensor is owned by the loss and reused.
func (l *SoftmaxCrossEntropy) Backward() *Tensor {
	if l.Probs == nil {
		panic("engine: SoftmaxCrossEntropy.Backward: no Forward before Backward")
	}
	N, K := l.Probs.Shape[0], l.Probs.Shape[1]
	l.DLogits = batchTensor(l.DLogits, N, Shape{K})
	inv := 1 / float64(N)
	for i, p := range l.Probs.Data {
		l.DLogits.Data[i] = p * inv
	}
	for n, c := range l.Labels {
		l.DLogits.Data[n*K+c] -= inv
	}
	return l.DLogits
}
