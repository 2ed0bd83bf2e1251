package protocol

import (
	"fmt"
	"slices"
)

// The messages of predict, then reveal (docs/protocol.md, "Prompts"): the
// room's owner asks a prompt (a PromptSpec), every page of the room shows
// it, students answer, the owner's pages see the tally live, and "reveal"
// runs the phase and sends the truth the engine computed.

// Commands of the room's owner.
const (
	CmdPrompt      = "prompt"       // ask CmdArgs.Prompt: the room pauses before the phase that answers it
	CmdReveal      = "reveal"       // run that phase and send the truth
	CmdPromptClose = "close_prompt" // take the prompt off every page
)

// Message types of prompts.
const (
	TypeAnswer      = "answer"       // student → server: ClientMsg.PromptID and ClientMsg.Pick
	TypePrompt      = "prompt"       // server → every page of the room: Prompt
	TypePromptTally = "prompt_tally" // server → the owner's pages, at most every 250 ms: PromptTallyMsg
	TypePromptMine  = "prompt_mine"  // server → one student's pages: PromptMine
)

// Statuses of a prompt (Prompt.Status).
const (
	PromptOpen     = "open"     // answers are taken
	PromptRevealed = "revealed" // the truth is known; answers are closed
	PromptClosed   = "closed"   // taken off the pages
)

// Signs of a weight's change (PromptPick.Sign, PromptTruth.Sign).
const (
	SignUp   = "up"
	SignDown = "down"
	SignNone = "none" // ΔW is exactly 0
)

// Signs lists the signs in the order of PromptTally.Counts.
var Signs = []string{SignUp, SignDown, SignNone}

// WeightBuckets are the bounds of the size buckets of |ΔW|: bucket k holds
// WeightBuckets[k-1] ≤ |ΔW| < WeightBuckets[k].
var WeightBuckets = []float64{1e-4, 1e-3, 1e-2}

// WeightBucketNames names the buckets, as the page offers them.
var WeightBucketNames = []string{"less than 0.0001", "0.0001 to 0.001", "0.001 to 0.01", "0.01 or more"}

// WeightBucket is the bucket of |ΔW| = d.
func WeightBucket(d float64) int {
	if d < 0 {
		d = -d
	}
	k := 0
	for k < len(WeightBuckets) && d >= WeightBuckets[k] {
		k++
	}
	return k
}

// PromptPick is a student's answer. Which fields count depends on the
// prompt's kind.
type PromptPick struct {
	// pool_switch: the cell of the pooling window, row-major within it
	// (dy·KW + dx); class: the class; choice: the option's index.
	Choice *int `json:"choice,omitempty"`
	// conv_reach: the cells of the conv's input plane (y·W + x) that
	// receive no gradient at all (empty: every cell receives some).
	Cells []int `json:"cells,omitempty"`
	// weight_sign: up, down or none, and the bucket of |ΔW|.
	Sign string `json:"sign,omitempty"`
	Size *int   `json:"size,omitempty"`
}

// PromptWindow is the pooling window of a pool_switch prompt: Rows×Cols
// cells of the pool's input plane from (Y0, X0) (negative: padding), with
// their values (null for padding).
type PromptWindow struct {
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
	Y0     int    `json:"y0"`
	X0     int    `json:"x0"`
	Values []*F32 `json:"values"`
}

// PromptGrid is the input plane of a conv_reach prompt.
type PromptGrid struct {
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
	Spec string `json:"spec"` // the conv's spec, e.g. "conv(4,3,s2,p0)"
}

// PromptTruth is what the engine computed, sent at the reveal.
type PromptTruth struct {
	Choice *int  `json:"choice,omitempty"` // the right window cell, class or option (none: a poll)
	Cells  []int `json:"cells"`            // conv_reach: the cells no window of the conv covers
	// conv_reach: the cells whose dL/dX in this sample's backward pass is
	// exactly 0 (those above, and those whose δ happened to be 0).
	Zero  []int  `json:"zero,omitempty"`
	Sign  string `json:"sign,omitempty"`
	Size  *int   `json:"size,omitempty"`
	Delta *F32   `json:"delta,omitempty"` // weight_sign: ΔW
	Why   string `json:"why"`             // the evidence, in words
}

