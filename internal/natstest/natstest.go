// Package natstest runs a NATS server with JetStream inside a test, on a
// random loopback port, for the tests of the cluster.
package natstest

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Options change the test server's settings before it starts.
type Options func(*natsserver.Options)

// WithoutJetStream runs the server without JetStream.
func WithoutJetStream() Options {
	return func(o *natsserver.Options) { o.JetStream = false }
}

// WithUser requires a user name and password.
func WithUser(user, password string) Options {
	return func(o *natsserver.Options) { o.Username, o.Password = user, password }
}

// Start runs a NATS server with JetStream (its store in a temporary
// directory of t) on 127.0.0.1 and a free port until t ends, and returns
// the server and its client URL.
func Start(t testing.TB, opts ...Options) (*natsserver.Server, string) {
	t.Helper()
	o := &natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	for _, f := range opts {
		f(o)
	}
	ns, err := natsserver.NewServer(o)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("nats server: not ready after 10 s")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns, ns.ClientURL()
}
