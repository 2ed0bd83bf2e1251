package protocol

// The vocabularies of the protocol and of the lab page: every word either
// side writes, listed once. The page's scripts use the same words; a test
// can compare these lists with theirs.

// Version is the "v" of every message.
const Version = 1

// Message types ("type").
const (
	// client → server
	TypeCmd       = "cmd"
	TypeSubscribe = "subscribe"
	TypePing      = "ping"
	TypeExplain   = "explain" // how was this number computed? answered by TypeExplanation
	TypeWalk      = "walk"    // a conv layer's backward convolution step by step: TypeWalkthrough
	// TypeGradCheck is both the request and its answer: a finite-difference
	// check of one gradient.
	TypeGradCheck = "gradcheck"
	// TypeLook is both the owner's request and what every page of the
	// session receives: "look at this cell".
	TypeLook = "look"
	// TypeReceived acknowledges one trace frame (flow control, see
	// docs/protocol.md "Flow control"); it is not answered.
	TypeReceived = "received"
	// TypeFrames turns this page's trace frames off (a hidden tab) or on
	// again (answered with ack and a keyframe).
	TypeFrames = "frames"
	// TypeTimeline asks about the session's history (TimelineActions) and
	// is its answer.
	TypeTimeline = "timeline"
	// server → client
	TypeWelcome = "welcome"
	TypeState   = "state"
	TypeMetrics = "metrics"
	TypeRoom    = "room"
	TypeAck     = "ack"
	TypeError   = "error"
	TypePong    = "pong"
	TypeBye     = "bye"
	TypeProbe   = "probe" // the session's probe image is the user's own (ProbeChanged)

	TypeExplanation = "explanation"
	TypeWalkthrough = "walkthrough"
	// TypeTimelineCompare answers a timeline "compare".
	TypeTimelineCompare = "timeline_compare"
)

// ClientTypes lists the message types a client may send.
var ClientTypes = []string{TypeCmd, TypeSubscribe, TypePing, TypeExplain, TypeWalk, TypeGradCheck, TypeLook, TypeReceived, TypeFrames, TypeTimeline, TypeAnswer}

// Commands of a "cmd" message.
const (
	CmdPlay      = "play"
	CmdPause     = "pause"
	CmdStepPhase = "step_phase"
	CmdStepBatch = "step_batch"
	CmdStepEpoch = "step_epoch"
	CmdReset     = "reset"
	CmdSet       = "set"
	CmdTest      = "test"
	CmdUndo      = "undo" // a room: back to before the last reset, spec or data change
)

// Commands lists the commands a server accepts.
var Commands = []string{CmdPlay, CmdPause, CmdStepPhase, CmdStepBatch, CmdStepEpoch, CmdReset, CmdSet, CmdTest, CmdUndo, CmdClass, CmdPrompt, CmdReveal, CmdPromptClose}

// Error codes of an "error" message.
const (
	CodeBadMessage  = "bad_message"  // not a message of the protocol
	CodeTooLarge    = "too_large"    // larger than the server's max_message
	CodeBadVersion  = "bad_version"  // "v" is not Version
	CodeInvalid     = "invalid"      // an argument out of range, or the server failed
	CodeRateLimited = "rate_limited" // too many messages or join attempts
	CodeForbidden   = "forbidden"    // a viewer's command to a room
	CodeDiverged    = "diverged"     // the step produced a non-finite loss or gradient
	CodeFull        = "full"         // a limit of the server is reached
	CodeNotFound    = "not_found"    // no room has this code, or the room has closed
	CodePlaying     = "playing"      // a gradient check while the session plays: pause first
	CodeSpecChange  = "spec_change"  // the network does not fit the data chosen: Reply.Spec would replace it
)

