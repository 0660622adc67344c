package core

import (
	"sync"
	"sync/atomic"
)

// varHeaders caches "variable_"+name for event headers. Channels set the same few hundred
// variable names over and over, so each header name is built once per process, not once per
// channel; names past the cap (user-chosen sip_h_* and set variables) are built per use.
var (
	varHeaders   sync.Map // name -> "variable_"+name
	varHeadersN  atomic.Int32
	varHeaderCap int32 = 4096
)

func varHeader(name string) string {
	if h, ok := varHeaders.Load(name); ok {
		return h.(string)
	}
	h := "variable_" + name
	if varHeadersN.Load() < varHeaderCap {
		if _, loaded := varHeaders.LoadOrStore(name, h); !loaded {
			varHeadersN.Add(1)
		}
	}
	return h
}
