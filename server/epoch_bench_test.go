//go:build unix

package server

import (
	"context"
	"encoding/json"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/protocol"
)

// BenchmarkStepEpoch measures one epoch of the page's default network and
// recipe on MNIST (60,000 images, 7,500 steps at batch 8), the engine alone against the same
// epoch through the server (target: within 1.05×):
//
//   - engine: the session's trainer runs Trainer.StepEpoch in the session's
//     goroutine (a page attached, paused: nothing is published);
//   - server: a page sends step_epoch and reads every message until the
//     state says the epoch ended, as the lab does: frames at the server's
//     frame rate, compressed (permessage-deflate), states and chart points.
//
// Each iteration is one epoch of a session of its own kind. Besides the
// wall time it reports the CPU time of the process per epoch (cpu-s/op:
// the trainer's, the server's and, for server, the page's reading), and
// for server the time the session spent running the epoch's phases
// (train-s/op, from bpv_training_seconds_total) and what the server added
// to it (served-%: the wall time's excess over train-s), measured in the
// same run: the machine's speed, which varies from one run to the next
// by more than the server adds, cancels out of it (the engine running
// slower beside the server's goroutines does not). Run with -count to
// interleave them and compare medians:
//
//	GOMAXPROCS=2 go test ./server -run '^$' -bench StepEpoch -benchtime 1x -count 5
func BenchmarkStepEpoch(b *testing.B) {
	srv, ts := newTestServer(b, Config{MaxSessionsPerAddr: 8})
	d := &websocket.Dialer{EnableCompression: true}
	b.Run("engine", func(b *testing.B) {
		c := dialWith(b, d, ts, "")
		var w protocol.Welcome
		c.expect("welcome", &w)
		sess := srv.sessions.lookup(w.Resume)
		if sess == nil {
			b.Fatal("no session for the welcome's token")
		}
		drain(c)
		runtime.GC() // the lab's data loaded: no collection of it runs into the epoch
		b.ResetTimer()
		cpu0 := cpuTime()
		for range b.N {
			var err error
			if !sess.inSession(func() { err = sess.t.StepEpoch(context.Background()) }) {
				b.Fatal("the session ended")
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("server", func(b *testing.B) {
		c := dialWith(b, d, ts, "")
		c.expect("welcome", nil)
		runtime.GC()
		b.ResetTimer()
		cpu0, train0 := cpuTime(), counterValue(b, srv.metrics.trainSeconds)
		for range b.N {
			id := c.cmd("step_epoch", nil)
			frames, acked := 0, false
			for {
				c.conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
				mt, raw, err := c.conn.ReadMessage()
				if err != nil {
					b.Fatalf("read: %v", err)
				}
				if mt == websocket.BinaryMessage {
					frames++
					continue
				}
				var m struct {
					Type string `json:"type"`
					ID   int    `json:"id"`
					Mode string `json:"mode"`
				}
				json.Unmarshal(raw, &m)
				if m.Type == "ack" && m.ID == id {
					acked = true
				}
				if m.Type == "error" && m.ID == id {
					b.Fatalf("step_epoch: %s", raw)
				}
				if acked && m.Type == "state" && m.Mode == protocol.ModePaused {
					break
				}
			}
			b.ReportMetric(float64(frames), "frames/op")
		}
		b.StopTimer()
		train := counterValue(b, srv.metrics.trainSeconds) - train0
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(train/float64(b.N), "train-s/op")
		b.ReportMetric(100*(b.Elapsed().Seconds()-train)/train, "served-%")
	})
}

// cpuTime is the CPU time of this process so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
