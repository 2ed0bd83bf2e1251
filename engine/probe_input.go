package engine

import (
	"fmt"
	"math"
	"slices"
)

// SetProbe makes x, an image of the trainer's input shape (C, H, W) in
// row-major order, the probe image with the given label, in place of the
// first test image: the probe trace (TraceOptions.Probe) then shows its own
// forward and backward pass at the current weights. It never takes part in
// an update. x is copied. The probe stays across Reset; ResetProbe returns
// to the data set's image. It returns an error, and changes nothing, if x
// has another size, holds a non-finite value or the label is not a class.
func (t *Trainer) SetProbe(x []float64, label int) error {
	if n := t.in.Size(); len(x) != n {
		return fmt.Errorf("probe image: %d values, the input %v has %d", len(x), t.in, n)
	}
	if label < 0 || label >= t.classes {
		return fmt.Errorf("probe label %d: want 0 … %d", label, t.classes-1)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("probe image: value %d is %v", i, v)
		}
	}
	t.probeInput, t.probeLabel = slices.Clone(x), label
	t.probe = nil // rebuilt with the new image at the next probe trace
	return nil
}

// ResetProbe makes the data set's first test image the probe again.
func (t *Trainer) ResetProbe() {
	t.probeInput, t.probe = nil, nil
}

// ProbeIsOwn reports whether the probe image is one SetProbe gave.
func (t *Trainer) ProbeIsOwn() bool { return t.probeInput != nil }
