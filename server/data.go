package server

import (
	"fmt"
	"sync"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
	"github.com/backpropviz/backpropviz/protocol"
)

// shapesSeed fixes the procedural shapes set: every session sees the same
// images; the network seed only changes the weights and the order.
const shapesSeed = 1

// dataSets builds each named engine.Data once and shares it: the sets are
// read-only and safe for many trainers.
type dataSets struct {
	shapesTrain, shapesTest int

	mu   sync.Mutex
	sets map[string]engine.Data
}

// get returns the data set called name (DataMNIST or DataShapes).
func (d *dataSets) get(name string) (engine.Data, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if data, ok := d.sets[name]; ok {
		return data, nil
	}
	var data engine.Data
	switch name {
	case protocol.DataMNIST:
		train, test, err := dataset.MNIST()
		if err != nil {
			return engine.Data{}, fmt.Errorf("load MNIST: %w", err)
		}
		data = engine.Data{Name: name, Train: train, Test: test, ClassNames: train.ClassNames()}
	case protocol.DataShapes:
		train, test := dataset.Shapes(shapesSeed, d.shapesTrain, d.shapesTest)
		data = engine.Data{Name: name, Train: train, Test: test, ClassNames: train.ClassNames()}
	default:
		return engine.Data{}, fmt.Errorf("data %q: want %q or %q", name, protocol.DataMNIST, protocol.DataShapes)
	}
	if d.sets == nil {
		d.sets = map[string]engine.Data{}
	}
	d.sets[name] = data
	return data, nil
}
