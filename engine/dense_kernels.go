package engine

import "fmt"

// The dense layer's fast path: its three sums written as one matrix product
// "C += A·B, each product rounded and then added, p increasing", vectorized
// across the columns of C (independent sums), never across the terms of a
// sum. So every element of C gets the same additions in the same order as in
// dense_ref.go, and the same bits (TestDenseFastSameBits).
//
//	forward  Yᵀ (Out, N) = b + W (Out, In) · Xᵀ (In, N)     p = i
//	dL/dW    (Out, In)  += dYᵀ (Out, N) · X (N, In)         p = n
//	dL/dX    (N, In)     = 0 + dY (N, Out) · W (Out, In)    p = o
//
// The forward pass needs one operand transposed. From 8 samples on, X:
// Yᵀ (Out, NP) = b + W (Out, In) · Xᵀ (In, NP), whose rows of N columns,
// padded to NP (a multiple of the kernels' vectors, denseColumnStep) with
// columns of 0 whose sums are dropped, fill the vectors; Y is then Yᵀ
// transposed (Out·N values). X is transposed denseChunk columns at a time
// and each chunk's terms added before the next is transposed, so that the
// chunk of Xᵀ stays in the L1 cache (each sum still runs in increasing i).
// Below 8 samples, W:
// Y (N, OutP) = b + X · Wᵀ (In, OutP), OutP = Out rounded up to a multiple
// of 4 columns, or of 16 with AVX-512 (the padding columns of Wᵀ stay 0
// and their sums are dropped).

// denseChunk is how many columns of X forwardFast transposes at a time
// (64 × 24 float64 is 12 KiB).
const denseChunk = 64

// forwardFast sets l.Y (N, Out) from l.X (N, In) with denseMul.
func (l *Dense) forwardFast() {
	N, I, O := l.X.Shape[0], l.nIn, l.nOut
	w, b := l.W.Value.Data[:O*I], l.B.Value.Data[:O]
	if N >= 8 {
		step := denseColumnStep()
		np := (N + step - 1) / step * step
		kc := min(I, denseChunk)
		l.xt = grow(l.xt, kc*np)
		l.yt = grow(l.yt, O*np)
		if N != l.xtN || np != l.ldt {
			clear(l.xt) // the padding columns are 0 (only N are written)
			l.xtN, l.ldt = N, np
		}
		for o, v := range b {
			row := l.yt[o*np : (o+1)*np]
			for n := range row {
				row[n] = v
			}
		}
		for i := 0; i < I; i += kc {
			kc = min(kc, I-i)
			transposeDense(N, kc, l.X.Data[i:], I, l.xt, np)
			denseMul(O, np, kc, w[i:], I, 1, l.xt, np, l.yt, np, false)
		}
		transposeDense(O, N, l.yt, np, l.Y.Data, O)
		return
	}
	step := max(denseColumnStep(), 4)
	if step == 8 && O > 8 {
		step = 16 // one row's sums run side by side in denseKern1x16Z
	}
	op := (O + step - 1) / step * step
	if len(l.wt) != I*op {
		l.wt = make([]float64, I*op)
	}
	transposeDense(O, I, w, I, l.wt, op)
	l.yp = grow(l.yp, N*op)
	for n := range N {
		copy(l.yp[n*op:n*op+O], b)
	}
	denseMul(N, op, I, l.X.Data, I, 1, l.wt, op, l.yp, op, false)
	for n := range N {
		copy(l.Y.Data[n*O:(n+1)*O], l.yp[n*op:n*op+O])
	}
}

// grow returns buf resized to n values, reallocated only if too small.
func grow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// transposeDense sets dst[j·ldd + r] = src[r·lds + j] for r < rows, j < cols:
// transposeFast's blocks of 8, 4 and 2 rows, then Go for the rest. It
// panics if a slice is too short.
func transposeDense(rows, cols int, src []float64, lds int, dst []float64, ldd int) {
	if rows < 1 || cols < 1 {
		return
	}
	if lds < cols || ldd < rows || (rows-1)*lds+cols > len(src) || (cols-1)*ldd+rows > len(dst) {
		panic(fmt.Sprintf("transposeDense: %d×%d, strides %d %d, lengths %d %d", rows, cols, lds, ldd, len(src), len(dst)))
	}
	rowsDone, colsDone := transposeFast(rows, cols, src, lds, dst, ldd)
	for r := range rows {
		j0 := colsDone
		if r >= rowsDone {
			j0 = 0
		}
		for j, v := range src[r*lds+j0 : r*lds+cols] {
			dst[(j0+j)*ldd+r] = v
		}
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
// short or k < 1. The assembly kernels do the first n/4·4 columns
// (denseMulFast) and denseMulGo the rest.
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
