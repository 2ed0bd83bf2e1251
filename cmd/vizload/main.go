// Command vizload measures a backpropviz server under a classroom's load,
// over real websockets: one room played by its owner and watched by N
// viewers, and K students' forks of it, each playing on its own.
//
// It reports, per viewer, trace frames received per second, the latency
// from the step's frame being published to its delivery (p50, p99), and
// bytes per second on the wire; per fork, frames and steps per second; and
// the server's CPU use and peak memory, read from /proc of its process.
//
// By default it starts the server itself, as a child process on a free
// loopback port (so the server's CPU and memory are its own):
//
//	vizload -viewers 200 -forks 30 -duration 20s
//
// or it loads a server already running (whose pid it may be given):
//
//	vizload -url http://127.0.0.1:8080 -pid 12345
//
// or several replicas of one cluster (see docs/hosting.md), started as
// children connected to a NATS server, or already running: the room is
// created on the first, its viewers and forks are spread over all, and the
// report gives each replica's viewers and CPU, so the latency a NATS hop
// adds is the difference between the first replica's viewers and the
// others':
//
//	vizload -replicas 2 -nats nats://127.0.0.1:4222 -viewers 400
//	vizload -addrs http://10.0.0.1:8080,http://10.0.0.2:8080 -pids 123,456
//
// With -prompt it then measures predict, then reveal: the owner asks a
// prompt, every viewer answers within -prompt-within (2 s), and the report
// gives whether each answer was counted once, the time to the owner's full
// tally, the server's CPU meanwhile and the time for the reveal to reach
// every student (prompt.go):
//
//	vizload -viewers 200 -forks 0 -duration 3s -view default -prompt
//
// Latency needs the server's publish time in the frame header
// (published_unix_ms, same clock: loopback); without it, latency is measured
// from the first client that received the same frame.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
	"github.com/backpropviz/backpropviz/server"
)

// defaultViewLayers is the "layers" of the subscription a student's page
// sends at its default view: a room of the default network on MNIST, as a
// viewer, not scrolled, on a 1366×768 screen. It is what the page itself
// computes from the maps on screen: loaded in headless Chromium,
//
//	chromium --headless --window-size=1366,768 --virtual-time-budget=5000 --dump-dom http://HOST/r/CODE
//
// prints the page with the subscription it sent in <body data-subscription=…>.
// Keep it in step with the page's layout (e2e.TestSubscriptionFollowsScreen
// checks the page against it).
const defaultViewLayers = `[{"layer":-1,"kinds":["input"]},` +
	`{"layer":0,"kinds":["act","grad"],"channels":[0,2]},` +
	`{"layer":1,"kinds":["act","grad"],"channels":[0,4]},` +
	`{"layer":2,"kinds":["act","grad"],"channels":[0,4]},` +
	`{"layer":3,"kinds":["act","grad"],"channels":[0,8]},` +
	`{"layer":4,"kinds":["act","grad"],"channels":[0,8]},` +
	`{"layer":5,"kinds":["act","grad"],"channels":[0,8]}]`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vizload:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	url       string
	pid       int
	viewers   int
	forks     int
	duration  time.Duration
	warmup    time.Duration
	roomRate  float64
	forkRate  float64
	data      string
	spec      string
	layers    string
	kinds     string
	view      string
	compress  bool
	addrs     string // several replicas' base URLs
	pids      string // their pids
	replicas  int    // children to start
	nats      string // the NATS server of the children
	natsPid   int
	serveAddr string        // child mode: run the server on this address
	serveNATS string        // child mode: … connected to this NATS server
	serveID   string        // child mode: … as this replica
	prompt    bool          // measure a prompt answered by every viewer (prompt.go)
	within    time.Duration // … within this time
}

