package protocol

import (
	"math"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
)

// sortedPercentile is the reference: the value a sorted copy holds at
// ⌈p·n⌉ − 1.
func sortedPercentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, max(0, int(math.Ceil(p*float64(len(s))))-1))]
}

func TestPercentilesMatchSorting(t *testing.T) {
	var c statsCache
	for n := 1; n < 300; n += 7 {
		xs := make([]float64, n)
		var nonzero []float64
		for i := range xs {
			// a sparse gradient: mostly zeros, magnitudes over six decades, both signs
			if i%3 == 0 {
				xs[i] = math.Pow(10, -float64(i%7)) * float64(1-2*(i%2)) * (1 + float64(i)/1000)
			}
			if xs[i] != 0 {
				nonzero = append(nonzero, math.Abs(xs[i]))
			}
		}
		got := c.percentiles(xs)
		var want ScaleStats
		if len(nonzero) > 0 {
			want = ScaleStats{P99Abs: F32(sortedPercentile(nonzero, 0.99)), Lin: F32(sortedPercentile(nonzero, 0.10))}
		}
		if got != want {
			t.Errorf("n=%d: percentiles = %+v, want %+v", n, got, want)
		}
	}
}

func TestSymlogThresholdOfSparseGradient(t *testing.T) {
	// 1000 cells, 990 zeros, ten non-zero magnitudes 1e-6 … 1e-3: the
	// threshold is the smallest of them, not zero (a median would be 0)
	xs := make([]float64, 1000)
	mags := []float64{1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3}
	for k, m := range mags {
		xs[k*97] = m * float64(1-2*(k%2))
	}
	var c statsCache
	got := c.percentiles(xs)
	if got.Lin != F32(1e-6) {
		t.Errorf("Lin of a sparse gradient = %v, want 1e-6", got.Lin)
	}
	if got.P99Abs != F32(1e-3) { // of the non-zero magnitudes: a clamp that is not 0
		t.Errorf("P99Abs = %v, want 1e-3", got.P99Abs)
	}
	zero := c.percentiles(make([]float64, 10))
	if zero != (ScaleStats{}) {
		t.Errorf("percentiles of zeros = %+v, want zeros", zero)
	}
	bad := c.percentiles([]float64{math.NaN(), math.Inf(1), -4})
	if bad.P99Abs != 4 || bad.Lin != 4 {
		t.Errorf("percentiles with NaN and Inf = %+v, want 4, 4", bad)
	}
}

func TestFrameCarriesWholeTensorStats(t *testing.T) {
	// 4 channels of 2×2: channel 1 all zero (dead), channel 3 constant 0.5
	act := &engine.Tensor{Shape: []int{4, 2, 2}, Data: []float64{
		1, 2, 3, 4,
		0, 0, 0, 0,
		-8, 0, 0.25, 6,
		0.5, 0.5, 0.5, 0.5,
	}}
	tr := &engine.Trace{Sample: 0, Index: 1, Layers: []engine.LayerTrace{{Kind: "conv", OutShape: engine.Shape{4, 2, 2}, Output: act,
		Weights: &engine.Tensor{Shape: []int{2, 1, 1, 2}, Data: []float64{0, 0, 0.5, -1}}}}}
	var enc FrameEncoder
	decode := func(sub Subscription, exact bool) *Frame {
		t.Helper()
		b, err := enc.Encode(tr, &sub, FrameMeta{Exact: exact})
		if err != nil {
			t.Fatal(err)
		}
		f, err := DecodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	whole := ScaleStats{P99Abs: 8, Lin: 0.5}
	all := decode(DefaultSubscription(), true)
	cut := decode(Subscription{Layers: []LayerSub{{Layer: 0, Kinds: 1 << 1, From: 2, To: 4}}, MapStats: true}, false)
	for name, f := range map[string]*Frame{"whole f32": all, "channels 2–3 q8": cut} {
		a := f.Tensor(0, KindAct)
		if a == nil || a.Stats == nil || *a.Stats != whole {
			t.Fatalf("%s: act stats %+v, want %+v (the whole tensor's)", name, a.Stats, whole)
		}
	}
	if a := all.Tensor(0, KindAct); !slices.Equal(a.Flat, []FlatMap{{1, 0}, {3, 0.5}}) || a.Maps != nil {
		t.Errorf("whole: flat %v, maps %v, want [{1 0} {3 0.5}] and no maps", a.Flat, a.Maps)
	}
	a := cut.Tensor(0, KindAct)
	if !slices.Equal(a.Flat, []FlatMap{{1, 0.5}}) {
		t.Errorf("channels 2–3: flat %v, want [{1 0.5}] (channel 3 is the second carried)", a.Flat)
	}
	if len(a.Maps) != 2 || *a.Maps[0].Min != -8 || *a.Maps[0].Max != 6 || a.Maps[0].Lin != 0.25 || a.Maps[0].P99Abs != 8 || *a.Maps[1].Min != 0.5 {
		t.Errorf("channels 2–3: maps %+v, want channel 2's (−8 … 6, lin 0.25) and channel 3's", a.Maps)
	}
	if w := all.Tensor(0, KindWeights); w == nil || !slices.Equal(w.Flat, []FlatMap{{0, 0}}) || *w.Stats != (ScaleStats{P99Abs: 1, Lin: 0.5}) {
		t.Errorf("weights: %+v", w)
	}
}

func TestMapStatsInKey(t *testing.T) {
	a, b := DefaultSubscription(), DefaultSubscription()
	b.MapStats = true
	if a.Key() == b.Key() {
		t.Errorf("subscriptions with and without map_stats share the key %q", a.Key())
	}
	yes := true
	sub, err := ParseSubscription(&ClientMsg{Type: TypeSubscribe, MapStats: &yes})
	if err != nil || !sub.MapStats {
		t.Errorf("ParseSubscription(map_stats: true) = %+v, %v", sub, err)
	}
}

// TestStatsOfANewPublication: a trainer's borrowed tensor (the same address)
// holds new values at the next publication, and its frame's statistics are
// the new values', not those cached for the last publication.
func TestStatsOfANewPublication(t *testing.T) {
	w := &engine.Tensor{Shape: []int{1, 1, 1, 2}, Data: []float64{0.5, -1}}
	var enc FrameEncoder
	stats := func(seq uint64) ScaleStats {
		t.Helper()
		tr := &engine.Trace{Layers: []engine.LayerTrace{{Kind: "conv", Weights: w}}}
		sub := DefaultSubscription()
		b, err := enc.Encode(tr, &sub, FrameMeta{Seq: seq, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		f, err := DecodeFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		return *f.Tensor(0, KindWeights).Stats
	}
	if got := stats(1); got.P99Abs != 1 {
		t.Fatalf("first publication: p99abs %v, want 1", got.P99Abs)
	}
	w.Data[1] = -4 // the update changed the trainer's W in place
	if got := stats(2); got.P99Abs != 4 {
		t.Errorf("next publication: p99abs %v, want 4 (the new values')", got.P99Abs)
	}
}
