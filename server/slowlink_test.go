package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/backpropviz/backpropviz/protocol"
)

// kbit256 is 256 kbit/s in bytes per second.
const kbit256 = 256 * 1000 / 8

// pageViewLayers is the subscription a student's page sends at its default
// view (cmd/vizload's defaultViewLayers).
const pageViewLayers = `[{"layer":-1,"kinds":["input"]},` +
	`{"layer":0,"kinds":["act","grad"],"channels":[0,2]},` +
	`{"layer":1,"kinds":["act","grad"],"channels":[0,4]},` +
	`{"layer":2,"kinds":["act","grad"],"channels":[0,4]},` +
	`{"layer":3,"kinds":["act","grad"],"channels":[0,8]},` +
	`{"layer":4,"kinds":["act","grad"],"channels":[0,8]},` +
	`{"layer":5,"kinds":["act","grad"],"channels":[0,8]}]`

// startThrottle starts a TCP proxy to target that carries at most
// bytesPerSec in each direction (a token bucket each way, in bursts of 512
// bytes), like a slow link. It returns the proxy's address.
func startThrottle(t *testing.T, target string, bytesPerSec int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var conns sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); conns.Wait() })
	pipe := func(dst, src net.Conn) {
		defer conns.Done()
		defer dst.Close()
		defer src.Close()
		lim := rate.NewLimiter(rate.Limit(bytesPerSec), 512)
		buf := make([]byte, 512)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if lim.WaitN(ctx, n) != nil {
					return
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(2)
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
	return ln.Addr().String()
}

// linkPage is a test client that behaves as the page does: it acknowledges
// every frame (acks=1) and, if heartbeat > 0, sends a ping that often. It
// records the frames it receives.
type linkPage struct {
	t    *testing.T
	conn *websocket.Conn
	wmu  sync.Mutex
	id   int

	mu      sync.Mutex
	frames  []pageFrame
	pongs   int
	lastErr error
	done    chan struct{}
}

// pageFrame is one frame as received.
type pageFrame struct {
	at        time.Time
	published time.Time
	seq       uint64
	exact     bool
	keyframe  bool
	bytes     int
}

func dialPage(t *testing.T, addr, path string, heartbeat time.Duration) *linkPage {
	t.Helper()
	conn, resp, err := (&websocket.Dialer{EnableCompression: true, HandshakeTimeout: 30 * time.Second}).Dial("ws://"+addr+path, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	p := &linkPage{t: t, conn: conn, done: make(chan struct{})}
	t.Cleanup(func() { conn.Close(); <-p.done })
	go p.read()
	if heartbeat > 0 {
		go func() {
			tick := time.NewTicker(heartbeat)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					p.send(map[string]any{"type": protocol.TypePing})
				case <-p.done:
					return
				}
			}
		}()
	}
	return p
}

func (p *linkPage) send(m map[string]any) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.id++
	m["v"], m["id"] = protocol.Version, p.id
	p.conn.SetWriteDeadline(time.Now().Add(readTimeout))
	p.conn.WriteJSON(m)
}

func (p *linkPage) read() {
	defer close(p.done)
	for {
		mt, b, err := p.conn.ReadMessage()
		if err != nil {
			p.mu.Lock()
			p.lastErr = err
			p.mu.Unlock()
			return
		}
		at := time.Now()
		if mt == websocket.TextMessage {
			if strings.Contains(string(b), `"type":"pong"`) {
				p.mu.Lock()
				p.pongs++
				p.mu.Unlock()
			}
			continue
		}
		h, _, err := protocol.DecodeHeader(b)
		if err != nil {
			p.t.Errorf("bad frame: %v", err)
			continue
		}
		p.send(map[string]any{"type": protocol.TypeReceived, "seq": h.Seq})
		p.mu.Lock()
		p.frames = append(p.frames, pageFrame{at: at, published: time.UnixMilli(h.Published), seq: h.Seq,
			exact: h.Exact, keyframe: h.Keyframe, bytes: len(b)})
		p.mu.Unlock()
	}
}

// since returns the frames received at or after t.
func (p *linkPage) since(t time.Time) []pageFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.frames, func(f pageFrame) bool { return !f.at.Before(t) })
	if i < 0 {
		return nil
	}
	return slices.Clone(p.frames[i:])
}

