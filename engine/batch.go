package engine

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
)

// The batches the steps read: the data order, an epoch at a time, or a
// batch given by SetBatch. The package documentation describes the order.

// givenBatch is a batch handed to SetBatch for the next step.
type givenBatch struct {
	x      []float64 // (N, C, H, W)
	labels []int     // (N)
}

// SetBatch makes the next step train on the given batch instead of the next
// one of the data order: x holds N images in row-major (N, C, H, W) order,
// labels their N labels. That step runs phase by phase (StepPhase) or whole
// (StepBatch) as any other and counts in the step counter, the samples seen
// and the metrics, but the data order does not move: the step after it
// reads the batch the order was at. The trace gives its samples Index −1.
//
// A step in progress finishes on its own batch; the next one takes the
// given batch. Reset forgets a batch not yet used, and Save and Clone do not
// carry it. SetBatch returns an error, and changes nothing, when x does not
// hold N images of the input shape, N is 0 or beyond MaxBatchSize or the
// step cost limits, or a label is outside 0 … K−1. The values are copied;
// a non-finite one stops the step as one in the data would.
func (t *Trainer) SetBatch(x []float64, labels []int) error {
	n, per := len(labels), t.in.Size()
	switch {
	case n == 0:
		return errors.New("set batch: no labels, want one per image")
	case n > MaxBatchSize:
		return fmt.Errorf("set batch: %d images, at most %d", n, MaxBatchSize)
	case len(x) != n*per:
		return fmt.Errorf("set batch: %d values for %d images of %v, want %d", len(x), n, t.in, n*per)
	}
	for i, l := range labels {
		if l < 0 || l >= t.classes {
			return fmt.Errorf("set batch: label %d of image %d outside 0 … %d", l, i, t.classes-1)
		}
	}
	if err := t.checkBatch(n); err != nil {
		return fmt.Errorf("set batch: %w", err)
	}
	t.given = &givenBatch{x: slices.Clone(x), labels: slices.Clone(labels)}
	return nil
}

// EpochOrder returns the indices of the training set in the order epoch e
// (0, 1, …) visits them; see the package documentation.
func (t *Trainer) EpochOrder(e int) []int {
	perm := t.epochPerm(e, nil)
	order := make([]int, len(perm))
	for i, v := range perm {
		order[i] = int(v)
	}
	return order
}

// loadBatch fills the batch x, labels and batchIdx: the batch SetBatch gave,
// or the next BatchSize samples of the data order (fewer at the end of an
// epoch).
func (t *Trainer) loadBatch() {
	per := t.in.Size()
	t.batchIdx, t.labels = t.batchIdx[:0], t.labels[:0]
	if g := t.given; g != nil {
		t.given, t.batchGiven = nil, true
		n := len(g.labels)
		for range n {
			t.batchIdx = append(t.batchIdx, -1)
		}
		t.xShape = append(append(t.xShape[:0], n), t.in...)
		t.x = resize(t.x, t.xShape...)
		copy(t.x.Data, g.x)
		t.labels = append(t.labels, g.labels...)
		return
	}
	t.batchGiven = false
	n := min(t.cfg.Hyper.BatchSize, len(t.perm)-t.cursor)
	for _, i := range t.perm[t.cursor : t.cursor+n] {
		t.batchIdx = append(t.batchIdx, int(i))
	}
	t.xShape = append(append(t.xShape[:0], n), t.in...)
	t.x = resize(t.x, t.xShape...)
	for i, idx := range t.batchIdx {
		t.labels = append(t.labels, t.data.Train.Image(idx, t.x.Data[i*per:(i+1)*per]))
	}
}

// advanceCursor moves past the current batch, unless SetBatch gave it, and
// starts a new epoch at the end of the training set.
func (t *Trainer) advanceCursor() {
	if t.batchGiven {
		return
	}
	t.cursor += len(t.batchIdx)
	if t.cursor >= len(t.perm) {
		t.epoch++
		t.cursor = 0
		t.perm = t.epochPerm(t.epoch, t.perm)
	}
}

// epochPerm is the sample order of an epoch: a shuffle seeded by the seed
// and the epoch number, so it needs no saved RNG state.
//
// It is rand.Perm's algorithm, written into buf (reused when large enough)
// as int32 to halve its memory: the same seed gives the same order.
func (t *Trainer) epochPerm(epoch int, buf []int32) []int32 {
	rng := rand.New(rand.NewSource(t.cfg.Seed*1_000_003 + int64(epoch) + 1))
	n := t.data.Train.Len()
	if cap(buf) < n {
		buf = make([]int32, n)
	}
	m := buf[:n]
	for i := range n {
		j := rng.Intn(i + 1)
		m[i] = m[j]
		m[j] = int32(i)
	}
	return m
}
