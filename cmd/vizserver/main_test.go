package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/server"
)

func TestHelpExitsCleanly(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		_, err := parseFlags([]string{arg}, &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: err %v, want flag.ErrHelp (main exits 0)", arg, err)
		}
		for _, want := range []string{"-max-sessions-per-addr", "(default 32)", "-idle-timeout", "(default 30m0s)", "-max-test", "rooms, forks and labs"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: usage lacks %q", arg, want)
			}
		}
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		// want: max sessions per address, idle timeout, max test images
		perAddr int
		idle    time.Duration
		maxTest int
	}{
		{"defaults", nil, nil, 0, 30 * time.Minute, 10000},
		{"flags", nil, []string{"-max-sessions-per-addr", "40", "-idle-timeout", "5m", "-max-test", "500"}, 40, 5 * time.Minute, 500},
		{"environment", map[string]string{"BPV_MAX_SESSIONS_PER_ADDR": "32", "BPV_IDLE_TIMEOUT": "1h"}, nil, 32, time.Hour, 10000},
		{"flag wins", map[string]string{"BPV_MAX_SESSIONS_PER_ADDR": "32"}, []string{"-max-sessions-per-addr", "16"}, 16, 30 * time.Minute, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			o, err := parseFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if o.cfg.MaxSessionsPerAddr != tt.perAddr || o.cfg.IdleTimeout != tt.idle || o.cfg.MaxTestImages != tt.maxTest {
				t.Errorf("per address %d, idle %v, max test %d; want %d, %v, %d",
					o.cfg.MaxSessionsPerAddr, o.cfg.IdleTimeout, o.cfg.MaxTestImages, tt.perAddr, tt.idle, tt.maxTest)
			}
		})
	}
}

func TestUnexpectedArguments(t *testing.T) {
	if _, err := parseFlags([]string{":8080"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-h lists them") {
		t.Errorf("positional argument: err %v, want the unexpected arguments error", err)
	}
}

// TestMaxMemoryFlag: -max-memory and BPV_MAX_MEMORY take sizes with units;
// the default is the machine's (server.DefaultMaxMemory); a malformed size
// is an error that names it.
func TestMaxMemoryFlag(t *testing.T) {
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.MaxMemory != server.DefaultMaxMemory() || o.cfg.MaxMemory <= 0 {
		t.Errorf("default max memory %d, want %d", o.cfg.MaxMemory, server.DefaultMaxMemory())
	}
	for _, c := range []struct {
		flag string
		want int64
	}{{"2GiB", 2 << 30}, {"512MiB", 512 << 20}, {"1.5G", 3 << 29}, {"123456789", 123456789}, {"64 mb", 64 << 20}} {
		o, err := parseFlags([]string{"-max-memory", c.flag}, &bytes.Buffer{})
		if err != nil || o.cfg.MaxMemory != c.want {
			t.Errorf("-max-memory %s: %d, %v; want %d", c.flag, o.cfg.MaxMemory, err, c.want)
		}
	}
	t.Setenv("BPV_MAX_MEMORY", "3GiB")
	if o, err := parseFlags(nil, &bytes.Buffer{}); err != nil || o.cfg.MaxMemory != 3<<30 {
		t.Errorf("BPV_MAX_MEMORY=3GiB: %d, %v", o.cfg.MaxMemory, err)
	}
	if _, err := parseFlags([]string{"-max-memory", "lots"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "lots") {
		t.Errorf("-max-memory lots: error %v, want one naming it", err)
	}
}
