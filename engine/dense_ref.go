package engine

// The reference loops of the dense layer: the plainest statement of its
// sums, and their order, that the kernels of dense_kernels.go must match bit
// for bit (TestDenseFastSameBits). Forward and Backward run them when the
// CPU has no kernels.
//
//	Y[n,o]     = b[o] + W[o,0]·X[n,0] + W[o,1]·X[n,1] + …     i increasing
//	dL/dW[o,i] = Grad + dY[0,o]·X[0,i] + dY[1,o]·X[1,i] + …  n increasing
//	dL/db[o]   = Grad + dY[0,o] + dY[1,o] + …                n increasing
//	dL/dX[n,i] = 0 + dY[n,0]·W[0,i] + dY[n,1]·W[1,i] + …     o increasing
//
// each product rounded before it is added (float64(a*b) is never fused).

// forwardRef sets l.Y (N, Out) from l.X (N, In).
func (l *Dense) forwardRef() {
	x := l.X
	N, I, O := x.Shape[0], l.nIn, l.nOut
	w, b := l.W.Value.Data[:O*I], l.B.Value.Data[:O]
	for n := range N {
		xn := x.Data[n*I : (n+1)*I]
		yn := l.Y.Data[n*O : (n+1)*O]
		for o := range O {
			wo := w[o*I : (o+1)*I]
			wo = wo[:len(xn)]
			s := b[o]
			for i, v := range xn {
				s += float64(wo[i] * v)
			}
			yn[o] = s
		}
	}
}

// backwardRef adds dL/dW and dL/db into the Grads and sets l.DX (N, In)
// from dy (N, Out) and l.X.
func (l *Dense) backwardRef(dy *Tensor) {
	N, I, O := l.X.Shape[0], l.nIn, l.nOut
	clear(l.DX.Data)
	w, gw, gb := l.W.Value.Data[:O*I], l.W.Grad.Data[:O*I], l.B.Grad.Data[:O]
	for n := range N {
		xn := l.X.Data[n*I : (n+1)*I]
		dxn := l.DX.Data[n*I : (n+1)*I]
		for o, g := range dy.Data[n*O : (n+1)*O] {
			gb[o] += g
			axpy1(g, xn, gw[o*I:(o+1)*I])
			axpy1(g, w[o*I:(o+1)*I], dxn)
		}
	}
}
