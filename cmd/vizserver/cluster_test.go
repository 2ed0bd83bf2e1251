package main

import (
	"bytes"
	"testing"
	"time"
)

func TestClusterFlags(t *testing.T) {
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c := o.cfg.Cluster; c.Enabled() || c.SubjectPrefix != "bpv" || c.SnapshotEvery != 30*time.Second {
		t.Errorf("default cluster settings %+v, want none (prefix bpv, saves every 30 s)", c)
	}
	t.Setenv("BPV_NATS", "nats://viz:pw@nats.example:4222")
	t.Setenv("BPV_REPLICA_ID", "r1")
	o, err = parseFlags([]string{"-nats-subject-prefix", "bpv.school", "-nats-creds", "viz.creds", "-nats-tls-ca", "ca.pem"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg.Cluster
	if !c.Enabled() || c.URL != "nats://viz:pw@nats.example:4222" || c.ReplicaID != "r1" || c.SubjectPrefix != "bpv.school" ||
		c.Creds != "viz.creds" || c.TLSCA != "ca.pem" {
		t.Errorf("cluster settings %+v", c)
	}
}
