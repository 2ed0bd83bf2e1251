package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// ClientMsg is any message from a client: a command (TypeCmd), a
// subscription (TypeSubscribe), a ping (TypePing), a question
// (TypeExplain, TypeWalk, TypeGradCheck) or TypeLook, a frame's
// acknowledgement (TypeReceived) or frames off or on (TypeFrames). Command arguments may
// be given inside "args" or at the top level of the message.
type ClientMsg struct {
	Type string          `json:"type"`
	V    *int            `json:"v,omitempty"`  // Version; absent means Version
	ID   json.RawMessage `json:"id,omitempty"` // echoed in the reply
	Cmd  string          `json:"cmd,omitempty"`
	Args *CmdArgs        `json:"args,omitempty"`
	CmdArgs
	// subscribe (besides CmdArgs.Sample)
	Layers json.RawMessage `json:"layers,omitempty"` // "all", or a list of layer indices or {layer, kinds, channels}
	Kinds  []string        `json:"kinds,omitempty"`
	Probe  *bool           `json:"probe,omitempty"` // also of explain and walk
	Exact  *bool           `json:"exact,omitempty"`
	// MapStats asks for each map's colour-scale statistics (Subscription.MapStats).
	MapStats *bool `json:"map_stats,omitempty"`
	// explain, walk, gradcheck and look (besides CmdArgs.Sample and
	// Probe): see ParseExplain, ParseWalk, ParseGradCheck and ParseLook.
	Layer   *int     `json:"layer,omitempty"`
	Tensor  *string  `json:"tensor,omitempty"`
	Index   []int    `json:"index,omitempty"`
	Limit   *int     `json:"limit,omitempty"`
	Grad    *string  `json:"grad,omitempty"`
	Filter  *int     `json:"filter,omitempty"`
	Channel *int     `json:"channel,omitempty"`
	Param   *string  `json:"param,omitempty"`
	H       *float64 `json:"h,omitempty"`
	// received: the seq of the frame received; frames: whether to send
	// this page frames.
	Seq  *uint64 `json:"seq,omitempty"`
	Send *bool   `json:"send,omitempty"`
	// timeline (besides CmdArgs.Action, Layer and Filter): the step of
	// history to look at (see ParseTimeline).
	Step *int `json:"step,omitempty"`
	// answer: the prompt answered (Prompt.ID) and the answer.
	PromptID *int        `json:"prompt_id,omitempty"`
	Pick     *PromptPick `json:"pick,omitempty"`
}

// CmdArgs are the arguments of set, reset and test; a nil field is absent.
type CmdArgs struct {
	LR       *float64        `json:"lr,omitempty"`
	Opt      *string         `json:"opt,omitempty"`
	Momentum *float64        `json:"momentum,omitempty"`
	Nesterov *bool           `json:"nesterov,omitempty"`
	WD       *float64        `json:"wd,omitempty"`
	Beta1    *float64        `json:"beta1,omitempty"`
	Beta2    *float64        `json:"beta2,omitempty"`
	Eps      *float64        `json:"eps,omitempty"`
	Alpha    *float64        `json:"alpha,omitempty"`
	Centered *bool           `json:"centered,omitempty"`
	Batch    *int            `json:"batch,omitempty"`
	Decay    *float64        `json:"decay,omitempty"` // epochs of the learning-rate schedule, 0: constant
	Spec     *string         `json:"spec,omitempty"`
	Seed     *int64          `json:"seed,omitempty"`
	Data     *string         `json:"data,omitempty"`
	Speed    *Speed          `json:"speed,omitempty"`
	Sample   json.RawMessage `json:"sample,omitempty"`  // an index or "probe"
	Max      *int            `json:"max,omitempty"`     // test: images at most
	Action   *string         `json:"action,omitempty"`  // class: one of ClassActions
	Student  *string         `json:"student,omitempty"` // class: a StudentRow.ID
	Prompt   *PromptSpec     `json:"prompt,omitempty"`  // prompt: the question asked
}

