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
