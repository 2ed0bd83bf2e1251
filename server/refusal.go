package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// A refusal is a request the server does not serve, and all that is said
// about it: the limit it hit (the label of bpv_limit_hits_total; "" when no
// limit was hit), the error code and message the user is shown, and the
// close code of the websocket that carried it (0 for a message refused on a
// connection that stays open). Each refusal is worded once, below; an
// error is turned into one by refusalOf.
type refusal struct {
	limit   string
	code    string
	message string
	close   int
}

func (r refusal) Error() string { return r.code + ": " + r.message }

// reply is the error message of the refusal, answering request id (nil:
// none).
func (r refusal) reply(id json.RawMessage) []byte {
	return protocol.ErrorReply(id, r.code, r.message)
}

// status is the HTTP status of a page that tells the refusal. A code no
// room has is an answer, not an error: the join page and its message.
func (r refusal) status() int {
	switch r.code {
	case protocol.CodeFull:
		return http.StatusServiceUnavailable
	case protocol.CodeRateLimited:
		return http.StatusTooManyRequests
	case protocol.CodeForbidden:
		return http.StatusForbidden
	case protocol.CodeInvalid:
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// Messages shown to users, each naming what to do.
const (
	msgForbidden     = "Only the teacher drives this room. Fork it to experiment on your own copy."
	msgForbiddenLook = "Only the teacher can point the class at a number."
	msgNoRoom        = "No room has this code. Check the code on the board."
	msgBadCode       = "A join code is 6 characters, letters and digits (no 0, O, 1, I or L)."
	msgRoomEnded     = "The teacher's room has closed."
	msgFull          = "The server is running as many sessions as it can; try again later."
	msgConns         = "The server has too many open connections; try again later."
	msgNoSession     = "The session could not be started."
	msgRoomKey       = "Wrong room key. Ask the server's operator for it."
	msgSessionEnded  = "This page's session has ended: it was left without a page for too long, or made room for labs opened since from this network address, or the server restarted. Nothing was started in its place. Start again for a new one at step 0."
	msgRoomsClosed   = "This server serves a network, and creating rooms from the page needs a room key, which it has none of. " +
		"Whoever runs the server can start it with -room-key KEY (and type the key here), with -room \"NAME\" to open a room at start-up, " +
		"or with -open-rooms to let everyone who reaches it create rooms."
)

// The refusals of the server.
func refuseConns() refusal {
	return refusal{"connections", protocol.CodeFull, msgConns, websocket.CloseTryAgainLater}
}

func refuseConnsPerAddr(max int) refusal {
	return refusal{"connections_per_address", protocol.CodeFull, msgConnsPerAddr(max), websocket.CloseTryAgainLater}
}

func refuseSessions() refusal {
	return refusal{"sessions", protocol.CodeFull, msgFull, websocket.CloseTryAgainLater}
}

func refuseSessionsPerAddr(max int) refusal {
	return refusal{"sessions_per_address", protocol.CodeFull, msgSessionsPerAddr(max), websocket.CloseTryAgainLater}
}

func refuseViewers(max int) refusal {
	return refusal{"viewers", protocol.CodeFull, msgViewersFull(max), websocket.CloseTryAgainLater}
}

func refuseRooms(max int, grace time.Duration) refusal {
	return refusal{"rooms", protocol.CodeFull, msgRoomsFull(max, grace), websocket.CloseTryAgainLater}
}

func refuseRoomKey() refusal {
	return refusal{"room_key", protocol.CodeForbidden, msgRoomKey, websocket.ClosePolicyViolation}
}

func refuseRoomsClosed() refusal {
	return refusal{"rooms_closed", protocol.CodeForbidden, msgRoomsClosed, websocket.ClosePolicyViolation}
}

func refuseJoinRate(wait time.Duration) refusal {
	return refusal{"join_attempts", protocol.CodeRateLimited, msgJoinRate(wait), websocket.ClosePolicyViolation}
}

func refuseJoinRateServer(wait time.Duration) refusal {
	return refusal{"join_attempts_total", protocol.CodeRateLimited, msgJoinRateServer(wait), websocket.ClosePolicyViolation}
}

func refuseNoRoom() refusal {
	return refusal{"", protocol.CodeNotFound, msgNoRoom, websocket.ClosePolicyViolation}
}

func refuseBadCode() refusal {
	return refusal{"", protocol.CodeNotFound, msgBadCode, websocket.ClosePolicyViolation}
}

func refuseSessionEnded() refusal {
	return refusal{"", protocol.CodeNotFound, msgSessionEnded, websocket.ClosePolicyViolation}
}

func refuseRoomEnded() refusal {
	return refusal{"", protocol.CodeNotFound, msgRoomEnded, websocket.ClosePolicyViolation}
}

// Refusals of one message; the connection stays open.

func refuseTooLarge(max int) refusal {
	return refusal{"message_size", protocol.CodeTooLarge, fmt.Sprintf("message larger than %d bytes", max), 0}
}

func refuseMessageRate(rate float64) refusal {
	return refusal{"message_rate", protocol.CodeRateLimited, fmt.Sprintf("more than %v messages per second", rate), 0}
}

func refuseForbidden() refusal {
	return refusal{"", protocol.CodeForbidden, msgForbidden, 0}
}

func refuseQuestionRate(rate float64) refusal {
	return refusal{"questions", protocol.CodeRateLimited, fmt.Sprintf("More than %g questions (explain, walk, gradcheck, look) per second: wait a moment and ask again.", rate), 0}
}

func refuseForbiddenLook() refusal {
	return refusal{"", protocol.CodeForbidden, msgForbiddenLook, 0}
}

func refuseForkEpoch(rate float64) refusal {
	return refusal{"", protocol.CodeRateLimited, fmt.Sprintf("Forks cannot run a whole epoch at full speed on this server (the class shares its CPU); press play, at most %g steps per second.", rate), 0}
}

func refuseForkSpeed(rate float64) refusal {
	return refusal{"", protocol.CodeRateLimited, fmt.Sprintf("Forks play at most %g optimizer steps per second on this server (the class shares its CPU); choose a slower speed.", rate), 0}
}

// refusalOf turns an error of starting a session or finding a room into
// the refusal the user is told. Another error is the server's own: it is
// logged and the user told only that the session could not be started.
func (s *Server) refusalOf(err error) refusal {
	var r refusal
	var mem memRefusal
	switch {
	case errors.As(err, &r):
		return r
	case errors.As(err, &mem):
		return refuseMemory(mem)
	case errors.Is(err, errSessionsPerAddr):
		return refuseSessionsPerAddr(s.cfg.MaxSessionsPerAddr)
	case errors.Is(err, errFull):
		return refuseSessions()
	case errors.Is(err, errRoomsFull):
		return refuseRooms(s.cfg.MaxRooms, s.cfg.ResumeGrace)
	case errors.Is(err, errRoomClosed):
		return refuseRoomEnded()
	case errors.Is(err, errSessionEnded):
		return refuseSessionEnded()
	case errors.Is(err, errBadCode):
		return refuseBadCode()
	case errors.Is(err, errNoRoom):
		return refuseNoRoom()
	}
	s.log.Error("start session", "err", err)
	return refusal{"", protocol.CodeInvalid, msgNoSession, websocket.CloseInternalServerErr}
}

// counted returns r once it is counted in bpv_limit_hits_total (if it hit
// a limit).
func (s *Server) counted(r refusal) refusal {
	if r.limit != "" {
		s.metrics.limitHits.WithLabelValues(r.limit).Inc()
	}
	return r
}

// refuseWS upgrades the connection only to tell the page why it is refused
// (an error message it can show, then a close frame) and closes it. A page
// cannot read an HTTP error status of a failed websocket handshake.
func (s *Server) refuseWS(w http.ResponseWriter, r *http.Request, err error) {
	rf := s.counted(s.refusalOf(err))
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	refuse(conn, rf)
}

// closeWait bounds how long a refused connection waits for the client's
// close frame after sending its own.
const closeWait = 2 * time.Second

// refuse writes the refusal's error message and a close frame (its close
// code, with the error code as reason) to a connection that has no write
// pump, then waits at most closeWait for the client's close frame before
// closing: closing at once, with bytes of the client still unread, would
// reset the connection, and the client could lose the error.
func refuse(conn *websocket.Conn, rf refusal) {
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(writeWait))
	if conn.WriteMessage(websocket.TextMessage, rf.reply(nil)) != nil {
		return
	}
	if conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(rf.close, rf.code)) != nil {
		return
	}
	conn.SetReadLimit(hardReadLimit)
	conn.SetReadDeadline(time.Now().Add(closeWait))
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return // the client's close frame, or the deadline
		}
	}
}

