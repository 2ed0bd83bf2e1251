package server

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/backpropviz/backpropviz/engine"
)

// Wire types: the JSON messages of docs/protocol.md. Engine types carry no
// JSON tags; they are converted here, in one place.

// protocolVersion is the "v" of every message.
const protocolVersion = 1

// Error codes of an "error" message.
const (
	codeBadMessage  = "bad_message"
	codeTooLarge    = "too_large"
	codeBadVersion  = "bad_version"
	codeInvalid     = "invalid"
	codeRateLimited = "rate_limited"
	codeForbidden   = "forbidden"
	codeDiverged    = "diverged"
	codeFull        = "full"
)

// clientMsg is any message from a client. Command arguments may be given
// inside "args" or at the top level of the message.
type clientMsg struct {
	Type string          `json:"type"`
	V    *int            `json:"v"`
	ID   json.RawMessage `json:"id"`
	Cmd  string          `json:"cmd"`
	Args *cmdArgs        `json:"args"`
	cmdArgs
	// subscribe
	Layers json.RawMessage `json:"layers"`
	Kinds  []string        `json:"kinds"`
	Probe  *bool           `json:"probe"`
	Exact  *bool           `json:"exact"`
}

// cmdArgs are the arguments of set, reset and test; a nil field is absent.
type cmdArgs struct {
	LR       *float64        `json:"lr"`
	Opt      *string         `json:"opt"`
	Momentum *float64        `json:"momentum"`
	Nesterov *bool           `json:"nesterov"`
	WD       *float64        `json:"wd"`
	Beta1    *float64        `json:"beta1"`
	Beta2    *float64        `json:"beta2"`
	Eps      *float64        `json:"eps"`
	Batch    *int            `json:"batch"`
	Spec     *string         `json:"spec"`
	Seed     *int64          `json:"seed"`
	Data     *string         `json:"data"`
	Speed    *wireSpeed      `json:"speed"`
	Sample   json.RawMessage `json:"sample"` // an index or "probe"
	Max      *int            `json:"max"`    // test
}

type wireHyper struct {
	Opt      string  `json:"opt"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Nesterov bool    `json:"nesterov"`
	WD       float64 `json:"wd"`
	Beta1    float64 `json:"beta1"`
	Beta2    float64 `json:"beta2"`
	Eps      float64 `json:"eps"`
	Batch    int     `json:"batch"`
}

func toWireHyper(h engine.Hyper) wireHyper {
	return wireHyper{Opt: h.Optimizer, LR: h.LearningRate, Momentum: h.Momentum, Nesterov: h.Nesterov,
		WD: h.WeightDecay, Beta1: h.Beta1, Beta2: h.Beta2, Eps: h.Epsilon, Batch: h.BatchSize}
}

// wireSpeed is how fast play runs: Rate units per second, 0 = as fast as the
// CPU allows.
type wireSpeed struct {
	Unit string  `json:"unit"` // "phase" or "step"
	Rate float64 `json:"rate"`
}

type wireConfig struct {
	Spec  string    `json:"spec"`
	Seed  int64     `json:"seed"`
	Hyper wireHyper `json:"hyper"`
	Data  string    `json:"data"`
}

type wireLayer struct {
	Index    int     `json:"index"`
	Kind     string  `json:"kind"`
	Spec     string  `json:"spec"`
	Name     string  `json:"name"`
	InShape  []int   `json:"in_shape"`
	OutShape []int   `json:"out_shape"`
	Params   [][]int `json:"params"`
}

type wireLimits struct {
	MaxFPS        int     `json:"max_fps"`
	MaxMessage    int     `json:"max_message"`
	MaxBatch      int     `json:"max_batch"`
	MaxTestImages int     `json:"max_test_images"`
	MaxRate       float64 `json:"max_rate"`
	CmdRate       float64 `json:"cmd_rate"`
}

type welcomeMsg struct {
	Type       string      `json:"type"`
	V          int         `json:"v"`
	Session    string      `json:"session"`
	Resume     string      `json:"resume"`
	Resumed    bool        `json:"resumed"`
	Config     wireConfig  `json:"config"`
	Layers     []wireLayer `json:"layers"`
	InputShape []int       `json:"input_shape"`
	Classes    []string    `json:"classes"`
	Limits     wireLimits  `json:"limits"`
}

type stateMsg struct {
	Type        string     `json:"type"`
	V           int        `json:"v"`
	Step        int        `json:"step"`
	Epoch       int        `json:"epoch"`
	SamplesSeen int        `json:"samples_seen"`
	Playing     bool       `json:"playing"`
	Mode        string     `json:"mode"` // "paused", "play" or "epoch"
	Done        *WirePhase `json:"done"`
	Next        *WirePhase `json:"next"`
	Hyper       wireHyper  `json:"hyper"`
	Seed        int64      `json:"seed"` // the seed the network was built (or last reset) from
	Spec        string     `json:"spec"` // the network spec in effect
	Speed       wireSpeed  `json:"speed"`
	Loss        *F32       `json:"loss"`
	TrainAcc    *F32       `json:"train_acc"`
	TestAcc     *F32       `json:"test_acc"`
	TestStep    *int       `json:"test_step"`
	Error       *string    `json:"error"`
}

type replyMsg struct {
	Type    string          `json:"type"` // ack, pong, error, bye
	V       int             `json:"v"`
	ID      json.RawMessage `json:"id,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Reason  string          `json:"reason,omitempty"`
}

