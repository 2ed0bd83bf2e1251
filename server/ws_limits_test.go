package server

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// shapesQuery is the query of a small, fast lab on the shapes set.
var shapesQuery = "data=shapes&spec=" + url.QueryEscape(tinySpec)

// TestFullServerEvictsAbandonedSessions: at MaxSessions, a new page evicts
// the session that has had no client for the longest time; when every
// session has a client, the page is refused with "full".
func TestFullServerEvictsAbandonedSessions(t *testing.T) {
	const max = 3
	srv, ts := newTestServer(t, Config{MaxSessions: max, MaxSessionsPerAddr: max}) // one address: the cap of all sessions is the one tested
	evicted0 := counterValue(t, srv.metrics.evicted.WithLabelValues(evictLimit))
	var tokens []string
	for i := range 2 * max {
		c := dial(t, ts, shapesQuery)
		var w protocol.Welcome
		c.expect("welcome", &w)
		if w.Resumed {
			t.Fatalf("page %d resumed a session", i)
		}
		tokens = append(tokens, w.Resume)
		c.conn.Close()
		waitDetached(t, srv, w.Resume)
	}
	if got, want := counterValue(t, srv.metrics.evicted.WithLabelValues(evictLimit))-evicted0, float64(max); got != want {
		t.Errorf("evicted %v sessions, want %v", got, want)
	}
	n := srv.sessions.count()
	var kept []string
	for _, tok := range tokens {
		if srv.sessions.lookup(tok) != nil {
			kept = append(kept, tok)
		}
	}
	if n != max || !slicesEqual(kept, tokens[max:]) {
		t.Errorf("%d sessions kept (%d of the pages'), want the %d newest", n, len(kept), max)
	}

	// The last abandoned session still resumes; with every session
	// watched, a new page is refused.
	var open []*wsClient
	for i, tok := range tokens[max:] {
		c := dial(t, ts, "resume="+tok)
		var w protocol.Welcome
		c.expect("welcome", &w)
		if !w.Resumed {
			t.Fatalf("session %d did not resume", i)
		}
		open = append(open, c)
	}
	c := dial(t, ts, shapesQuery)
	var e protocol.Reply
	c.expect("error", &e)
	if e.Code != protocol.CodeFull {
		t.Errorf("error %+v, want code %q", e, protocol.CodeFull)
	}
	if got, want := counterValue(t, srv.metrics.evicted.WithLabelValues(evictLimit))-evicted0, float64(max); got != want {
		t.Errorf("evicted %v sessions while all had clients, want still %v", got, want)
	}
	_ = open
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRefusalsArrive: every refused websocket receives the error message and
// then a close frame with code 1013, for both caps.
func TestRefusalsArrive(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // part of the message
	}{
		{"sessions", Config{MaxSessions: 1}, "as many sessions"},
		{"connections", Config{MaxConns: 1}, "too many open connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := newTestServer(t, tt.cfg)
			first := dial(t, ts, shapesQuery)
			first.expect("welcome", nil)
			const n = 20
			var wg sync.WaitGroup
			errs := make([]string, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = checkRefused(ts, tt.want)
				}()
			}
			wg.Wait()
			for i, e := range errs {
				if e != "" {
					t.Errorf("connection %d: %s", i, e)
				}
			}
		})
	}
}

// checkRefused dials a websocket that the server refuses and checks what it
// receives; it returns what was wrong, or "".
func checkRefused(ts *httptest.Server, want string) string {
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?" + shapesQuery
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer conn.Close()
	_, b, err := conn.ReadMessage()
	if err != nil {
		return "read the error: " + err.Error()
	}
	var e protocol.Reply
	if err := json.Unmarshal(b, &e); err != nil || e.Type != "error" || e.Code != protocol.CodeFull || !strings.Contains(e.Message, want) {
		return "got " + string(b) + ", want error full " + want
	}
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		return "after the error: " + err.Error() + ", want close 1013"
	}
	return ""
}

