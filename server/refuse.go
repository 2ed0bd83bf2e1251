package server

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// closeWait bounds how long a refused connection waits for the client's
// close frame after sending its own.
const closeWait = 2 * time.Second

// refuse writes one error message (code, message) and a close frame
// (closeCode, with code as its reason) to a connection that has no write
// pump, then waits at most closeWait for the client's close frame before
// closing: closing at once, with bytes of the client still unread, would
// reset the connection, and the client could lose the error.
func refuse(conn *websocket.Conn, code, message string, closeCode int) {
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(writeWait))
	if conn.WriteMessage(websocket.TextMessage, protocol.ErrorReply(nil, code, message)) != nil {
		return
	}
	if conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode, code)) != nil {
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
