package cluster

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/backpropviz/backpropviz/internal/natstest"
)

func connect(t *testing.T, cfg Config) *Link {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Connect(ctx, cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"defaults", Config{URL: "nats://x"}, ""},
		{"dotted prefix", Config{URL: "nats://x", SubjectPrefix: "bpv.school-1"}, ""},
		{"wildcard prefix", Config{URL: "nats://x", SubjectPrefix: "bpv.*"}, "subject prefix"},
		{"empty token", Config{URL: "nats://x", SubjectPrefix: "bpv..a"}, "subject prefix"},
		{"replica id with a dot", Config{URL: "nats://x", ReplicaID: "a.b"}, "replica id"},
		{"certificate without key", Config{URL: "nats://x", TLSCert: "c.pem"}, "both the certificate and its key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("withDefaults: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("withDefaults: err %v, want %q", err, tt.want)
			case tt.want == "" && (c.ReplicaID == "" || c.SubjectPrefix == ""):
				t.Errorf("withDefaults left %+v", c)
			}
		})
	}
}

func TestSubjects(t *testing.T) {
	l := &Link{cfg: Config{SubjectPrefix: "bpv.s1"}}
	h := KeyHash("0/false/false/all:4094")
	for _, tt := range []struct{ got, want, kind string }{
		{l.Event("ABCDEF", EvState), "bpv.s1.room.ABCDEF.ev.state", "state"},
		{l.Frames("ABCDEF", h), "bpv.s1.room.ABCDEF.frame." + h, "frame"},
		{l.RPC("ABCDEF", RPCCmd), "bpv.s1.room.ABCDEF.rpc.cmd", "cmd"},
		{l.RPC("ABCDEF", RPCAsk), "bpv.s1.room.ABCDEF.rpc.ask", "ask"},
		{l.RPC("ABCDEF", RPCAnswer), "bpv.s1.room.ABCDEF.rpc.answer", "answer"},
		{"bpv.s1.room.ABCDEF.rpc.anything", "bpv.s1.room.ABCDEF.rpc.anything", "other"},
	} {
		if tt.got != tt.want || kindOf(tt.got) != tt.kind {
			t.Errorf("subject %q (kind %q), want %q (kind %q)", tt.got, kindOf(tt.got), tt.want, tt.kind)
		}
	}
	if len(h) != 16 || KeyHash("0/false/false/all:4094") != h || KeyHash("1/false/false/all:4094") == h {
		t.Errorf("KeyHash %q: want 16 hex digits, equal for equal keys only", h)
	}
	if bucketBase("bpv.s1") != "bpv_s1" {
		t.Errorf("bucketBase(bpv.s1) = %q", bucketBase("bpv.s1"))
	}
}

func TestDirectory(t *testing.T) {
	_, url := natstest.Start(t)
	a := connect(t, Config{URL: url, ReplicaID: "a", DirectoryTTL: 2 * time.Second})
	b := connect(t, Config{URL: url, ReplicaID: "b", DirectoryTTL: 2 * time.Second})
	ctx := context.Background()
	rec := RoomRecord{Code: "ABCDEF", Name: "Biology", Replica: "a", OwnerSHA256: OwnerHash("tok"), Created: time.Now()}
	rev, ok, err := a.Claim(ctx, rec)
	if err != nil || !ok {
		t.Fatalf("Claim: %v, %v", ok, err)
	}
	if _, ok, err := b.Claim(ctx, RoomRecord{Code: "ABCDEF", Replica: "b"}); ok || err != nil {
		t.Fatalf("second Claim of a live code: ok %v, err %v; want refused", ok, err)
	}
	got, ok, err := b.Lookup(ctx, "ABCDEF")
	if err != nil || !ok || got.Replica != "a" || got.Name != "Biology" || !IsOwner(got.OwnerSHA256, "tok") || IsOwner(got.OwnerSHA256, "other") {
		t.Fatalf("Lookup = %+v, %v, %v", got, ok, err)
	}
	// Refreshed, it outlives the TTL.
	for range 4 {
		time.Sleep(time.Second)
		if rev, err = a.Refresh(ctx, rec, rev); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
	}
	if _, ok, _ := b.Lookup(ctx, "ABCDEF"); !ok {
		t.Fatalf("a refreshed entry expired")
	}
	// Not refreshed, it expires; the code is free again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok, _ := b.Lookup(ctx, "ABCDEF"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an entry not refreshed did not expire")
		}
		time.Sleep(200 * time.Millisecond)
	}
	brev, ok, err := b.Claim(ctx, RoomRecord{Code: "ABCDEF", Replica: "b"})
	if err != nil || !ok {
		t.Fatalf("Claim of an expired code: %v, %v", ok, err)
	}
	// a comes back: the code is b's now.
	if _, err := a.Refresh(ctx, rec, rev); err != ErrLost {
		t.Errorf("Refresh of a code another replica holds: %v, want ErrLost", err)
	}
	// a's Release does not remove b's entry; b's does.
	a.Release(ctx, "ABCDEF", rev)
	if got, ok, _ := a.Lookup(ctx, "ABCDEF"); !ok || got.Replica != "b" {
		t.Errorf("after a's release: %+v, %v; want b's entry", got, ok)
	}
	if err := b.Release(ctx, "ABCDEF", brev); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Lookup(ctx, "ABCDEF"); ok {
		t.Errorf("released entry still found")
	}
}

