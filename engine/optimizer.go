package engine

import (
	"fmt"
	"slices"
	"strings"
)

// Optimizer is one update rule, following the torch.optim class of the same
// name. It keeps nothing itself: every parameter has an OptState of the
// optimizer's own type, made by NewState and passed to Step.
type Optimizer interface {
	// Check reports a combination of hyperparameters the optimizer cannot
	// run, e.g. SGD's Nesterov form without momentum. Hyper.Validate has
	// checked each field's range before.
	Check(h Hyper) error
	// NewState returns the state of a parameter of n values before its first
	// step.
	NewState(n int) OptState
	// Step updates p.Value from p.Grad and st (updated in place) with the
	// hyperparameters h. t ≥ 1 counts the steps this state has taken,
	// this one included.
	Step(p *Param, st OptState, t int, h Hyper)
}

// OptState is one parameter's optimizer state.
type OptState interface {
	// Buffers returns the state's arrays (not copies), each as long as the
	// parameter, in the order of the saved file; h says which the trace
	// shows.
	Buffers(h Hyper) []StateBuffer
}

// StateBuffer is one array of an optimizer state.
type StateBuffer struct {
	// Name is the parameter's field in the saved file (docs/model-format.md),
	// e.g. "momentum" or "adam_m"; the trace shows the buffer of W as
	// Name + "_W".
	Name string
	Data []float64 // (the parameter's shape)
	// Shown says that h makes Step read the buffer (SGD's momentum buffer
	// only with momentum > 0): the trace shows only those.
	Shown bool
	// Optional says a saved file may leave the buffer out after the first
	// step; it then holds zeros (for SGD's momentum buffer, the same as
	// empty).
	Optional bool
}

// optimizers is the registry of optimizers by Hyper.Optimizer name.
var optimizers = map[string]Optimizer{
	OptSGD:     sgd{},
	OptAdam:    adam{},
	OptRMSprop: rmsprop{},
}

// OptimizerNames returns the names Hyper.Optimizer accepts, sorted.
func OptimizerNames() []string {
	names := make([]string, 0, len(optimizers))
	for name := range optimizers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// optimizerFor returns the optimizer named name, or an error listing the
// names there are.
func optimizerFor(name string) (Optimizer, error) {
	if o, ok := optimizers[name]; ok {
		return o, nil
	}
	quoted := make([]string, 0, len(optimizers))
	for _, n := range OptimizerNames() {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	return nil, fmt.Errorf("optimizer %q: want %s or %s", name, strings.Join(quoted[:len(quoted)-1], ", "), quoted[len(quoted)-1])
}

// stateBufferNames is every buffer name of every optimizer: the state
// fields a saved file may hold.
func stateBufferNames() []string {
	var names []string
	for _, name := range OptimizerNames() {
		for _, b := range optimizers[name].NewState(0).Buffers(Hyper{}) {
			if !slices.Contains(names, b.Name) {
				names = append(names, b.Name)
			}
		}
	}
	return names
}
