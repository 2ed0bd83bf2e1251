package engine

import (
	"bytes"
	"encoding/json"
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

// rmspropHyper is RMSprop centered with momentum and weight decay: every
// buffer in use.
func rmspropHyper(batch int) Hyper {
	h := DefaultHyper()
	h.Optimizer, h.LearningRate, h.BatchSize = OptRMSprop, 0.01, batch
	h.Alpha, h.Momentum, h.Centered, h.WeightDecay = 0.9, 0.5, true, 0.001
	h.DecayEpochs = 0
	return h
}

// TestEveryOptimizerSavesLoadsAndClones: for each optimizer, a loaded
// trainer and a clone go on bit for bit like the original, also right
// after a change of optimizer (whose state starts fresh at the next step).
func TestEveryOptimizerSavesLoadsAndClones(t *testing.T) {
	plain := rmspropHyper(4)
	plain.Momentum, plain.Centered, plain.WeightDecay = 0, false, 0
	cases := []struct {
		name        string
		h, switchTo Hyper
	}{
		{"sgd", sgdHyper(3), DefaultHyper()},
		{"adam", DefaultHyper(), rmspropHyper(2)},
		{"rmsprop centered momentum", rmspropHyper(2), sgdHyper(5)},
		{"rmsprop", plain, DefaultHyper()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, switched := range []bool{false, true} {
				a := toyTrainer(t, c.h)
				for range 25 {
					if err := a.StepBatch(); err != nil {
						t.Fatal(err)
					}
				}
				if switched {
					if err := a.SetHyper(c.switchTo); err != nil {
						t.Fatal(err)
					}
				}
				var buf bytes.Buffer
				if err := a.Save(&buf); err != nil {
					t.Fatal(err)
				}
				loaded, err := Load(bytes.NewReader(buf.Bytes()), toyData())
				if err != nil {
					t.Fatalf("switched %v: Load: %v", switched, err)
				}
				clone := a.Clone()
				for range 6 {
					a.StepBatch()
					loaded.StepBatch()
					clone.StepBatch()
				}
				if !sameBits(weights(loaded), weights(a)) {
					t.Errorf("switched %v: loaded trainer diverges from the original", switched)
				}
				if !sameBits(weights(clone), weights(a)) {
					t.Errorf("switched %v: clone diverges from the original", switched)
				}
			}
		})
	}
}

// TestLoadOptimizerState: each optimizer's buffers are fields of a
// parameter; a field no optimizer has is refused, a required one missing is
// refused, and what older files leave out takes its default.
func TestLoadOptimizerState(t *testing.T) {
	saved := func(h Hyper) string {
		tr := toyTrainer(t, h)
		tr.StepBatch()
		var buf bytes.Buffer
		tr.Save(&buf)
		return buf.String()
	}
	sgd, adam, rms := saved(sgdHyper(2)), saved(DefaultHyper()), saved(rmspropHyper(2))
	cases := []struct {
		name, file, wantErr string
	}{
		{"unknown state", strings.Replace(adam, `"adam_m":`, `"adam_q":`, 1), `unknown field "adam_q"`},
		{"adam_m missing", strings.Replace(adam, `"adam_m":`, `"momentum":`, 1), "adam_m has 0 values"},
		{"square_avg missing", strings.Replace(rms, `"square_avg":`, `"adam_m":`, 1), "square_avg has 0 values"},
		{"short momentum", strings.Replace(sgd, `"momentum":[`, `"momentum":[1,`, 1), "values, want"},
		{"nan state", strings.Replace(rms, `"grad_avg":[`, `"grad_avg":["NaN",`, 1), "malformed"},
		// Files Save never wrote, which Load has always read.
		{"sgd without momentum buffers", strings.ReplaceAll(sgd, `"momentum":[`, `"adam_v":[`), ""},
		{"no alpha and centered", strings.Replace(adam, `"alpha":0.99,"centered":false,`, "", 1), ""},
	}
	for _, c := range cases {
		if c.file == sgd || c.file == adam || c.file == rms {
			t.Fatalf("%s: the replacement did not apply", c.name)
		}
		tr, err := Load(strings.NewReader(c.file), toyData())
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: Load error = %v, want none", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: Load error = %v, want one mentioning %q", c.name, err, c.wantErr)
		case c.wantErr == "" && tr.Config().Hyper.Alpha != 0.99:
			t.Errorf("%s: alpha %v, want the default 0.99", c.name, tr.Config().Hyper.Alpha)
		}
	}
}

// TestLoadRefusesWhatTrainingCannotContinue: a weight beyond float32's
// range (every later update would be refused), bytes after the model, and
// two files run together are refused with a message that names the
// problem.
func TestLoadRefusesWhatTrainingCannotContinue(t *testing.T) {
	tr := toyTrainer(t, DefaultHyper())
	tr.StepBatch()
	var buf bytes.Buffer
	tr.Save(&buf)
	good := buf.String()
	// params[1] is layer 0's b (3 values).
	setB2 := func(v string) string {
		var f map[string]any
		dec := json.NewDecoder(strings.NewReader(good))
		dec.UseNumber()
		if err := dec.Decode(&f); err != nil {
			t.Fatal(err)
		}
		f["params"].([]any)[1].(map[string]any)["value"].([]any)[2] = json.Number(v)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct{ name, file, want string }{
		{"weight beyond float32", setB2("-1e300"), `params[1] (layer 0 b): value[2] is -1e+300, beyond float32's range`},
		{"weight at float32's limit", setB2("-3.4028234663852886e38"), ""},
		{"trailing garbage", good + "xyz", "after the model's JSON object"},
		{"two files", good + good, "after the model's JSON object"},
		{"trailing spaces", good + "\n \t\n", ""},
	}
	for _, c := range cases {
		if c.file == good && c.name != "trailing spaces" {
			t.Fatalf("%s: the file was not changed", c.name)
		}
		_, err := Load(strings.NewReader(c.file), toyData())
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Load error = %v, want none", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Load error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}
