package protocol

import (
	"fmt"
	"slices"
)

// Prompt kinds: what a teacher asks the class to predict before a phase runs
// (predict, then reveal). Each is checked against the engine's own result.
const (
	// PromptPoolSwitch: which cell of this pooling window receives the
	// gradient (the window's switch). Layer is a max-pool layer; Channel,
	// Row, Col name the window in its output.
	PromptPoolSwitch = "pool_switch"
	// PromptConvReach: which cells of this conv's input get no gradient
	// (with stride 2 some receive none). Layer is a conv layer; Channel the
	// input channel.
	PromptConvReach = "conv_reach"
	// PromptClass: which class the network will predict for this sample.
	PromptClass = "class"
	// PromptWeightSign: will this weight go up or down after the update, and
	// roughly by how much. Layer, Channel (filter), In (input channel), Row,
	// Col name the weight.
	PromptWeightSign = "weight_sign"
	// PromptChoice: a free choice among Options the teacher types; Answer is
	// the right option's index, or -1 when none is right or wrong.
	PromptChoice = "choice"
)

// PromptKinds lists the kinds in the order the page offers them.
var PromptKinds = []string{PromptPoolSwitch, PromptConvReach, PromptClass, PromptWeightSign, PromptChoice}

// MaxPromptOptions bounds a choice prompt's options.
const MaxPromptOptions = 8

// PromptSpec is one question of a lesson or one the teacher asks live. The
// cell it points at is checked against the network when it is asked.
type PromptSpec struct {
	Kind     string   `json:"kind"`               // one of PromptKinds
	Question string   `json:"question,omitempty"` // the teacher's words; empty: the kind's own question
	Layer    int      `json:"layer,omitempty"`    // layer index (0 = first layer)
	Channel  int      `json:"channel,omitempty"`
	In       int      `json:"in,omitempty"` // weight_sign: the filter's input channel
	Row      int      `json:"row,omitempty"`
	Col      int      `json:"col,omitempty"`
	Options  []string `json:"options,omitempty"` // choice only
	Answer   int      `json:"answer,omitempty"`  // choice only
}

// Check reports what is wrong with p that needs no network to see: an
// unknown kind, a negative index, a choice without 2 to MaxPromptOptions
// options or with an answer out of range.
func (p PromptSpec) Check() error {
	if !slices.Contains(PromptKinds, p.Kind) {
		return fmt.Errorf("prompt kind %q: want one of %v", p.Kind, PromptKinds)
	}
	if p.Layer < 0 || p.Channel < 0 || p.In < 0 || p.Row < 0 || p.Col < 0 {
		return fmt.Errorf("prompt %s: layer, channel, in, row and col must not be negative", p.Kind)
	}
	if len(p.Question) > 500 {
		return fmt.Errorf("prompt %s: question of %d bytes, at most 500", p.Kind, len(p.Question))
	}
	if p.Kind != PromptChoice {
		if len(p.Options) > 0 {
			return fmt.Errorf("prompt %s: options belong to %q prompts only", p.Kind, PromptChoice)
		}
		return nil
	}
	if n := len(p.Options); n < 2 || n > MaxPromptOptions {
		return fmt.Errorf("prompt choice: %d options, want 2 to %d", n, MaxPromptOptions)
	}
	for i, o := range p.Options {
		if o == "" || len(o) > 200 {
			return fmt.Errorf("prompt choice: option %d is empty or longer than 200 bytes", i+1)
		}
	}
	if p.Answer < -1 || p.Answer >= len(p.Options) {
		return fmt.Errorf("prompt choice: answer %d, want -1 or an option's index 0 to %d", p.Answer, len(p.Options)-1)
	}
	return nil
}
