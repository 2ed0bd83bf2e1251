package lesson

import (
	"fmt"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// promptLayerKind is the layer kind a prompt of a kind points at ("" for
// none: the class and choice prompts name no layer).
func promptLayerKind(kind string) string {
	switch kind {
	case protocol.PromptPoolSwitch:
		return "maxpool"
	case protocol.PromptConvReach, protocol.PromptWeightSign:
		return "conv"
	}
	return ""
}

// checkPromptsSpec checks each prompt alone (PromptSpec.Check) and, when
// the lesson gives its spec, that its layer exists and is of its kind.
func checkPromptsSpec(l *Lesson) error {
	if len(l.Prompts) > MaxPrompts {
		return fieldErr("prompts", "%d prompts, at most %d", len(l.Prompts), MaxPrompts)
	}
	var kinds []string
	if l.Spec != "" {
		specs, err := engine.ParseSpec(l.Spec)
		if err != nil {
			return fieldErr("spec", "%v", err)
		}
		for _, s := range specs {
			kinds = append(kinds, s.Kind)
		}
	}
	for i, p := range l.Prompts {
		if err := p.Check(); err != nil {
			return fieldErr(fmt.Sprintf("prompts[%d]", i), "%v", err)
		}
		if kinds != nil {
			if err := layerOfKind(i, p, kinds); err != nil {
				return err
			}
		}
	}
	return nil
}

// layerOfKind checks that prompt i's layer is in range and of its kind.
func layerOfKind(i int, p protocol.PromptSpec, kinds []string) error {
	want := promptLayerKind(p.Kind)
	if want == "" {
		return nil
	}
	field := fmt.Sprintf("prompts[%d].layer", i)
	if p.Layer >= len(kinds) {
		return fieldErr(field, "layer %d of a network of %d layers (0 is the first)", p.Layer, len(kinds))
	}
	if kinds[p.Layer] != want {
		return fieldErr(field, "a %s prompt points at a %s layer; layer %d is %s", p.Kind, want, p.Layer, kinds[p.Layer])
	}
	return nil
}

// CheckPrompts checks the lesson's prompts against the network built from
// it: each layer in range and of the prompt's kind, and each channel, row
// and column inside that layer's tensors.
func (l *Lesson) CheckPrompts(layers []engine.LayerInfo) error {
	kinds := make([]string, len(layers))
	for i, li := range layers {
		kinds[i] = li.Kind
	}
	for i, p := range l.Prompts {
		if err := layerOfKind(i, p, kinds); err != nil {
			return err
		}
		if err := cellInLayer(i, p, layers); err != nil {
			return err
		}
	}
	return nil
}

// cellInLayer checks prompt i's channel, input channel, row and column
// against the shapes of its layer.
func cellInLayer(i int, p protocol.PromptSpec, layers []engine.LayerInfo) error {
	in := func(field string, v, n int, what string) error {
		if v >= n {
			return fieldErr(fmt.Sprintf("prompts[%d].%s", i, field), "%d, but layer %d (%s) has %d %s", v, p.Layer, layers[p.Layer].Name, n, what)
		}
		return nil
	}
	var checks []error
	switch p.Kind {
	case protocol.PromptPoolSwitch: // a window of the output (C, H', W')
		out := layers[p.Layer].OutShape
		checks = []error{in("channel", p.Channel, out[0], "channels"), in("row", p.Row, out[1], "output rows"), in("col", p.Col, out[2], "output columns")}
	case protocol.PromptConvReach: // an input channel of (C, H, W)
		checks = []error{in("channel", p.Channel, layers[p.Layer].InShape[0], "input channels")}
	case protocol.PromptWeightSign: // a weight of W (F, C, KH, KW)
		w := layers[p.Layer].ParamShapes[0]
		checks = []error{in("channel", p.Channel, w[0], "filters"), in("in", p.In, w[1], "input channels"),
			in("row", p.Row, w[2], "kernel rows"), in("col", p.Col, w[3], "kernel columns")}
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}
