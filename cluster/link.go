package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures the link. A zero URL means no cluster: the replica
// serves alone and needs nothing of this package.
type Config struct {
	// URL is the NATS server, e.g. nats://nats.school.example:4222; it may
	// carry user:password or a token (nats://user:pass@host:4222), and
	// tls:// asks for TLS with the system's roots. Several, comma-separated,
	// are tried in turn.
	URL string
	// Creds is a NATS credentials file (user JWT and nkey seed).
	Creds string
	// NKey is a file holding an nkey seed, for a server that knows the
	// user by its nkey.
	NKey string
	// TLSCA is a PEM file of the certificate authorities to trust for the
	// NATS server's certificate (instead of the system's).
	TLSCA string
	// TLSCert and TLSKey are a client certificate and its key, PEM, for a
	// server that asks for one.
	TLSCert, TLSKey string
	// SubjectPrefix starts every subject and names the JetStream buckets;
	// default "bpv". Tokens of letters, digits, '-' and '_', separated by
	// dots ("bpv.school1").
	SubjectPrefix string
	// ReplicaID names this replica in the directory and the logs; default
	// a random id. Two live replicas must not share one.
	ReplicaID string
	// SnapshotEvery is how often a room's home replica saves the room's
	// model, if it changed, for resuming it elsewhere; default 30 s.
	SnapshotEvery time.Duration
	// DirectoryTTL is how long a directory entry lives unless its replica
	// refreshes it (every third of it); default 15 s.
	DirectoryTTL time.Duration
	// SnapshotKeep is how long a saved model is kept after its last save;
	// default 24 h.
	SnapshotKeep time.Duration
}

// Defaults.
const (
	DefaultSubjectPrefix = "bpv"
	defaultSnapshotEvery = 30 * time.Second
	defaultDirectoryTTL  = 15 * time.Second
	defaultSnapshotKeep  = 24 * time.Hour
)

// Enabled reports whether the configuration asks for a cluster.
func (c Config) Enabled() bool { return c.URL != "" }

// withDefaults fills zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.ReplicaID == "" {
		b := make([]byte, 4)
		rand.Read(b)
		c.ReplicaID = hex.EncodeToString(b)
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = defaultSnapshotEvery
	}
	if c.DirectoryTTL == 0 {
		c.DirectoryTTL = defaultDirectoryTTL
	}
	if c.SnapshotKeep == 0 {
		c.SnapshotKeep = defaultSnapshotKeep
	}
	var errs []error
	if err := checkPrefix(c.SubjectPrefix); err != nil {
		errs = append(errs, err)
	}
	if !validToken(c.ReplicaID) {
		errs = append(errs, fmt.Errorf("replica id %q: want letters, digits, '-' and '_'", c.ReplicaID))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("nats TLS client certificate: give both the certificate and its key"))
	}
	if c.SnapshotEvery < time.Second || c.DirectoryTTL < time.Second || c.SnapshotKeep < time.Minute {
		errs = append(errs, fmt.Errorf("nats snapshot period %v, directory TTL %v, snapshot keep %v: want ≥ 1 s, ≥ 1 s, ≥ 1 min",
			c.SnapshotEvery, c.DirectoryTTL, c.SnapshotKeep))
	}
	return c, errors.Join(errs...)
}

// Link is one replica's connection to the cluster.
type Link struct {
	cfg     Config
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	rooms   jetstream.KeyValue    // the directory
	models  jetstream.ObjectStore // the saved models
	metrics *linkMetrics
	closed  chan struct{} // closed by the connection's closed handler
}

// Connect connects to NATS with cfg's credentials and TLS, makes sure the
// JetStream buckets exist, and registers the link's metrics with reg. It
// fails if the server cannot be reached or has no JetStream.
func Connect(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Link, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Link{cfg: cfg, log: log.With("replica", cfg.ReplicaID), metrics: newLinkMetrics(), closed: make(chan struct{})}
	opts := []nats.Option{
		nats.Name("backpropviz " + cfg.ReplicaID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			l.metrics.connected.Set(0)
			if err != nil { // nil: closed on purpose
				l.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			l.metrics.connected.Set(1)
			l.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			l.metrics.connected.Set(0)
			close(l.closed)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				l.metrics.dropped.WithLabelValues("slow").Inc()
			}
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			l.log.Warn("nats", "subject", subj, "err", err)
		}),
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKey)
		if err != nil {
			return nil, fmt.Errorf("nats nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", redact(cfg.URL), err)
	}
	l.nc = nc
	if err := l.openBuckets(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	l.metrics.connected.Set(1)
	if reg != nil {
		if err := l.metrics.register(reg); err != nil {
			nc.Close()
			return nil, err
		}
	}
	l.log.Info("nats connected", "url", nc.ConnectedUrlRedacted(), "prefix", cfg.SubjectPrefix)
	return l, nil
}

