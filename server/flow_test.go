package server

import (
	"testing"
	"time"
)

// TestFlowWindow: a page that acknowledges frames has one in flight until
// its link's rate is known, then as many as the link carries in linkQueue;
// the rate comes from the acknowledgements.
func TestFlowWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var f flow
	f.sent(50_000, t0)
	if got := f.takeWhat(); got != takeAll {
		t.Fatalf("a page without acks: take %v, want everything", got)
	}
	if f.acked(t0) {
		t.Errorf("an acknowledgement from a page without acks=1 was taken")
	}

	f = flow{acks: true}
	if got := f.takeWhat(); got != takeAll {
		t.Fatalf("nothing in flight: take %v, want everything", got)
	}
	f.sent(32_000, t0)
	if got := f.takeWhat(); got != takeReplies {
		t.Fatalf("a frame in flight, rate unknown: take %v, want replies only", got)
	}
	if !f.acked(t0.Add(time.Second)) { // 32 kB in 1 s
		t.Fatal("the acknowledgement of the frame in flight was refused")
	}
	if f.acked(t0.Add(time.Second)) {
		t.Error("an acknowledgement with no frame in flight was taken")
	}
	if r := f.rate; r != 32_000 {
		t.Errorf("rate %v, want 32000 bytes/s", r)
	}
	if !f.slow() {
		t.Error("a 256 kbit/s link is not slow")
	}
	if !f.longWrite(100_000) || f.longWrite(20_000) {
		t.Error("longWrite: want chunks for 100 kB on a 32 kB/s link, not for 20 kB")
	}
	// 8 kB ≤ rate·linkQueue: a second small frame may follow the first.
	f.sent(4_000, t0.Add(time.Second))
	if got := f.takeWhat(); got != takeAll {
		t.Errorf("4 kB in flight on a 32 kB/s link: take %v, want everything", got)
	}
	f.sent(8_000, t0.Add(time.Second))
	if got := f.takeWhat(); got != takeReplies {
		t.Errorf("12 kB in flight on a 32 kB/s link: take %v, want replies only", got)
	}
	f.acked(t0.Add(1125 * time.Millisecond))
	f.acked(t0.Add(1375 * time.Millisecond))
	if got := f.takeWhat(); got != takeAll {
		t.Errorf("all acknowledged: take %v, want everything", got)
	}
	// A burst of acknowledgements (a page that was busy) raises the rate
	// by at most a doubling's share.
	r0 := f.rate
	f.sent(32_000, t0.Add(2*time.Second))
	f.acked(t0.Add(2*time.Second + time.Millisecond))
	if f.rate > r0*(1+rateWeight)+1e-9 {
		t.Errorf("rate %v after a burst from %v: want at most %v", f.rate, r0, r0*(1+rateWeight))
	}
	f.setFrames(false)
	if got := f.takeWhat(); got != takeNoFrame || !f.framesOff() {
		t.Errorf("frames off: take %v, want all but the frame", got)
	}
}
