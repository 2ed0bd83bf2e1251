package engine

import "math"

// The elementary functions the engine computes with: portableExp,
// portableLog and portableTanh, the same bits on every machine.
//
// The standard library's math.Exp, math.Log and math.Tanh are not: amd64
// runs assembly for Exp and Log (and Exp takes another path on a CPU
// without FMA), arm64 runs assembly for Exp and compiles the Go versions
// with fused multiply-adds, so the last bit of a softmax or a tanh differs
// between machines, and with it every later step. The functions below are
// the algorithms of Go's portable versions (src/math/exp.go, log.go,
// tanh.go), accurate to within an ulp, with every product rounded before
// it is added (the explicit float64 conversions), so no compiler fuses one.
//
// Go's versions are Copyright 2009 The Go Authors (BSD-style licence). They
// come from FreeBSD's msun and from Cephes, whose notices follow.
//
// exp and log, from FreeBSD's /usr/src/lib/msun/src/e_exp.c and e_log.c:
//
//	Copyright (C) 2004 (e_exp.c), 1993 (e_log.c) by Sun Microsystems, Inc.
//	All rights reserved.
//	Developed at SunPro, a Sun Microsystems, Inc. business.
//	Permission to use, copy, modify, and distribute this
//	software is freely granted, provided that this notice
//	is preserved.
//
// tanh, from http://netlib.sandia.gov/cephes/cmath/sin.c (Cephes Math
// Library Release 2.8, Copyright 1984, 1987, 1989, 1992, 2000 by Stephen L.
// Moshier), whose readme says: "What you see here may be used freely but it
// comes with no support or guarantee."

// portableExp returns eˣ: +Inf above 709.78…, 0 below −745.13…, NaN for NaN.
//
// With x = k·ln2 + r, |r| ≤ ln2/2 (r kept as hi − lo), eʳ comes from a
// degree-5 polynomial R1 of r² (error below 2⁻⁵⁹) as
// 1 + r + r·R1/(2 − R1), and eˣ = 2ᵏ·eʳ.
func portableExp(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
	)
	switch {
	case math.IsNaN(x):
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(float64(log2e*x) - 0.5)
	case x > 0:
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	return expmulti(hi, lo, k)
}

// expmulti returns eʳ·2ᵏ where r = hi − lo and |r| ≤ ln2/2.
func expmulti(hi, lo float64, k int) float64 {
	const (
		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	r := hi - lo
	t := float64(r * r)
	// c = r − t·(p1 + t·(p2 + t·(p3 + t·(p4 + t·p5)))), product by product
	q := p4 + float64(t*p5)
	q = p3 + float64(t*q)
	q = p2 + float64(t*q)
	q = p1 + float64(t*q)
	c := r - float64(t*q)
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// portableLog returns ln x: NaN for x < 0 or NaN, −Inf for 0, +Inf for +Inf.
//
// With x = 2ᵏ·(1+f), √2/2 < 1+f < √2, and s = f/(2+f), ln(1+f) = 2s + s·R
// where R, a polynomial of s² of degree 7 (error below 2⁻⁵⁸·⁴⁵), is summed
// as t1 + t2 (odd and even terms); ln x = k·ln2 + ln(1+f).
func portableLog(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	// t1 = s2·(l1 + s4·(l3 + s4·(l5 + s4·l7))), t2 = s4·(l2 + s4·(l4 + s4·l6))
	q := l5 + float64(s4*l7)
	q = l3 + float64(s4*q)
	t1 := float64(s2 * (l1 + float64(s4*q)))
	q = l4 + float64(s4*l6)
	t2 := float64(s4 * (l2 + float64(s4*q)))
	R := t1 + t2
	hfsq := float64(0.5 * f * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+R)) + float64(k*ln2Lo))) - f)
}

// portableTanh returns the hyperbolic tangent: ±1 beyond |x| > 44.01…, ±0 for ±0,
// NaN for NaN.
//
// Below |x| = 0.625 it is x + x³·P(x²)/Q(x²) (Cody and Waite), above
// 1 − 2/(e²ˣ + 1).
func portableTanh(x float64) float64 {
	const maxLog = 8.8029691931113054295988e+01 // ln 2¹²⁷
	const (
		p0 = -9.64399179425052238628e-1
		p1 = -9.92877231001918586564e1
		p2 = -1.61468768441708447952e3
		q0 = 1.12811678491632931402e2
		q1 = 2.23548839060100448583e3
		q2 = 4.84406305325125486048e3
	)
	z := math.Abs(x)
	switch {
	case z > 0.5*maxLog:
		if x < 0 {
			return -1
		}
		return 1
	case z >= 0.625:
		s := portableExp(2 * z)
		z = 1 - 2/(s+1)
		if x < 0 {
			z = -z
		}
	default:
		if x == 0 {
			return x
		}
		s := float64(x * x)
		p := float64(p0*s) + p1
		p = float64(p*s) + p2
		q := float64((s+q0)*s) + q1
		q = float64(q*s) + q2
		z = x + x*s*p/q
	}
	return z
}
