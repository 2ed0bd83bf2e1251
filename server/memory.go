package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// The memory budget: every session's trainer is estimated before it is
// built (engine.EstimateMemory), and all of them together are held within
// Config.MaxMemory. A new lab, fork or room, a spec or data set change and
// a batch size or optimizer change that would go beyond it first evict
// labs and forks without a page (oldest first) and otherwise are refused.

// memRefusal is the error of a trainer the budget has no room for.
type memRefusal struct{ need, free, budget int64 }

func (e memRefusal) Error() string { return "memory budget: " + msgMemory(e.need, e.free, e.budget) }

func refuseMemory(e memRefusal) refusal {
	return refusal{"memory", protocol.CodeFull, msgMemory(e.need, e.free, e.budget), websocket.CloseTryAgainLater}
}

func msgMemory(need, free, budget int64) string {
	return fmt.Sprintf("This network needs about %s of memory at this batch size, and the server has %s left of the %s it gives all networks together: "+
		"choose a smaller network or batch size, or try again later.", mib(need), mib(max(free, 0)), mib(budget))
}

// problemOf words an error of building a trainer for the user: the
// memory refusal's message (counted as a limit hit), or the spec's error.
func (s *Server) problemOf(err error) string {
	var mem memRefusal
	if errors.As(err, &mem) {
		return s.counted(refuseMemory(mem)).message
	}
	return err.Error()
}

// mib writes bytes in MiB, for people.
func mib(b int64) string { return fmt.Sprintf("%d MiB", (b+(1<<20)-1)>>20) }

// trainerBytes is the memory a session of cfg on data holds at most: the
// trainer with one trace (engine.EstimateMemory) and the frames encoded
// from a trace waiting in the pages' mailboxes (float32: half a trace, for
// two pages). An error is the spec's or the batch size's: NewTrainer
// refuses it too.
func trainerBytes(cfg engine.Config, data engine.Data) (int64, error) {
	est, err := engine.EstimateMemory(cfg, data)
	if err != nil {
		return 0, err
	}
	return est.Total() + est.Trace, nil
}

// buildTrainer reserves the memory of a trainer of cfg on data (evicting
// labs and forks without a page if needed, but never keep) and builds it.
// It returns the trainer and the bytes reserved for it, to be given to
// its session (session.mem) or back (registry.unreserve). The error is a
// memRefusal or NewTrainer's.
func (s *Server) buildTrainer(cfg engine.Config, data engine.Data, keep *session) (*engine.Trainer, int64, error) {
	need, err := trainerBytes(cfg, data)
	if err != nil {
		_, err = engine.NewTrainer(cfg, data) // the same error, as NewTrainer words it
		return nil, 0, err
	}
	if err := s.sessions.reserve(need, keep); err != nil {
		return nil, 0, err
	}
	t, err := engine.NewTrainer(cfg, data)
	if err != nil {
		s.sessions.unreserve(need)
		return nil, 0, err
	}
	return t, need, nil
}

// reserveLoaded reserves the memory of a trainer already built from a
// saved model (a fork of another replica's room, a resumed room): it
// reports the bytes, or the memRefusal (and the trainer is to be dropped).
func (s *Server) reserveLoaded(t *engine.Trainer) (int64, error) {
	need, err := trainerBytes(t.Config(), t.Data())
	if err != nil {
		return 0, err
	}
	return need, s.sessions.reserve(need, nil)
}

// reserve holds bytes of the memory budget for a trainer about to be
// built (see reserveLocked); it fails with a memRefusal if there is no
// room, or errFull after close.
func (g *registry) reserve(bytes int64, keep *session) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errFull
	}
	return g.reserveLocked(bytes, bytes, keep)
}

// reserveLocked adds delta bytes to the budget in use, first evicting,
// oldest first, labs and forks without a page (never keep) while the
// budget has no room; need is what the refusal says the trainer needs.
// g.mu is held.
func (g *registry) reserveLocked(delta, need int64, keep *session) error {
	if delta > g.maxMem {
		return memRefusal{need, g.maxMem - g.memUsed, g.maxMem}
	}
	for delta > 0 && g.memUsed+delta > g.maxMem {
		old := g.oldestDetached(func(sess *session) bool { return sess != keep })
		if old == nil {
			return memRefusal{need, g.maxMem - g.memUsed, g.maxMem}
		}
		g.endLocked(old, evictMemory)
	}
	g.memUsed += delta
	g.memInUse.Set(float64(g.memUsed))
	return nil
}

// unreserve gives back bytes reserved for a trainer not built.
func (g *registry) unreserve(bytes int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.memUsed -= bytes
	g.memInUse.Set(float64(g.memUsed))
}

// setMem makes bytes (already reserved) the memory of sess and gives back
// what it held before: its trainer replaced by a new one.
func (g *registry) setMem(sess *session, bytes int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byToken[sess.token] != sess { // ended meanwhile: endLocked gave back its old memory
		g.memUsed -= bytes
	} else {
		g.memUsed -= sess.mem
		sess.mem = bytes
	}
	g.memInUse.Set(float64(g.memUsed))
}

// resize changes the memory of sess to bytes (a batch size or optimizer
// change of its trainer): growing evicts as reserve does, and fails with
// a memRefusal, changing nothing, if there is no room; shrinking always
// succeeds.
func (g *registry) resize(sess *session, bytes int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byToken[sess.token] != sess {
		return nil // ended: it holds nothing
	}
	if err := g.reserveLocked(bytes-sess.mem, bytes, sess); err != nil {
		return err
	}
	sess.mem = bytes
	return nil
}

// memoryOf returns the estimate of what the trainer holds with hyper h.
func memoryOf(t *engine.Trainer, h engine.Hyper) (int64, error) {
	cfg := t.Config()
	cfg.Hyper = h
	return trainerBytes(cfg, t.Data())
}

// DefaultMaxMemory is the default memory budget of all sessions together:
// half the memory of this machine or of the container's limit (cgroup),
// whichever is less, so that the rest of the server, the Go runtime's
// garbage between collections and the operating system fit beside it; 1
// GiB if neither can be read.
func DefaultMaxMemory() int64 {
	total := memTotal()
	if total <= 0 {
		return 1 << 30
	}
	return total / 2
}

// memTotal is the memory this process may use: the least of the
// machine's (MemTotal in /proc/meminfo) and the cgroup's limit (v2, else
// v1); 0 if none can be read.
func memTotal() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					total = kb << 10
				}
			}
		}
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if lim, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && lim > 0 && (total == 0 || lim < total) {
			total = lim // "max" (no limit) does not parse
		}
		break
	}
	return total
}
