package protocol

import (
	"encoding/json"
)

// The JSON messages of the server. Field order is the order on the wire.

// Hyper are the hyperparameters of a session.
type Hyper struct {
	Opt      string  `json:"opt"` // one of Optimizers
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Nesterov bool    `json:"nesterov"`
	WD       float64 `json:"wd"`
	Beta1    float64 `json:"beta1"`
	Beta2    float64 `json:"beta2"`
	Eps      float64 `json:"eps"`
	Alpha    float64 `json:"alpha"`    // RMSprop's smoothing constant α
	Centered bool    `json:"centered"` // RMSprop's centered form
	Decay    float64 `json:"decay"`    // epochs over which the learning rate falls to 5% of lr; 0: constant
	Batch    int     `json:"batch"`
}

// Speed is how fast play runs: Rate units per second, 0 = as fast as the
// CPU allows.
type Speed struct {
	Unit string  `json:"unit"` // UnitPhase or UnitStep
	Rate float64 `json:"rate"`
}

// Config is a session's network, seed, hyperparameters and data set.
type Config struct {
	Spec  string `json:"spec"`
	Seed  int64  `json:"seed"`
	Hyper Hyper  `json:"hyper"`
	Data  string `json:"data"` // one of DataSets
}

// Layer describes one layer of the network.
type Layer struct {
	Index    int     `json:"index"`
	Kind     string  `json:"kind"`
	Spec     string  `json:"spec"`
	Name     string  `json:"name"`
	InShape  []int   `json:"in_shape"`
	OutShape []int   `json:"out_shape"`
	Params   [][]int `json:"params"` // shapes of the parameter tensors: W, then b
}

// Limits are the server's limits a client is told in the welcome.
type Limits struct {
	MaxFPS        int     `json:"max_fps"`         // frames per second while playing
	MaxMessage    int     `json:"max_message"`     // bytes of one client message
	MaxBatch      int     `json:"max_batch"`       // batch size
	MaxTestImages int     `json:"max_test_images"` // images of one test command
	MaxRate       float64 `json:"max_rate"`        // speed, units per second
	CmdRate       float64 `json:"cmd_rate"`        // client messages per second
	QuestionRate  float64 `json:"question_rate"`   // questions (explain, walk, gradcheck, look) per second
}

// Welcome is the first message of a connection, and is sent again when the
// network is rebuilt.
type Welcome struct {
	Type       string   `json:"type"` // TypeWelcome
	V          int      `json:"v"`
	Session    string   `json:"session"` // public id, for logs
	Resume     string   `json:"resume"`  // token that resumes the session ("" in a room)
	Resumed    bool     `json:"resumed"`
	Config     Config   `json:"config"`
	Layers     []Layer  `json:"layers"`
	InputShape []int    `json:"input_shape"`
	Classes    []string `json:"classes"`
	Limits     Limits   `json:"limits"`
}

// Phase is one phase of a training step.
type Phase struct {
	Kind  string `json:"kind"`  // PhaseForward, PhaseLoss, PhaseBackward, PhaseUpdate
	Layer int    `json:"layer"` // −1 for loss and update
	Label string `json:"label"` // e.g. "backward · maxpool 1"
}

// State is where the trainer is.
type State struct {
	Type        string `json:"type"` // TypeState
	V           int    `json:"v"`
	Step        int    `json:"step"`
	Epoch       int    `json:"epoch"`
	SamplesSeen int    `json:"samples_seen"`
	Playing     bool   `json:"playing"`
	Mode        string `json:"mode"` // ModePaused, ModePlay or ModeEpoch
	Done        *Phase `json:"done"`
	Next        *Phase `json:"next"`
	Hyper       Hyper  `json:"hyper"`
	Seed        int64  `json:"seed"` // the seed the network was built (or last reset) from
	Spec        string `json:"spec"` // the network spec in effect
	Speed       Speed  `json:"speed"`
	// LRNow is the learning rate the next Update uses (Hyper.LR after the
	// schedule); LREnd the rate the schedule ends at and keeps (LR when
	// Decay is 0).
	LRNow float64 `json:"lr_now"`
	LREnd float64 `json:"lr_end"`
	Loss  *F32    `json:"loss"`
	// BatchLoss is the current step's batch loss once its loss phase has
	// run (until the next step starts); null before it, when Loss is the
	// last completed step's.
	BatchLoss *F32    `json:"batch_loss"`
	TrainAcc  *F32    `json:"train_acc"`
	TestAcc   *F32    `json:"test_acc"`
	TestStep  *int    `json:"test_step"`
	Error     *string `json:"error"`
	// Undo is how many resets, spec and data changes of a room the
	// "undo" command can take back, last first (0 elsewhere).
	Undo int `json:"undo"`
	// EpochDone is, while a step_epoch runs (Mode ModeEpoch), the part of
	// the epoch done, 0 … 1, and EpochLeft the seconds it should still
	// take at the speed so far (null until a step has been timed).
	EpochDone *F32 `json:"epoch_done"`
	EpochLeft *F32 `json:"epoch_left"`
	// ForkShared: a fork's last step waited for the steps per second all
	// forks of the server share, so it plays slower than its speed.
	ForkShared bool `json:"fork_shared,omitempty"`
	// Stopped says, in the first state a page gets after it (re)opened,
	// that Play or a step_epoch was running when the session's last page
	// went away, and so stopped there (a session nobody watches spends no
	// CPU); left out otherwise.
	Stopped string `json:"stopped,omitempty"`
}

// ProbeChanged tells every page of a session that its probe image is now a
// drawing or an image a user sent (POST /probe), with its label: a room's
// pages show the teacher's drawing.
type ProbeChanged struct {
	Type  string `json:"type"` // TypeProbe
	V     int    `json:"v"`
	Label int    `json:"label"`
}

// Reply is an ack, pong, error or bye.
type Reply struct {
	Type    string          `json:"type"` // TypeAck, TypePong, TypeError, TypeBye
	V       int             `json:"v"`
	ID      json.RawMessage `json:"id,omitempty"`      // the request's id
	Code    string          `json:"code,omitempty"`    // error: one of the Code… values
	Message string          `json:"message,omitempty"` // error: for the user
	Reason  string          `json:"reason,omitempty"`  // bye: for the user
	Spec    string          `json:"spec,omitempty"`    // error spec_change: the network the data set would get
}

// Room tells a room's pages who they are and how many watch.
type Room struct {
	Type    string `json:"type"` // TypeRoom
	V       int    `json:"v"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Role    string `json:"role"` // RoleOwner or RoleViewer
	Viewers int    `json:"viewers"`
	Forks   bool   `json:"forks"` // students may fork the room (the teacher may lock it)
}

// Ack is the ack of request id.
func Ack(id json.RawMessage) []byte {
	return Marshal(Reply{Type: TypeAck, V: Version, ID: id})
}

// Pong answers a ping with request id.
func Pong(id json.RawMessage) []byte {
	return Marshal(Reply{Type: TypePong, V: Version, ID: id})
}

// ErrorReply is an error of request id (nil: of no request).
func ErrorReply(id json.RawMessage, code, message string) []byte {
	return Marshal(Reply{Type: TypeError, V: Version, ID: id, Code: code, Message: message})
}

// Bye is the last message of a connection the server closes.
func Bye(reason string) []byte {
	return Marshal(Reply{Type: TypeBye, V: Version, Reason: reason})
}

// Marshal encodes a message of this package. It panics if v cannot be
// encoded, which the types of this package always can.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: encode message: " + err.Error())
	}
	return b
}
