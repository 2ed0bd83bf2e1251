package engine

import (
	"math"
	"slices"
)

// Metrics are the trainer's running numbers.
type Metrics struct {
	Step        int
	Epoch       int
	SamplesSeen int
	LastLoss    float64 // mean loss of the last completed optimizer step; NaN before the first
	// BatchLoss is the current step's batch loss once its Loss phase has
	// run (until the next step starts); NaN before it.
	BatchLoss   float64
	TrainAcc    float64 // running training accuracy over the last 500 samples; NaN before the first step
	TestAcc     float64 // last measured test accuracy; NaN if never measured
	TestAccStep int     // the step at which TestAcc was measured
}

// trainAccWindow is how many recent samples the running training accuracy
// covers.
const trainAccWindow = 500

// runningMetrics keeps what Metrics reports beyond the step counters: the
// last batch's loss, a window of recent training predictions and the last
// test accuracy.
type runningMetrics struct {
	lastLoss    float64
	correct     []bool // ring of recent training predictions, at most trainAccWindow
	correctPos  int    // the oldest entry of a full ring
	testAcc     float64
	testAccStep int
}

// reset forgets everything (the state before the first step).
func (m *runningMetrics) reset() {
	m.lastLoss = math.NaN()
	m.correct, m.correctPos = m.correct[:0], 0
	m.testAcc, m.testAccStep = math.NaN(), 0
}

// recordBatch takes a completed step's mean loss and, for every sample of
// the batch, whether the class of highest probability (probs (N, K)) is its
// label (N).
func (m *runningMetrics) recordBatch(loss float64, probs *Tensor, labels []int) {
	m.lastLoss = loss
	k := probs.Shape[1]
	for i, label := range labels {
		hit := argmax(probs.Data[i*k:(i+1)*k]) == label
		if len(m.correct) < trainAccWindow {
			m.correct = append(m.correct, hit)
		} else {
			m.correct[m.correctPos] = hit
			m.correctPos = (m.correctPos + 1) % trainAccWindow
		}
	}
}

// recordTest takes a test accuracy measured at step.
func (m *runningMetrics) recordTest(acc float64, step int) {
	m.testAcc, m.testAccStep = acc, step
}

// clone returns an independent copy.
func (m *runningMetrics) clone() runningMetrics {
	c := *m
	c.correct = slices.Clone(m.correct)
	return c
}

// trainAcc is the fraction of hits in the window, NaN when it is empty.
func (m *runningMetrics) trainAcc() float64 {
	if len(m.correct) == 0 {
		return math.NaN()
	}
	hits := 0
	for _, c := range m.correct {
		if c {
			hits++
		}
	}
	return float64(hits) / float64(len(m.correct))
}

// Metrics returns the running numbers.
func (t *Trainer) Metrics() Metrics {
	m := &t.metrics
	bl := math.NaN()
	if t.progress > len(t.layers) {
		bl = t.batchLoss
	}
	return Metrics{Step: t.step, Epoch: t.epoch, SamplesSeen: t.samples, LastLoss: m.lastLoss, BatchLoss: bl,
		TrainAcc: m.trainAcc(), TestAcc: m.testAcc, TestAccStep: m.testAccStep}
}

// argmax is the index of the largest of xs, the first on a tie.
func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
