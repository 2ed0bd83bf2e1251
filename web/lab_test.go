package web

import (
	"net/url"
	"testing"

	"github.com/backpropviz/backpropviz/templates"
)

// TestLabChoicesLabelled: every menu of the lab page, built from the
// protocol's vocabularies, has choices, and every choice a label.
func TestLabChoicesLabelled(t *testing.T) {
	vm := New(Config{}).labModel(url.Values{}, labWS)
	menus := map[string][]templates.Option{"data": vm.Datasets, "optimizer": vm.Optimizers, "range": vm.Ranges,
		"outliers": vm.Outliers, "diverging": vm.Diverging, "sequential": vm.Sequential}
	for name, opts := range menus {
		if len(opts) == 0 {
			t.Errorf("menu %s is empty", name)
		}
		for _, o := range opts {
			if o.Label == "" {
				t.Errorf("menu %s: choice %q has no label", name, o.Value)
			}
		}
	}
	if vm.Config.WS != "/ws" {
		t.Errorf("lab page websocket %q, want /ws", vm.Config.WS)
	}
}

// TestLabSpeedOfTheURL: a speed the menu lacks, from the URL, is added to
// it with a label of the menu's own form, and chosen.
func TestLabSpeedOfTheURL(t *testing.T) {
	for _, tc := range []struct{ unit, rate, value, label string }{
		{"step", "5", "step:5", "5 steps/s"},
		{"phase", "2", "phase:2", "2 phases/s"},
	} {
		vm := New(Config{}).labModel(url.Values{"speed": {tc.unit}, "rate": {tc.rate}}, labWS)
		found := false
		for _, o := range vm.Speeds {
			if o.Value == tc.value {
				found = true
				if o.Label != tc.label {
					t.Errorf("speed %s: label %q, want %q", tc.value, o.Label, tc.label)
				}
			}
		}
		if !found || vm.Speed != tc.value {
			t.Errorf("speed %s: in the menu %v, chosen %q", tc.value, found, vm.Speed)
		}
	}
}
