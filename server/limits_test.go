package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, false},
		{"10.1.2.3/8, 127.0.0.1", []string{"10.0.0.0/8", "127.0.0.1/32"}, false},
		{"::1 fd00::/8", []string{"::1/128", "fd00::/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.local", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePrefixes(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i].String() != tt.want[i] {
				t.Errorf("ParsePrefixes(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParsePrefixes("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, "203.0.113.7"},
		{"trusted proxy", "10.0.0.2:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client cannot spoof the left", "10.0.0.2:80", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", "127.0.0.1:80", []string{"198.51.100.9, 10.1.1.1"}, "198.51.100.9"},
		{"several header lines", "10.0.0.2:80", []string{"6.6.6.6", "198.51.100.9, 10.3.3.3"}, "198.51.100.9"},
		{"all trusted", "10.0.0.2:80", []string{"10.9.9.9"}, "10.9.9.9"},
		{"malformed entry stops", "10.0.0.2:80", []string{"garbage"}, "10.0.0.2"},
		{"trusted without header", "10.0.0.2:80", nil, "10.0.0.2"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"IPv6 client", "10.0.0.2:80", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r, proxies); got.String() != tt.want {
			t.Errorf("%s: ClientAddr(remote %s, XFF %q) = %v, want %s", tt.name, tt.remote, tt.xff, got, tt.want)
		}
	}
	// Without trusted proxies the header is never read.
	r := httptest.NewRequest("GET", "/ws", nil)
	r.RemoteAddr = "10.0.0.2:80"
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := ClientAddr(r, nil); got.String() != "10.0.0.2" {
		t.Errorf("ClientAddr without trusted proxies = %v, want 10.0.0.2", got)
	}
}

func TestAddrCounter(t *testing.T) {
	c := newAddrCounter(2)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		op   string
		addr netip.Addr
		want bool
	}{
		{"acquire", a, true},
		{"acquire", a, true},
		{"acquire", a, false}, // cap 2
		{"acquire", b, true},  // another address is not affected
		{"release", a, true},
		{"acquire", a, true},
		{"acquire", a, false},
	}
	for i, s := range steps {
		switch s.op {
		case "acquire":
			if got := c.acquire(s.addr); got != s.want {
				t.Errorf("step %d: acquire(%v) = %v, want %v", i, s.addr, got, s.want)
			}
		case "release":
			c.release(s.addr)
		}
	}
	if got := c.count(a); got != 2 {
		t.Errorf("count(a) = %d, want 2", got)
	}
	c.release(a)
	c.release(a)
	if got := len(c.n); got != 1 {
		t.Errorf("after releasing a: %d addresses kept, want 1", got)
	}
}

func TestRateBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newTokenBucket(2, 3, t0) // 2 per second, bursts of 3
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	steps := []struct {
		ms   int
		want bool
	}{
		{0, true}, {0, true}, {0, true}, // the burst
		{0, false},   // empty
		{250, false}, // half a token
		{500, true},  // one token after 0.5 s
		{500, false},
		{5000, true}, {5000, true}, {5000, true}, // refilled to the burst, not more
		{5000, false},
	}
	for i, s := range steps {
		if got := b.allow(at(s.ms)); got != s.want {
			t.Errorf("step %d at %d ms: allow = %v, want %v", i, s.ms, got, s.want)
		}
	}
	if got := b.retryAfter(at(5000)); got != 500*time.Millisecond {
		t.Errorf("retryAfter = %v, want 500ms", got)
	}
}

func TestJoinBudget(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	c := netip.MustParseAddr("192.0.2.3")
	d := netip.MustParseAddr("192.0.2.4")
	// Per address: 1 wrong code per second, bursts of 2; all together: 1
	// per second, bursts of 4; a suspect address: 2 look-ups per second,
	// bursts of 1.
	j := newJoinBudget(1, 2, 1, 4, 2, 1, t0)
	type step struct {
		ms    int
		addr  netip.Addr
		wrong bool // charge a wrong code instead of asking admit
		why   joinRefusal
		wait  time.Duration
	}
	steps := []step{
		{0, a, false, joinAllowed, 0},
		{0, a, true, 0, 0},
		{0, a, false, joinAllowed, 0}, // one token left: not suspect
		{0, a, true, 0, 0},
		// a's budget is used up: one look-up (its burst of 1) ...
		{0, a, false, joinAllowed, 0},
		// ... then refused for 1/2 s.
		{0, a, false, joinAddrOver, 500 * time.Millisecond},
		{250, a, false, joinAddrOver, 250 * time.Millisecond},
		{500, a, false, joinAllowed, 0},
		// b, c: the global budget (4, 2 used by a) runs out.
		{500, b, true, 0, 0},
		{500, c, true, 0, 0},
		// Global empty: b and c tried wrong codes, so they are suspect ...
		{500, b, false, joinAllowed, 0},
		{500, b, false, joinServerOver, 500 * time.Millisecond},
		// ... but d, which tried none, is not slowed at all.
		{500, d, false, joinAllowed, 0},
		{500, d, false, joinAllowed, 0},
		{500, d, false, joinAllowed, 0},
		// After 2 s b's and the global budget have refilled.
		{2500, b, false, joinAllowed, 0},
		{2500, b, false, joinAllowed, 0},
	}
	for i, s := range steps {
		if s.wrong {
			j.wrong(s.addr, at(s.ms))
			continue
		}
		why, wait := j.admit(s.addr, at(s.ms))
		if why != s.why || wait != s.wait {
			t.Errorf("step %d: admit(%v) at %d ms = %d, %v, want %d, %v", i, s.addr, s.ms, why, wait, s.why, s.wait)
		}
	}
}

func TestLimitMessages(t *testing.T) {
	tests := []struct{ got, want string }{
		{msgConnsPerAddr(50), "Too many open connections from your network address (at most 50). Close some tabs of this page and reload."},
		{msgViewersFull(200), "This room is full (200 students at most). Ask your teacher."},
		{msgJoinRate(2600 * time.Millisecond), "Too many wrong join codes from your network address. Wait 3 s and try again."},
		{msgJoinRate(10 * time.Millisecond), "Too many wrong join codes from your network address. Wait 1 s and try again."},
		{msgJoinRateServer(4 * time.Second), "Too many wrong join codes are being tried on this server, some of them from your network address. Wait 4 s and try again."},
		{msgSessionsPerAddr(8), "Too many sessions from your network address (at most 8 labs and forks). Close some tabs of this page and reload."},
		{msgRoomsFull(4, 10*time.Minute), "This server already hosts as many rooms as it allows (4). A room closes once no page has been open on it for 10 minutes; try again then, or ask the server's operator to raise -max-rooms."},
		{msgRoomsFull(1, 90*time.Second), "This server already hosts as many rooms as it allows (1). A room closes once no page has been open on it for 90 seconds; try again then, or ask the server's operator to raise -max-rooms."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("message = %q, want %q", tt.got, tt.want)
		}
	}
}