func TestMalformedDirectoryEntryDropped(t *testing.T) {
	_, url := natstest.Start(t)
	l := connect(t, Config{URL: url})
	if _, err := l.rooms.Put(context.Background(), "GHJKMN", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.Lookup(context.Background(), "GHJKMN"); ok || err != nil {
		t.Errorf("Lookup of a malformed entry: %v, %v; want absent", ok, err)
	}
	if n := l.DroppedCount("malformed"); n != 1 {
		t.Errorf("malformed drops %v, want 1", n)
	}
}

func TestSnapshots(t *testing.T) {
	_, url := natstest.Start(t)
	l := connect(t, Config{URL: url})
	ctx := context.Background()
	if _, ok, err := l.Snapshot(ctx, "ABCDEF"); ok || err != nil {
		t.Fatalf("Snapshot of nothing: %v, %v", ok, err)
	}
	model := bytes.Repeat([]byte(`{"value":[0.125,-3.5e-7]}`), 100000) // > 1 MB: stored in chunks
	data, err := Pack([]byte(`{"data":"mnist"}`), model)
	if err != nil {
		t.Fatal(err)
	}
	info := SnapshotInfo{Code: "ABCDEF", Name: "Biology", Replica: "a", OwnerSHA256: OwnerHash("tok"), Step: 412, Saved: time.Now().UTC()}
	if err := l.SaveSnapshot(ctx, info, data); err != nil {
		t.Fatal(err)
	}
	got, ok, err := l.Snapshot(ctx, "ABCDEF")
	if err != nil || !ok || got.Step != 412 || got.Name != "Biology" || !got.Saved.Equal(info.Saved) {
		t.Fatalf("Snapshot = %+v, %v, %v; want %+v", got, ok, err, info)
	}
	_, b, err := l.LoadSnapshot(ctx, "ABCDEF")
	if err != nil {
		t.Fatal(err)
	}
	meta, blob, err := Unpack(b)
	if err != nil || string(meta) != `{"data":"mnist"}` || !bytes.Equal(blob, model) {
		t.Fatalf("Unpack: meta %q, %d bytes of model, %v", meta, len(blob), err)
	}
	if err := l.DeleteSnapshot(ctx, "ABCDEF"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := l.Snapshot(ctx, "ABCDEF"); ok {
		t.Errorf("deleted snapshot still found")
	}
	if _, _, err := Unpack([]byte("garbage")); err == nil {
		t.Errorf("Unpack(garbage): no error")
	}
}

func TestCredentialsInURL(t *testing.T) {
	_, url := natstest.Start(t, natstest.WithUser("viz", "s3cret"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Connect(ctx, Config{URL: url}, nil, nil)
	if err == nil {
		t.Fatalf("Connect without the password succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
	withUser := strings.Replace(url, "nats://", "nats://viz:s3cret@", 1)
	l := connect(t, Config{URL: withUser})
	// Request with nobody listening fails at once.
	start := time.Now()
	_, err = l.Request(ctx, l.RPC("ABCDEF", RPCPing), nil)
	if err != nats.ErrNoResponders || time.Since(start) > 2*time.Second {
		t.Errorf("request without responders: %v after %v, want ErrNoResponders at once", err, time.Since(start))
	}
}

func TestNoJetStream(t *testing.T) {
	_, url := natstest.Start(t, natstest.WithoutJetStream())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Connect(ctx, Config{URL: url}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "JetStream") {
		t.Errorf("Connect to a server without JetStream: %v, want an error that names JetStream", err)
	}
}
