package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// addrKey is what every per-address limit counts an address as: an IPv4
// address itself, and an IPv6 address's /64 prefix, since one home, school
// or host is given a whole /64 and may use any address of it.
func addrKey(a netip.Addr) netip.Addr {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
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

// addrCounter counts what each network address (see addrKey) holds open
// (websockets, connections) and refuses more than max per address.
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
	a = addrKey(a)
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
	a = addrKey(a)
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
	a = addrKey(a)
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

// joinBudget bounds how fast join codes can be tried, charging only wrong
// codes. Each network address has a budget of wrong codes (rate per second
// on average, bursts of burst), and all addresses together share one more
// (the global budget). An address is suspect while its own budget is used
// up, or while the global one is used up and the address has itself tried
// a wrong code recently (its budget is not full). A suspect address may
// still look codes up, at most probeRate per second (bursts of
// probeBurst): a right code then passes, a wrong one is charged again.
// Beyond that it is refused before its code is looked up, so trying tells
// it nothing. So a right code is never refused because of what other
// addresses did, nor because someone behind the same address (a school's
// NAT) typed wrong codes, while guessing stays at most probeRate codes per
// second per address. Addresses (see addrKey) whose buckets have refilled
// are forgotten; beyond maxAddrs addresses that have not, a new address
// shares one budget with every other such address (overflow), so memory
// stays bounded while guessing from many addresses stays bounded too.
type joinBudget struct {
	rate, probeRate   float64
	burst, probeBurst int
	global            *rateBucket // nil: no global budget

	maxAddrs int
	tracked  prometheus.Gauge   // bpv_join_budget_addresses
	overflow prometheus.Counter // bpv_join_budget_overflow_total

	mu        sync.Mutex
	addrs     map[netip.Addr]*joinState
	overState *joinState // the budget shared by the addresses beyond maxAddrs
}

// joinState is one address's budget of wrong codes and of look-ups while
// suspect.
type joinState struct{ wrong, probe *rateBucket }

// newJoinBudget allows rate wrong codes per second per address (bursts of
// burst), globalRate per second from all addresses together (bursts of
// globalBurst; globalRate 0 means no global budget), and probeRate look-ups
// per second (bursts of probeBurst) from a suspect address.
func newJoinBudget(rate float64, burst int, globalRate float64, globalBurst int, probeRate float64, probeBurst int, now time.Time) *joinBudget {
	j := &joinBudget{rate: rate, burst: burst, probeRate: probeRate, probeBurst: probeBurst, addrs: map[netip.Addr]*joinState{},
		maxAddrs: defaultJoinAddrs,
		tracked:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_join_budget_addresses", Help: "Addresses whose join budget is kept."}),
		overflow: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_join_budget_overflow_total",
			Help: "Join attempts from addresses beyond -join-addrs, which share one budget."})}
	j.overState = j.newState(now)
	if globalRate > 0 {
		j.global = newTokenBucket(globalRate, globalBurst, now)
	}
	return j
}

func (j *joinBudget) newState(now time.Time) *joinState {
	return &joinState{wrong: newTokenBucket(j.rate, j.burst, now), probe: newTokenBucket(j.probeRate, j.probeBurst, now)}
}

// state returns a's state, creating it (and pruning refilled ones) if
// needed; beyond maxAddrs addresses it is the shared overflow state. j.mu
// is held.
func (j *joinBudget) state(a netip.Addr, now time.Time) *joinState {
	a = addrKey(a)
	st := j.addrs[a]
	if st == nil {
		if len(j.addrs) >= j.maxAddrs {
			for k, v := range j.addrs {
				if v.wrong.full(now) && v.probe.full(now) {
					delete(j.addrs, k)
				}
			}
		}
		if len(j.addrs) >= j.maxAddrs {
			return j.overState
		}
		st = j.newState(now)
		j.addrs[a] = st
		j.tracked.Set(float64(len(j.addrs)))
	}
	return st
}

// joinRefusal says why an address may not look a code up now.
type joinRefusal int

const (
	joinAllowed    joinRefusal = iota
	joinAddrOver               // the address tried too many wrong codes
	joinServerOver             // all addresses together did, and this one tried wrong codes too
)

// admit is asked before a code typed at address a is looked up: it reports
// joinAllowed if a may look one up now (taking a look-up of a's suspect
// budget if a is suspect), else why not and how long to wait.
func (j *joinBudget) admit(a netip.Addr, now time.Time) (joinRefusal, time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.state(a, now)
	if st == j.overState {
		j.overflow.Inc()
	}
	why := joinAllowed
	switch {
	case st.wrong.retryAfter(now) > 0:
		why = joinAddrOver
	case j.global != nil && j.global.retryAfter(now) > 0 && !st.wrong.full(now):
		why = joinServerOver
	}
	if why == joinAllowed || st.probe.allow(now) {
		return joinAllowed, 0
	}
	return why, st.probe.retryAfter(now)
}

// wrong charges a wrong code typed at a to a's budget and the global one
// (down to zero tokens, never below).
func (j *joinBudget) wrong(a netip.Addr, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.state(a, now).wrong.allow(now)
	if j.global != nil {
		j.global.allow(now)
	}
}
