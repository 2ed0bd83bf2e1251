package engine

import (
	"math/rand"
	"slices"
	"testing"
)

// TestSetBatchIsAStepOnThatBatch: a step on a batch given by SetBatch gives
// the bits of a step that read the same samples from the data order, phase
// by phase or whole, and does not move the order: the step after it reads
// the batch the order was at.
func TestSetBatchIsAStepOnThatBatch(t *testing.T) {
	h := sgdHyper(3)
	a, b, c := toyTrainer(t, h), toyTrainer(t, h), toyTrainer(t, h)
	order := a.EpochOrder(0)
	if err := a.StepBatch(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.batchIdx, order[:3]) {
		t.Fatalf("the first batch read %v, EpochOrder(0) begins %v", a.batchIdx, order[:3])
	}
	// The same three samples, given.
	set := toyData().Train
	x := make([]float64, 3*36)
	labels := make([]int, 3)
	for i, idx := range order[:3] {
		labels[i] = set.Image(idx, x[i*36:(i+1)*36])
	}
	if err := b.SetBatch(x, labels); err != nil {
		t.Fatal(err)
	}
	if err := b.StepBatch(); err != nil {
		t.Fatal(err)
	}
	if err := c.SetBatch(x, labels); err != nil {
		t.Fatal(err)
	}
	for c.Step() == 0 {
		if _, err := c.StepPhase(); err != nil {
			t.Fatal(err)
		}
	}
	if !sameBits(weights(b), weights(a)) || !sameBits(weights(c), weights(a)) {
		t.Fatalf("a step on the given batch differs from the step on the same samples of the data order")
	}
	if tr := b.Trace(TraceOptions{Sample: 1}); tr.Index != -1 || tr.Label != labels[1] {
		t.Errorf("trace of a given batch: Index %d, Label %d; want -1, %d", tr.Index, tr.Label, labels[1])
	}
	if b.Step() != 1 || b.Metrics().SamplesSeen != 3 || b.cursor != 0 {
		t.Errorf("after the given batch: step %d, samples %d, cursor %d; want 1, 3, 0", b.Step(), b.Metrics().SamplesSeen, b.cursor)
	}
	// The data order has not moved: b's next step reads a's first batch.
	if err := b.StepBatch(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.batchIdx, order[:3]) {
		t.Errorf("after a given batch the step read %v, want the order's first batch %v", b.batchIdx, order[:3])
	}
}

// TestEpochOrderIsDocumented: epoch e's order is rand.Perm(n) drawn from
// the source seeded with seed·1000003 + e + 1, as the package documentation
// says.
func TestEpochOrderIsDocumented(t *testing.T) {
	tr := toyTrainer(t, sgdHyper(3))
	for e := range 3 {
		want := rand.New(rand.NewSource(7*1_000_003 + int64(e) + 1)).Perm(100)
		if got := tr.EpochOrder(e); !slices.Equal(got, want) {
			t.Errorf("EpochOrder(%d) = %v…, want %v…", e, got[:5], want[:5])
		}
	}
}