// TestCommandBurst: a burst of commands far past the rate limit gets a
// reply for every one, ack or rate_limited, and the connection stays open.
func TestCommandBurst(t *testing.T) {
	_, ts := newTestServer(t, Config{CmdRate: 1}) // bursts of 2
	c := dial(t, ts, shapesQuery)
	c.expect("welcome", nil)
	const n = 1000
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = []byte(`{"type":"cmd","v":1,"id":` + itoa(i+1) + `,"cmd":"pause"}`)
	}
	// All sent before any reply is read, as a script would.
	for _, m := range msgs {
		if err := c.conn.WriteMessage(websocket.TextMessage, m); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	acks, limited := 0, 0
	seen := map[string]bool{}
	for len(seen) < n {
		m := c.next()
		if m.typ != "ack" && m.typ != "error" {
			continue
		}
		var r protocol.Reply
		if err := json.Unmarshal(m.raw, &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Type == "ack":
			acks++
		case r.Code == protocol.CodeRateLimited:
			limited++
		default:
			t.Fatalf("reply %s", m.raw)
		}
		seen[string(r.ID)] = true
	}
	if acks+limited != n || limited < n/2 {
		t.Errorf("%d acks and %d rate_limited for %d commands at 1 per second, want one reply each, most rate_limited", acks, limited, n)
	}
	id := c.send(map[string]any{"type": "ping"})
	if r := c.reply(id); r.Type != "pong" && r.Code != protocol.CodeRateLimited {
		t.Errorf("after the burst: %+v, want pong or rate_limited", r)
	}
}

// TestWrongTypes: a value of the wrong JSON type is invalid, and the
// message names the field and the type it wants.
func TestWrongTypes(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, shapesQuery)
	c.expect("welcome", nil)
	tests := []struct {
		msg  string
		code string
		want string // the whole message
	}{
		{`{"type":"cmd","cmd":"set","lr":"0.1"}`, protocol.CodeInvalid, "lr: want a number, got a string"},
		{`{"type":"cmd","cmd":"set","batch":1e9}`, protocol.CodeInvalid, "batch: want an integer (digits only, no fraction or exponent), got the number 1e9"},
		{`{"type":"cmd","cmd":"reset","seed":1.5}`, protocol.CodeInvalid, "seed: want an integer (digits only, no fraction or exponent), got the number 1.5"},
		{`{"type":"cmd","cmd":"set","args":{"nesterov":1}}`, protocol.CodeInvalid, "args.nesterov: want true or false, got a number"},
		{`{"type":"cmd","cmd":"set","speed":{"unit":"step","rate":"fast"}}`, protocol.CodeInvalid, "speed.rate: want a number, got a string"},
		{`{"type":"subscribe","kinds":"act"}`, protocol.CodeInvalid, "kinds: want a list, got a string"},
		{`{"type":"cmd","cmd":["set"]}`, protocol.CodeBadMessage, "cmd: want a string, got a list"},
		{`{"type":"cmd","cmd":"set","batch":200}`, protocol.CodeInvalid, "batch size 200: want 1 … 128 (this server allows at most 128)"},
		{`{"type":"cmd","cmd":"set","batch":0}`, protocol.CodeInvalid, "batch size 0: want 1 … 128 (this server allows at most 128)"},
	}
	for i, tt := range tests {
		b := []byte(`{"v":1,"id":` + itoa(1000+i) + `,` + tt.msg[1:]) // as written: 1e9 stays 1e9
		if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		r := c.reply(1000 + i)
		if r.Type != "error" || r.Code != tt.code || r.Message != tt.want {
			t.Errorf("%s: got %s %s %q, want error %s %q", tt.msg, r.Type, r.Code, r.Message, tt.code, tt.want)
		}
	}
}