// target is one server (or replica) under load.
type target struct {
	base string // http://host:port
	pid  int    // 0: not measured
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("vizload", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "", "base URL of a running server; empty starts one as a child process on loopback")
	fs.IntVar(&o.pid, "pid", 0, "pid of the server given by -url, for its CPU and memory (0: not measured)")
	fs.IntVar(&o.viewers, "viewers", 200, "viewers of the room")
	fs.IntVar(&o.forks, "forks", 30, "forks of the room, each playing")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "time after everyone connected before measuring")
	fs.Float64Var(&o.roomRate, "room-rate", 10, "optimizer steps per second the room plays at")
	fs.Float64Var(&o.forkRate, "fork-rate", 5, "optimizer steps per second each fork plays at (0: as fast as the server allows)")
	fs.StringVar(&o.data, "data", "mnist", "data set of the room: mnist or shapes")
	fs.StringVar(&o.spec, "spec", "", "network spec of the room (empty: the server's default)")
	fs.StringVar(&o.layers, "layers", "all", `layers a viewer subscribes to: "all" or a list like -1,0,1,2`)
	fs.StringVar(&o.kinds, "kinds", "input,act,grad,weights,bias,wgrad,bgrad,update,bupdate,switch", "tensor kinds a viewer subscribes to")
	fs.StringVar(&o.view, "view", "", `"default": viewers subscribe like a student's page at its default view on a 1366×768 screen (overrides -layers and -kinds); empty: -layers and -kinds`)
	fs.BoolVar(&o.compress, "compress", false, "offer permessage-deflate (used if the server accepts it)")
	fs.StringVar(&o.addrs, "addrs", "", "base URLs of several replicas of one cluster, comma-separated: the room is created on the first; viewers and forks are spread over all")
	fs.StringVar(&o.pids, "pids", "", "pids of the -addrs replicas, comma-separated, for their CPU and memory")
	fs.IntVar(&o.replicas, "replicas", 1, "replicas to start as child processes when neither -url nor -addrs is given (more than 1 needs -nats)")
	fs.StringVar(&o.nats, "nats", "", "NATS server the replicas started with -replicas share, e.g. nats://127.0.0.1:4222")
	fs.IntVar(&o.natsPid, "nats-pid", 0, "pid of the NATS server, for its CPU (0: not measured)")
	fs.BoolVar(&o.prompt, "prompt", false, "after the measured time, the owner asks a prompt that every viewer answers (a third change their answer once), and reveals it: answers counted, tally time, server CPU")
	fs.DurationVar(&o.within, "prompt-within", 2*time.Second, "with -prompt: the viewers answer at random moments within this time")
	fs.StringVar(&o.serveAddr, "serve", "", "run only the server on this address (used by vizload itself)")
	fs.StringVar(&o.serveNATS, "serve-nats", "", "with -serve: the NATS server of the cluster (used by vizload itself)")
	fs.StringVar(&o.serveID, "serve-replica", "", "with -serve: the replica id (used by vizload itself)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.view == "default" {
		o.layers = "default view (1366×768)"
	}
	if o.serveAddr != "" {
		return serve(o.serveAddr, o.serveNATS, o.serveID)
	}
	targets, err := targetsOf(o)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		if o.replicas > 1 && o.nats == "" {
			return errors.New("-replicas needs -nats (a NATS server with JetStream; see docs/hosting.md)")
		}
		for i := range max(1, o.replicas) {
			id := ""
			if o.replicas > 1 {
				id = fmt.Sprintf("load%d", i+1)
			}
			child, base, err := startChild(o.nats, id)
			if err != nil {
				return err
			}
			defer func() {
				child.Process.Signal(syscall.SIGTERM)
				child.Wait()
			}()
			targets = append(targets, target{base, child.Process.Pid})
		}
	}
	o.url, o.pid = targets[0].base, targets[0].pid
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := load(ctx, o, targets)
	if err != nil {
		return err
	}
	rep.print(os.Stdout, o)
	return nil
}

