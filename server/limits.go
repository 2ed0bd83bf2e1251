package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits that keep one machine fair to a whole class: connections per
// network address (with forwarded addresses trusted only from the proxies
// the operator names), token buckets for commands and join attempts.

// ParsePrefixes reads a comma- or space-separated list of CIDR prefixes
// ("10.0.0.0/8") or single addresses ("127.0.0.1", read as /32 or /128), as
// given to -trusted-proxies. The error names the bad entry.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix like 10.0.0.0/8", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an address or a CIDR prefix like 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the network address of the client of r. It is the
// peer address of the connection, unless that peer is one of the trusted
// proxies: then X-Forwarded-For is read from right to left (each proxy
// appends the address it saw) and the first address that is not a trusted
// proxy is the client. Forwarded headers from any other peer are ignored,
// so a client cannot choose its own address. An unparsable peer address
// gives the zero Addr.
func ClientAddr(r *http.Request, proxies []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !trusted(peer, proxies) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return client // a malformed entry: stop at the last address we trust to be right
			}
			client = a.Unmap()
			if !trusted(client, proxies) {
				return client
			}
		}
	}
	return client
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// addrCounter counts what each network address holds open (websockets) and
// refuses more than max per address.
type addrCounter struct {
	max int

	mu sync.Mutex
	n  map[netip.Addr]int
}

func newAddrCounter(max int) *addrCounter {
	return &addrCounter{max: max, n: map[netip.Addr]int{}}
}

// acquire takes one slot of a; it reports false at the cap.
func (c *addrCounter) acquire(a netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[a] >= c.max {
		return false
	}
	c.n[a]++
	return true
}

// release gives back one slot of a.
func (c *addrCounter) release(a netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[a] <= 1 {
		delete(c.n, a)
		return
	}
	c.n[a]--
}

// count is the number of slots a holds.
func (c *addrCounter) count(a netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[a]
}

// rateBucket allows rate events per second on average and bursts of up to
// burst events. The time is passed in, so it is testable without a clock.
// It is not safe for concurrent use.
type rateBucket struct {
	rate   float64 // tokens per second
	burst  float64 // capacity
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *rateBucket {
	return &rateBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

func (b *rateBucket) refill(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
}

// allow takes one token if there is one.
func (b *rateBucket) allow(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// retryAfter is how long until the next token, zero if one is there.
func (b *rateBucket) retryAfter(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// full reports whether the bucket has refilled to its burst.
func (b *rateBucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}

// addrLimiter is a token bucket per network address plus one shared by all
// addresses (so many addresses together cannot go faster than the global
// rate either). Buckets that have refilled are forgotten, so memory stays
// bounded by the addresses active within burst/rate seconds.
type addrLimiter struct {
	rate   float64
	burst  int
	global *rateBucket // nil: no global bucket

	mu      sync.Mutex
	buckets map[netip.Addr]*rateBucket
}

// newAddrLimiter allows rate events per second per address (bursts of
// burst), and globalRate per second from all addresses together (bursts of
// globalBurst; globalRate 0 means no global bound).
func newAddrLimiter(rate float64, burst int, globalRate float64, globalBurst int, now time.Time) *addrLimiter {
	l := &addrLimiter{rate: rate, burst: burst, buckets: map[netip.Addr]*rateBucket{}}
	if globalRate > 0 {
		l.global = newTokenBucket(globalRate, globalBurst, now)
	}
	return l
}

// maxLimiterAddrs is how many buckets an addrLimiter keeps before pruning.
const maxLimiterAddrs = 4096

// bucket returns a's bucket, creating it (and pruning refilled ones) if
// needed. l.mu is held.
func (l *addrLimiter) bucket(a netip.Addr, now time.Time) *rateBucket {
	b := l.buckets[a]
	if b == nil {
		if len(l.buckets) >= maxLimiterAddrs {
			for k, v := range l.buckets {
				if v.full(now) {
					delete(l.buckets, k)
				}
			}
		}
		b = newTokenBucket(l.rate, l.burst, now)
		l.buckets[a] = b
	}
	return b
}

// wait is how long a must wait before its next event: zero if both a's
// bucket and the global one have a token. It takes nothing: a join attempt
// is checked with wait before the code is looked up (so a blocked address
// learns nothing), and only a wrong code is charged with take.
func (l *addrLimiter) wait(a netip.Addr, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.bucket(a, now).retryAfter(now)
	if l.global != nil {
		w = max(w, l.global.retryAfter(now))
	}
	return w
}

// take charges one event to a's bucket and the global one (down to zero
// tokens, never below).
func (l *addrLimiter) take(a netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(a, now).allow(now)
	if l.global != nil {
		l.global.allow(now)
	}
}

// allow takes one token of a's bucket and of the global one if both have
// one. When it refuses it says how long to wait.
func (l *addrLimiter) allow(a netip.Addr, now time.Time) (bool, time.Duration) {
	if w := l.wait(a, now); w > 0 {
		return false, w
	}
	l.take(a, now)
	return true, 0
}

// Messages shown to a user who hits a limit. Each names what to do.
func msgConnsPerAddr(max int) string {
	return fmt.Sprintf("Too many open connections from your network address (at most %d). Close some tabs of this page and reload.", max)
}

func msgViewersFull(max int) string {
	return fmt.Sprintf("This room is full (%d students at most). Ask your teacher.", max)
}

func msgJoinRate(wait time.Duration) string {
	s := max(1, int(wait.Round(time.Second)/time.Second))
	return fmt.Sprintf("Too many wrong join codes from your network address. Wait %d s and try again.", s)
}

func msgRoomsFull() string { return errRoomsFull.Error() }