// TestStateCarriesSeed: state says the seed and spec; a reset with a new
// seed (which sends no welcome) is seen in the next state.
func TestStateCarriesSeed(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, shapesQuery+"&seed=7")
	c.expect("welcome", nil)
	var st protocol.State
	c.expect("state", &st)
	if st.Seed != 7 || st.Spec != tinySpec {
		t.Errorf("state seed %d spec %q, want 7 %q", st.Seed, st.Spec, tinySpec)
	}
	id := c.cmd("reset", map[string]any{"seed": 99})
	if r := c.reply(id); r.Type != "ack" {
		t.Fatalf("reset: %+v", r)
	}
	for {
		m := c.next()
		if m.typ == "welcome" {
			t.Fatalf("reset sent a welcome")
		}
		if m.typ == "state" {
			if err := json.Unmarshal(m.raw, &st); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if st.Seed != 99 || st.Spec != tinySpec || st.Step != 0 {
		t.Errorf("state after reset: seed %d spec %q step %d, want 99 %q 0", st.Seed, st.Spec, st.Step, tinySpec)
	}
}

// TestURLParamsPartlyInvalid: the valid URL parameters apply and every
// invalid one is reported, in one error.
func TestURLParamsPartlyInvalid(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec=foo&lr=abc&seed=x&batch=4&momentum=0.5&opt=sgd")
	var w protocol.Welcome
	c.expect("welcome", &w)
	var e protocol.Reply
	c.expect("error", &e)
	if e.Code != protocol.CodeInvalid {
		t.Errorf("error code %q, want %q", e.Code, protocol.CodeInvalid)
	}
	for _, want := range []string{"spec: ", `lr: "abc" is not a number`, `seed: "x" is not an integer`} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("error %q does not contain %q", e.Message, want)
		}
	}
	def := engine.DefaultConfig()
	h := w.Config.Hyper
	if w.Config.Spec != ShapesSpec || w.Config.Seed != def.Seed || h.LR != def.Hyper.LearningRate || h.Batch != 4 || h.Momentum != 0.5 || w.Config.Data != protocol.DataShapes {
		t.Errorf("config %+v, want the shapes network, default seed and lr, batch 4, momentum 0.5", w.Config)
	}
}

func TestParseLabParamsKeepsValid(t *testing.T) {
	lim := protocol.Limits{MaxBatch: 64, MaxRate: 100}
	tests := []struct {
		query string
		want  func(p LabParams) bool
		errs  []string // parts of the error, one per invalid parameter
	}{
		{"lr=abc&batch=16", func(p LabParams) bool {
			return p.Config.Hyper.BatchSize == 16 && p.Config.Hyper.LearningRate == engine.DefaultHyper().LearningRate
		}, []string{`lr: "abc"`}},
		{"spec=conv(8&seed=x&lr=-1&data=shapes&rate=2", func(p LabParams) bool {
			return p.Data == protocol.DataShapes && p.Config.Spec == ShapesSpec && p.Speed.Rate == 2
		}, []string{"spec", "seed", "learning rate -1"}},
		{"opt=sgd&momentum=0&nesterov=1&batch=65", func(p LabParams) bool {
			return p.Config.Hyper.Momentum == 0 && !p.Config.Hyper.Nesterov && p.Config.Hyper.BatchSize == engine.DefaultHyper().BatchSize
		}, []string{"nesterov", "batch size 65: want 1 … 64"}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseLabParams(q, lim)
		if err == nil {
			t.Errorf("ParseLabParams(%q): no error", tt.query)
			continue
		}
		if got := len(strings.Split(err.Error(), "; ")); got != len(tt.errs) {
			t.Errorf("ParseLabParams(%q) error %q: %d parts, want %d", tt.query, err, got, len(tt.errs))
		}
		for _, want := range tt.errs {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseLabParams(%q) error %q, want it to contain %q", tt.query, err, want)
			}
		}
		if !tt.want(p) {
			t.Errorf("ParseLabParams(%q) = %+v", tt.query, p)
		}
	}
}