// Tensor kinds of a frame (TensorEntry.Kind).
const (
	KindInput   = "input"   // the network input image (layer −1), (C, H, W)
	KindAct     = "act"     // a layer's output feature maps, (OutShape)
	KindGrad    = "grad"    // dL/d(output) of the visualized sample, (OutShape)
	KindGradIn  = "gradin"  // dL/d(input) of the visualized sample, (InShape)
	KindWeights = "weights" // W, e.g. (F, C, KH, KW) or (Out, In)
	KindBias    = "bias"    // b, (F)
	KindWGrad   = "wgrad"   // dL/dW of the batch, shape of W
	KindBGrad   = "bgrad"   // dL/db of the batch, (F)
	KindUpdate  = "update"  // ΔW applied by the last Update, shape of W
	KindBUpdate = "bupdate" // Δb applied by the last Update, (F)
	KindSwitch  = "switch"  // max-pool switches, int32, (OutShape)
	KindSWGrad  = "swgrad"  // the visualized sample's share of dL/dW, shape of W
	KindSBGrad  = "sbgrad"  // the visualized sample's share of dL/db, (F)
)

// Kinds lists the tensor kinds in the order a frame carries them within a
// layer. A kind's code is its index: its bit in a KindMask is 1 << code.
// New kinds are appended, so that codes do not change.
var Kinds = []string{KindInput, KindAct, KindGrad, KindGradIn, KindWeights, KindBias,
	KindWGrad, KindBGrad, KindUpdate, KindBUpdate, KindSwitch, KindSWGrad, KindSBGrad}

// Encodings of a tensor (TensorEntry.Enc).
const (
	EncF32 = "f32" // little-endian float32: the engine's float64 rounded to float32
	EncQ8  = "q8"  // one signed byte per value, v ≈ q/127 · scale
	EncI32 = "i32" // little-endian int32
)

// Phase kinds (Phase.Kind).
const (
	PhaseForward  = "forward"
	PhaseLoss     = "loss"
	PhaseBackward = "backward"
	PhaseUpdate   = "update"
)

// Modes of a session (State.Mode).
const (
	ModePaused = "paused"
	ModePlay   = "play"  // playing at the session's speed
	ModeEpoch  = "epoch" // running batches at full speed to the end of the epoch
)

// Speed units (Speed.Unit).
const (
	UnitPhase = "phase" // phases per second
	UnitStep  = "step"  // optimizer steps per second
)

// Roles of a room's page (Room.Role).
const (
	RoleOwner  = "owner"  // drives the room
	RoleViewer = "viewer" // watches it
)

// Data set names (Config.Data, the "data" parameter).
const (
	DataMNIST   = "mnist"
	DataShapes  = "shapes"
	DataFashion = "fashion" // Fashion-MNIST, when its files are installed
)

// DataSets lists the data sets every server knows; a server may offer more
// (the -dataset flag), and Fashion-MNIST only when its files are installed.
var DataSets = []string{DataMNIST, DataShapes, DataFashion}

// Optimizers lists the optimizer names of Hyper.Opt.
var Optimizers = []string{"adam", "rmsprop", "sgd"}

// LabKeys are the lab's URL parameters (of the page and of /ws), in the
// order the server applies them.
var LabKeys = []string{"spec", "seed", "opt", "lr", "momentum", "nesterov", "wd", "beta1", "beta2", "eps", "alpha", "centered", "decay", "batch", "data", "sample", "speed", "rate"}

// The lab page's own choices: they never travel on the websocket, but the
// page's controls and URL use these words.
var (
	// OptimizerChoices are the optimizer menu's values: SGD (its momentum
	// and Nesterov are fields of their own), Adam, RMSprop.
	OptimizerChoices = []string{"sgd", "adam", "rmsprop"}
	// ColourRanges say what one colour scale spans: a layer, or one map.
	ColourRanges = []string{"layer", "map"}
	// Outliers are the colour scales' handling of extreme values: clamp to
	// the 99th percentile, the full range, a symmetric log.
	Outliers = []string{"clamp", "full", "symlog"}
	// DivergingPalettes colour signed values (gradients, weights).
	DivergingPalettes = []string{"blue-orange", "puor"}
	// SequentialPalettes colour non-negative values (activations).
	SequentialPalettes = []string{"viridis", "magma", "gray"}
)
