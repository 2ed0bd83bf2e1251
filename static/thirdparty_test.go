package static

import (
	"os"
	"strings"
	"testing"
)

// TestVendoredNamedInNotices: every library under vendor/ is credited in
// THIRD_PARTY.md and ships its licence.
func TestVendoredNamedInNotices(t *testing.T) {
	notices, err := os.ReadFile("../THIRD_PARTY.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir("vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if !strings.Contains(string(notices), "static/vendor/"+d.Name()+"/LICENSE") {
			t.Errorf("THIRD_PARTY.md does not credit static/vendor/%s (with its LICENSE)", d.Name())
		}
		if _, err := os.Stat("vendor/" + d.Name() + "/LICENSE"); err != nil {
			t.Errorf("static/vendor/%s has no LICENSE", d.Name())
		}
	}
}
