package main

import (
	"flag"
	"time"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/server"
)

// clusterFlags binds the flags of a cluster of replicas into cfg. Without
// -nats the server runs alone and none of the others matter.
func clusterFlags(fs *flag.FlagSet, cfg *server.Config) {
	c := &cfg.Cluster
	fs.StringVar(&c.URL, "nats", "", "NATS server shared by several replicas, e.g. nats://nats.example:4222 (tls:// for TLS; user:password@ or a token may be given); empty: this server alone (env BPV_NATS)")
	fs.StringVar(&c.Creds, "nats-creds", "", "NATS credentials file, user JWT and nkey seed (env BPV_NATS_CREDS)")
	fs.StringVar(&c.NKey, "nats-nkey", "", "file holding the NATS user's nkey seed (env BPV_NATS_NKEY)")
	fs.StringVar(&c.TLSCA, "nats-tls-ca", "", "PEM file of the certificate authorities that sign the NATS server's certificate (env BPV_NATS_TLS_CA)")
	fs.StringVar(&c.TLSCert, "nats-tls-cert", "", "client certificate (PEM) for a NATS server that asks for one; with -nats-tls-key (env BPV_NATS_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "nats-tls-key", "", "key of -nats-tls-cert (env BPV_NATS_TLS_KEY)")
	fs.StringVar(&c.SubjectPrefix, "nats-subject-prefix", cluster.DefaultSubjectPrefix, "first tokens of every NATS subject and of the JetStream buckets' names, so deployments can share a NATS account (env BPV_NATS_SUBJECT_PREFIX)")
	fs.StringVar(&c.ReplicaID, "replica-id", "", "this replica's name in the room directory and the logs; empty: a random one (env BPV_REPLICA_ID)")
	fs.DurationVar(&c.SnapshotEvery, "nats-snapshot-every", 30*time.Second, "how often a room's model is saved in NATS for resuming it on another replica (env BPV_NATS_SNAPSHOT_EVERY)")
}
