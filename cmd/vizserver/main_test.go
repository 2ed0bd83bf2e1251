package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/engine/dataset"
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

// -dataset is repeatable; the environment gives several, comma-separated.
func TestDatasetFlag(t *testing.T) {
	o, err := parseFlags([]string{"-dataset", "kmnist=/data/kmnist", "-dataset", "mine=/d/m", "-fashion-dir", "/f"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := o.cfg.DataDirs
	if len(got) != 2 || got[0] != (server.DataDir{Name: "kmnist", Dir: "/data/kmnist"}) || got[1] != (server.DataDir{Name: "mine", Dir: "/d/m"}) || o.cfg.FashionDir != "/f" {
		t.Errorf("data flags: %+v, fashion dir %q", got, o.cfg.FashionDir)
	}
	if _, err := parseFlags([]string{"-dataset", "kmnist"}, io.Discard); err == nil || !strings.Contains(err.Error(), "NAME=DIR") {
		t.Errorf("-dataset kmnist: error %v, want NAME=DIR", err)
	}
	t.Setenv("BPV_DATASET", "a=/x, b=/y")
	o, err = parseFlags(nil, io.Discard)
	if err != nil || len(o.cfg.DataDirs) != 2 || o.cfg.DataDirs[1].Dir != "/y" {
		t.Errorf("BPV_DATASET: %+v, %v", o.cfg.DataDirs, err)
	}
}

// -load FILE starts the -room from a saved model; without -room it is
// refused.
func TestLoadFlag(t *testing.T) {
	if _, err := parseFlags([]string{"-load", "model.json"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-room") {
		t.Errorf("-load without -room: error %v, want one naming -room", err)
	}
	o, err := parseFlags([]string{"-load", "model.json", "-room", "Biology"}, io.Discard)
	if err != nil || o.load != "model.json" || o.room != "Biology" {
		t.Fatalf("-load with -room: %+v, %v", o, err)
	}
	train, test := dataset.Shapes(1, 50, 10)
	tr, err := engine.NewTrainer(engine.Config{Spec: server.ShapesSpec, Seed: 6, Hyper: engine.DefaultHyper()},
		engine.Data{Name: "shapes", Train: train, Test: test})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := tr.StepBatch(); err != nil {
			t.Fatal(err)
		}
	}
	var model bytes.Buffer
	if err := tr.Save(&model); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{ShapesTrain: 50, ShapesTest: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := openRoom(&out, srv, "Biology", model.Bytes(), nil, "http://x", "127.0.0.1:8080"); err != nil {
		t.Fatalf("openRoom from a model: %v", err)
	}
	if !strings.Contains(out.String(), "owner link") {
		t.Errorf("openRoom printed %q", out.String())
	}
	if err := openRoom(&out, srv, "Broken", model.Bytes()[:50], nil, "http://x", "127.0.0.1:8080"); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("openRoom from a truncated model: %v", err)
	}
}
