// Package cluster is the link between backpropviz replicas: one NATS
// connection (github.com/nats-io/nats.go) per replica, the names of the
// subjects the replicas speak on, the room directory and the rooms' saved
// models in JetStream, and the link's Prometheus metrics. It knows nothing
// of sessions or pages: package server decides what travels, this package
// carries it and counts it.
//
// Every subject starts with the subject prefix (Config.SubjectPrefix,
// "bpv" by default), so several deployments can share one NATS account:
//
//	PREFIX.room.CODE.ev.state        the room's state, from its home replica
//	PREFIX.room.CODE.ev.metrics      its chart points
//	PREFIX.room.CODE.ev.reply        a message for every page (a welcome after a rebuild,
//	                                 the owner's look)
//	PREFIX.room.CODE.ev.count        how many students watch, on every replica
//	PREFIX.room.CODE.ev.gone         the home replica stops serving the room
//	PREFIX.room.CODE.frame.HASH      trace frames of one subscription key (KeyHash)
//	PREFIX.room.CODE.rpc.NAME        requests to the home replica (sync, interest,
//	                                 keyframe, cmd, fork, ask, ping)
//
// A page's question about a number (explain, walk, gradcheck) and the
// owner's look, on a replica other than the room's home, are forwarded to
// the home with rpc.ask: the home answers with the reply the page gets, the
// very bytes it would send a page of its own; a look it accepts goes to
// every page of every replica on ev.reply.
//
// JetStream holds two buckets, named after the prefix (dots become
// underscores): the key-value bucket PREFIX_rooms, the room directory (code
// → home replica, expiring unless the home refreshes it; see Directory),
// and the object store PREFIX_snapshots, the saved model of each room (see
// Snapshots), from which a room whose replica went away can be resumed.
//
// A message that does not decode is dropped and counted
// (bpv_nats_messages_dropped_total{reason="malformed"}); nothing a replica
// receives can stop it.
package cluster