// targetsOf are the servers of -url or -addrs (with -pid or -pids), none
// if the tool starts them.
func targetsOf(o options) ([]target, error) {
	if o.addrs == "" {
		if o.url == "" {
			return nil, nil
		}
		return []target{{o.url, o.pid}}, nil
	}
	var ts []target
	pids := strings.Split(o.pids, ",")
	for i, a := range strings.Split(o.addrs, ",") {
		t := target{base: strings.TrimRight(strings.TrimSpace(a), "/")}
		if o.pids != "" {
			if len(pids) != len(strings.Split(o.addrs, ",")) {
				return nil, fmt.Errorf("-pids %q: want one pid for each of -addrs", o.pids)
			}
			if _, err := fmt.Sscan(pids[i], &t.pid); err != nil {
				return nil, fmt.Errorf("-pids %q: %v", o.pids, err)
			}
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// serve runs the server with limits raised above the load, until SIGTERM;
// with natsURL, as replica id of the cluster of that NATS server.
func serve(addr, natsURL, id string) error {
	cfg := server.Config{
		Addr: addr, MaxSessions: 256, MaxSessionsPerAddr: 256, MaxConns: 4096,
		ClassroomConfig: server.ClassroomConfig{MaxConnsPerAddr: 4096, MaxViewers: 4096, MaxRooms: 16},
		Cluster:         cluster.Config{URL: natsURL, ReplicaID: id},
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler()}
	fmt.Printf("http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go hs.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(sctx), hs.Shutdown(sctx))
}

// startChild runs this binary with -serve on a free loopback port (with
// natsURL, as replica id of that cluster) and returns the process and its
// base URL.
func startChild(natsURL, id string) (*exec.Cmd, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(exe, "-serve", "127.0.0.1:0", "-serve-nats", natsURL, "-serve-replica", id)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("server child: %w", err)
	}
	return cmd, strings.TrimSpace(line), nil
}

// createRoom creates a room with POST /rooms and returns its code and owner
// token (from the owner link it redirects to).
func createRoom(base string) (code, token string, err error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(base+"/rooms", url.Values{"name": {"load test"}})
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.Path, "/r/") {
		return "", "", fmt.Errorf("create room: status %s, location %q", resp.Status, resp.Header.Get("Location"))
	}
	return strings.TrimPrefix(loc.Path, "/r/"), loc.Query().Get("owner"), nil
}

func load(ctx context.Context, o options, targets []target) (*report, error) {
	code, token, err := createRoom(o.url)
	if err != nil {
		return nil, err
	}
	wsBase := "ws" + strings.TrimPrefix(o.url, "http")
	// The i-th viewer or fork connects to targets[i % len(targets)].
	wsOf := func(i int) string { return "ws" + strings.TrimPrefix(targets[i%len(targets)].base, "http") }
	clk := &clock{}
	dialer := &websocket.Dialer{EnableCompression: o.compress, HandshakeTimeout: 30 * time.Second,
		NetDialContext: countingDial, ReadBufferSize: 64 << 10}

	owner, err := dialClient(dialer, wsBase+"/ws/room/"+code+"?owner="+url.QueryEscape(token), "owner", clk, nil)
	if err != nil {
		return nil, err
	}
	defer owner.close()
	if o.data != protocol.DataMNIST || o.spec != "" {
		owner.cmd("set", map[string]any{"data": o.data, "spec": o.spec})
	}
	owner.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": o.roomRate}})

	sub := map[string]any{"type": protocol.TypeSubscribe, "kinds": strings.Split(o.kinds, ",")}
	switch o.view {
	case "":
	case "default":
		var layers []any
		if err := json.Unmarshal([]byte(defaultViewLayers), &layers); err != nil {
			return nil, fmt.Errorf("default view: %w", err)
		}
		sub = map[string]any{"type": protocol.TypeSubscribe, "sample": 0, "probe": false, "layers": layers}
	default:
		return nil, fmt.Errorf("-view %q: want \"default\" or nothing", o.view)
	}
	if o.view == "" && o.layers != "all" {
		var ls []int
		for _, f := range strings.Split(o.layers, ",") {
			var l int
			if _, err := fmt.Sscan(f, &l); err != nil {
				return nil, fmt.Errorf("-layers %q: %v", o.layers, err)
			}
			ls = append(ls, l)
		}
		sub["layers"] = ls
	}

	var viewers, forks []*client
	viewersOn := make([][]*client, len(targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var dialErr error
	dialAll := func(n int, path, role string, then func(*client), into *[]*client, on [][]*client) {
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				// viewer i and fork i are the same student, with a nickname
				c, err := dialClient(dialer, wsOf(i)+path, fmt.Sprintf("%s %d", role, i), clk, studentHeader(code, i))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					dialErr = errors.Join(dialErr, err)
					return
				}
				*into = append(*into, c)
				if on != nil {
					on[i%len(targets)] = append(on[i%len(targets)], c)
				}
				then(c)
			}()
		}
	}
	dialAll(o.viewers, "/ws/room/"+code, "viewer", func(c *client) { c.send(sub) }, &viewers, viewersOn)
	wg.Wait()
	owner.cmd("play", nil)
	dialAll(o.forks, "/ws/fork/"+code, "fork", func(c *client) {
		c.cmd("set", map[string]any{"speed": map[string]any{"unit": "step", "rate": o.forkRate}})
		c.send(sub)
		c.cmd("play", nil)
	}, &forks, nil)
	wg.Wait()
	defer func() {
		for _, c := range append(viewers, forks...) {
			c.close()
		}
	}()
	if dialErr != nil {
		return nil, dialErr
	}

	sleep(ctx, o.warmup)
	all := append(append([]*client{owner}, viewers...), forks...)
	for _, c := range all {
		c.startWindow()
	}
	cpu0 := make([]time.Duration, len(targets))
	for i, t := range targets {
		cpu0[i], _ = readCPU(t.pid)
	}
	nats0, _ := readCPU(o.natsPid)
	self0, _ := readCPU(os.Getpid())
	t0 := time.Now()
	sleep(ctx, o.duration)
	elapsed := time.Since(t0)
	cpu1 := make([]time.Duration, len(targets))
	for i, t := range targets {
		cpu1[i], _ = readCPU(t.pid)
	}
	nats1, _ := readCPU(o.natsPid)
	self1, _ := readCPU(os.Getpid())
	for _, c := range all {
		c.endWindow()
	}
	rep := &report{elapsed: elapsed, code: code, selfCPU: (self1 - self0).Seconds() / elapsed.Seconds()}
	rep.viewers = summarize(viewers, owner, clk, elapsed)
	rep.forks = summarize(forks, nil, clk, elapsed)
	rep.owner = summarize([]*client{owner}, nil, clk, elapsed)
	for i, t := range targets {
		r := replica{base: t.base, pid: t.pid}
		if len(targets) > 1 {
			r.viewers = summarize(viewersOn[i], owner, clk, elapsed)
		}
		if t.pid > 0 {
			r.cpu = (cpu1[i] - cpu0[i]).Seconds() / elapsed.Seconds()
			r.peakRSS, r.rss, _ = readMem(t.pid)
		}
		rep.replicas = append(rep.replicas, r)
	}
	if o.natsPid > 0 {
		rep.natsCPU = (nats1 - nats0).Seconds() / elapsed.Seconds()
	}
	owner.mu.Lock()
	rep.dashboard = owner.students
	owner.mu.Unlock()
	// Bring everyone back: how long the teacher's action takes to reach
	// every fork's page.
	sent := time.Now()
	id := owner.cmd("class", map[string]any{"action": protocol.ClassBringBack})
	for deadline := sent.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		reached, last := 0, time.Duration(0)
		for _, c := range forks {
			c.mu.Lock()
			if !c.classAt.IsZero() {
				reached++
				last = max(last, c.classAt.Sub(sent))
			}
			c.mu.Unlock()
		}
		rep.backReached, rep.backLast = reached, last
		if reached == len(forks) {
			break
		}
	}
	if at := owner.ackedAt(id); !at.IsZero() {
		rep.backAcked = at.Sub(sent) // the room's session has carried it out
	}
	if o.prompt {
		pr := measurePrompt(ctx, owner, viewers, o.within, o.pid)
		rep.prompt = &pr
	}
	return rep, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
