package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/lesson"
)

// A room is one trainer driven by its owner (the teacher) and watched by
// many viewers (the students). Students find it by a short join code read
// aloud in class; the owner proves ownership with an unguessable token
// carried in the owner link.

// joinCodeAlphabet has no characters that read alike: no 0/O, 1/I/l.
const joinCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// joinCodeLen is the length of a join code: 31⁶ ≈ 8.9·10⁸ codes, so with
// join attempts rate-limited a code cannot be found by trying.
const joinCodeLen = 6

// ownerTokenBytes is the size of an owner token: 256 random bits.
const ownerTokenBytes = 32

// maxRoomNameRunes bounds a room name typed by the owner.
const maxRoomNameRunes = 60

// Errors of the room registry; their text is shown to the user.
var (
	errRoomsFull  = errors.New("this server already hosts as many rooms as it allows")
	errNoRoom     = errors.New("no room has this code; check the code on the board")
	errBadCode    = fmt.Errorf("a join code is %d characters from %s", joinCodeLen, joinCodeAlphabet)
	errRoomClosed = errors.New("this room was closed")
)

// newJoinCode returns a random join code of joinCodeLen characters from
// joinCodeAlphabet, each chosen uniformly with crypto/rand.
func newJoinCode() (string, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(joinCodeAlphabet)))
	for range joinCodeLen {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("join code: %w", err)
		}
		b.WriteByte(joinCodeAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// NormalizeJoinCode reads a join code as typed: case, spaces and dashes are
// ignored. It reports false if the result is not a well-formed code.
func NormalizeJoinCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r == ' ' || r == '-' || r == '\t' {
			continue
		}
		r = unicode.ToUpper(r)
		if r > unicode.MaxASCII || !strings.ContainsRune(joinCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
		if b.Len() > joinCodeLen {
			return "", false
		}
	}
	if b.Len() != joinCodeLen {
		return "", false
	}
	return b.String(), true
}

// newOwnerToken returns ownerTokenBytes random bytes from crypto/rand,
// base64url without padding (43 characters).
func newOwnerToken() (string, error) {
	b := make([]byte, ownerTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("owner token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// cleanRoomName trims a room name typed by the owner, drops control
// characters and cuts it to maxRoomNameRunes. The result is plain text; the
// pages escape it when they show it.
func cleanRoomName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxRoomNameRunes {
		s = strings.TrimSpace(string([]rune(s)[:maxRoomNameRunes]))
	}
	return s
}

// Room is one classroom: a trainer session driven by its owner and watched
// by viewers.
type Room struct {
	Code    string    // join code, joinCodeLen characters of joinCodeAlphabet
	Name    string    // shown to everyone in the room (plain text)
	Created time.Time // when the room was created

	ownerToken string
	session    *session // the room's trainer; nil only in registry tests

	// In a cluster (cluster.go): a room homed on another replica has a
	// mirror here, and ownerHash (see cluster.OwnerHash) instead of the
	// owner token, which this replica never sees; elsewhere counts the
	// room's viewers connected to other replicas.
	ownerHash string
	mirror    *remoteRoom
	elsewhere atomic.Int64

	viewers atomic.Int64 // connected viewers (students)
	owners  atomic.Int64 // connected owner pages
	closed  atomic.Bool

	mu     sync.Mutex
	joined map[netip.Addr]struct{} // addresses that found the room by its code

	roster  roster    // the students and the teacher's dashboard (dashboard.go)
	prompts promptBox // predict, then reveal (prompt.go)

	lesson atomic.Pointer[lesson.Lesson] // the lesson it was started from (lesson.go); nil for none
}

// maxRoomAddrs bounds the addresses a room remembers as having found it.
const maxRoomAddrs = 4096

// knows reports whether the code of r was found from address a before: a
// page reloaded, a student reconnecting, or a classmate behind the same
// NAT. Such a join is not charged to the join budget, nor refused by it.
func (r *Room) knows(a netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.joined[addrKey(a)]
	return ok
}

// remember notes that the code of r was found from address a (up to
// maxRoomAddrs addresses).
func (r *Room) remember(a netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.joined == nil {
		r.joined = map[netip.Addr]struct{}{}
	}
	if len(r.joined) < maxRoomAddrs {
		r.joined[addrKey(a)] = struct{}{}
	}
}

// IsOwner reports whether token is the room's owner token. It compares in
// constant time.
func (r *Room) IsOwner(token string) bool {
	if token == "" {
		return false
	}
	if r.ownerHash != "" {
		return cluster.IsOwner(r.ownerHash, token)
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(r.ownerToken)) == 1
}

// OwnerToken is the token of the owner link. Show it only to the owner.
func (r *Room) OwnerToken() string { return r.ownerToken }

// Viewers is the number of connected viewers (the owner's pages excluded).
func (r *Room) Viewers() int { return int(r.viewers.Load()) }

// allViewers is the number of viewers on every replica that serves the
// room (Viewers without a cluster).
func (r *Room) allViewers() int { return r.Viewers() + int(r.elsewhere.Load()) }

// roomRegistry holds the rooms of a server by join code.
type roomRegistry struct {
	max int // rooms at most

	mu     sync.Mutex
	byCode map[string]*Room
}

func newRoomRegistry(max int) *roomRegistry {
	return &roomRegistry{max: max, byCode: map[string]*Room{}}
}

// create registers a new room with a fresh code and owner token. name is
// cleaned; an empty name becomes "Room CODE". It returns errRoomsFull at
// the cap.
func (g *roomRegistry) create(name string, s *session, now time.Time) (*Room, error) {
	tok, err := newOwnerToken()
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.byCode) >= g.max {
		return nil, errRoomsFull
	}
	var code string
	for {
		if code, err = newJoinCode(); err != nil {
			return nil, err
		}
		if _, taken := g.byCode[code]; !taken {
			break
		}
	}
	name = cleanRoomName(name)
	if name == "" {
		name = "Room " + code
	}
	r := &Room{Code: code, Name: name, Created: now, ownerToken: tok, session: s}
	g.byCode[code] = r
	return r, nil
}

// lookup returns the room of a code as typed by a user: errBadCode if it
// is not well-formed, errNoRoom if no room has it.
func (g *roomRegistry) lookup(typed string) (*Room, error) {
	code, ok := NormalizeJoinCode(typed)
	if !ok {
		return nil, errBadCode
	}
	g.mu.Lock()
	r := g.byCode[code]
	g.mu.Unlock()
	if r == nil {
		return nil, errNoRoom
	}
	return r, nil
}

// remove unregisters r and marks it closed; it reports whether r was
// registered.
func (g *roomRegistry) remove(r *Room) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byCode[r.Code] != r {
		return false
	}
	delete(g.byCode, r.Code)
	r.closed.Store(true)
	return true
}

// all returns the registered rooms.
func (g *roomRegistry) all() []*Room {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Room, 0, len(g.byCode))
	for _, r := range g.byCode {
		out = append(out, r)
	}
	return out
}

// len is the number of rooms.
func (g *roomRegistry) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.byCode)
}
