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

func TestAddrLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// 1 per second and bursts of 2 per address; 3 per second, bursts of 4, overall.
	l := newAddrLimiter(1, 2, 3, 4, t0)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	c := netip.MustParseAddr("192.0.2.3")
	steps := []struct {
		addr netip.Addr
		want bool
	}{
		{a, true}, {a, true}, {a, false}, // a's burst
		{b, true}, {b, true}, // global burst 4 used up
		{c, false}, // c has tokens, the global bucket has none
	}
	for i, s := range steps {
		ok, wait := l.allow(s.addr, t0)
		if ok != s.want {
			t.Errorf("step %d: allow(%v) = %v, want %v", i, s.addr, ok, s.want)
		}
		if !ok && wait <= 0 {
			t.Errorf("step %d: refused with wait %v, want > 0", i, wait)
		}
	}
	ok, wait := l.allow(c, t0.Add(time.Second/3))
	if !ok {
		t.Errorf("after 1/3 s the global bucket has a token: allow(c) = false, wait %v", wait)
	}
}

func TestLimitMessages(t *testing.T) {
	tests := []struct{ got, want string }{
		{msgConnsPerAddr(50), "Too many open connections from your network address (at most 50). Close some tabs of this page and reload."},
		{msgViewersFull(200), "This room is full (200 students at most). Ask your teacher."},
		{msgJoinRate(2600 * time.Millisecond), "Too many wrong join codes from your network address. Wait 3 s and try again."},
		{msgJoinRate(10 * time.Millisecond), "Too many wrong join codes from your network address. Wait 1 s and try again."},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("message = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAddrLimiterWaitTake(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newAddrLimiter(0.5, 2, 10, 10, t0) // one per 2 s per address, bursts of 2
	a := netip.MustParseAddr("192.0.2.1")
	// Checking takes nothing.
	for range 5 {
		if w := l.wait(a, t0); w != 0 {
			t.Fatalf("wait before any charge = %v, want 0", w)
		}
	}
	l.take(a, t0)
	l.take(a, t0)
	if w := l.wait(a, t0); w != 2*time.Second {
		t.Errorf("wait after the burst = %v, want 2s", w)
	}
	l.take(a, t0) // charging an empty bucket does not go below zero
	if w := l.wait(a, t0.Add(2*time.Second)); w != 0 {
		t.Errorf("wait after 2 s = %v, want 0", w)
	}
}