// openBuckets creates (or updates) the directory and the model store.
func (l *Link) openBuckets(ctx context.Context) error {
	js, err := jetstream.New(l.nc)
	if err != nil {
		return fmt.Errorf("nats jetstream: %w", err)
	}
	l.js = js
	base := bucketBase(l.cfg.SubjectPrefix)
	l.rooms, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: base + "_rooms", Description: "backpropviz room directory: join code → home replica",
		History: 1, TTL: l.cfg.DirectoryTTL, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("nats room directory %s_rooms (is JetStream enabled? nats-server -js): %w", base, err)
	}
	l.models, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: base + "_snapshots", Description: "backpropviz rooms' saved models, for resuming a room on another replica",
		TTL: l.cfg.SnapshotKeep, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("nats model store %s_snapshots: %w", base, err)
	}
	return nil
}

// Close drains the connection (what was published is sent, handlers
// finish) and waits for it to close, at most until ctx ends.
func (l *Link) Close(ctx context.Context) error {
	if err := l.nc.Drain(); err != nil {
		l.nc.Close()
		return nil
	}
	select {
	case <-l.closed:
		return nil
	case <-ctx.Done():
		l.nc.Close()
		return ctx.Err()
	}
}

// Replica is this replica's id.
func (l *Link) Replica() string { return l.cfg.ReplicaID }

// Config is the configuration with its defaults filled in.
func (l *Link) Config() Config { return l.cfg }

// MaxPayload is the largest message the NATS server accepts, in bytes.
func (l *Link) MaxPayload() int { return int(l.nc.MaxPayload()) }

// Publish sends data on subject subj (see Subjects), counted.
func (l *Link) Publish(subj string, data []byte) error {
	return l.PublishMsg(&nats.Msg{Subject: subj, Data: data})
}

// PublishMsg sends m, counted.
func (l *Link) PublishMsg(m *nats.Msg) error {
	if err := l.nc.PublishMsg(m); err != nil {
		l.metrics.dropped.WithLabelValues(dropReason(err)).Inc()
		return err
	}
	l.metrics.countOut(kindOf(m.Subject), len(m.Data))
	return nil
}

// Request sends data on subject subj and waits for the reply until ctx
// ends. A request no replica listens to fails at once with
// nats.ErrNoResponders.
func (l *Link) Request(ctx context.Context, subj string, data []byte) (*nats.Msg, error) {
	l.metrics.countOut(kindOf(subj), len(data))
	m, err := l.nc.RequestWithContext(ctx, subj, data)
	if err != nil {
		return nil, err
	}
	l.metrics.countIn("reply", len(m.Data))
	return m, nil
}

// Respond answers request m with data and, if errText is not "", the
// header Bpv-Error (see ReplyError).
func (l *Link) Respond(m *nats.Msg, data []byte, errText string) {
	if m.Reply == "" {
		return
	}
	r := &nats.Msg{Subject: m.Reply, Data: data}
	if errText != "" {
		r.Header = nats.Header{errorHeader: {errText}}
	}
	if err := l.nc.PublishMsg(r); err != nil {
		l.metrics.dropped.WithLabelValues(dropReason(err)).Inc()
		l.log.Warn("nats reply", "subject", m.Subject, "err", err)
		return
	}
	l.metrics.countOut("reply", len(data))
}

// errorHeader carries the error of a request that failed.
const errorHeader = "Bpv-Error"

// ReplyError returns the error a reply carries ("" if none).
func ReplyError(m *nats.Msg) string {
	if m.Header == nil {
		return ""
	}
	return m.Header.Get(errorHeader)
}

// Subscribe calls h for every message on subj (wildcards allowed), one at
// a time, on the subscription's own goroutine; every message is counted.
// When it returns, the NATS server has the subscription: what any replica
// sends from then on reaches h.
func (l *Link) Subscribe(subj string, h func(*nats.Msg)) (*nats.Subscription, error) {
	sub, err := l.nc.Subscribe(subj, func(m *nats.Msg) {
		l.metrics.countIn(kindOf(m.Subject), len(m.Data))
		h(m)
	})
	if err != nil {
		return nil, err
	}
	if err := l.nc.FlushTimeout(5 * time.Second); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe %s: %w", subj, err)
	}
	return sub, nil
}

// Dropped counts a message dropped for reason: "malformed" (it did not
// decode), "behind" (a newer frame replaced it before it was sent), "full"
// (a queue was full), "too_large".
func (l *Link) Dropped(reason string) { l.metrics.dropped.WithLabelValues(reason).Inc() }

// DroppedCount is the number of messages dropped for reason (for tests and
// logs).
func (l *Link) DroppedCount(reason string) float64 {
	return counterValue(l.metrics.dropped.WithLabelValues(reason))
}

func dropReason(err error) string {
	if errors.Is(err, nats.ErrMaxPayload) {
		return "too_large"
	}
	return "unsent"
}

// redact hides the passwords of a list of URLs, for logs and errors.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
