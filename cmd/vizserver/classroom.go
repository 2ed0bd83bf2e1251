package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/backpropviz/backpropviz/lesson"
	"github.com/backpropviz/backpropviz/server"
)

// classroomFlags binds the flags of rooms and classroom limits into cfg.
// The returned function finishes them once the flags are parsed (the lists
// are parsed then) and returns the name of the room to open at start-up
// ("" for none).
func classroomFlags(fs *flag.FlagSet, cfg *server.Config) func() (room string, err error) {
	c := &cfg.ClassroomConfig
	var proxies, origins, room string
	fs.IntVar(&c.MaxRooms, "max-rooms", 4, "rooms at once (env BPV_MAX_ROOMS)")
	fs.IntVar(&c.MaxViewers, "max-viewers", 250, "students watching one room (env BPV_MAX_VIEWERS)")
	fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", 240, "open websockets of one client address; a class behind one NAT shares one (env BPV_MAX_CONNS_PER_ADDR)")
	fs.Float64Var(&c.ForkRate, "fork-rate", 5, "optimizer steps per second a student's fork may play at (env BPV_FORK_RATE)")
	fs.Float64Var(&c.ForkBudget, "fork-budget", 0, "optimizer steps per second of all forks together; a fork beyond it plays slower and its student is told (0: 100 for each core; env BPV_FORK_BUDGET)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 30*time.Minute, "end a lab or fork whose pages sent no command for this long (env BPV_IDLE_TIMEOUT)")
	fs.Float64Var(&c.JoinRate, "join-rate", 0.2, "wrong join codes per second from one address; over it, 5 times as many look-ups, so a right code typed behind the same NAT still passes (env BPV_JOIN_RATE)")
	fs.IntVar(&c.JoinBurst, "join-burst", 30, "wrong join codes one address may try at once (env BPV_JOIN_BURST)")
	fs.Float64Var(&c.JoinRateTotal, "join-rate-total", 2, "wrong join codes per second from all addresses; when used up it slows only addresses that typed wrong codes (env BPV_JOIN_RATE_TOTAL)")
	fs.IntVar(&c.JoinBurstTotal, "join-burst-total", 100, "wrong join codes all addresses may try at once (env BPV_JOIN_BURST_TOTAL)")
	fs.StringVar(&proxies, "trusted-proxies", "", "reverse proxies whose X-Forwarded-For is believed: CIDR prefixes or addresses, comma-separated (env BPV_TRUSTED_PROXIES)")
	fs.StringVar(&origins, "allowed-origins", "", "origins besides this host that may open websockets, e.g. https://viz.school.example (env BPV_ALLOWED_ORIGINS)")
	fs.StringVar(&c.RoomKey, "room-key", "", "if set, creating a room from the page asks for this key (env BPV_ROOM_KEY)")
	fs.BoolVar(&c.OpenRooms, "open-rooms", false, "let anyone who reaches the server create rooms from the page without a key; without it and without -room-key only a server on a loopback address lets the page create rooms (env BPV_OPEN_ROOMS)")
	fs.IntVar(&c.JoinAddrs, "join-addrs", 16384, "addresses whose join budget is kept; beyond it new addresses share one budget (env BPV_JOIN_ADDRS)")
	fs.IntVar(&c.MaxPromptAnswers, "max-prompt-answers", 20000, "answers to the teacher's prompts one room keeps, every prompt together (env BPV_MAX_PROMPT_ANSWERS)")
	fs.StringVar(&room, "room", "", "open a room with this name at start-up and print its links (env BPV_ROOM)")
	return func() (string, error) {
		var err error
		if c.TrustedProxies, err = server.ParsePrefixes(proxies); err != nil {
			return "", err
		}
		if c.AllowedOrigins, err = server.ParseOrigins(origins); err != nil {
			return "", err
		}
		return room, nil
	}
}

// printReach says who can open the server listening on addr: the links
// of the machine's network addresses, or, on loopback, that only this
// machine can and the command that serves the network.
func printReach(w io.Writer, addr string) {
	links := server.NetworkLinks(addr)
	if len(links) > 0 {
		fmt.Fprintf(w, "other machines of the network open %s\n", strings.Join(links, " or "))
		return
	}
	_, port, _ := net.SplitHostPort(addr)
	fmt.Fprintf(w, "only this machine can open it; to serve a classroom run: %s\n", server.ListenCommand(port, ""))
}

// openRoom opens the start-up room with the default lab settings, or from
// the lesson l or a saved model if not nil, and prints its links: what students
// open (on the machine's network addresses when it listens on every
// interface), and the owner link.
func openRoom(w io.Writer, srv *server.Server, name string, model []byte, l *lesson.Lesson, base, addr string) error {
	var room *server.Room
	var err error
	if l != nil {
		room, err = srv.CreateRoomFromLesson(name, l) // named after the lesson if name is ""
		if name == "" {
			name = l.Title
		}
	} else if model != nil {
		room, err = srv.CreateRoomFromModel(name, model)
	} else {
		room, err = srv.CreateRoom(name, server.DefaultLabParams())
	}
	if err != nil {
		return fmt.Errorf("room %q: %w", name, err)
	}
	students := base
	if links := server.NetworkLinks(addr); len(links) > 0 {
		students = links[0]
	} else {
		_, port, _ := net.SplitHostPort(addr)
		fmt.Fprintf(w, "students cannot reach this room: the server listens on this machine only; run instead: %s\n", room.ListenCommand(port))
	}
	fmt.Fprintf(w, "room %q: students open %s/join and type %s (or open %s/r/%s)\n", room.Name, students, room.Code, students, room.Code)
	fmt.Fprintf(w, "owner link (keep it to yourself): %s/r/%s?owner=%s\n", base, room.Code, room.OwnerToken())
	return nil
}
