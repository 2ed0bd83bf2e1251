package server

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildVersion is the version of this build as the Go toolchain recorded
// it: the main module's version (a tag, or Go's pseudo-version of the
// commit), else the VCS revision (12 digits, "-dirty" if the tree had
// changes), else "dev". A build may set Config.Version instead (vizserver's
// -ldflags "-X main.version=…").
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	rev = rev[:min(12, len(rev))]
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// registerBuildInfo adds bpv_build_info{version, goversion} = 1 to reg.
func registerBuildInfo(reg prometheus.Registerer, version string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "bpv_build_info",
		Help:        "The build: its version (as on the pages) and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	g.Set(1)
	reg.MustRegister(g)
}
