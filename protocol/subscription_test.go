package protocol

import (
	"encoding/json"
	"testing"
)

// TestSubscriptionKey: subscriptions that select the same tensors and
// channels, however written, have one key (one encoding serves them all).
func TestSubscriptionKey(t *testing.T) {
	parse := func(s string) string {
		t.Helper()
		var m ClientMsg
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		sub, err := ParseSubscription(&m)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return sub.Key()
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"order of entries and kinds",
			`{"layers":[{"layer":1,"kinds":["grad","act"],"channels":[0,4]},{"layer":-1,"kinds":["input"]}]}`,
			`{"layers":[{"layer":-1,"kinds":["input"]},{"layer":1,"kinds":["act"],"channels":[0,4]},{"layer":1,"kinds":["grad"],"channels":[0,4]}]}`, true},
		{"ranges merged",
			`{"layers":[{"layer":0,"kinds":["act"],"channels":[0,2]},{"layer":0,"kinds":["act"],"channels":[1,4]}]}`,
			`{"layers":[{"layer":0,"kinds":["act"],"channels":[0,4]}]}`, true},
		{"index and object",
			`{"kinds":["act"],"layers":[2]}`,
			`{"layers":[{"layer":2,"kinds":["act"]}]}`, true},
		{"other range",
			`{"layers":[{"layer":0,"kinds":["act"],"channels":[0,2]}]}`,
			`{"layers":[{"layer":0,"kinds":["act"],"channels":[0,4]}]}`, false},
		{"nothing is not everything", `{"layers":[]}`, `{"layers":"all"}`, false},
	}
	for _, tt := range tests {
		if got := parse(tt.a) == parse(tt.b); got != tt.same {
			t.Errorf("%s: same key = %v, want %v (%q, %q)", tt.name, got, tt.same, parse(tt.a), parse(tt.b))
		}
	}
}