// PromptTally is the class's answers, without names.
type PromptTally struct {
	PromptID int  `json:"prompt_id"`
	Answered int  `json:"answered"`
	Students int  `json:"students"` // students in the room
	Right    *int `json:"right"`    // after the reveal
	// Per choice (window cell, class, option) or, for weight_sign, per
	// sign in the order of Signs.
	Counts []int `json:"counts,omitempty"`
	Sizes  []int `json:"sizes,omitempty"` // weight_sign: per bucket
	Cells  []int `json:"cells,omitempty"` // conv_reach: per cell, the students who marked it
}

// PromptTallyMsg is the live tally sent to the owner's pages.
type PromptTallyMsg struct {
	Type string `json:"type"` // TypePromptTally
	V    int    `json:"v"`
	PromptTally
}

// Prompt is a prompt as every page of the room shows it.
type Prompt struct {
	Type      string        `json:"type"` // TypePrompt
	V         int           `json:"v"`
	PromptID  int           `json:"prompt_id"`           // 1, 2, … in the room
	Lesson    int           `json:"lesson,omitempty"`    // asked from the room's lesson: its number there (1, 2, …)
	LessonOf  int           `json:"lesson_of,omitempty"` // … of this many of the lesson's questions
	Status    string        `json:"status"`              // PromptOpen, PromptRevealed or PromptClosed
	Kind      string        `json:"kind"`
	Question  string        `json:"question"` // the teacher's words or the kind's own
	Layer     int           `json:"layer"`
	LayerName string        `json:"layer_name,omitempty"`
	Channel   int           `json:"channel"`
	In        int           `json:"in"`
	Row       int           `json:"row"`
	Col       int           `json:"col"`
	Options   []string      `json:"options,omitempty"`
	Phase     string        `json:"phase,omitempty"` // the phase the reveal runs ("" for choice)
	Step      int           `json:"step"`            // the optimizer step the prompt is about
	Window    *PromptWindow `json:"window,omitempty"`
	Grid      *PromptGrid   `json:"grid,omitempty"`
	Classes   []string      `json:"classes,omitempty"`
	Weight    *F32          `json:"weight,omitempty"` // weight_sign: W before the update
	Buckets   []string      `json:"buckets,omitempty"`
	Truth     *PromptTruth  `json:"truth,omitempty"` // after the reveal
	Tally     *PromptTally  `json:"tally,omitempty"` // after the reveal
}

// PromptMine is one student's answer as the server counted it and, after
// the reveal, whether it was right.
type PromptMine struct {
	Type     string      `json:"type"` // TypePromptMine
	V        int         `json:"v"`
	PromptID int         `json:"prompt_id"`
	Pick     *PromptPick `json:"pick"`    // null: no answer
	Correct  *bool       `json:"correct"` // null before the reveal, without an answer, or for a poll
}

// DefaultQuestion is the question a prompt of kind asks when the teacher
// types none; layer names the layer ("maxpool 1").
func DefaultQuestion(kind, layer string) string {
	switch kind {
	case PromptPoolSwitch:
		return fmt.Sprintf("Which cell of this %s window receives the gradient?", layer)
	case PromptConvReach:
		return fmt.Sprintf("Which cells of %s's input receive no gradient at all from it? Mark them (none, if every cell gets some).", layer)
	case PromptClass:
		return "Which class will the network predict for this sample?"
	case PromptWeightSign:
		return fmt.Sprintf("Will this weight of %s go up or down in the update, and by roughly how much?", layer)
	}
	return "Which is right?"
}

// CheckPick reports what is wrong with an answer to a prompt of kind with
// n choices (window cells, classes or options) or n cells (conv_reach).
func (a PromptPick) CheckPick(kind string, n int) error {
	switch kind {
	case PromptPoolSwitch, PromptClass, PromptChoice:
		if a.Choice == nil || *a.Choice < 0 || *a.Choice >= n {
			return fmt.Errorf("answer: choose one of the %d", n)
		}
	case PromptConvReach:
		if len(a.Cells) > n {
			return fmt.Errorf("answer: %d cells marked, the input has %d", len(a.Cells), n)
		}
		for _, c := range a.Cells {
			if c < 0 || c >= n {
				return fmt.Errorf("answer: cell %d outside the input's %d cells", c, n)
			}
		}
	case PromptWeightSign:
		if !slices.Contains(Signs, a.Sign) {
			return fmt.Errorf("answer: sign %q, want one of %v", a.Sign, Signs)
		}
		if a.Size == nil || *a.Size < 0 || *a.Size > len(WeightBuckets) {
			return fmt.Errorf("answer: choose how much, one of the %d sizes", len(WeightBuckets)+1)
		}
	}
	return nil
}
