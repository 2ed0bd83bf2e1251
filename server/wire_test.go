package server

import (
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// TestVocabulariesMatchEngine: the protocol's optimizer and data set names
// are the ones the engine and this server accept, and every engine phase
// has a wire name.
func TestVocabulariesMatchEngine(t *testing.T) {
	for _, opt := range protocol.Optimizers {
		h := engine.DefaultHyper()
		h.Optimizer = opt
		if err := h.Validate(); err != nil {
			t.Errorf("optimizer %q: %v", opt, err)
		}
	}
	d, err := newDataSets(Config{ShapesTrain: 10, ShapesTest: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range protocol.DataSets {
		if name == protocol.DataMNIST && testing.Short() {
			continue
		}
		if d.info(name).problem != "" { // Fashion-MNIST not installed: TestDataMenu
			continue
		}
		if _, err := d.get(name); err != nil {
			t.Errorf("data set %q: %v", name, err)
		}
	}
	for _, k := range []engine.PhaseKind{engine.PhaseForward, engine.PhaseLoss, engine.PhaseBackward, engine.PhaseUpdate} {
		if phaseKinds[k] == "" {
			t.Errorf("engine phase kind %v has no wire name", k)
		}
	}
}