// alive pings and waits for the pong: the connection still works.
func (p *linkPage) alive(wait time.Duration) error {
	p.mu.Lock()
	n := p.pongs
	p.mu.Unlock()
	p.send(map[string]any{"type": protocol.TypePing})
	for end := time.Now().Add(wait); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		got, err := p.pongs > n, p.lastErr
		p.mu.Unlock()
		if got {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errors.New("no pong")
}

// ages are the frames' delays from publication to arrival.
func ages(fs []pageFrame) []time.Duration {
	a := make([]time.Duration, len(fs))
	for i, f := range fs {
		a[i] = f.at.Sub(f.published)
	}
	return a
}

func secondsFromEnv(name string, def int) time.Duration {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return time.Duration(def) * time.Second
}

// TestSlowLinkViewer: a viewer of a room on a 256 kbit/s link (a throttling
// proxy) gets frames at most 2 s old and stays connected while the room
// plays, with a keep-alive of 4 s; its frames while playing are 8-bit, even
// keyframes; a viewer on loopback in the same room still gets every frame
// the owner gets. The viewers show what a page shows
// at its default view, or every layer (the default subscription). A frame
// of every layer (about 45 kB compressed) alone takes the link about 1.4 s,
// so there the bound is 3 s: what flow control bounds is the wait before a
// frame leaves, not the time its own bytes take.
// BPV_SLOWLINK_SECONDS sets how long the room plays (default 16).
func TestSlowLinkViewer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		layers json.RawMessage // nil: the default subscription
		oldest time.Duration
	}{
		{"page view", json.RawMessage(pageViewLayers), 2 * time.Second},
		{"every layer", nil, 3 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) { slowLinkViewer(t, tt.layers, tt.oldest) })
	}
}

func slowLinkViewer(t *testing.T, layers json.RawMessage, oldest time.Duration) {
	play := secondsFromEnv("BPV_SLOWLINK_SECONDS", 16)
	keepAlive := 4 * time.Second
	srv, ts := newTestServer(t, Config{KeepAlive: keepAlive})
	room, err := srv.CreateRoom("", DefaultLabParams()) // the default network on MNIST
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(ts.URL, "http://")
	slowAddr := startThrottle(t, addr, kbit256)

	owner := dialPage(t, addr, "/ws/room/"+room.Code+"?owner="+room.OwnerToken(), 0)
	fast := dialPage(t, addr, "/ws/room/"+room.Code+"?acks=1", keepAlive/3)
	slow := dialPage(t, slowAddr, "/ws/room/"+room.Code+"?acks=1", keepAlive/3)
	subscribe := func() {
		for _, p := range []*linkPage{fast, slow} {
			m := map[string]any{"type": protocol.TypeSubscribe}
			if layers != nil {
				m["layers"] = layers
			}
			p.send(m)
		}
	}
	subscribe()
	owner.send(map[string]any{"type": protocol.TypeCmd, "cmd": protocol.CmdSet, "speed": map[string]any{"unit": "step", "rate": 20}})
	owner.send(map[string]any{"type": protocol.TypeCmd, "cmd": protocol.CmdPlay})
	// The slow page's welcome, history and exact keyframe take a few
	// seconds of its link; then it is measured.
	time.Sleep(3 * time.Second)
	start := time.Now()
	time.Sleep(play / 2)
	subscribe() // a scroll while playing: a keyframe each
	time.Sleep(play - play/2)
	end := time.Now()

	slowFrames, fastFrames, ownerFrames := slow.since(start), fast.since(start), owner.since(start)
	cut := func(fs []pageFrame) []pageFrame {
		return slices.DeleteFunc(fs, func(f pageFrame) bool { return f.at.After(end) })
	}
	slowFrames, fastFrames, ownerFrames = cut(slowFrames), cut(fastFrames), cut(ownerFrames)
	a := ages(slowFrames)
	worst := slices.Max(append(a, 0))
	var bytes int
	for _, f := range slowFrames {
		bytes += f.bytes
	}
	secs := end.Sub(start).Seconds()
	t.Logf("slow viewer (256 kbit/s): %d frames in %.0f s (%.1f fps, %.0f kB/s of frames before compression), oldest %v",
		len(slowFrames), secs, float64(len(slowFrames))/secs, float64(bytes)/secs/1000, worst.Round(time.Millisecond))
	t.Logf("fast viewer: %d frames (%.1f fps); owner: %d frames (%.1f fps)",
		len(fastFrames), float64(len(fastFrames))/secs, len(ownerFrames), float64(len(ownerFrames))/secs)

	// a queue that grew would age every frame after it: nine in ten stay
	// within the bound, and none past twice it (one frame caught in a stall
	// of a loaded machine is no queue)
	if sorted := slices.Sorted(slices.Values(a)); len(sorted) > 0 && sorted[len(sorted)*9/10] > oldest {
		t.Errorf("one frame in ten reached the slow viewer more than %v after it was published, want ≤ %v (ages %v)", sorted[len(sorted)*9/10], oldest, a)
	}
	if worst > 2*oldest {
		t.Errorf("a frame reached the slow viewer %v after it was published, want ≤ %v (ages %v)", worst, 2*oldest, a)
	}
	if len(slowFrames) < int(secs)/2 {
		t.Errorf("the slow viewer got %d frames in %.0f s, want at least one every two seconds", len(slowFrames), secs)
	}
	if len(fastFrames) < len(ownerFrames)*9/10 {
		t.Errorf("the fast viewer got %d frames, the owner %d: the slow viewer held it back", len(fastFrames), len(ownerFrames))
	}
	// While playing, the slow viewer's frames are 8-bit, even the
	// keyframes that answer its subscriptions. (The fast viewer's exact
	// keyframe may be replaced in its mailbox by a newer frame, so it is
	// not counted on.)
	exact := func(fs []pageFrame) (n int) {
		for _, f := range fs {
			if f.exact {
				n++
			}
		}
		return n
	}
	if n := exact(slowFrames); n != 0 {
		t.Errorf("%d exact frames reached the slow viewer while the room played", n)
	}
	if n := counterValue(t, srv.metrics.coarseFrames); n == 0 {
		t.Errorf("no keyframe was made 8-bit for the slow viewer")
	}
	if err := slow.alive(10 * time.Second); err != nil {
		t.Errorf("the slow viewer was disconnected: %v", err)
	}
	if err := fast.alive(10 * time.Second); err != nil {
		t.Errorf("the fast viewer was disconnected: %v", err)
	}
}

