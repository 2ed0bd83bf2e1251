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

// TestTrainingSeconds: bpv_training_seconds_total counts the time the
// session spends running phases, by step_batch and by step_epoch, never
// more than the time that passed, and nothing while it is paused.
func TestTrainingSeconds(t *testing.T) {
	srv, ts := newTestServer(t, Config{ShapesTrain: 400, ShapesTest: 100})
	start := time.Now()
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+")+"&batch=8")
	c.expect("welcome", nil)
	if got := counterValue(t, srv.metrics.trainSeconds); got != 0 {
		t.Fatalf("bpv_training_seconds_total %v before any step, want 0", got)
	}
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch: %+v", r)
	}
	afterBatch := counterValue(t, srv.metrics.trainSeconds)
	if afterBatch <= 0 {
		t.Fatalf("bpv_training_seconds_total %v after a step, want > 0", afterBatch)
	}
	if r := c.reply(c.cmd("step_epoch", nil)); r.Type != "ack" {
		t.Fatalf("step_epoch: %+v", r)
	}
	c.waitState(func(s testState) bool { return s.Mode == "paused" && s.Epoch == 1 })
	afterEpoch := counterValue(t, srv.metrics.trainSeconds)
	elapsed := time.Since(start).Seconds()
	if afterEpoch <= afterBatch || afterEpoch > elapsed {
		t.Fatalf("bpv_training_seconds_total %v after an epoch (%v after a step), want more, and at most the %v s that passed", afterEpoch, afterBatch, elapsed)
	}
	time.Sleep(50 * time.Millisecond)
	if got := counterValue(t, srv.metrics.trainSeconds); got != afterEpoch {
		t.Errorf("bpv_training_seconds_total went from %v to %v while paused", afterEpoch, got)
	}
}
