package server

import (
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/backpropviz/backpropviz/web"
)

// How students reach a room. A teacher often opens the owner link on the
// machine that runs the server (http://127.0.0.1:8080/…), an address no
// student's laptop can use: the room bar then shows the machine's own
// network addresses instead, or, when the server listens on this machine
// only, says so and gives the command that serves the network.

// listenScope is which addresses a listen address accepts connections on.
type listenScope int

const (
	scopeAll      listenScope = iota // "", 0.0.0.0, [::]: every interface
	scopeLoopback                    // 127.0.0.1, [::1], localhost: this machine only
	scopeOne                         // one address of the network
)

// scopeOf returns the scope and the port of listen address addr.
func scopeOf(addr string) (listenScope, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scopeOne, ""
	}
	if host == "" {
		return scopeAll, port
	}
	if strings.EqualFold(host, "localhost") {
		return scopeLoopback, port
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return scopeOne, port
	case ip.IsUnspecified():
		return scopeAll, port
	case ip.IsLoopback():
		return scopeLoopback, port
	}
	return scopeOne, port
}

// isLoopbackHost reports whether the host of a Host header (host[:port])
// names this machine only.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// portOf is the port of a Host header, "" if it has none.
func portOf(hostport string) string {
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		return p
	}
	return ""
}

// NetworkAddrs returns the machine's addresses other machines can use: the
// addresses of its interfaces that are up, not loopback and not
// link-local, IPv4 first.
func NetworkAddrs() []netip.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
				continue
			}
			out = append(out, ip)
		}
	}
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case !a.Is4() && b.Is4():
			return 1
		}
		return 0
	})
	return slices.Compact(out)
}

// NetworkLinks returns the base URLs (http://address:port) on which a
// server listening on addr can be reached from other machines: one per
// address of NetworkAddrs when it listens on every interface, its own
// address when it listens on one, none when it listens on loopback only.
func NetworkLinks(addr string) []string {
	scope, port := scopeOf(addr)
	switch scope {
	case scopeLoopback:
		return nil
	case scopeOne:
		return []string{"http://" + addr}
	}
	var out []string
	for _, ip := range NetworkAddrs() {
		host := ip.String()
		switch {
		case port != "" && port != "80":
			host = net.JoinHostPort(host, port)
		case ip.Is6():
			host = "[" + host + "]"
		}
		out = append(out, "http://"+host)
	}
	return out
}

// portOfAddr is the port of a listen address ("" if it has none).
func portOfAddr(addr string) string {
	_, port := scopeOf(addr)
	return port
}

// ListenCommand is the command that starts the server listening on every
// interface at port (8080 if ""), opening a room named name ("" for
// none), with the flags args that open it as it was opened (e.g. "-lesson",
// the lesson's name), each value quoted for the shell if it needs it.
func ListenCommand(port, name string, args ...string) string {
	if port == "" || port == "0" {
		port = "8080"
	}
	cmd := "go run ./cmd/vizserver -addr 0.0.0.0:" + port
	if name != "" {
		cmd += " -room " + shellQuote(name)
	}
	for _, a := range args {
		if !shellSafe.MatchString(a) {
			a = shellQuote(a)
		}
		cmd += " " + a
	}
	return cmd
}

// shellSafe matches the words a POSIX shell reads as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+-]+$`)

// ListenCommand is the command that serves room r's network on every
// interface at port: r opened again as it was (see roomFlags).
func (r *Room) ListenCommand(port string) string {
	return ListenCommand(port, r.Name, roomFlags(r)...)
}

// roomFlags are the flags that open room r again as it was opened: its
// lesson's (an embedded lesson's name, or the lesson file's as the server
// read it); none for a room of the default lab, a saved model or an
// uploaded lesson, which the create-room form opens again.
func roomFlags(r *Room) []string {
	switch l := r.Lesson(); {
	case l == nil:
		return nil
	case l.Path != "":
		return []string{"-lesson", l.Path}
	case l.Name != "":
		return []string{"-lesson", l.Name}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// reachOf says how students reach room, for the owner's page
// requested with r: the base URLs students can open, best first, or that
// none can (Unreachable) and the command that serves the network (Command;
// "" when the server listens everywhere but the machine has no network
// address). A browser on another machine reached the server at an
// address students can use too (a network address, or a reverse proxy's
// name); a browser on this machine did not, and the server's own network
// addresses are shown instead.
func (s *Server) reachOf(r *http.Request, room *Room) web.Reach {
	if !isLoopbackHost(r.Host) {
		return web.Reach{Links: []string{s.baseURL(r)}}
	}
	scope, port := scopeOf(s.cfg.Addr)
	if p := portOf(r.Host); p != "" {
		port = p // the port the browser used: the server's own (the listen address may say :0)
	}
	switch scope {
	case scopeLoopback:
		return web.Reach{Unreachable: true, Command: room.ListenCommand(port)}
	case scopeOne:
		return web.Reach{Links: []string{"http://" + s.cfg.Addr}}
	}
	host := "0.0.0.0:" + port
	if port == "" {
		host = "0.0.0.0:80"
	}
	links := NetworkLinks(host)
	if len(links) == 0 {
		return web.Reach{Unreachable: true} // no network: no command helps
	}
	return web.Reach{Links: links}
}
