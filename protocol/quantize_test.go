package protocol

import (
	"math"
	"math/rand"
	"testing"
)

// quantizeRef is quantize by plain comparisons, one case a range.
func quantizeRef(dst []byte, xs []float64, scale *F32) {
	s := 0.0
	if scale != nil && *scale > 0 {
		s = 127 / float64(*scale)
	}
	for j, v := range xs {
		q := v * s
		switch {
		case q >= 0 && q < 127:
			dst[j] = byte(int8(q + 0.5))
		case q < 0 && q > -127:
			dst[j] = byte(int8(q - 0.5))
		case q >= 127: // the maximum, or +Inf
			dst[j] = 127
		case q <= -127:
			dst[j] = byte(0x81) // −127
		default: // NaN
			dst[j] = 0
		}
	}
}

// TestQuantize: quantize gives the plain comparisons' bytes for values
// across the scale, at and beside every half step, at its ends and
// beyond, ±0, ±Inf and NaN, for a scale, a zero scale and none.
func TestQuantize(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 2, -2, 1.5, -1.5, 1e300, -1e300, 5e-324, -5e-324,
		math.Nextafter(2, 0), math.Nextafter(-2, 0), math.Nextafter(2, 3), math.Nextafter(-2, -3),
		math.Inf(1), math.Inf(-1), math.NaN()}
	for k := -128; k <= 127; k++ { // every half step of a scale of 2
		h := (float64(k) + 0.5) * 2 / 127
		xs = append(xs, h, math.Nextafter(h, 0), math.Nextafter(h, math.Inf(1)), math.Nextafter(h, math.Inf(-1)))
	}
	rng := rand.New(rand.NewSource(1))
	for range 10000 {
		xs = append(xs, rng.NormFloat64()*1.5)
	}
	two, zero := F32(2), F32(0)
	for _, scale := range []*F32{&two, &zero, nil} {
		got, want := make([]byte, len(xs)), make([]byte, len(xs))
		quantize(got, xs, scale)
		quantizeRef(want, xs, scale)
		for i := range xs {
			if got[i] != want[i] {
				t.Fatalf("scale %v: quantize(%v) = %d, want %d", scale, xs[i], int8(got[i]), int8(want[i]))
			}
		}
	}
	got := make([]byte, 7)
	quantize(got, []float64{0, 1, -1, 3, math.Inf(1), math.Inf(-1), math.NaN()}, &two)
	for i, want := range []int8{0, 64, -64, 127, 127, -127, 0} {
		if int8(got[i]) != want {
			t.Errorf("scale 2: value %d gives %d, want %d", i, int8(got[i]), want)
		}
	}
}
