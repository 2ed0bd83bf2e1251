package engine

import (
	"bytes"
	"strings"
	"testing"
)

func TestDeterminismResetSaveLoadClone(t *testing.T) {
	for _, h := range []Hyper{sgdHyper(3), DefaultHyper()} {
		a, b := toyTrainer(t, h), toyTrainer(t, h)
		if !sameBits(weights(a), weights(b)) {
			t.Fatalf("%s: same seed, different initial weights", h.Optimizer)
		}
		init := weights(a)
		for range 40 { // crosses an epoch boundary (100 samples, batch ≥ 3)
			a.StepBatch()
			b.StepBatch()
		}
		if !sameBits(weights(a), weights(b)) {
			t.Fatalf("%s: same seed and commands, different weights", h.Optimizer)
		}
		if a.Epoch() == 0 {
			t.Fatalf("%s: no epoch completed after 40 steps", h.Optimizer)
		}
		// Save, load and clone go on exactly like the original.
		var buf bytes.Buffer
		if err := a.Save(&buf); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(bytes.NewReader(buf.Bytes()), toyData())
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		clone := a.Clone()
		for range 7 {
			a.StepBatch()
			loaded.StepBatch()
			clone.StepBatch()
		}
		if !sameBits(weights(a), weights(loaded)) {
			t.Errorf("%s: loaded trainer diverges from the original", h.Optimizer)
		}
		if !sameBits(weights(a), weights(clone)) {
			t.Errorf("%s: clone diverges from the original", h.Optimizer)
		}
		if loaded.Step() != a.Step() || clone.Step() != a.Step() {
			t.Errorf("steps: original %d, loaded %d, clone %d", a.Step(), loaded.Step(), clone.Step())
		}
		a.Reset()
		if !sameBits(weights(a), init) || a.Step() != 0 {
			t.Errorf("%s: Reset does not give the initial network", h.Optimizer)
		}
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	tr := toyTrainer(t, DefaultHyper())
	tr.StepBatch()
	var buf bytes.Buffer
	tr.Save(&buf)
	good := buf.String()
	cases := []struct{ name, file, want string }{
		{"truncated", good[:len(good)/2], "truncated"},
		{"empty", "", "truncated"},
		{"not json", "hello", "malformed"},
		{"wrong format", strings.Replace(good, FileFormat, "other", 1), "format"},
		{"wrong spec", strings.Replace(good, "conv(3,3,s1,p1)", "conv(5,3,s1,p1)", 1), "shape"},
		{"bad spec", strings.Replace(good, "conv(3,3,s1,p1)", "conv(3,9,s1,p0)", 1), "kernel"},
		{"wrong data", strings.Replace(good, `"data":"toy"`, `"data":"mnist"`, 1), "dataset"},
		{"nan", strings.Replace(good, `"value":[`, `"value":["NaN",`, 1), "malformed"},
	}
	for _, c := range cases {
		_, err := Load(strings.NewReader(c.file), toyData())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load error = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}
