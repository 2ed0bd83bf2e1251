package server

import (
	"net/http"
	"strings"
)

// A session's resume token is a secret of the tab that holds it: the page
// sends it where no address shows it — in a websocket subprotocol
// ("bpv.resume.TOKEN", beside "bpv.1", the one the server answers with) and
// in the X-Bpv-Resume header of its /model and /probe requests — so that
// neither the console, nor a download's address, nor a proxy's access log
// prints it. A ?resume=TOKEN parameter is still read (docs/protocol.md), for
// clients that cannot set either.

// wsProtocol is the subprotocol the server answers a page that sends its
// token in a subprotocol with (a browser fails a websocket whose server
// picks none of the protocols it asked for).
const wsProtocol = "bpv.1"

// resumeProtocolPrefix starts the subprotocol that carries a resume token.
const resumeProtocolPrefix = "bpv.resume."

// resumeHeader is the header of an HTTP request that carries a resume token.
const resumeHeader = "X-Bpv-Resume"

// resumeToken is the resume token of a request: its resume parameter, its
// X-Bpv-Resume header or its bpv.resume.TOKEN subprotocol; "" for none.
func resumeToken(r *http.Request) string {
	if tok := r.URL.Query().Get("resume"); tok != "" {
		return tok
	}
	if tok := r.Header.Get(resumeHeader); tok != "" {
		return tok
	}
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), resumeProtocolPrefix); ok {
				return tok
			}
		}
	}
	return ""
}

// reconnecting reports whether a websocket request is a page's automatic
// reconnection to its session (a resume token and reconnect=1), which only
// resumes: it never starts a new session.
func reconnecting(r *http.Request) bool {
	return resumeToken(r) != "" && r.URL.Query().Get("reconnect") == "1"
}
