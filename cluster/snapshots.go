package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The saved models: the home replica of a room saves the room's model
// every Config.SnapshotEvery (if it changed) and when it stops, into the
// object store, one object per code. Whoever proves to be the room's owner
// may resume the room from it on any replica. A room that closes (no page
// for the resume grace period) deletes its object; an object not saved
// again for Config.SnapshotKeep expires.

// SnapshotInfo describes a saved model; it is kept beside the data, so a
// replica can tell whether a room can be resumed, and by whom, without
// fetching the model.
type SnapshotInfo struct {
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Replica     string    `json:"replica"`      // the replica that saved it
	OwnerSHA256 string    `json:"owner_sha256"` // see OwnerHash
	Step        int       `json:"step"`         // the trainer's step
	Saved       time.Time `json:"saved"`
}

// MaxUnpacked bounds what Unpack inflates: a saved model with its charts.
const MaxUnpacked = 256 << 20

// infoKey is the metadata key of the object's SnapshotInfo.
const infoKey = "info"

// SaveSnapshot stores data (see Pack) as the saved model of info.Code.
func (l *Link) SaveSnapshot(ctx context.Context, info SnapshotInfo, data []byte) error {
	meta, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = l.models.Put(ctx, jetstream.ObjectMeta{Name: info.Code, Metadata: map[string]string{infoKey: string(meta)}},
		bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("save model of room %s: %w", info.Code, err)
	}
	return nil
}

// Snapshot returns the description of a room's saved model, if there is
// one.
func (l *Link) Snapshot(ctx context.Context, code string) (SnapshotInfo, bool, error) {
	oi, err := l.models.GetInfo(ctx, code)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return SnapshotInfo{}, false, nil
	case err != nil:
		return SnapshotInfo{}, false, fmt.Errorf("saved model of room %s: %w", code, err)
	}
	var info SnapshotInfo
	if err := json.Unmarshal([]byte(oi.Metadata[infoKey]), &info); err != nil || info.Code != code {
		l.Dropped("malformed")
		return SnapshotInfo{}, false, nil
	}
	return info, true, nil
}

// LoadSnapshot returns a room's saved model (as SaveSnapshot was given it).
func (l *Link) LoadSnapshot(ctx context.Context, code string) (SnapshotInfo, []byte, error) {
	info, ok, err := l.Snapshot(ctx, code)
	if err != nil {
		return info, nil, err
	}
	if !ok {
		return info, nil, fmt.Errorf("saved model of room %s: %w", code, jetstream.ErrObjectNotFound)
	}
	b, err := l.models.GetBytes(ctx, code)
	if err != nil {
		return info, nil, fmt.Errorf("saved model of room %s: %w", code, err)
	}
	return info, b, nil
}

// DeleteSnapshot deletes a room's saved model, if any.
func (l *Link) DeleteSnapshot(ctx context.Context, code string) error {
	err := l.models.Delete(ctx, code)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete saved model of room %s: %w", code, err)
	}
	return nil
}

// Pack joins a small JSON description and a blob (a saved model) into one
// gzip-compressed message: a 4-byte little-endian length, meta, blob.
func Pack(meta, blob []byte) ([]byte, error) {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(meta)))
	z.Write(n[:])
	z.Write(meta)
	z.Write(blob)
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Unpack reverses Pack, inflating at most MaxUnpacked bytes.
func Unpack(b []byte) (meta, blob []byte, err error) {
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("unpack: %w", err)
	}
	all, err := io.ReadAll(io.LimitReader(z, MaxUnpacked+1))
	if err != nil {
		return nil, nil, fmt.Errorf("unpack: %w", err)
	}
	if len(all) > MaxUnpacked {
		return nil, nil, fmt.Errorf("unpack: more than %d bytes", MaxUnpacked)
	}
	if len(all) < 4 {
		return nil, nil, errors.New("unpack: truncated")
	}
	n := int(binary.LittleEndian.Uint32(all))
	if n > len(all)-4 {
		return nil, nil, fmt.Errorf("unpack: description of %d bytes past the end", n)
	}
	return all[4 : 4+n], all[4+n:], nil
}
