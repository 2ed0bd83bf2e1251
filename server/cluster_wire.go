package server

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The messages replicas send each other about a room (see package cluster
// for the subjects). Pages' messages (state, metrics, welcome, frames)
// travel as the bytes the pages get; these are the rest, JSON. Every
// replica runs the same build. Whatever arrives is checked before use: a
// message that does not decode is dropped and counted.

// syncReq is RPCSync, from a replica that opens a mirror of the room.
type syncReq struct {
	Replica string `json:"replica"`
}

// syncReply answers RPCSync: what a mirror needs to serve the room's
// pages.
type syncReply struct {
	Welcome json.RawMessage `json:"welcome"` // the welcome message
	State   json.RawMessage `json:"state"`   // the state message
	Metrics json.RawMessage `json:"metrics"` // the chart history: a metrics message with reset
	Sample  int             `json:"sample"`  // the room's visualized sample: a new page's subscription
	Probe   bool            `json:"probe"`
	Lesson  *lessonWire     `json:"lesson,omitempty"` // the lesson the room was started from (lesson_cluster.go)
	Prompt  json.RawMessage `json:"prompt,omitempty"` // the prompt on the pages, if any (cluster_prompt.go)
}

// interestMsg is RPCInterest: a replica's pages of the room, which the
// home sends frames for, and how many of them are students. A replica
// sends it when they change and every mirrorHeartbeat; an empty one (or
// none for interestTTL) withdraws it.
type interestMsg struct {
	Replica string                  `json:"replica"`
	Subs    []protocol.Subscription `json:"subs"`    // one per distinct subscription key
	Viewers int                     `json:"viewers"` // students' pages
	Pages   int                     `json:"pages"`   // every page, the owner's too
	// Students are the students of the replica's pages, for the
	// teacher's dashboard (cluster_dashboard.go).
	Students []protocol.StudentRow `json:"students,omitempty"`
}

// keyframeReq is RPCKeyframe: an exact keyframe for one subscription,
// answered with the frame's bytes.
type keyframeReq struct {
	Replica string                `json:"replica"`
	Sub     protocol.Subscription `json:"sub"`
}

// cmdReq is RPCCmd: a command of the owner's page on another replica,
// with the owner token the page carries (the home checks it as it checks
// its own pages') and the page's subscription (a "set" of the sample
// changes it).
type cmdReq struct {
	Token string                `json:"token"`
	ID    json.RawMessage       `json:"id,omitempty"`
	Cmd   string                `json:"cmd"`
	Args  protocol.CmdArgs      `json:"args"`
	Sub   protocol.Subscription `json:"sub"`
}

// cmdReply answers RPCCmd: the page's replies (ack or error), and its
// subscription after the command.
type cmdReply struct {
	Replies []json.RawMessage     `json:"replies"`
	Sub     protocol.Subscription `json:"sub"`
}

// askReq is RPCAsk: a question (explain, walk, gradcheck) of a page on
// another replica, or the look of the owner's page there with the owner
// token it carries. Msg is the page's message as that replica read it
// (within its max_message); the home parses it as it parses its own
// pages' and answers with the reply the page gets.
type askReq struct {
	Token string              `json:"token,omitempty"`
	Msg   *protocol.ClientMsg `json:"msg"`
}

// answerReq is RPCAnswer: a student's answer to the room's prompt from
// their page on another replica (PromptID and Pick set; ID is the page's
// request id), or, without them, the question what the student answered
// (a page that opens while a prompt is on the pages).
type answerReq struct {
	Student  string               `json:"student"` // the student's cookie id
	ID       json.RawMessage      `json:"id,omitempty"`
	PromptID *int                 `json:"prompt_id,omitempty"`
	Pick     *protocol.PromptPick `json:"pick,omitempty"`
}

// answerReply answers RPCAnswer: the page's reply (ack or error) to an
// answer, and the student's answer as their pages show it (a prompt_mine
// message; absent if the answer was not counted or no prompt is on the
// pages).
type answerReply struct {
	Reply json.RawMessage `json:"reply,omitempty"`
	Mine  json.RawMessage `json:"mine,omitempty"`
}

// typePromptMines is the type of the message by which the home hands the
// other replicas, after a reveal, each student's verdict; never sent to a
// page.
const typePromptMines = "prompt_mines"

// promptMinesMsg is, after a reveal, the prompt_mine message of each
// student another replica serves, by student id; a large class takes
// several.
type promptMinesMsg struct {
	Type  string                     `json:"type"` // typePromptMines
	Mines map[string]json.RawMessage `json:"mines"`
}

// maxAskReq bounds an RPCAsk request: a page's message is at most
// hardReadLimit.
const maxAskReq = hardReadLimit + 4096

// countMsg is EvCount: how many students watch the room, in all and on
// each replica.
type countMsg struct {
	Total int            `json:"total"`
	By    map[string]int `json:"by"`
}

// goneMsg is EvGone: the home stops serving the room. Closed: the room
// closed (nobody watched); else the replica stopped, and the room can be
// resumed from its saved model of step Step.
type goneMsg struct {
	Closed bool `json:"closed"`
	Step   int  `json:"step"`
}

// roomParams are the room's settings a saved model does not hold.
type roomParams struct {
	Data   string         `json:"data"`
	Sample int            `json:"sample"`
	Probe  bool           `json:"probe"`
	Speed  protocol.Speed `json:"speed"`
}

// savedRoom is the description packed with a room's saved model (see
// cluster.Pack), for a fork on another replica or for resuming the room:
// its settings and its charts.
type savedRoom struct {
	Params  roomParams      `json:"params"`
	Metrics json.RawMessage `json:"metrics"` // a metrics message with reset
}

func paramsOf(p LabParams) roomParams {
	return roomParams{Data: p.Data, Sample: p.Sample, Probe: p.Probe, Speed: p.Speed}
}

// labParams are the lab settings of a trainer loaded from a saved model
// with these settings.
func (rp roomParams) labParams(t *engine.Trainer) LabParams {
	return LabParams{Config: t.Config(), Data: rp.Data, Sample: rp.Sample, Probe: rp.Probe, Speed: rp.Speed}
}

// maxSubLayers bounds the layer items of a subscription from another
// replica (a page's are bounded by the message size).
const maxSubLayers = 4096

// checkSub checks a subscription that came from another replica and puts
// it in canonical form, so its key is the one that replica computed.
func checkSub(sub *protocol.Subscription) error {
	if sub.Sample < 0 || sub.Sample >= engine.MaxBatchSize {
		return fmt.Errorf("subscription sample %d", sub.Sample)
	}
	if len(sub.Layers) > maxSubLayers {
		return fmt.Errorf("subscription of %d layer items", len(sub.Layers))
	}
	for _, l := range sub.Layers {
		if l.Layer < -1 || l.Layer > maxSubLayers || l.From < 0 || l.To < 0 || l.From > protocol.MaxChannel || l.To > protocol.MaxChannel {
			return fmt.Errorf("subscription layer item %+v", l)
		}
	}
	if sub.Layers != nil {
		sub.Layers = protocol.NormalizeLayers(sub.Layers)
	}
	return nil
}

// typeOf is the "type" of a JSON message, "" if it is not one.
func typeOf(b []byte) string {
	var h struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Type
}

// validFrame reports whether b is a trace frame whose tensors lie within
// it: a frame from another replica is checked before pages get it.
func validFrame(b []byte) bool {
	h, payload, err := protocol.DecodeHeader(b)
	if err != nil || len(b) < 8 || int(binary.LittleEndian.Uint32(b[4:]))%4 != 0 {
		return false
	}
	for _, t := range h.Tensors {
		if t.Offset < 0 || t.Length < 0 || t.Offset > len(payload) || t.Length > len(payload)-t.Offset {
			return false
		}
	}
	return true
}
