package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// serveTCP runs srv's HTTPServer on a loopback listener wrapped by
// LimitListener, as vizserver does, and returns its address.
func serveTCP(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.ShapesTrain == 0 {
		cfg.ShapesTrain, cfg.ShapesTest = 400, 100
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer()
	go hs.Serve(srv.LimitListener(ln))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, ln.Addr().String()
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c (a read returns EOF or
// a reset) within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

func TestIdleKeepAliveClosed(t *testing.T) {
	srv, addr := serveTCP(t, Config{HTTPConfig: HTTPConfig{HTTPIdleTimeout: 200 * time.Millisecond}})
	c := dialTCP(t, addr)
	br := bufio.NewReader(c)
	for range 2 { // the connection is kept alive between requests
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("GET /healthz: %d, close %v", resp.StatusCode, resp.Close)
		}
	}
	start := time.Now()
	if !closedWithin(c, 5*time.Second) {
		t.Fatalf("idle keep-alive connection still open after 5 s (idle timeout 200 ms)")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
	if got := counterValue(t, srv.httpm.closed.WithLabelValues("idle")); got != 1 {
		t.Errorf("bpv_http_timeouts_total{reason=idle} = %v, want 1", got)
	}
}

func TestTrickledBodyCut(t *testing.T) {
	srv, addr := serveTCP(t, Config{HTTPConfig: HTTPConfig{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond}})
	c := dialTCP(t, addr)
	io.WriteString(c, "POST /rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	done := make(chan struct{})
	go func() { // one byte every 50 ms: 50 s for the whole body
		defer close(done)
		for range 1000 {
			if _, err := io.WriteString(c, "a"); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within 5 s to a trickled body (read timeout 500 ms): %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "too slowly") {
		t.Errorf("trickled body: %d %q, want 408", resp.StatusCode, body)
	}
	if !closedWithin(c, 5*time.Second) {
		t.Errorf("connection still open after the trickled body was cut")
	}
	c.Close()
	<-done
	if got := counterValue(t, srv.httpm.closed.WithLabelValues("body")); got != 1 {
		t.Errorf("bpv_http_timeouts_total{reason=body} = %v, want 1", got)
	}
}

func TestSlowHeadersCut(t *testing.T) {
	srv, addr := serveTCP(t, Config{HTTPConfig: HTTPConfig{ReadHeaderTimeout: 200 * time.Millisecond}})
	c := dialTCP(t, addr)
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHo")
	if !closedWithin(c, 5*time.Second) {
		t.Fatalf("connection with unfinished headers still open after 5 s (header timeout 200 ms)")
	}
	if got := counterValue(t, srv.httpm.closed.WithLabelValues("header")); got != 1 {
		t.Errorf("bpv_http_timeouts_total{reason=header} = %v, want 1", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	srv, addr := serveTCP(t, Config{})
	body := "name=" + strings.Repeat("a", 20<<10)
	resp, err := http.Post("http://"+addr+"/rooms", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "16384 bytes") {
		t.Errorf("POST of %d bytes: %d %q, want 413", len(body), resp.StatusCode, b)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("request_body")); got != 1 {
		t.Errorf("bpv_limit_hits_total{limit=request_body} = %v, want 1", got)
	}
}

func TestHTTPConnsPerAddr(t *testing.T) {
	const max = 3
	srv, addr := serveTCP(t, Config{HTTPConfig: HTTPConfig{MaxHTTPConnsPerAddr: max}})
	var conns []net.Conn
	for range max {
		conns = append(conns, dialTCP(t, addr))
	}
	// A request on each proves the server accepted them all.
	for i, c := range conns {
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v %v", i+1, resp, err)
		}
		resp.Body.Close()
	}
	extra := dialTCP(t, addr)
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil {
		t.Fatalf("connection %d: %v, want a 503", max+1, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "at most 3") {
		t.Errorf("connection %d: %d %q, want 503 naming the cap", max+1, resp.StatusCode, b)
	}
	if got := counterValue(t, srv.metrics.limitHits.WithLabelValues("http_connections_per_address")); got != 1 {
		t.Errorf("bpv_limit_hits_total{limit=http_connections_per_address} = %v, want 1", got)
	}
	// A closed connection gives its slot back.
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot after a connection closed: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebsocketOutlivesReadTimeout: the HTTP read and idle timeouts do not
// cut a websocket (its deadlines are cleared when it is upgraded).
func TestWebsocketOutlivesReadTimeout(t *testing.T) {
	_, addr := serveTCP(t, Config{HTTPConfig: HTTPConfig{ReadHeaderTimeout: 100 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, HTTPIdleTimeout: 200 * time.Millisecond}})
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &wsClient{t: t, conn: conn}
	c.expect("welcome", nil)
	time.Sleep(600 * time.Millisecond)
	if r := c.reply(c.cmd("step_phase", nil)); r.Type != "ack" {
		t.Fatalf("step_phase after 600 ms: %+v", r)
	}
}
