package engine_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
)

// shapesData is a small shapes set (12×12, 5 classes) for the fuzz targets.
func shapesData() engine.Data {
	train, test := dataset.Shapes(1, 40, 10)
	return engine.Data{Name: "shapes", Train: train, Test: test, ClassNames: train.ClassNames()}
}

// FuzzParseSpec: any spec is parsed or refused with an error, never a
// panic; a spec that BuildLayers builds on a 12×12 image has a memory
// estimate (EstimateMemory walks the same shapes without allocating), and
// the estimate's walk gives the same output shape.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		engine.DefaultSpec,
		"conv(4,3,s1,p1) relu maxpool(2,s2,p0) conv(8,3,s1,p1) relu maxpool(2,s2,p0) dense(5)",
		"conv(8,3x5,s2,p1) leakyrelu(0.1) avgpool(3,s2,p1,incpad) flatten dense(5)",
		"tanh sigmoid dense(5)", "conv(650,1) relu maxpool(12) dense(5)", "maxpool(2,s2,p2)",
		"conv(", "dense(-1)", "conv(1,1,s0)", "", "   ", "relu(3)", "conv(99999999999999999999,1)",
	} {
		f.Add(s)
	}
	data := shapesData()
	in := engine.Shape(data.Train.Shape())
	f.Fuzz(func(t *testing.T, spec string) {
		specs, err := engine.ParseSpec(spec)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("spec %q: an empty error", spec)
			}
			return
		}
		layers, err := engine.BuildLayers(specs, in, 5, nil)
		if err != nil {
			return
		}
		cfg := engine.DefaultConfig()
		cfg.Spec, cfg.Hyper.BatchSize = spec, 1
		est, err := engine.EstimateMemory(cfg, data)
		if err != nil {
			t.Fatalf("spec %q builds, yet has no memory estimate: %v", spec, err)
		}
		if est.Total() <= 0 {
			t.Fatalf("spec %q: estimate %v", spec, est)
		}
		if out := layers[len(layers)-1].OutShape(); !slices.Equal(out, engine.Shape{5}) {
			t.Fatalf("spec %q: output %v accepted for 5 classes", spec, out)
		}
	})
}

// FuzzLoad: any file is loaded or refused with an error, never a panic; a
// file that loads saves again and loads to the same step and spec.
func FuzzLoad(f *testing.F) {
	data := shapesData()
	cfg := engine.DefaultConfig()
	cfg.Spec = "conv(2,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	cfg.Hyper.BatchSize = 4
	tr, err := engine.NewTrainer(cfg, data)
	if err != nil {
		f.Fatal(err)
	}
	tr.StepBatch()
	var saved bytes.Buffer
	if err := tr.Save(&saved); err != nil {
		f.Fatal(err)
	}
	f.Add(saved.Bytes())
	f.Add(saved.Bytes()[:saved.Len()/2])
	f.Add(append(slices.Clone(saved.Bytes()), saved.Bytes()...))
	f.Add(bytes.Replace(saved.Bytes(), []byte(`"step":1`), []byte(`"step":-1`), 1))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"spec":"dense(5)","weights":[[1e300]]}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := engine.Load(bytes.NewReader(b), data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		var again bytes.Buffer
		if err := tr.Save(&again); err != nil {
			t.Fatalf("a loaded model does not save: %v", err)
		}
		tr2, err := engine.Load(&again, data)
		if err != nil {
			t.Fatalf("a loaded model, saved again, does not load: %v", err)
		}
		if tr2.Step() != tr.Step() || tr2.Config().Spec != tr.Config().Spec {
			t.Fatalf("saved again: step %d spec %q, was %d %q", tr2.Step(), tr2.Config().Spec, tr.Step(), tr.Config().Spec)
		}
	})
}