// TestSlowLinkLargeFrameKeepsAlive: a frame that takes a 128 kbit/s link
// longer than writeWait (an exact keyframe of every tensor) does not time
// out, and the page stays connected with a keep-alive of 2 s: its
// heartbeat keeps it alive while the server's pings wait in the link's
// buffers behind the frame.
func TestSlowLinkLargeFrameKeepsAlive(t *testing.T) {
	srv, ts := newTestServer(t, Config{KeepAlive: 2 * time.Second})
	addr := startThrottle(t, strings.TrimPrefix(ts.URL, "http://"), kbit256/2)
	p := dialPage(t, addr, "/ws?acks=1", 2*time.Second/3)
	p.send(map[string]any{"type": protocol.TypeCmd, "cmd": protocol.CmdStepBatch})
	p.send(map[string]any{"type": protocol.TypeSubscribe, "exact": true, "kinds": protocol.Kinds})
	var big pageFrame
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end) && big.bytes == 0; time.Sleep(50 * time.Millisecond) {
		for _, f := range p.since(time.Time{}) {
			if f.exact && f.bytes > 300<<10 {
				big = f
			}
		}
		p.mu.Lock()
		err := p.lastErr
		p.mu.Unlock()
		if err != nil {
			t.Fatalf("disconnected while the large frame was on its way: %v", err)
		}
	}
	if big.bytes == 0 {
		t.Fatal("no large exact frame arrived")
	}
	took := big.at.Sub(big.published)
	t.Logf("a %d KB frame took %v", big.bytes>>10, took.Round(time.Millisecond))
	if took < writeWait {
		t.Errorf("the large frame took %v, less than writeWait (%v): the test shows nothing", took, writeWait)
	}
	if n := counterValue(t, srv.metrics.chunkedWrites); n == 0 {
		t.Errorf("no write was cut into chunks")
	}
	if err := p.alive(10 * time.Second); err != nil {
		t.Errorf("disconnected after the large frame: %v", err)
	}
}
