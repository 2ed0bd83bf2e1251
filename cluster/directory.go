package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The room directory: one entry per live room, code → the replica that
// runs its trainer (its home). The home claims the code when it opens the
// room and refreshes the entry every third of Config.DirectoryTTL; an
// entry not refreshed for DirectoryTTL expires, so the code of a replica
// that went away stops resolving to it.

// RoomRecord is a directory entry.
type RoomRecord struct {
	Code        string    `json:"code"`
	Name        string    `json:"name"`
	Replica     string    `json:"replica"`      // the home replica
	OwnerSHA256 string    `json:"owner_sha256"` // hex SHA-256 of the owner token (see OwnerHash)
	Created     time.Time `json:"created"`
	Revision    uint64    `json:"-"` // of the entry, from Lookup (see Release)
}

// ErrLost is returned by Refresh when another replica holds the code.
var ErrLost = errors.New("room directory: the code is held by another replica")

// OwnerHash is the hex SHA-256 of an owner token: what the directory and
// the saved models keep, so that any replica checks the owner of a room
// without knowing its token.
func OwnerHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// IsOwner reports whether token hashes to hash (see OwnerHash), in
// constant time.
func IsOwner(hash, token string) bool {
	if token == "" || hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(OwnerHash(token)), []byte(hash)) == 1
}

// Claim registers rec under rec.Code unless a live entry has the code. It
// returns the entry's revision (for Refresh and Release) and whether the
// code was free.
func (l *Link) Claim(ctx context.Context, rec RoomRecord) (rev uint64, ok bool, err error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, false, err
	}
	rev, err = l.rooms.Create(ctx, rec.Code, b)
	switch {
	case err == nil:
		return rev, true, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("room directory: claim %s: %w", rec.Code, err)
}

// Refresh keeps the entry of revision rev alive and returns its new
// revision. An entry that expired meanwhile (the replica lost NATS for a
// while) is claimed again if the code is still free; ErrLost if another
// replica holds it now.
func (l *Link) Refresh(ctx context.Context, rec RoomRecord, rev uint64) (uint64, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	n, err := l.rooms.Update(ctx, rec.Code, b, rev)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
		return rev, fmt.Errorf("room directory: refresh %s: %w", rec.Code, err)
	}
	n, ok, err := l.Claim(ctx, rec)
	switch {
	case err != nil:
		return rev, err
	case !ok:
		return rev, ErrLost
	}
	return n, nil
}

// Lookup returns the live entry of a code, if any. An entry that does not
// decode is counted as malformed and treated as absent.
func (l *Link) Lookup(ctx context.Context, code string) (RoomRecord, bool, error) {
	e, err := l.rooms.Get(ctx, code)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return RoomRecord{}, false, nil
	case err != nil:
		return RoomRecord{}, false, fmt.Errorf("room directory: look up %s: %w", code, err)
	}
	var rec RoomRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.Code != code || rec.Replica == "" {
		l.Dropped("malformed")
		l.log.Warn("room directory: malformed entry", "code", code)
		return RoomRecord{}, false, nil
	}
	rec.Revision = e.Revision()
	return rec, true, nil
}

// Release removes the entry of revision rev, unless another replica has
// claimed the code since.
func (l *Link) Release(ctx context.Context, code string, rev uint64) error {
	err := l.rooms.Delete(ctx, code, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("room directory: release %s: %w", code, err)
	}
	return nil
}
