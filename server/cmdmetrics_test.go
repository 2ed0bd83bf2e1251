package server

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestCommandLatency: each command carried out is observed in
// bpv_command_duration_seconds under its name; a refused one is not.
func TestCommandLatency(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	c.expect("welcome", nil)
	for range 2 {
		if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step_batch: %+v", r)
		}
	}
	if r := c.reply(c.cmd("pause", nil)); r.Type != "ack" {
		t.Fatalf("pause: %+v", r)
	}
	count := func(cmd string) uint64 {
		var m dto.Metric
		if err := srv.cmdtime.WithLabelValues(cmd).(interface{ Write(*dto.Metric) error }).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetHistogram().GetSampleCount()
	}
	// The ack is sent before the duration is observed: wait for it.
	for deadline := time.Now().Add(5 * time.Second); count("pause") == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for cmd, want := range map[string]uint64{"step_batch": 2, "pause": 1, "play": 0} {
		if got := count(cmd); got != want {
			t.Errorf("bpv_command_duration_seconds{cmd=%q} count %d, want %d", cmd, got, want)
		}
	}
}
