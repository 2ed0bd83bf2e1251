package protocol

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The timeline: a session keeps a thinned history of its training (see
// docs/protocol.md, "Timeline"), and a page looks back through it with
// "timeline" messages. Looking back never changes the trainer.

// Actions of a "timeline" message.
const (
	TimelineList    = "list"    // the steps kept, and what this page looks at
	TimelineView    = "view"    // look at the latest step kept at or before "step"
	TimelineLive    = "live"    // back to the live trainer (a student: back to the room's view)
	TimelineCompare = "compare" // one filter now, at "step", and their difference
)

// TimelineActions lists the actions of a "timeline" message.
var TimelineActions = []string{TimelineList, TimelineView, TimelineLive, TimelineCompare}

// TimelineRequest is a parsed "timeline" message.
type TimelineRequest struct {
	Action string
	Step   int // view, compare
	Layer  int // compare: a layer with weights
	Filter int // compare: which filter (output channel, or row of a dense layer)
}

// ParseTimeline reads a "timeline" message: {"action", "step", "layer",
// "filter"}. The error is the reply's message (invalid).
func ParseTimeline(m *ClientMsg) (TimelineRequest, error) {
	var r TimelineRequest
	if m.Action == nil || !slices.Contains(TimelineActions, *m.Action) {
		return r, fmt.Errorf("timeline: action must be one of %v", TimelineActions)
	}
	r.Action = *m.Action
	if r.Action == TimelineView || r.Action == TimelineCompare {
		if m.Step == nil {
			return r, fmt.Errorf("timeline %s: step is missing", r.Action)
		}
		r.Step = *m.Step
	}
	if r.Action == TimelineCompare {
		if m.Layer == nil || m.Filter == nil {
			return r, fmt.Errorf("timeline compare: layer and filter are needed")
		}
		if *m.Filter < 0 {
			return r, fmt.Errorf("timeline compare: filter %d is negative", *m.Filter)
		}
		r.Layer, r.Filter = *m.Layer, *m.Filter
	}
	return r, nil
}

// Timeline answers a "timeline" message (list, view, live): the history
// the session keeps and what this page looks at.
type Timeline struct {
	Type  string          `json:"type"` // TypeTimeline
	V     int             `json:"v"`
	ID    json.RawMessage `json:"id,omitempty"`
	Steps []int           `json:"steps"` // the steps kept, oldest first
	Live  int             `json:"live"`  // the trainer's step
	// Viewing is the step of history this page shows; null: live.
	Viewing *int `json:"viewing"`
	// Shared: the view is the room's, chosen by its owner.
	Shared  bool  `json:"shared"`
	Bytes   int64 `json:"bytes"`   // memory the history holds
	Budget  int64 `json:"budget"`  // its bound
	Density int   `json:"density"` // every step of the last Density is kept; older ones thinner
	// Note says why there is no history, if there is none.
	Note string `json:"note,omitempty"`
}

// HistoryView is in the header of a frame that shows a step of history
// rather than the live trainer.
type HistoryView struct {
	Step   int  `json:"step"`   // the step shown
	Live   int  `json:"live"`   // the trainer's step when the frame was made
	Shared bool `json:"shared"` // the room's view, chosen by its owner
}

// TimelineCompareReply answers "compare": one filter of a layer's W now
// and at an earlier step, and now − then, computed by the server in
// float64 and carried as float32. Shape is one filter's: (C, KH, KW) of a
// conv layer, (1, 1, In) of a dense layer's row.
type TimelineCompareReply struct {
	Type   string          `json:"type"` // TypeTimelineCompare
	V      int             `json:"v"`
	ID     json.RawMessage `json:"id,omitempty"`
	Layer  int             `json:"layer"`
	Name   string          `json:"name"`
	Filter int             `json:"filter"`
	Then   int             `json:"then"` // the step of the earlier filter
	Now    int             `json:"now"`  // the trainer's step
	Shape  []int           `json:"shape"`
	WNow   []F32           `json:"w_now"`
	WThen  []F32           `json:"w_then"`
	Diff   []F32           `json:"diff"` // w_now − w_then
	// Scale is max |w| of both filters (their common colour scale);
	// DiffScale max |diff|.
	Scale     F32 `json:"scale"`
	DiffScale F32 `json:"diff_scale"`
}