func ackMsg(id json.RawMessage) []byte {
	return mustJSON(replyMsg{Type: "ack", V: protocolVersion, ID: id})
}

func errorMsg(id json.RawMessage, code, message string) []byte {
	return mustJSON(replyMsg{Type: "error", V: protocolVersion, ID: id, Code: code, Message: message})
}

func byeMsg(reason string) []byte {
	return mustJSON(replyMsg{Type: "bye", V: protocolVersion, Reason: reason})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("server: encode message: " + err.Error()) // wire types always encode
	}
	return b
}

// metricsPoint is one optimizer step of the loss chart.
type metricsPoint struct {
	Step     int
	Loss     float64 // mean loss of the step's batch
	TrainAcc float64 // running training accuracy after the step; NaN if none
}

// testPoint is one test-accuracy measurement.
type testPoint struct {
	Step int
	Acc  float64
}

// appendMetricsMsg writes {"type":"metrics","v":1,"reset":r,"points":[[step,loss,acc],…],"test":[[step,acc],…]}
// by hand: a chart history can hold thousands of points.
func appendMetricsMsg(b []byte, reset bool, points []metricsPoint, tests []testPoint) []byte {
	b = append(b, `{"type":"metrics","v":1,"reset":`...)
	b = strconv.AppendBool(b, reset)
	b = append(b, `,"points":[`...)
	for i, p := range points {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.Step), 10)
		b = append(b, ',')
		b = appendF32(b, p.Loss)
		b = append(b, ',')
		b = appendF32(b, p.TrainAcc)
		b = append(b, ']')
	}
	b = append(b, `],"test":[`...)
	for i, p := range tests {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.Step), 10)
		b = append(b, ',')
		b = appendF32(b, p.Acc)
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

func appendF32(b []byte, v float64) []byte {
	// A finite float64 beyond float32's range rounds to ±Inf, which JSON
	// cannot carry either: null, like NaN and ±Inf.
	if f := float64(float32(v)); math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 32)
}

var phaseKinds = map[engine.PhaseKind]string{
	engine.PhaseForward:  "forward",
	engine.PhaseLoss:     "loss",
	engine.PhaseBackward: "backward",
	engine.PhaseUpdate:   "update",
}

func toWirePhase(t *engine.Trainer, p engine.Phase) *WirePhase {
	return &WirePhase{Kind: phaseKinds[p.Kind], Layer: p.Layer, Label: t.PhaseLabel(p)}
}

func toWireLayers(infos []engine.LayerInfo) []wireLayer {
	out := make([]wireLayer, len(infos))
	for i, l := range infos {
		out[i] = wireLayer{Index: l.Index, Kind: l.Kind, Spec: l.Spec, Name: l.Name,
			InShape: l.InShape, OutShape: l.OutShape, Params: l.ParamShapes}
		if out[i].Params == nil {
			out[i].Params = [][]int{}
		}
	}
	return out
}
