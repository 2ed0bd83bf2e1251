package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Kinds of a room's messages: the last token of an event subject, the
// name of a request.
const (
	EvState   = "state"
	EvMetrics = "metrics"
	EvReply   = "reply"
	EvCount   = "count"
	EvGone    = "gone"

	RPCSync     = "sync"
	RPCInterest = "interest"
	RPCKeyframe = "keyframe"
	RPCCmd      = "cmd"
	RPCFork     = "fork"
	RPCAsk      = "ask"
	RPCAnswer   = "answer"
	RPCPing     = "ping"
)

// Event is the subject of a room's event kind (EvState …).
func (l *Link) Event(code, kind string) string {
	return l.cfg.SubjectPrefix + ".room." + code + ".ev." + kind
}

// Events is the subject that matches every event of a room.
func (l *Link) Events(code string) string {
	return l.cfg.SubjectPrefix + ".room." + code + ".ev.*"
}

// Frames is the subject of a room's trace frames for one subscription
// key (hash: see KeyHash).
func (l *Link) Frames(code, hash string) string {
	return l.cfg.SubjectPrefix + ".room." + code + ".frame." + hash
}

// RPC is the subject of a request to a room's home replica (RPCSync …).
func (l *Link) RPC(code, name string) string {
	return l.cfg.SubjectPrefix + ".room." + code + ".rpc." + name
}

// RPCs is the subject that matches every request of a room.
func (l *Link) RPCs(code string) string {
	return l.cfg.SubjectPrefix + ".room." + code + ".rpc.*"
}

// LastToken is the last token of a subject (an event's kind, a request's
// name).
func LastToken(subj string) string {
	return subj[strings.LastIndexByte(subj, '.')+1:]
}

// KeyHash names a subscription key in a subject: 16 hex digits of its
// SHA-256. Every replica computes it from the same key.
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:8])
}

// kindOf is the metric label of a subject: the event or request kind, or
// "frame". Its values are few, whatever the subject.
func kindOf(subj string) string {
	tok := strings.Split(subj, ".")
	if len(tok) < 2 {
		return "other"
	}
	switch tok[len(tok)-2] {
	case "frame":
		return "frame"
	case "ev", "rpc":
		switch k := tok[len(tok)-1]; k {
		case EvState, EvMetrics, EvReply, EvCount, EvGone, RPCSync, RPCInterest, RPCKeyframe, RPCCmd, RPCFork, RPCAsk, RPCAnswer, RPCPing:
			return k
		}
	}
	return "other"
}

// checkPrefix checks a subject prefix: tokens of letters, digits, '-' and
// '_' separated by dots.
func checkPrefix(p string) error {
	for _, tok := range strings.Split(p, ".") {
		if !validToken(tok) {
			return fmt.Errorf("nats subject prefix %q: want tokens of letters, digits, '-' and '_' separated by dots", p)
		}
	}
	return nil
}

func validToken(tok string) bool {
	if tok == "" || len(tok) > 64 {
		return false
	}
	for _, r := range tok {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// bucketBase is the prefix of the JetStream buckets' names: the subject
// prefix with dots as underscores.
func bucketBase(prefix string) string { return strings.ReplaceAll(prefix, ".", "_") }
