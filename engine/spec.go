package engine

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// DefaultSpec is the classic ConvNetJS MNIST network for 28×28×1 input:
// (1,28,28) → conv → (8,28,28) → pool → (8,14,14) → conv → (16,14,14)
// → pool → (16,4,4) → dense → (10).
const DefaultSpec = "conv(8,5,s1,p2) relu maxpool(2,s2,p0) conv(16,5,s1,p2) relu maxpool(3,s3,p0) dense(10)"

// MaxSpecLayers bounds the number of layers in a spec.
const MaxSpecLayers = 32

// LayerSpec is one parsed layer of a network spec, before it is built for an
// input shape.
type LayerSpec struct {
	Kind    string  // conv, relu, leakyrelu, tanh, sigmoid, maxpool, avgpool, flatten, dense
	Filters int     // conv: number of filters F; dense: outputs
	KH, KW  int     // conv and pool kernel
	Stride  int     // conv and pool stride S
	Pad     int     // conv and pool zero padding P
	Alpha   float64 // leakyrelu negative slope
	IncPad  bool    // avgpool: padding counts in the divisor
	Token   string  // the token as typed
}

// ParseSpec parses a network spec: layers separated by spaces, each a name
// with optional arguments in parentheses.
//
//	conv(F,K[,sS][,pP])   F filters of K×K (or KHxKW, e.g. 3x5), stride S (1), padding P (0)
//	maxpool(K[,sS][,pP])  max pooling, stride S (default K), padding P (0)
//	avgpool(K[,sS][,pP][,incpad])  average pooling; incpad counts padding in the divisor
//	relu | leakyrelu(α) | tanh | sigmoid   activations (α defaults to 0.01)
//	flatten               (C,H,W) → (C·H·W)
//	dense(N)              fully connected layer with N outputs (flattens its input)
//
// Example: DefaultSpec. The error names the layer (1-based) and the problem.
// Sizes are checked by [BuildLayers], which knows the input shape.
func ParseSpec(spec string) ([]LayerSpec, error) {
	tokens, err := splitSpec(spec)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("spec is empty: give at least one layer, e.g. %q", "dense(10)")
	}
	if len(tokens) > MaxSpecLayers {
		return nil, fmt.Errorf("spec has %d layers: at most %d", len(tokens), MaxSpecLayers)
	}
	specs := make([]LayerSpec, len(tokens))
	for i, tok := range tokens {
		ls, err := parseLayer(tok)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i+1, tok, err)
		}
		specs[i] = ls
	}
	return specs, nil
}

