package engine

// ProbeImage writes the probe image into dst (C·H·W values of the input
// shape, normalised as the network reads them) and returns it with its
// label: the image SetProbe gave, or the data set's first test image (the
// first training image if there is no test set), as the probe trace uses.
// dst is grown if it is too short.
func (t *Trainer) ProbeImage(dst []float64) ([]float64, int) {
	n := t.in.Size()
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	if t.probeInput != nil {
		copy(dst, t.probeInput)
		return dst, t.probeLabel
	}
	set := t.data.Test
	if set == nil || set.Len() == 0 {
		set = t.data.Train
	}
	return dst, set.Image(0, dst)
}
