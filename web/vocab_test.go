package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/url"
	"slices"
	"testing"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/static"
	"github.com/backpropviz/backpropviz/templates"
)

// jsVocab is the VOCAB object of static/js/vocab.js: the words the page's
// scripts share with the server. Every field is checked by TestVocab.
type jsVocab struct {
	ProtocolVersion  int      `json:"protocolVersion"`
	FrameMagic       string   `json:"frameMagic"`
	TensorKinds      []string `json:"tensorKinds"`
	Encodings        []string `json:"encodings"`
	PhaseKinds       []string `json:"phaseKinds"`
	Commands         []string `json:"commands"`
	ClientTypes      []string `json:"clientTypes"`
	CodeDiverged     string   `json:"codeDiverged"`
	CodeSpecChange   string   `json:"codeSpecChange"`
	LabParams        []string `json:"labParams"`
	SpeedUnits       []string `json:"speedUnits"`
	Optimizers       []string `json:"optimizers"`
	OptimizerChoices []string `json:"optimizerChoices"`
	LayerKinds       []string `json:"layerKinds"`
	View             struct {
		Ranges     []string `json:"ranges"`
		Outliers   []string `json:"outliers"`
		Diverging  []string `json:"diverging"`
		Sequential []string `json:"sequential"`
	} `json:"view"`
}

// readVocab reads VOCAB from the embedded static/js/vocab.js: the object
// literal after "export const VOCAB = ", written in strict JSON.
func readVocab(t *testing.T) jsVocab {
	t.Helper()
	src, err := fs.ReadFile(static.FS, "js/vocab.js")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "export const VOCAB = "
	i := bytes.Index(src, []byte(marker))
	if i < 0 {
		t.Fatalf("static/js/vocab.js: no %q", marker)
	}
	j := bytes.IndexByte(src[i:], '{')
	if j < 0 {
		t.Fatalf("static/js/vocab.js: no object after %q", marker)
	}
	dec := json.NewDecoder(bytes.NewReader(src[i+j:]))
	dec.DisallowUnknownFields() // a field added to VOCAB needs a check here
	var v jsVocab
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("static/js/vocab.js: VOCAB is not the strict JSON this test reads: %v", err)
	}
	return v
}

// optionValues returns the values of select options.
func optionValues(opts []templates.Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// sortedCopy returns a sorted copy of s.
func sortedCopy(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// specLayerKinds returns the kinds of the layers the engine builds from a spec
// that holds every layer of engine.ParseSpec's documentation.
func specLayerKinds(t *testing.T) []string {
	t.Helper()
	specs, err := engine.ParseSpec("conv(2,3) relu leakyrelu tanh sigmoid maxpool(2) avgpool(1) flatten dense(3)")
	if err != nil {
		t.Fatal(err)
	}
	layers, err := engine.BuildLayers(specs, engine.Shape{1, 8, 8}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range layers {
		kinds = append(kinds, l.Kind())
	}
	return kinds
}

// TestVocab checks that the words of static/js/vocab.js are package
// protocol's (the server's): its constants, tensor kinds (in the order of a kind mask),
// encodings, phases, commands, the lab's URL parameters, speed units,
// optimizers, the layer kinds of a spec, and the drawing choices the lab
// page offers (in the page's order: the first is the default).
func TestVocab(t *testing.T) {
	v := readVocab(t)
	lab := (&Site{}).labModel(url.Values{}, "/ws")
	checks := []struct {
		name      string
		got, want any
	}{
		{"protocolVersion", v.ProtocolVersion, protocol.Version},
		{"frameMagic", v.FrameMagic, protocol.Magic},
		{"tensorKinds", v.TensorKinds, protocol.Kinds},
		{"encodings", v.Encodings, []string{protocol.EncF32, protocol.EncQ8, protocol.EncI32}},
		{"phaseKinds", v.PhaseKinds, []string{protocol.PhaseForward, protocol.PhaseLoss, protocol.PhaseBackward, protocol.PhaseUpdate}},
		{"commands", v.Commands, protocol.Commands},
		{"clientTypes", v.ClientTypes, protocol.ClientTypes},
		{"codeDiverged", v.CodeDiverged, protocol.CodeDiverged},
		{"codeSpecChange", v.CodeSpecChange, protocol.CodeSpecChange},
		// the page writes its URL in an order of its own
		{"labParams (sorted)", sortedCopy(v.LabParams), sortedCopy(protocol.LabKeys)},
		{"speedUnits", v.SpeedUnits, []string{protocol.UnitPhase, protocol.UnitStep}},
		{"optimizers", v.Optimizers, protocol.Optimizers},
		{"optimizers (engine)", v.Optimizers, engine.OptimizerNames()},
		{"optimizerChoices", v.OptimizerChoices, optionValues(lab.Optimizers)},
		{"layerKinds", v.LayerKinds, specLayerKinds(t)},
		{"view.ranges", v.View.Ranges, optionValues(lab.Ranges)},
		{"view.outliers", v.View.Outliers, optionValues(lab.Outliers)},
		{"view.diverging", v.View.Diverging, optionValues(lab.Diverging)},
		{"view.sequential", v.View.Sequential, optionValues(lab.Sequential)},
	}
	for _, c := range checks {
		got, _ := json.Marshal(c.got)
		want, _ := json.Marshal(c.want)
		if !bytes.Equal(got, want) {
			t.Errorf("static/js/vocab.js VOCAB.%s = %s, want %s", c.name, got, want)
		}
	}
}
