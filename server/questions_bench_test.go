package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// BenchmarkAnswer times the answer to one question about the default
// network on MNIST after a full step, at batch 8 (the default) and 20:
// ns/op is all of it (the engine's work, the conversion and the JSON);
// session-ns/op the part the session goroutine spends (the engine's); it
// reports the reply's size. Run with
//
//	go test ./server -run '^$' -bench Answer -benchtime 200x
func BenchmarkAnswer(b *testing.B) {
	questions := []struct {
		name string
		q    question
	}{
		{"explain_conv2_dX", protocol.ExplainRequest{Layer: 3, Tensor: "dX", Index: []int{7, 7, 7}, Sample: 1, Limit: protocol.DefaultExplainLimit}},
		{"explain_conv2_dW", protocol.ExplainRequest{Layer: 3, Tensor: "dW", Index: []int{15, 7, 2, 2}, Sample: 1, Limit: protocol.DefaultExplainLimit}},
		{"explain_conv2_Y", protocol.ExplainRequest{Layer: 3, Tensor: "Y", Index: []int{15, 7, 7}, Sample: 1, Limit: protocol.DefaultExplainLimit}},
		{"explain_conv1_dW_4096", protocol.ExplainRequest{Layer: 0, Tensor: "dW", Index: []int{7, 0, 2, 2}, Sample: 1, Limit: protocol.MaxExplainLimit}},
		{"gradcheck_conv2_W", protocol.GradCheckRequest{Layer: 3, Param: "W", Index: []int{15, 7, 2, 2}, H: engine.DefaultGradCheckH}},
		{"gradcheck_conv1_W", protocol.GradCheckRequest{Layer: 0, Param: "W", Index: []int{7, 0, 2, 2}, H: engine.DefaultGradCheckH}},
		{"walk_conv2_dW", protocol.WalkRequest{Layer: 3, Grad: "dW", Filter: 15, Channel: 7, Sample: 1}},
		{"walk_conv2_dX", protocol.WalkRequest{Layer: 3, Grad: "dX", Filter: 15, Channel: 7, Sample: 1}},
		{"walk_conv1_dW", protocol.WalkRequest{Layer: 0, Grad: "dW", Filter: 7, Channel: 0, Sample: 1}},
		{"walk_conv1_dX", protocol.WalkRequest{Layer: 0, Grad: "dX", Filter: 7, Channel: 0, Sample: 1}},
	}
	data, err := new(dataSets).get(protocol.DataMNIST)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{8, 20} {
		cfg := engine.DefaultConfig()
		cfg.Hyper.BatchSize = n
		t, err := engine.NewTrainer(cfg, data)
		if err != nil {
			b.Fatal(err)
		}
		for range 3 {
			if err := t.StepBatch(); err != nil {
				b.Fatal(err)
			}
		}
		s := &session{t: t}
		for _, q := range questions {
			b.Run(fmt.Sprintf("batch=%d/%s", n, q.name), func(b *testing.B) {
				size := 0
				var inSession time.Duration
				for b.Loop() {
					t0 := time.Now()
					a := s.ask(q.q)
					inSession += time.Since(t0)
					if a.code != "" {
						b.Fatal(a.msg)
					}
					size = len(a.reply(nil))
				}
				b.ReportMetric(float64(inSession.Nanoseconds())/float64(b.N), "session-ns/op")
				b.ReportMetric(float64(size), "reply-bytes")
			})
		}
	}
}
