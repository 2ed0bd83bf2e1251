package server

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewJoinCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		code, err := newJoinCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != joinCodeLen {
			t.Fatalf("newJoinCode() = %q, %d characters, want %d", code, len(code), joinCodeLen)
		}
		for _, r := range code {
			if !strings.ContainsRune(joinCodeAlphabet, r) {
				t.Fatalf("newJoinCode() = %q has %q, not in %q", code, r, joinCodeAlphabet)
			}
			counts[r]++
		}
		seen[code] = true
	}
	// 2000 draws from 31⁶ codes: a repeat has probability ≈ 2·10⁻³.
	if len(seen) < n-1 {
		t.Errorf("newJoinCode: %d distinct codes in %d draws", len(seen), n)
	}
	// Every character appears: 12000 characters, 387 expected each.
	for _, r := range joinCodeAlphabet {
		if counts[r] < 250 {
			t.Errorf("newJoinCode: %q drawn %d times in %d characters, want ≈ %d", r, counts[r], n*joinCodeLen, n*joinCodeLen/len(joinCodeAlphabet))
		}
	}
}

func TestJoinCodeAlphabetHasNoLookalikes(t *testing.T) {
	for _, r := range "0O1Il" {
		if strings.ContainsRune(joinCodeAlphabet, r) {
			t.Errorf("joinCodeAlphabet contains %q", r)
		}
	}
	if len(joinCodeAlphabet) != 31 {
		t.Errorf("len(joinCodeAlphabet) = %d, want 31", len(joinCodeAlphabet))
	}
}

func TestNormalizeJoinCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"ABC234", "ABC234", true},
		{"abc234", "ABC234", true},
		{" abc-234 ", "ABC234", true},
		{"ab c2 34", "ABC234", true},
		{"ABC23", "", false},      // too short
		{"ABC2345", "", false},    // too long
		{"ABC0O1", "", false},     // lookalikes are not in codes
		{"abcl23", "", false},     // l
		{"ÄBC234", "", false},     // not ASCII
		{"", "", false},           // empty
		{"ABC234\x00", "", false}, // control character
	}
	for _, tt := range tests {
		got, ok := NormalizeJoinCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeJoinCode(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOwnerToken(t *testing.T) {
	a, err := newOwnerToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newOwnerToken()
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil {
		t.Fatalf("newOwnerToken() = %q: %v", a, err)
	}
	if len(raw)*8 < 128 {
		t.Errorf("newOwnerToken: %d bits, want ≥ 128", len(raw)*8)
	}
	if a == b {
		t.Errorf("newOwnerToken twice = %q", a)
	}
}

func TestRoomIsOwner(t *testing.T) {
	g := newRoomRegistry(2)
	r, err := g.create("Biology 101", nil, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tok := r.OwnerToken()
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"the token", tok, true},
		{"empty", "", false},
		{"one character changed", tok[:len(tok)-1] + string(tok[len(tok)-1]^1), false},
		{"prefix", tok[:len(tok)-1], false},
		{"longer", tok + "A", false},
		{"the join code", r.Code, false},
	}
	for _, tt := range tests {
		if got := r.IsOwner(tt.token); got != tt.want {
			t.Errorf("%s: IsOwner(%q) = %v, want %v", tt.name, tt.token, got, tt.want)
		}
	}
}

func TestRoomRegistry(t *testing.T) {
	g := newRoomRegistry(2)
	now := time.Unix(100, 0)
	a, err := g.create("  Maths\t3B \x07 ", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	// Control characters (tab, bell) are dropped, spaces trimmed.
	if a.Name != "Maths3B" {
		t.Errorf("room name = %q, want %q", a.Name, "Maths3B")
	}
	b, err := g.create("", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "Room "+b.Code {
		t.Errorf("empty room name = %q, want %q", b.Name, "Room "+b.Code)
	}
	if a.Code == b.Code {
		t.Errorf("two rooms share code %q", a.Code)
	}
	if _, err := g.create("third", nil, now); !errors.Is(err, errRoomsFull) {
		t.Errorf("third room of 2: err = %v, want errRoomsFull", err)
	}

	lookups := []struct {
		typed string
		want  *Room
		err   error
	}{
		{a.Code, a, nil},
		{strings.ToLower(b.Code), b, nil},
		{"XYZ", nil, errBadCode},
	}
	for _, tt := range lookups {
		got, err := g.lookup(tt.typed)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("lookup(%q) = %v, %v, want %v, %v", tt.typed, got, err, tt.want, tt.err)
		}
	}
	// A well-formed code no room has.
	other := "222222"
	for other == a.Code || other == b.Code {
		other = "333333"
	}
	if _, err := g.lookup(other); !errors.Is(err, errNoRoom) {
		t.Errorf("lookup(%q) err = %v, want errNoRoom", other, err)
	}

	if !g.remove(a) || g.remove(a) {
		t.Errorf("remove(a) twice: want true then false")
	}
	if !a.closed.Load() {
		t.Errorf("removed room not marked closed")
	}
	if _, err := g.lookup(a.Code); !errors.Is(err, errNoRoom) {
		t.Errorf("lookup of a removed room: err = %v, want errNoRoom", err)
	}
	if g.len() != 1 {
		t.Errorf("len() = %d, want 1", g.len())
	}
	if _, err := g.create("again", nil, now); err != nil {
		t.Errorf("create after remove: %v", err)
	}
}

func TestCleanRoomName(t *testing.T) {
	long := strings.Repeat("é", maxRoomNameRunes+10)
	tests := []struct{ in, want string }{
		{"Physics", "Physics"},
		{"  a  b ", "a  b"},
		{"<script>alert(1)</script>", "<script>alert(1)</script>"}, // plain text: escaped where shown
		{"line\nbreak", "linebreak"},
		{long, strings.Repeat("é", maxRoomNameRunes)},
		{"bad\xffutf8", "badutf8"},
	}
	for _, tt := range tests {
		if got := cleanRoomName(tt.in); got != tt.want {
			t.Errorf("cleanRoomName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
