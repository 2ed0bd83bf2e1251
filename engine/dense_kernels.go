package engine

import "fmt"

// The dense layer's fast path: its three sums written as one matrix product
// "C += A·B, each product rounded and then added, p increasing", vectorized
// across the columns of C (independent sums), never across the terms of a
// sum. So every element of C gets the same additions in the same order as in
// dense_ref.go, and the same bits (TestDenseFastSameBits).
//
//	forward  Y (N, OutP) = b + X (N, In) · Wᵀ (In, OutP)    p = i
//	dL/dW    (Out, In)  += dYᵀ (Out, N) · X (N, In)         p = n
//	dL/dX    (N, In)     = 0 + dY (N, Out) · W (Out, In)    p = o
//
// The forward pass needs one operand transposed: W (Out·In values, whatever
// the batch size), into l.wt with OutP = Out rounded up to a multiple of 4
// columns (the padding columns stay 0 and their sums are dropped), so that
// the kernels' blocks of 4 and 8 columns cover all of Y.

// forwardFast sets l.Y (N, Out) from l.X (N, In) with denseMul.
func (l *Dense) forwardFast() {
	N, I, O := l.X.Shape[0], l.nIn, l.nOut
	op := (O + 3) &^ 3
	if len(l.wt) != I*op {
		l.wt = make([]float64, I*op)
	}
	w := l.W.Value.Data[:O*I]
	for o := range O {
		transposeColumn(l.wt, op, o, w[o*I:(o+1)*I])
	}
	if cap(l.yp) < N*op {
		l.yp = make([]float64, N*op)
	}
	yp := l.yp[:N*op]
	b := l.B.Value.Data[:O]
	for n := range N {
		copy(yp[n*op:n*op+O], b)
	}
	denseMul(N, op, I, l.X.Data, I, 1, l.wt, op, yp, op, false)
	for n := range N {
		copy(l.Y.Data[n*O:(n+1)*O], yp[n*op:n*op+O])
	}
}

// transposeColumn sets column o of wt (len(w), ld) to w.
func transposeColumn(wt []float64, ld, o int, w []float64) {
	if len(w) == 0 {
		return
	}
	_ = wt[(len(w)-1)*ld+o]
	for i, v := range w {
		wt[i*ld+o] = v
	}
}

// backwardFast adds dL/dW and dL/db into the Grads and sets l.DX (N, In)
// from dy (N, Out) and l.X with denseMul.
func (l *Dense) backwardFast(dy *Tensor) {
	N, I, O := l.X.Shape[0], l.nIn, l.nOut
	gb := l.B.Grad.Data[:O]
	for n := range N {
		for o, g := range dy.Data[n*O : (n+1)*O] {
			gb[o] += g
		}
	}
	denseMul(O, I, N, dy.Data, 1, O, l.X.Data, I, l.W.Grad.Data, I, false)
	denseMul(N, I, O, dy.Data, O, 1, l.W.Value.Data, I, l.DX.Data, I, true)
}

// denseMul sets, for r < m and j < n,
//
//	C[r,j] = C[r,j] + A[r,0]·B[0,j] + A[r,1]·B[1,j] + … + A[r,k−1]·B[k−1,j]
//
// left to right, each product rounded before it is added, starting from +0
// instead of C[r,j] if zero. A[r,p] is a[r·ars + p·aps] (so A or its
// transpose may be a row-major matrix), B[p,j] is b[p·ldb + j] and C[r,j]
// is c[r·ldc + j]. C must not overlap A or B. It panics if a slice is too
// short or k < 1. The assembly kernels do the first columns, in blocks of 4
// and 8, and denseMulGo the rest.
func denseMul(m, n, k int, a []float64, ars, aps int, b []float64, ldb int, c []float64, ldc int, zero bool) {
	if m < 1 || n < 1 {
		return
	}
	if k < 1 || ars < 0 || aps < 0 || ldb < n || ldc < n ||
		(m-1)*ars+(k-1)*aps >= len(a) || (k-1)*ldb+n > len(b) || (m-1)*ldc+n > len(c) {
		panic(fmt.Sprintf("denseMul: m %d n %d k %d, strides %d %d %d %d, lengths %d %d %d", m, n, k, ars, aps, ldb, ldc, len(a), len(b), len(c)))
	}
	cols := denseMulFast(m, n, k, a, ars, aps, b, ldb, c, ldc, zero)
	if cols < n {
		denseMulGo(m, n-cols, k, a, ars, aps, b[cols:], ldb, c[cols:], ldc, zero)
	}
}

// denseMulGo is denseMul in Go, for the columns the kernels leave and for
// the tests.
func denseMulGo(m, n, k int, a []float64, ars, aps int, b []float64, ldb int, c []float64, ldc int, zero bool) {
	for r := range m {
		cr := c[r*ldc : r*ldc+n]
		for j := range cr {
			s := cr[j]
			if zero {
				s = 0
			}
			for p := range k {
				s += float64(a[r*ars+p*aps] * b[p*ldb+j])
			}
			cr[j] = s
		}
	}
}
