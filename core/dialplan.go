package core

import "context"

// Action is one application the dialplan collected.
type Action struct {
	App       string
	Data      string
	Anti      bool   // came from an anti-action
	Inline    bool   // ran during the hunt
	Extension string // the extension it belongs to
}

// Route is the result of a dialplan hunt: the actions of every matching extension in order.
type Route struct {
	Context    string
	Extensions []string
	Actions    []Action
}

// Dialplan finds a route for a channel (CS_ROUTING).
type Dialplan interface {
	// Hunt returns the actions of every matching extension (continue="true" chains them), or
	// ErrNoRoute. Inline actions run during the hunt.
	Hunt(ctx context.Context, s *Session, dest, context string) (*Route, error)
}
