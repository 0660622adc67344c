package core

// BridgeWatcher is implemented by legs that act when their channel joins a bridge: the loopback
// endpoint removes its channel pair from the media path once both halves are bridged
// (mod_loopback's loopback_bowout). Bridged runs on the goroutine of the bridge's A-leg once the
// bridge's media is up; it must not block.
type BridgeWatcher interface {
	Bridged(peer *Session)
}

// ExecuteWatcher is implemented by legs that act when their channel starts a route (CS_EXECUTE),
// before its first application, on the channel's goroutine: a loopback half hands its extension
// to the real channel on the other side (loopback_bowout_on_execute). A watcher that hangs the
// channel up stops the route before it runs.
type ExecuteWatcher interface {
	Executing(route *Route)
}

// notifyBridged tells the legs of a new bridge's two channels that they are bridged.
func notifyBridged(a, b *Session) {
	if w, ok := a.Leg().(BridgeWatcher); ok {
		w.Bridged(b)
	}
	if w, ok := b.Leg().(BridgeWatcher); ok {
		w.Bridged(a)
	}
}

// notifyExecuting tells the channel's leg that it starts route.
func (s *Session) notifyExecuting(route *Route) {
	if w, ok := s.Leg().(ExecuteWatcher); ok {
		w.Executing(route)
	}
}

// Untake clears Take's mark on a channel that goes on with applications of its own instead of a
// bridge (a loopback bowout on execute hands it the loopback half's extension): its next bridge
// failure is handled as usual (continue_on_fail) rather than left to a new owner.
func (s *Session) Untake() { s.SetPrivate(takenKey, nil) }