// splitSpec splits at whitespace outside parentheses.
func splitSpec(spec string) ([]string, error) {
	var tokens []string
	depth, start := 0, -1
	for i, r := range spec {
		switch {
		case r == '(':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("nested parentheses at character %d", i+1)
			}
		case r == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unmatched ')' at character %d", i+1)
			}
		case (r == ' ' || r == '\t' || r == '\n' || r == '\r') && depth == 0:
			if start >= 0 {
				tokens = append(tokens, spec[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unclosed '(' in %q", spec)
	}
	if start >= 0 {
		tokens = append(tokens, spec[start:])
	}
	return tokens, nil
}

func parseLayer(tok string) (LayerSpec, error) {
	name, argText := tok, ""
	if i := strings.IndexByte(tok, '('); i >= 0 {
		if !strings.HasSuffix(tok, ")") {
			return LayerSpec{}, fmt.Errorf("text after ')'")
		}
		name, argText = tok[:i], tok[i+1:len(tok)-1]
	}
	name = strings.ToLower(name)
	var args []string
	if strings.TrimSpace(argText) != "" {
		for _, a := range strings.Split(argText, ",") {
			args = append(args, strings.ToLower(strings.TrimSpace(a)))
		}
	}
	ls := LayerSpec{Kind: name, Token: tok, Stride: 1}
	switch name {
	case "conv":
		pos, err := keyedArgs(args, &ls, false)
		if err != nil {
			return ls, err
		}
		if len(pos) != 2 {
			return ls, fmt.Errorf("want conv(filters, kernel[, sS][, pP]), got %d positional arguments", len(pos))
		}
		if ls.Filters, err = atoi("filters", pos[0]); err != nil {
			return ls, err
		}
		if ls.KH, ls.KW, err = kernel(pos[1]); err != nil {
			return ls, err
		}
	case "maxpool", "avgpool":
		ls.Stride = 0
		pos, err := keyedArgs(args, &ls, name == "avgpool")
		if err != nil {
			return ls, err
		}
		if len(pos) != 1 {
			return ls, fmt.Errorf("want %s(kernel[, sS][, pP]), got %d positional arguments", name, len(pos))
		}
		if ls.KH, ls.KW, err = kernel(pos[0]); err != nil {
			return ls, err
		}
		if ls.Stride == 0 {
			ls.Stride = ls.KH
		}
	case "relu", "tanh", "sigmoid", "flatten":
		if len(args) != 0 {
			return ls, fmt.Errorf("%s takes no arguments", name)
		}
	case "leakyrelu":
		ls.Alpha = 0.01
		if len(args) > 1 {
			return ls, fmt.Errorf("want leakyrelu or leakyrelu(alpha)")
		}
		if len(args) == 1 {
			a, err := strconv.ParseFloat(args[0], 64)
			if err != nil {
				return ls, fmt.Errorf("alpha %q is not a number", args[0])
			}
			ls.Alpha = a
		}
	case "dense", "fc":
		ls.Kind = "dense"
		if len(args) != 1 {
			return ls, fmt.Errorf("want dense(outputs)")
		}
		var err error
		if ls.Filters, err = atoi("outputs", args[0]); err != nil {
			return ls, err
		}
	default:
		return ls, fmt.Errorf("unknown layer %q: want conv, relu, leakyrelu, tanh, sigmoid, maxpool, avgpool, flatten or dense", name)
	}
	return ls, nil
}

// keyedArgs takes sN (stride), pN (padding) and incpad out of args and
// returns the positional rest.
func keyedArgs(args []string, ls *LayerSpec, allowIncPad bool) ([]string, error) {
	var pos []string
	for _, a := range args {
		var err error
		switch {
		case a == "incpad" && allowIncPad:
			ls.IncPad = true
		case len(a) > 1 && a[0] == 's' && isDigits(a[1:]):
			ls.Stride, err = atoi("stride", a[1:])
		case len(a) > 1 && a[0] == 'p' && isDigits(a[1:]):
			ls.Pad, err = atoi("padding", a[1:])
		default:
			pos = append(pos, a)
		}
		if err != nil {
			return nil, err
		}
	}
	return pos, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func atoi(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number", what, s)
	}
	if n > 4096 {
		return 0, fmt.Errorf("%s %d is too large (at most 4096)", what, n)
	}
	return n, nil
}

func kernel(s string) (kh, kw int, err error) {
	if h, w, ok := strings.Cut(s, "x"); ok {
		if kh, err = atoi("kernel height", h); err != nil {
			return
		}
		kw, err = atoi("kernel width", w)
		return
	}
	kh, err = atoi("kernel", s)
	return kh, kh, err
}

// Bounds on a network typed by a user, so that one spec cannot take minutes
// of CPU or gigabytes of memory. The default network has about 6,000
// parameters, 790,000 multiply-adds and 21,000 activations per image.
const (
	// maxActivations bounds the values of all layers' outputs per image.
	maxActivations = 1 << 20
	// MaxParams bounds the number of trainable parameters.
	MaxParams = 2_000_000
	// MaxMACs bounds the multiply-adds of one image's forward pass.
	MaxMACs = 20_000_000
	// MaxStepMACs bounds batch size × MaxMACs: the forward work of one step.
	MaxStepMACs = 500_000_000
)

// Cost is what a network costs per image.
type Cost struct {
	Params      int // trainable parameters
	MACs        int // multiply-adds (comparisons for max pooling) of a forward pass
	Activations int // values of all layers' outputs
}

// CostOf adds up the cost of layers.
func CostOf(layers []Layer) Cost {
	var c Cost
	for _, l := range layers {
		for _, p := range l.Params() {
			c.Params += p.Value.Size()
		}
		in, out := l.InShape().Size(), l.OutShape().Size()
		c.Activations += out
		switch l := l.(type) {
		case *Conv2D:
			c.MACs += out * l.in[0] * l.kh * l.kw
		case *Dense:
			c.MACs += in * out
		case *MaxPool2D, *AvgPool2D:
			c.MACs += in // each input is read about once per window it is in; a fair estimate
		default:
			c.MACs += out
		}
	}
	return c
}

// BuildLayers builds the layers of specs for per-sample input shape in
// (C, H, W), checking every size, and initialises their weights from rng:
// He for a layer followed by ReLU or LeakyReLU, Glorot otherwise. classes,
// if > 0, is the number of logits the last layer must produce. Errors name
// the layer (1-based) and say why, e.g. an output size below 1.
func BuildLayers(specs []LayerSpec, in Shape, classes int, rng *rand.Rand) ([]Layer, error) {
	layers := make([]Layer, 0, len(specs))
	cur := in
	for i, ls := range specs {
		l, err := buildLayer(ls, cur)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s) on input %v: %w", i+1, ls.Token, cur, err)
		}
		if n := l.OutShape().Size(); n > maxActivations {
			return nil, fmt.Errorf("layer %d (%s): output %v has %d values, at most %d", i+1, ls.Token, l.OutShape(), n, maxActivations)
		}
		if c := CostOf([]Layer{l}); c.MACs > MaxMACs || c.Params > MaxParams {
			return nil, fmt.Errorf("layer %d (%s) on input %v is too large: %d multiply-adds per image (at most %d), %d parameters (at most %d)",
				i+1, ls.Token, cur, c.MACs, MaxMACs, c.Params, MaxParams)
		}
		layers = append(layers, l)
		cur = l.OutShape()
	}
	if c := CostOf(layers); c.Params > MaxParams || c.MACs > MaxMACs || c.Activations > maxActivations {
		return nil, fmt.Errorf("the network is too large for this server: %d parameters (at most %d), %d multiply-adds per image (at most %d), %d activations per image (at most %d)",
			c.Params, MaxParams, c.MACs, MaxMACs, c.Activations, maxActivations)
	}
	if classes > 0 && (len(cur) != 1 || cur[0] != classes) {
		return nil, fmt.Errorf("the network's output is %v, but the loss needs %d logits: end with dense(%d)", cur, classes, classes)
	}
	if rng != nil {
		for i, l := range layers {
			init, ok := l.(Initializer)
			if !ok {
				continue
			}
			scheme := Glorot
			if i+1 < len(layers) {
				if k := layers[i+1].Kind(); k == "relu" || k == "leakyrelu" {
					scheme = He
				}
			}
			init.Init(rng, scheme)
		}
	}
	return layers, nil
}

