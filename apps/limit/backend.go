package limit

import (
	"strconv"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
)

// Backend is a limit subsystem besides the built-in hash one (FreeSWITCH's
// switch_limit_interface): mod_db's "db" keeps the counts in the core database, so on
// PostgreSQL every node of a cluster counts against the same limit.
type Backend interface {
	// Incr counts s against realm/resource (max < 0: unlimited); ok false refuses it, first
	// says this is s's first count on this backend (its hangup must release them).
	Incr(s *core.Session, realm, resource string, max int, interval time.Duration) (ok, first bool)
	// Release drops uuid's count on realm/resource, or on every key when realm is "".
	Release(uuid, realm, resource string)
	// Usage is the current count of realm/resource.
	Usage(realm, resource string) int
}

var backends sync.Map // name -> func(*core.Host) Backend

// RegisterBackend makes name usable as limit's first argument; of returns h's instance, nil
// when the module is not loaded.
func RegisterBackend(name string, of func(*core.Host) Backend) { backends.Store(name, of) }

// backendFor is h's backend called name, nil when there is none.
func backendFor(h *core.Host, name string) Backend {
	if name == "hash" {
		if st := storeFor(h); st != nil {
			return hashBackend{st}
		}
		return nil
	}
	if of, ok := backends.Load(name); ok {
		return of.(func(*core.Host) Backend)(h)
	}
	return nil
}

type hashBackend struct{ st *store }

func (b hashBackend) Incr(s *core.Session, realm, resource string, max int, interval time.Duration) (bool, bool) {
	return b.st.incr(s, realm, resource, max, interval)
}

func (b hashBackend) Release(uuid, realm, resource string) { b.st.release(uuid, realm, resource) }

func (b hashBackend) Usage(realm, resource string) int {
	n, _ := b.st.usage(realm, resource)
	return n
}

// SetUsage sets the limit_usage variables a backend reports, as FreeSWITCH's do.
func SetUsage(s *core.Session, realm, resource string, n int) {
	v := strconv.Itoa(n)
	s.SetVar("limit_usage", v)
	s.SetVar("limit_usage_"+hashKey(realm, resource), v)
}
