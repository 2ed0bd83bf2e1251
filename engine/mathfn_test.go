package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float64) uint64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

func TestPortableMathAccurate(t *testing.T) {
	fns := []struct {
		name      string
		got, want func(float64) float64
		lo, hi    float64
	}{
		{"exp", portableExp, math.Exp, -745, 709}, // amd64's math.Exp overflows early, from 709.4
		{"log", portableLog, math.Log, 0, 1e300},
		{"log near 1", portableLog, math.Log, 0.5, 2},
		{"tanh", portableTanh, math.Tanh, -30, 30},
		{"tanh near 0", portableTanh, math.Tanh, -0.7, 0.7},
	}
	rng := rand.New(rand.NewSource(1))
	for _, f := range fns {
		var worst uint64
		var at float64
		for range 200000 {
			x := f.lo + rng.Float64()*(f.hi-f.lo)
			if f.name == "log" {
				x = math.Exp(rng.Float64()*1380 - 690)
			}
			if d := ulps(f.got(x), f.want(x)); d > worst {
				worst, at = d, x
			}
		}
		// math.Exp and math.Tanh are within an ulp of the true value too,
		// so the two may be 2 apart.
		if worst > 2 {
			t.Errorf("%s(%v) = %v, math gives %v: %d ulps apart", f.name, at, f.got(at), f.want(at), worst)
		}
	}
	special := []struct {
		name      string
		got, want float64
	}{
		{"exp(NaN)", portableExp(math.NaN()), math.NaN()},
		{"exp(+Inf)", portableExp(math.Inf(1)), math.Inf(1)},
		{"exp(-Inf)", portableExp(math.Inf(-1)), 0},
		{"exp(710)", portableExp(710), math.Inf(1)},
		{"exp(0)", portableExp(0), 1},
		{"log(NaN)", portableLog(math.NaN()), math.NaN()},
		{"log(-1)", portableLog(-1), math.NaN()},
		{"log(0)", portableLog(0), math.Inf(-1)},
		{"log(+Inf)", portableLog(math.Inf(1)), math.Inf(1)},
		{"log(1)", portableLog(1), 0},
		{"log(subnormal)", portableLog(5e-324), -744.4400719213812}, // amd64's math.Log gives −709.09
		{"tanh(NaN)", portableTanh(math.NaN()), math.NaN()},
		{"tanh(+Inf)", portableTanh(math.Inf(1)), 1},
		{"tanh(-Inf)", portableTanh(math.Inf(-1)), -1},
		{"tanh(-0)", portableTanh(math.Copysign(0, -1)), math.Copysign(0, -1)},
	}
	for _, s := range special {
		if math.Float64bits(s.got) != math.Float64bits(s.want) && !(math.IsNaN(s.got) && math.IsNaN(s.want)) {
			t.Errorf("%s = %v, want %v", s.name, s.got, s.want)
		}
	}
}

// TestNormFloat64MatchesMathRand: normFloat64 reads rng as
// rand.NormFloat64 does and gives its numbers, but for the last bit of the
// rare draws that go through exp or log.
func TestNormFloat64MatchesMathRand(t *testing.T) {
	a, b := rand.New(rand.NewSource(3)), rand.New(rand.NewSource(3))
	for i := range 300000 {
		got, want := normFloat64(a), b.NormFloat64()
		if ulps(got, want) > 2 {
			t.Fatalf("draw %d: normFloat64 = %v, rand.NormFloat64 = %v", i, got, want)
		}
	}
}

// TestPortableMathBits: portableExp, portableLog, portableTanh and
// normFloat64 give the recorded bits on every machine. A build that fails
// here computes other numbers than amd64 without FMA; a compiler that
// fuses a product the explicit conversions should round is one way (see
// TestNoFusedMultiplyAdd).
func TestPortableMathBits(t *testing.T) {
	const want = "a39227b14728f06a01f92f41b57bbf1e02eaa59caa1564de42188e3f1834a78a"
	h := sha256.New()
	put := func(v float64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	rng := rand.New(rand.NewSource(4))
	for range 100000 {
		x := float64(rng.Float64()*80) - 40 // not fused: the same inputs everywhere
		put(portableExp(x))
		put(portableTanh(x / 8))
		put(portableLog(math.Abs(x) * rng.Float64()))
		put(normFloat64(rng))
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("SHA-256 of the functions' values at the test inputs = %s, want %s", got, want)
	}
}
