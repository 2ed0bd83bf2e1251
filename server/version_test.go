package server

import (
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	rev := "6e18229abcdef0123456789abcdef0123456789a"
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{"pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261129120000-6e18229abcde+dirty"}}, "v0.0.0-20261129120000-6e18229abcde+dirty"},
		{"revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}, "6e18229abcde"},
		{"modified tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}}, "6e18229abcde-dirty"},
		{"nothing recorded", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	}
	for _, tt := range tests {
		if got := versionOf(&tt.bi); got != tt.want {
			t.Errorf("%s: versionOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestVersionShown: the configured version is on the pages and in
// bpv_build_info; without one, the build's.
func TestVersionShown(t *testing.T) {
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	_, ts := newTestServer(t, Config{Version: "v9.8.7"})
	for _, path := range []string{"/", "/join"} {
		if body := get(ts.URL + path); !strings.Contains(body, "v9.8.7") {
			t.Errorf("GET %s does not show the version v9.8.7", path)
		}
	}
	if body := get(ts.URL + "/metrics"); !strings.Contains(body, `bpv_build_info{goversion="`) || !strings.Contains(body, `version="v9.8.7"} 1`) {
		t.Errorf("/metrics has no bpv_build_info of v9.8.7")
	}
	srv, _ := newTestServer(t, Config{})
	if got := srv.Config().Version; got != BuildVersion() {
		t.Errorf("default version %q, want the build's %q", got, BuildVersion())
	}
}