func msgConnsPerAddr(max int) string {
	return fmt.Sprintf("Too many open connections from your network address (at most %d). Close some tabs of this page and reload.", max)
}

func msgViewersFull(max int) string {
	return fmt.Sprintf("This room is full (%d students at most). Ask your teacher.", max)
}

func msgJoinRate(wait time.Duration) string {
	return fmt.Sprintf("Too many wrong join codes from your network address. Wait %d s and try again.", seconds(wait))
}

func msgJoinRateServer(wait time.Duration) string {
	return fmt.Sprintf("Too many wrong join codes are being tried on this server, some of them from your network address. Wait %d s and try again.", seconds(wait))
}

func msgSessionsPerAddr(max int) string {
	return fmt.Sprintf("Too many sessions from your network address (at most %d labs and forks). Close some tabs of this page and reload.", max)
}

// seconds is a wait rounded to whole seconds, at least 1.
func seconds(wait time.Duration) int { return max(1, int(wait.Round(time.Second)/time.Second)) }

// msgRoomsFull is told to a teacher creating a room beyond MaxRooms: rooms
// close by themselves once no page has been open on them for the resume
// grace period.
func msgRoomsFull(max int, grace time.Duration) string {
	return fmt.Sprintf("This server already hosts as many rooms as it allows (%d). A room closes once no page has been open on it for %s; try again then, or ask the server's operator to raise -max-rooms.", max, graceText(grace))
}

// graceText writes a duration for people: "10 minutes", "90 seconds".
func graceText(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
}