func buildLayer(ls LayerSpec, in Shape) (Layer, error) {
	needCHW := func() error {
		if len(in) != 3 {
			return fmt.Errorf("%s needs (C,H,W) feature maps, got %v", ls.Kind, in)
		}
		return nil
	}
	// Check the parameter count before allocating the parameters.
	tooMany := func(params int) error {
		if params > MaxParams {
			return fmt.Errorf("%d parameters, at most %d", params, MaxParams)
		}
		return nil
	}
	switch ls.Kind {
	case "conv":
		if err := needCHW(); err != nil {
			return nil, err
		}
		if err := tooMany(ls.Filters * in[0] * ls.KH * ls.KW); err != nil {
			return nil, err
		}
		return NewConv2D(in, ls.Filters, ls.KH, ls.KW, ls.Stride, ls.Pad)
	case "maxpool", "avgpool":
		if err := needCHW(); err != nil {
			return nil, err
		}
		if ls.KH != ls.KW {
			return nil, fmt.Errorf("pooling kernels are square")
		}
		if ls.Kind == "maxpool" {
			return NewMaxPool2D(in, ls.KH, ls.Stride, ls.Pad)
		}
		return NewAvgPool2D(in, ls.KH, ls.Stride, ls.Pad, ls.IncPad)
	case "relu":
		return NewReLU(in), nil
	case "leakyrelu":
		return NewLeakyReLU(in, ls.Alpha)
	case "tanh":
		return NewTanh(in), nil
	case "sigmoid":
		return NewSigmoid(in), nil
	case "flatten":
		return NewFlatten(in), nil
	case "dense":
		if err := tooMany(in.Size() * ls.Filters); err != nil {
			return nil, err
		}
		return NewDense(in, ls.Filters)
	}
	return nil, fmt.Errorf("unknown layer %q", ls.Kind)
}
