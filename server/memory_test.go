package server

import (
	"encoding/json"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// worstSpec holds every activation the limits allow at its largest batch,
// 16: 16M values in each of Y and dL/dX of its convolution and ReLU.
const worstSpec = "conv(650,1) relu maxpool(28) dense(10)"

// liveHeap is the bytes of live objects on the heap, after a collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestMemoryBudgetHoldsTheWorstLabs: one address opens as many labs of the
// worst network the limits allow, at its largest batch, as it may
// (MaxSessionsPerAddr's default) and steps each: the labs beyond the
// budget are refused that network and told why (they get the default
// network), the budget in use never exceeds the budget, and the live heap
// the labs hold stays under it.
func TestMemoryBudgetHoldsTheWorstLabs(t *testing.T) {
	const budget = 1 << 30
	srv, ts := newTestServer(t, Config{MaxMemory: budget})
	mnist, err := srv.data.get(protocol.DataMNIST)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Spec, cfg.Hyper.BatchSize = worstSpec, 16
	need, err := trainerBytes(cfg, mnist)
	if err != nil {
		t.Fatal(err)
	}
	fit := int(budget / need)
	perAddr := srv.Config().MaxSessionsPerAddr
	if fit >= perAddr {
		t.Fatalf("%d labs of %s fit in the budget: the test wants fewer than the %d one address may open", fit, mib(need), perAddr)
	}
	before := liveHeap()

	addr := newFrom("127.0.0.50")
	query := "data=mnist&batch=16&spec=" + url.QueryEscape(worstSpec)
	worst, refused := 0, 0
	for i := range perAddr {
		c := dialWith(t, addr.ws, ts, query)
		// A lab beyond the budget gets the default network and the reason,
		// or, if even that does not fit, only the reason.
		m := c.next()
		if m.typ == "welcome" {
			var w protocol.Welcome
			json.Unmarshal(m.raw, &w)
			if w.Config.Spec == worstSpec {
				worst++
				c.reply(c.cmd("step_batch", nil))
				drain(c) // the page stays: its lab may not be evicted
				continue
			}
			m = c.next()
			c.reply(c.cmd("step_batch", nil))
			drain(c)
		}
		var e protocol.Reply
		json.Unmarshal(m.raw, &e)
		if m.typ != "error" || !strings.Contains(e.Message, "memory") || !strings.Contains(e.Message, "smaller network or batch size") {
			t.Errorf("lab %d: the refused network is told as %s %q, want the memory budget's message", i, m.typ, e.Message)
		}
		refused++
		if used := gaugeValue(t, srv.metrics.memInUse); used > budget {
			t.Fatalf("after lab %d: %v bytes of the budget in use, more than %d", i, used, budget)
		}
	}
	if worst != fit || refused != perAddr-fit {
		t.Errorf("%d labs of the worst network and %d refused, want %d and %d", worst, refused, fit, perAddr-fit)
	}
	held := liveHeap() - before
	t.Logf("%d labs (%d of %s, %s each by the estimate): live heap +%s, budget in use %s of %s; the test process's %s",
		perAddr, worst, worstSpec, mib(need), mib(held), mib(int64(gaugeValue(t, srv.metrics.memInUse))), mib(budget), rss())
	if held > budget {
		t.Errorf("the labs hold %s of live heap, more than the budget %s", mib(held), mib(budget))
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("memory")); got < float64(refused) {
		t.Errorf("memory limit hits %v, want at least %d", got, refused)
	}
}

// TestMemoryBudgetRefusesChanges: on a budget with room for one network
// of midSpec at batch 16 (and small ones beside it), a second lab of it
// gets the data set's network and the reason; a change of network or of
// batch size beyond the budget is refused with the memory message and
// changes nothing; once the first lab's page has gone, a new lab evicts it
// (reason "memory") to make room.
func TestMemoryBudgetRefusesChanges(t *testing.T) {
	const midSpec = "conv(100,3,s1,p1) relu maxpool(2,s2,p0) dense(5)"
	data := mustShapes(t)
	mid := engine.DefaultConfig()
	mid.Spec, mid.Hyper.BatchSize = midSpec, 16
	need, err := trainerBytes(mid, data)
	if err != nil {
		t.Fatal(err)
	}
	budget := max(need+need/2, 16<<20)
	if 2*need <= budget {
		t.Fatalf("two networks of %s fit in %s", mib(need), mib(budget))
	}
	// no histories: the budget's numbers are the trainers' alone
	srv, ts := newTestServer(t, Config{MaxMemory: budget, TimelineBytes: -1})
	midQuery := "data=shapes&batch=16&spec=" + url.QueryEscape(midSpec)
	a := dial(t, ts, midQuery)
	var wa protocol.Welcome
	a.expect("welcome", &wa)
	if wa.Config.Spec != midSpec {
		t.Fatalf("first lab: spec %q, want %q", wa.Config.Spec, midSpec)
	}
	b := dial(t, ts, midQuery)
	var wb protocol.Welcome
	b.expect("welcome", &wb)
	var e protocol.Reply
	b.expect("error", &e)
	if wb.Config.Spec != ShapesSpec || !strings.Contains(e.Message, msgMemory(need, budget-need, budget)) {
		t.Fatalf("second lab: spec %q, told %q; want the shapes network and the memory message", wb.Config.Spec, e.Message)
	}

	// The second lab asks for the network, then for a batch of 128 of it.
	r := b.reply(b.cmd("set", map[string]any{"spec": midSpec}))
	if r.Code != protocol.CodeFull || !strings.Contains(r.Message, "memory") {
		t.Errorf("set spec beyond the budget: %+v, want %q with the memory message", r, protocol.CodeFull)
	}
	r = a.reply(a.cmd("set", map[string]any{"batch": 128}))
	if r.Code != protocol.CodeFull || !strings.Contains(r.Message, "memory") {
		t.Errorf("set batch beyond the budget: %+v, want %q with the memory message", r, protocol.CodeFull)
	}
	// Nothing changed: both step at their own network and batch.
	a.reply(a.cmd("step_batch", nil))
	b.reply(b.cmd("step_batch", nil))
	if got := gaugeValue(t, srv.metrics.memInUse); got > float64(budget) || got < float64(need) {
		t.Errorf("budget in use %v, want between %d and %d", got, need, budget)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("memory")); got != 3 {
		t.Errorf("memory limit hits %v, want 3", got)
	}

	// The first lab's page goes away: a new lab of the network evicts it.
	a.conn.Close()
	waitDetached(t, srv, wa.Resume)
	c := dial(t, ts, midQuery)
	var wc protocol.Welcome
	c.expect("welcome", &wc)
	if wc.Config.Spec != midSpec {
		t.Errorf("new lab after the first one's page went: spec %q, want %q", wc.Config.Spec, midSpec)
	}
	if srv.sessions.lookup(wa.Resume) != nil {
		t.Errorf("the lab without a page was kept")
	}
	if got := metricsLine(t, ts, `bpv_sessions_evicted_total{reason="memory"}`); got != "1" {
		t.Errorf(`/metrics: bpv_sessions_evicted_total{reason="memory"} %s, want 1`, got)
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// mustShapes returns the shapes data set of a test server's size.
func mustShapes(t *testing.T) engine.Data {
	t.Helper()
	d := &dataSets{shapesTrain: 400, shapesTest: 100, sets: map[string]engine.Data{}}
	data, err := d.get(protocol.DataShapes)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// drain reads, until the connection closes, what the server sends c's
// page, as a browser does, so that the server keeps the page.
func drain(c *wsClient) {
	go func() {
		for {
			if _, _, err := c.conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

// rss is the process's resident set (VmRSS and its peak VmHWM), for the log.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "RSS unknown"
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
			out = append(out, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(out, ", ")
}
