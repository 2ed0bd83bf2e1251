package protocol

import (
	"math"

	"github.com/backpropviz/backpropviz/engine"
)

// Colour-scale statistics: the page draws every map with numbers computed
// here, from the engine's float64 values of a whole tensor (or of one whole
// map of it), never from what a page happens to receive. So one tensor is
// drawn in the same colours on every screen, whichever of its channels are
// on it, and in the same colours while playing (q8) and paused (f32).

// LinPercentile is the percentile of the non-zero magnitudes that a
// symmetric-log scale is linear within: low, so that a sparse gradient
// keeps its magnitudes (a median over mostly zeros would be zero).
const LinPercentile = 0.10

// ClampPercentile is the percentile of the non-zero magnitudes where a
// "clamp" scale saturates (of them, so that a sparse gradient's clamp is
// not 0).
const ClampPercentile = 0.99

// ScaleStats are the percentiles a colour scale needs beyond the extremes,
// over the finite non-zero magnitudes |x| > 0: P99Abs, their 99th
// percentile (the end of a clamped scale), and Lin, their 10th (the linear
// threshold of a symmetric-log scale). Both are 0 when every value is 0.
type ScaleStats struct {
	P99Abs F32 `json:"p99abs"`
	Lin    F32 `json:"lin"`
}

// MapStats are the statistics of one map (a plane of a tensor, see
// planeLen): its finite extremes (null when it has no finite value) and
// its percentiles.
type MapStats struct {
	Min *F32 `json:"min"`
	Max *F32 `json:"max"`
	ScaleStats
}

// FlatMap is a map whose values are all one finite value: a map of zeros is
// dead (no active cell, no gradient), any other shows its constant.
type FlatMap struct {
	Map   int `json:"map"` // index among the maps carried (0 is the first carried channel)
	Value F32 `json:"value"`
}

// tensorStats are the statistics of one tensor and of each of its maps.
type tensorStats struct {
	whole ScaleStats
	maps  []MapStats // nil until asked for
	flat  []FlatMap  // by index in the whole tensor
	plane int        // values per map
}

// planeLen is the number of values of one map of a tensor of shape: the
// last two dimensions of a tensor of rank 3 or more (a feature map, a
// filter's K×K taps), a row of a matrix (a dense layer's weights of one
// class), the whole of a vector.
func planeLen(shape []int) int {
	n := len(shape)
	switch {
	case n >= 3:
		return shape[n-2] * shape[n-1]
	case n == 2:
		return shape[1]
	}
	total := 1
	for _, d := range shape {
		total *= d
	}
	return total
}

// statsCache keeps the statistics of the tensors of the last few traces:
// the frames of one publication (one per distinct subscription) share them.
// It holds the traces themselves, so that a tensor's address is not reused
// while it is a key.
type statsCache struct {
	traces []*engine.Trace
	of     map[*engine.Tensor]*tensorStats
	abs    []float64 // scratch
}

// cacheTraces bounds the traces a cache keeps: the samples of one
// publication.
const cacheTraces = 8

// forget drops every cached trace and its statistics.
func (c *statsCache) forget() {
	clear(c.traces)
	c.traces, c.of = c.traces[:0], nil
}

// use makes tr one of the cached traces, forgetting all once too many.
func (c *statsCache) use(tr *engine.Trace) {
	for _, t := range c.traces {
		if t == tr {
			return
		}
	}
	if len(c.traces) >= cacheTraces || c.of == nil {
		clear(c.traces)
		c.traces = c.traces[:0]
		c.of = map[*engine.Tensor]*tensorStats{}
	}
	c.traces = append(c.traces, tr)
}

// get returns the statistics of t (a tensor of the trace last given to
// use), with those of each map if maps.
func (c *statsCache) get(t *engine.Tensor, maps bool) *tensorStats {
	st := c.of[t]
	if st == nil {
		st = &tensorStats{plane: planeLen(t.Shape)}
		st.whole = c.percentiles(t.Data)
		st.flat = flatMaps(t.Data, st.plane)
		c.of[t] = st
	}
	if maps && st.maps == nil && st.plane > 0 {
		st.maps = make([]MapStats, 0, len(t.Data)/st.plane)
		for o := 0; o+st.plane <= len(t.Data); o += st.plane {
			p := t.Data[o : o+st.plane]
			lo, hi, bad := stats(p)
			ms := MapStats{ScaleStats: c.percentiles(p)}
			if bad < len(p) {
				ms.Min, ms.Max = F32Of(lo), F32Of(hi)
			}
			st.maps = append(st.maps, ms)
		}
	}
	return st
}

// percentiles returns the scale statistics of xs (NaN and ±Inf left out).
// A percentile p of n values is the value a sorted list holds at ⌈p·n⌉ − 1.
func (c *statsCache) percentiles(xs []float64) ScaleStats {
	// the non-zero magnitudes alone: the zeros, the smallest, only shift
	// the ranks (a ReLU's output or a gradient behind one is half zeros)
	abs := c.abs[:0]
	for _, v := range xs {
		if v-v != 0 || v == 0 { // NaN, ±Inf or 0
			continue
		}
		abs = append(abs, math.Abs(v))
	}
	c.abs = abs
	nz := len(abs)
	if nz == 0 {
		return ScaleStats{}
	}
	rank := func(p float64, n int) int { return min(n-1, max(0, int(math.Ceil(p*float64(n)))-1)) }
	p99 := selectKth(abs, rank(ClampPercentile, nz))
	lin := selectKth(abs, rank(LinPercentile, nz))
	return ScaleStats{P99Abs: F32(p99), Lin: F32(lin)}
}

// flatMaps lists the maps of xs (plane values each) whose values are all
// one finite value.
func flatMaps(xs []float64, plane int) []FlatMap {
	if plane <= 0 {
		return nil
	}
	var out []FlatMap
	for k, o := 0, 0; o+plane <= len(xs); k, o = k+1, o+plane {
		v0 := xs[o]
		if v0-v0 != 0 {
			continue
		}
		flat := true
		for _, v := range xs[o+1 : o+plane] {
			if v != v0 {
				flat = false
				break
			}
		}
		if flat {
			out = append(out, FlatMap{Map: k, Value: F32(v0)})
		}
	}
	return out
}

// selectKth returns the k-th smallest of a (0-based), reordering a:
// Hoare's quickselect with a median-of-three pivot, linear time on average.
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for hi > lo {
		mid := int(uint(lo+hi) >> 1)
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// carried returns the flat maps and, if maps, the statistics of the maps
// [from, to) of the tensor (to past the end: all), counted from from.
func (st *tensorStats) carried(from, to int, maps bool) ([]FlatMap, []MapStats) {
	var flat []FlatMap
	for _, fm := range st.flat {
		if fm.Map >= from && fm.Map < to {
			flat = append(flat, FlatMap{Map: fm.Map - from, Value: fm.Value})
		}
	}
	if !maps || st.maps == nil {
		return flat, nil
	}
	to = min(to, len(st.maps))
	from = min(from, to)
	return flat, st.maps[from:to]
}
