package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// group sums up one kind of client over the measured window.
type group struct {
	clients    int
	fps        []float64 // frames per second, per client
	stepsPerS  []float64 // optimizer steps per second seen in the frames, per client
	bytesPerS  []float64 // wire bytes per second, per client
	latency    []float64 // ms, per frame, all clients
	fromServer bool      // latency measured from the server's publish time
	errors     []string
}

type report struct {
	code                  string
	elapsed               time.Duration
	owner, viewers, forks group
	replicas              []replica     // the servers, the room's first
	natsCPU               float64       // the NATS server's CPU, cores
	prompt                *promptReport // -prompt (prompt.go)
	selfCPU               float64       // this process's CPU, cores
	dashboard             int           // students on the owner's dashboard
	backReached           int           // forks' pages told to go back to the room
	backLast              time.Duration
	backAcked             time.Duration // the owner's acknowledgement of it (0: none)
}

// replica is one server of the load: its viewers (with several) and its
// CPU and memory (if its pid is known).
type replica struct {
	base         string
	pid          int
	viewers      group
	cpu          float64 // cores
	peakRSS, rss int64
}

func summarize(cs []*client, ref *client, clk *clock, elapsed time.Duration) group {
	g := group{clients: len(cs), fromServer: true}
	secs := elapsed.Seconds()
	for _, c := range cs {
		c.mu.Lock()
		frames := slices.Clone(c.frames)
		g.bytesPerS = append(g.bytesPerS, float64(c.wire1-c.wire0)/secs)
		g.errors = append(g.errors, c.errors...)
		c.mu.Unlock()
		g.fps = append(g.fps, float64(len(frames))/secs)
		if len(frames) > 1 {
			g.stepsPerS = append(g.stepsPerS, float64(frames[len(frames)-1].step-frames[0].step)/secs)
		} else {
			g.stepsPerS = append(g.stepsPerS, 0)
		}
		for _, f := range frames {
			switch {
			case f.published > 0:
				g.latency = append(g.latency, float64(f.at.Sub(time.UnixMilli(f.published)))/1e6)
			case c.clk != nil:
				g.fromServer = false
				if t0, ok := clk.firstAt(f.seq); ok {
					g.latency = append(g.latency, float64(f.at.Sub(t0))/1e6)
				}
			}
		}
	}
	return g
}

// quantile returns the q-quantile of xs (nearest rank); NaN if empty.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, i))]
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func (g *group) print(w io.Writer, name string) {
	if g.clients == 0 {
		return
	}
	fmt.Fprintf(w, "%-8s %4d  frames/s min %.1f  p50 %.1f  mean %.1f   steps/s p50 %.1f   wire kB/s mean %.1f  max %.1f (%.2f Mbit/s mean)\n",
		name, g.clients, slices.Min(g.fps), quantile(g.fps, 0.5), mean(g.fps), quantile(g.stepsPerS, 0.5),
		mean(g.bytesPerS)/1e3, slices.Max(g.bytesPerS)/1e3, mean(g.bytesPerS)*8/1e6)
	if len(g.latency) > 0 {
		src := "from the server's publish time"
		if !g.fromServer {
			src = "from the first client to receive the frame"
		}
		fmt.Fprintf(w, "%-8s       latency p50 %.1f ms  p99 %.1f ms  max %.1f ms (%d frames, %s)\n",
			"", quantile(g.latency, 0.5), quantile(g.latency, 0.99), slices.Max(g.latency), len(g.latency), src)
	}
	if n := len(g.errors); n > 0 {
		fmt.Fprintf(w, "%-8s       %d error messages, e.g. %q\n", "", n, g.errors[0])
	}
}

func (r *report) print(w io.Writer, o options) {
	fmt.Fprintf(w, "vizload: room %s (%s, %g steps/s), %d viewers (layers %s), %d forks (%g steps/s), compression %v, %.1f s measured\n",
		r.code, o.data, o.roomRate, o.viewers, o.layers, o.forks, o.forkRate, o.compress, r.elapsed.Seconds())
	r.owner.print(w, "owner")
	r.viewers.print(w, "viewers")
	r.forks.print(w, "forks")
	for i, rp := range r.replicas {
		name := "server"
		if len(r.replicas) > 1 {
			name = fmt.Sprintf("replica %d", i+1)
			where := "the room's home"
			if i > 0 {
				where = "through NATS"
			}
			fmt.Fprintf(w, "%s %s (%s)\n", name, rp.base, where)
			rp.viewers.print(w, "  viewers")
		}
		if rp.pid > 0 {
			fmt.Fprintf(w, "%-8s pid %d  CPU %.2f cores  peak RSS %.0f MB  RSS now %.0f MB\n",
				name, rp.pid, rp.cpu, float64(rp.peakRSS)/(1<<20), float64(rp.rss)/(1<<20))
		}
	}
	if o.natsPid > 0 {
		fmt.Fprintf(w, "nats     pid %d  CPU %.2f cores\n", o.natsPid, r.natsCPU)
	}
	fmt.Fprintf(w, "vizload  CPU %.2f cores (the clients share the machine with the server)\n", r.selfCPU)
	fmt.Fprintf(w, "class    the dashboard lists %d students; bring everyone back reached %d of %d forks' pages, the last %.0f ms after it was sent (acknowledged to the owner after %.0f ms)\n",
		r.dashboard, r.backReached, o.forks, float64(r.backLast)/float64(time.Millisecond), float64(r.backAcked)/float64(time.Millisecond))
	if r.prompt != nil {
		r.prompt.print(w, o.within)
	}
}
