package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ContentSecurityPolicy is sent with every response. Pages load scripts,
// styles, images and fonts from this server only and open websockets to it
// only ('self' covers ws: and wss: of the same host); no inline script or
// style attribute runs (initial data travels in <script
// type="application/json">, which is data, not script); no page may frame
// ours.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the Content-Security-Policy and the headers that go
// with it on every response: no MIME sniffing, no framing, and a Referer
// only to this origin (an owner link carries the room's owner token in its
// query; same-origin rather than no-referrer keeps the Origin of our own
// form posts, which no-referrer turns into "null").
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// ParseOrigins reads a comma- or space-separated list of origins allowed to
// open websockets, as given to -allowed-origins: "https://viz.example.org"
// (scheme, host and port if not the default). The error names the bad
// entry.
func ParseOrigins(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		o, ok := normalizeOrigin(f)
		if !ok {
			return nil, fmt.Errorf("allowed origin %q: want scheme://host[:port], e.g. https://viz.example.org", f)
		}
		out = append(out, o)
	}
	return out, nil
}

// normalizeOrigin lowercases scheme and host and drops a default port.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// OriginChecker returns the websocket upgrade's origin check: a browser's
// request is accepted if its Origin names this very host (the Host header
// the browser sent, scheme ignored) or is one of allowed (normalized by
// ParseOrigins). A request without Origin does not come from a browser page
// and cannot be a cross-site websocket hijacking; it is accepted. "null"
// and malformed origins are refused. (http.CrossOriginProtection, which
// guards the forms, lets every GET pass: an upgrade is a GET.)
func OriginChecker(allowed []string) func(r *http.Request) bool {
	return func(r *http.Request) bool { return originRefused(r, allowed) == "" }
}

// originRefused says why the websocket upgrade r is refused by its origin
// (see OriginChecker), "" if it is not.
func originRefused(r *http.Request, allowed []string) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return "the Origin header is not an origin (malformed, or null)"
	}
	if strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	o, ok := normalizeOrigin(origin)
	if !ok {
		return "the Origin header is not an origin (malformed, or null)"
	}
	for _, a := range allowed {
		if o == a {
			return ""
		}
	}
	return "the origin is neither this host (" + r.Host + ") nor one of -allowed-origins"
}

// checkOrigin is the websocket upgrader's origin check: OriginChecker,
// logging a refused origin with its reason.
func (s *Server) checkOrigin(r *http.Request) bool {
	why := originRefused(r, s.cfg.AllowedOrigins)
	if why != "" {
		s.metrics.limitHits.WithLabelValues("origin").Inc()
		s.log.Warn("origin refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "host", r.Host, "reason", why)
	}
	return why == ""
}

// newFormGuard returns the cross-origin protection of the forms (POST
// /rooms, /r/CODE/fork, /r/CODE/resume): net/http's CrossOriginProtection,
// which trusts Sec-Fetch-Site and else compares Origin with Host, with the
// allowed origins trusted too.
func newFormGuard(allowed []string) *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	for _, o := range allowed {
		cop.AddTrustedOrigin(o) // normalized by ParseOrigins: valid
	}
	return cop
}
