package server

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// What a prompt asks, checked against the network, and its truth, read
// from the engine's trace after the phase that answers it ran. Nothing
// here recomputes the network: the truth is the switch the max-pool kept,
// the dL/dX and the logits the layers computed, the ΔW the optimizer
// applied; only conv_reach's "no window covers it" is the conv's geometry
// (kernel, stride, padding), shown beside the cells whose dL/dX the
// backward pass left at exactly 0.

// promptPlan is a prompt checked against the network: the phase that
// answers it and what the pages need to show it.
type promptPlan struct {
	spec     protocol.PromptSpec
	phase    engine.Phase // the phase the reveal runs (hasPhase)
	hasPhase bool
	layer    engine.LayerInfo
	geo      engine.LayerSpec // the layer's kernel, stride and padding
	n        int              // choices (window cells, classes, options) or cells (conv_reach)
	classes  []string
	lesson   int // the number of spec among the room's lesson's prompts (0: not one of them)
	lessonOf int // how many prompts the lesson has
}

// planPrompt checks spec against the trainer's network (layer kinds, index
// ranges) and says which phase answers it; the error names what is wrong.
func planPrompt(t *engine.Trainer, spec protocol.PromptSpec) (*promptPlan, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	layers := t.Layers()
	p := &promptPlan{spec: spec}
	L := len(layers)
	needLayer := func(kinds ...string) error {
		if spec.Layer >= L {
			return fmt.Errorf("prompt %s: layer %d, the network has layers 0 to %d", spec.Kind, spec.Layer, L-1)
		}
		p.layer = layers[spec.Layer]
		if !slices.Contains(kinds, p.layer.Kind) {
			return fmt.Errorf("prompt %s: layer %d is %s, want a %s layer", spec.Kind, spec.Layer, p.layer.Name, strings.Join(kinds, " or "))
		}
		specs, err := engine.ParseSpec(t.Config().Spec)
		if err != nil || len(specs) != L {
			return fmt.Errorf("prompt %s: the network's spec does not parse", spec.Kind)
		}
		p.geo = specs[spec.Layer]
		return nil
	}
	in := func(what string, v, n int) error {
		if v >= n {
			return fmt.Errorf("prompt %s: %s %d outside %s's 0 to %d", spec.Kind, what, v, p.layer.Name, n-1)
		}
		return nil
	}
	var err error
	switch spec.Kind {
	case protocol.PromptPoolSwitch:
		if err = needLayer("maxpool"); err != nil {
			return nil, err
		}
		out := p.layer.OutShape
		err = firstErr(in("channel", spec.Channel, out[0]), in("output row", spec.Row, out[1]), in("output column", spec.Col, out[2]))
		p.phase, p.hasPhase, p.n = engine.Phase{Kind: engine.PhaseBackward, Layer: spec.Layer}, true, p.geo.KH*p.geo.KW
	case protocol.PromptConvReach:
		if err = needLayer("conv"); err != nil {
			return nil, err
		}
		x := p.layer.InShape
		err = in("input channel", spec.Channel, x[0])
		p.phase, p.hasPhase, p.n = engine.Phase{Kind: engine.PhaseBackward, Layer: spec.Layer}, true, x[1]*x[2]
	case protocol.PromptClass:
		p.layer = layers[L-1]
		p.classes = classNames(t)
		p.phase, p.hasPhase, p.n = engine.Phase{Kind: engine.PhaseForward, Layer: L - 1}, true, len(p.classes)
	case protocol.PromptWeightSign:
		if err = needLayer("conv", "dense"); err != nil {
			return nil, err
		}
		w := p.layer.ParamShapes[0]
		if len(w) == 4 { // (F, C, KH, KW)
			err = firstErr(in("filter", spec.Channel, w[0]), in("input channel", spec.In, w[1]), in("row", spec.Row, w[2]), in("column", spec.Col, w[3]))
		} else { // (Out, In)
			err = firstErr(in("output", spec.Row, w[0]), in("input", spec.Col, w[1]))
		}
		p.phase, p.hasPhase, p.n = engine.Phase{Kind: engine.PhaseUpdate, Layer: -1}, true, len(protocol.WeightBuckets)+1
	case protocol.PromptChoice:
		p.n = len(spec.Options)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// classNames are the names of the data's classes ("0" … "9" without names).
func classNames(t *engine.Trainer) []string {
	d := t.Data()
	k := d.Train.NumClasses()
	names := make([]string, k)
	for i := range k {
		names[i] = fmt.Sprint(i)
		if i < len(d.ClassNames) && d.ClassNames[i] != "" {
			names[i] = d.ClassNames[i]
		}
	}
	return names
}

// weightIndex is the flat index into W of a weight_sign prompt's weight.
func (p *promptPlan) weightIndex() int {
	w := p.layer.ParamShapes[0]
	s := p.spec
	if len(w) == 4 {
		return ((s.Channel*w[1]+s.In)*w[2]+s.Row)*w[3] + s.Col
	}
	return s.Row*w[1] + s.Col
}

// message is the prompt as the pages show it, before the reveal, from the
// trace tr taken when it was asked (the room paused before the phase).
func (p *promptPlan) message(id int, t *engine.Trainer, tr *engine.Trace) protocol.Prompt {
	s := p.spec
	m := protocol.Prompt{Type: protocol.TypePrompt, V: protocol.Version, PromptID: id, Status: protocol.PromptOpen,
		Kind: s.Kind, Question: s.Question, Layer: s.Layer, Channel: s.Channel, In: s.In, Row: s.Row, Col: s.Col,
		Options: slices.Clone(s.Options), Step: t.Step(), Lesson: p.lesson, LessonOf: p.lessonOf}
	if s.Kind != protocol.PromptChoice && s.Kind != protocol.PromptClass {
		m.LayerName = p.layer.Name
	}
	if p.hasPhase {
		m.Phase = t.PhaseLabel(p.phase)
	}
	if m.Question == "" {
		m.Question = protocol.DefaultQuestion(s.Kind, p.layer.Name)
	}
	switch s.Kind {
	case protocol.PromptPoolSwitch:
		x := tr.Layers[s.Layer].Input // (C, H, W)
		win := &protocol.PromptWindow{Rows: p.geo.KH, Cols: p.geo.KW, Y0: s.Row*p.geo.Stride - p.geo.Pad, X0: s.Col*p.geo.Stride - p.geo.Pad}
		for dy := range win.Rows {
			for dx := range win.Cols {
				y, xx := win.Y0+dy, win.X0+dx
				if x == nil || y < 0 || xx < 0 || y >= x.Shape[1] || xx >= x.Shape[2] {
					win.Values = append(win.Values, nil)
					continue
				}
				v := protocol.F32(x.Data[(s.Channel*x.Shape[1]+y)*x.Shape[2]+xx])
				win.Values = append(win.Values, &v)
			}
		}
		m.Window = win
	case protocol.PromptConvReach:
		m.Grid = &protocol.PromptGrid{Rows: p.layer.InShape[1], Cols: p.layer.InShape[2], Spec: p.layer.Spec}
	case protocol.PromptClass:
		m.Classes = p.classes
	case protocol.PromptWeightSign:
		if w := tr.Layers[s.Layer].Weights; w != nil {
			v := protocol.F32(w.Data[p.weightIndex()])
			m.Weight = &v
		}
		m.Buckets = protocol.WeightBucketNames
	}
	return m
}

// truth reads the answer from the trace tr taken after the phase ran.
func (p *promptPlan) truth(tr *engine.Trace) (protocol.PromptTruth, error) {
	s := p.spec
	var out protocol.PromptTruth
	if s.Kind != protocol.PromptChoice && s.Kind != protocol.PromptClass && s.Layer >= len(tr.Layers) {
		return out, fmt.Errorf("prompt %s: the network has changed since it was asked", s.Kind)
	}
	switch s.Kind {
	case protocol.PromptPoolSwitch:
		lt := tr.Layers[s.Layer]
		out := lt.OutShape
		if lt.Switches == nil {
			return protocol.PromptTruth{}, fmt.Errorf("prompt %s: %s has no switches yet", s.Kind, p.layer.Name)
		}
		sw := int(lt.Switches[(s.Channel*out[1]+s.Row)*out[2]+s.Col])
		w := lt.InShape[2]
		iy, ix := sw/w, sw%w
		y0, x0 := s.Row*p.geo.Stride-p.geo.Pad, s.Col*p.geo.Stride-p.geo.Pad
		cell := (iy-y0)*p.geo.KW + (ix - x0)
		why := fmt.Sprintf("The max-pool's switch for output (%d, %d, %d) is input cell (%d, %d), the window's cell (%d, %d), the window's largest value",
			s.Channel, s.Row, s.Col, iy, ix, iy-y0, ix-x0)
		if lt.Input != nil {
			why += fmt.Sprintf(" X = %s", fmtF32(lt.Input.Data[(s.Channel*lt.InShape[1]+iy)*w+ix]))
		}
		why += "; backward sends dL/dY to that cell alone"
		if lt.GradInput != nil {
			why += fmt.Sprintf(" (dL/dX there = %s)", fmtF32(lt.GradInput.Data[(s.Channel*lt.InShape[1]+iy)*w+ix]))
		}
		return protocol.PromptTruth{Choice: &cell, Why: why + "; the other cells of the window get 0 from it."}, nil
	case protocol.PromptConvReach:
		return p.reachTruth(tr.Layers[s.Layer]), nil
	case protocol.PromptClass:
		z := tr.Layers[len(tr.Layers)-1].Output
		if z == nil {
			return out, fmt.Errorf("prompt class: no logits yet")
		}
		k := 0
		for i, v := range z.Data {
			if v > z.Data[k] {
				k = i
			}
		}
		out.Choice = &k
		out.Why = fmt.Sprintf("The largest logit is class %s's, z = %s: the network predicts %s.", p.classes[k], fmtF32(z.Data[k]), p.classes[k])
	case protocol.PromptWeightSign:
		lt := tr.Layers[s.Layer]
		if lt.DeltaWeights == nil {
			return out, fmt.Errorf("prompt weight_sign: no update yet")
		}
		i := p.weightIndex()
		d := lt.DeltaWeights.Data[i]
		out.Sign = protocol.SignNone
		switch {
		case d > 0:
			out.Sign = protocol.SignUp
		case d < 0:
			out.Sign = protocol.SignDown
		}
		size := protocol.WeightBucket(d)
		df := protocol.F32(d)
		out.Size, out.Delta = &size, &df
		out.Why = fmt.Sprintf("The update applied ΔW = %s (|ΔW| %s): W went from %s to %s.", fmtF32(d),
			protocol.WeightBucketNames[size], fmtF32(lt.Weights.Data[i]-d), fmtF32(lt.Weights.Data[i]))
	case protocol.PromptChoice:
		if s.Answer >= 0 {
			a := s.Answer
			out.Choice = &a
			out.Why = fmt.Sprintf("The teacher's answer: %s.", s.Options[a])
		} else {
			out.Why = "A poll: no answer is right or wrong."
		}
	}
	return out, nil
}

// reachTruth: the cells of the conv's input plane that no window covers
// (windows start every S rows and columns from −P and cover KH×KW), and,
// from the backward pass, the cells whose dL/dX is exactly 0.
func (p *promptPlan) reachTruth(lt engine.LayerTrace) protocol.PromptTruth {
	h, w := p.layer.InShape[1], p.layer.InShape[2]
	oh, ow := p.layer.OutShape[1], p.layer.OutShape[2]
	rows := covered(h, oh, p.geo.KH, p.geo.Stride, p.geo.Pad)
	cols := covered(w, ow, p.geo.KW, p.geo.Stride, p.geo.Pad)
	out := protocol.PromptTruth{Cells: []int{}}
	for y := range h {
		for x := range w {
			if !rows[y] || !cols[x] {
				out.Cells = append(out.Cells, y*w+x)
			}
		}
	}
	if g := lt.GradInput; g != nil {
		out.Zero = []int{}
		for i, v := range g.Data[p.spec.Channel*h*w : (p.spec.Channel+1)*h*w] {
			if v == 0 {
				out.Zero = append(out.Zero, i)
			}
		}
	}
	out.Why = fmt.Sprintf("%s's windows start every %d cells from %s and cover %d×%d: %s",
		p.layer.Spec, p.geo.Stride, negInt(p.geo.Pad), p.geo.KH, p.geo.KW, uncovered(rows, cols, len(out.Cells)))
	if out.Zero != nil {
		out.Why += fmt.Sprintf(" In this sample's backward pass %d of the %d cells of dL/dX are exactly 0: those, and cells whose δ was 0 (a ReLU that was off, a max-pool cell that did not win).", len(out.Zero), h*w)
	}
	return out
}

// negInt writes −n, and 0 (never −0) for n = 0.
func negInt(n int) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("−%d", n)
}

// covered reports, for each of n input rows, whether one of the out
// windows of k rows, every s rows from −pad, covers it.
func covered(n, out, k, s, pad int) []bool {
	c := make([]bool, n)
	for o := range out {
		for d := range k {
			if y := o*s - pad + d; y >= 0 && y < n {
				c[y] = true
			}
		}
	}
	return c
}

// uncovered says in words which rows and columns no window covers.
func uncovered(rows, cols []bool, cells int) string {
	list := func(c []bool) []string {
		var l []string
		for i, ok := range c {
			if !ok {
				l = append(l, fmt.Sprint(i))
			}
		}
		return l
	}
	r, c := list(rows), list(cols)
	if cells == 0 {
		return "every cell is under some window, so every cell can receive a gradient."
	}
	return fmt.Sprintf("rows [%s] and columns [%s] are under no window: those %d cells receive no gradient.",
		strings.Join(r, " "), strings.Join(c, " "), cells)
}

// fmtF32 formats v as the pages do: the float32 of the engine's value.
func fmtF32(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprint(float32(v))
}

// grade says whether pick answers truth (nil: a poll, nothing to grade).
func grade(kind string, pick protocol.PromptPick, truth *protocol.PromptTruth) *bool {
	var ok bool
	switch kind {
	case protocol.PromptConvReach:
		got := slices.Compact(slices.Sorted(slices.Values(pick.Cells)))
		ok = slices.Equal(got, truth.Cells)
	case protocol.PromptWeightSign:
		ok = pick.Sign == truth.Sign && (truth.Sign == protocol.SignNone || pick.Size != nil && truth.Size != nil && *pick.Size == *truth.Size)
	default:
		if truth.Choice == nil {
			return nil
		}
		ok = pick.Choice != nil && *pick.Choice == *truth.Choice
	}
	return &ok
}