// Arguments are the command's arguments: those inside "args" if given,
// else those at the top level.
func (m *ClientMsg) Arguments() CmdArgs {
	if m.Args != nil {
		return *m.Args
	}
	return m.CmdArgs
}

// MsgError is why a client message is refused: the error reply to send.
type MsgError struct {
	ID      json.RawMessage // the message's id, if it has one
	Code    string          // CodeBadMessage, CodeBadVersion or CodeInvalid
	Message string
}

func (e *MsgError) Error() string { return e.Code + ": " + e.Message }

// Reply is the error reply of e.
func (e *MsgError) Reply() []byte { return ErrorReply(e.ID, e.Code, e.Message) }

// DecodeClientMsg reads a client message and checks its envelope: JSON of
// the right types, the version, a known type and command. The error is a
// *MsgError. A subscription's fields are checked by ParseSubscription, a
// question's by ParseExplain, ParseWalk, ParseGradCheck and ParseLook (and
// against the network by the engine), a command's arguments by the server
// that applies them.
func DecodeClientMsg(b []byte) (ClientMsg, error) {
	var m ClientMsg
	if err := json.Unmarshal(b, &m); err != nil {
		if msg, ok := typeErrorMessage(err); ok {
			return m, &MsgError{IDOf(b), typeErrorCode(msg), msg}
		}
		return m, &MsgError{IDOf(b), CodeBadMessage, "malformed JSON: " + err.Error()}
	}
	if m.V != nil && *m.V != Version {
		return m, &MsgError{m.ID, CodeBadVersion, fmt.Sprintf("protocol version %d: this server speaks version %d", *m.V, Version)}
	}
	switch {
	case m.Type == TypeCmd && !slices.Contains(Commands, m.Cmd):
		return m, &MsgError{m.ID, CodeBadMessage, fmt.Sprintf("unknown command %q", m.Cmd)}
	case !slices.Contains(ClientTypes, m.Type):
		return m, &MsgError{m.ID, CodeBadMessage, fmt.Sprintf("unknown message type %q", m.Type)}
	}
	return m, nil
}

// IDOf extracts the id of a message for an error reply, if it has one.
func IDOf(b []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	json.Unmarshal(b, &m)
	return m.ID
}

// envelopeFields are the fields every message has ("message": the message
// itself, not an object); a wrong type there makes the message malformed
// (bad_message) rather than an invalid argument.
var envelopeFields = map[string]bool{"message": true, "type": true, "v": true, "cmd": true}

// typeErrorCode is the error code for a value of the wrong type in field
// (as typeErrorMessage names it).
func typeErrorCode(msg string) string {
	field, _, _ := strings.Cut(msg, ":")
	if envelopeFields[field] {
		return CodeBadMessage
	}
	return CodeInvalid
}

// typeErrorMessage turns a JSON value of the wrong type in a client message
// into a message for the user that names the field (as the client wrote
// it: "lr", "speed.rate", "args.batch") and the type it wants, e.g.
// "lr: want a number, got a string". ok is false if err is not such an
// error.
func typeErrorMessage(err error) (msg string, ok bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "", false
	}
	var path []string
	for _, p := range strings.Split(te.Field, ".") {
		if p != "" && p != "CmdArgs" { // CmdArgs: the embedded struct of top-level arguments
			path = append(path, p)
		}
	}
	field := strings.Join(path, ".")
	if field == "" {
		field = "message"
	}
	return fmt.Sprintf("%s: want %s, got %s", field, wantedType(te.Type), gotValue(te.Value)), true
}

// wantedType says in words what a Go type accepts in JSON.
func wantedType(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (digits only, no fraction or exponent)"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// gotValue describes the JSON value of an UnmarshalTypeError ("string",
// "number 1.5", "bool", "array", "object").
func gotValue(v string) string {
	switch {
	case strings.HasPrefix(v, "number "):
		return "the " + v
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "bool":
		return "true or false"
	case v == "":
		return "another type"
	}
	return "a " + v
}
