package server

// Drain begins a graceful shutdown: from now on /healthz answers 503 and
// new websockets are refused, while the connections open now go on. A load
// balancer or orchestrator probing /healthz stops sending new pages; call
// Shutdown after a while to close the rest.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.log.Info("draining: /healthz answers 503")
}
