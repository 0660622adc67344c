package sip

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core/store"
)

// Subscription is one accepted SUBSCRIBE dialog (RFC 6665), FreeSWITCH's sip_subscriptions
// row: who subscribed (User@Host, from the From header), to what (Event for ToUser@ToHost) and
// where NOTIFYs go (Contact, or the source address behind NAT and over TCP/TLS).
type Subscription struct {
	Profile     string
	CallID      string
	LocalTag    string // our To tag, the From tag of our NOTIFYs
	RemoteTag   string // the subscriber's From tag
	Event       string // event package: message-summary, presence, dialog
	EventID     string // the Event header's id parameter, echoed in NOTIFYs
	User, Host  string // subscriber
	ToUser      string // resource (sub_to_user)
	ToHost      string // sub_to_host
	Contact     string // remote target URI
	RecordRoute string // Record-Route of the SUBSCRIBE, our route set (comma separated)
	NetworkIP   string
	NetworkPort int
	Transport   string // UDP, TCP, TLS
	NAT         bool
	UserAgent   string
	Accept      string
	AuthUser    string
	Expires     time.Time
	Created     time.Time

	mu       sync.Mutex
	cseq     uint32
	version  int  // dialog-info version (RFC 4235 4.1: +1 per NOTIFY)
	notified bool // an initial NOTIFY went out
	queue    []notifyJob
	sending  bool
	gone     bool
}

func subKey(callID, localTag string) string { return callID + "|" + localTag }

func (s *Subscription) key() string { return subKey(s.CallID, s.LocalTag) }

// Contact, NetworkIP, NetworkPort and Expires change on a refresh: read and write them under mu.

func (s *Subscription) expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Expires
}

func (s *Subscription) refresh(contact, ip string, port int, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if contact != "" {
		s.Contact = contact
	}
	s.NetworkIP, s.NetworkPort, s.Expires = ip, port, expires
}

var subSchema = []string{
	`CREATE TABLE sip_subscriptions (
		call_id TEXT, local_tag TEXT, remote_tag TEXT, profile_name TEXT, event TEXT, event_id TEXT,
		sip_user TEXT, sip_host TEXT, sub_to_user TEXT, sub_to_host TEXT, contact TEXT, record_route TEXT,
		network_ip TEXT, network_port INTEGER, network_proto TEXT, nat INTEGER, user_agent TEXT,
		accept TEXT, auth_user TEXT, expires INTEGER, cseq INTEGER, version INTEGER,
		PRIMARY KEY (call_id, local_tag))`,
	// The node holding the dialog (switchname): on a shared store a restarting node restores
	// only its own rows, the others' NOTIFYs are their nodes' to send.
	`ALTER TABLE sip_subscriptions ADD COLUMN hostname TEXT`,
}

const subColumns = `call_id, local_tag, remote_tag, profile_name, event, event_id, sip_user, sip_host,
	sub_to_user, sub_to_host, contact, record_route, network_ip, network_port, network_proto, nat, user_agent,
	accept, auth_user, expires, cseq, version, hostname`

// subscriptions is every live subscription of the endpoint, persisted in the store.
type subscriptions struct {
	e    *Endpoint
	db   *store.DB
	node string // this node's name in the hostname column
	mu   sync.RWMutex
	m    map[string]*Subscription // subKey

	wg sync.WaitGroup // NOTIFY senders
}

// newSubscriptions restores node's live subscriptions. On a shared (PostgreSQL) store the rows
// of other nodes stay theirs: restoring them would send every NOTIFY twice. A SQLite file is
// this node's alone: all its rows are restored, whatever name wrote them (a node without
// switchname is named by its core UUID, new at each start; rows from before the column).
func newSubscriptions(e *Endpoint, db *store.DB, node string) (*subscriptions, error) {
	if err := db.Migrate("sip_subscriptions", subSchema...); err != nil {
		return nil, err
	}
	ss := &subscriptions{e: e, db: db, node: node, m: map[string]*Subscription{}}
	mine := `hostname = ?`
	if db.Backend() != store.Postgres {
		mine = `? IS NOT NULL`
	}
	rows, err := db.Query(`SELECT call_id, local_tag, remote_tag, profile_name, event, event_id, sip_user, sip_host,
		sub_to_user, sub_to_host, contact, record_route, network_ip, network_port, network_proto, nat, user_agent,
		accept, auth_user, expires, cseq, version FROM sip_subscriptions WHERE expires > ? AND `+mine, time.Now().Unix(), node)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		s := &Subscription{}
		var exp int64
		var nat int
		if err := rows.Scan(&s.CallID, &s.LocalTag, &s.RemoteTag, &s.Profile, &s.Event, &s.EventID, &s.User, &s.Host,
			&s.ToUser, &s.ToHost, &s.Contact, &s.RecordRoute, &s.NetworkIP, &s.NetworkPort, &s.Transport, &nat,
			&s.UserAgent, &s.Accept, &s.AuthUser, &exp, &s.cseq, &s.version); err != nil {
			return nil, err
		}
		s.Expires, s.NAT, s.notified = time.Unix(exp, 0), nat != 0, true
		s.cseq += 100 // NOTIFYs sent after the last write must not be repeated with the same CSeq
		ss.m[s.key()] = s
	}
	if len(ss.m) > 0 {
		e.log.Info("restored subscriptions", "count", len(ss.m))
	}
	db.Write(`DELETE FROM sip_subscriptions WHERE expires <= ?`, time.Now().Unix())
	return ss, rows.Err()
}

func (ss *subscriptions) get(callID, localTag string) *Subscription {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	return ss.m[subKey(callID, localTag)]
}

func (ss *subscriptions) put(s *Subscription) {
	ss.mu.Lock()
	ss.m[s.key()] = s
	ss.mu.Unlock()
	ss.save(s)
}

func (ss *subscriptions) save(s *Subscription) {
	s.mu.Lock()
	cseq, version := s.cseq, s.version
	contact, ip, port, exp := s.Contact, s.NetworkIP, s.NetworkPort, s.Expires
	s.mu.Unlock()
	nat := 0
	if s.NAT {
		nat = 1
	}
	ss.db.Write(`INSERT OR REPLACE INTO sip_subscriptions (`+subColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		s.CallID, s.LocalTag, s.RemoteTag, s.Profile, s.Event, s.EventID, s.User, s.Host, s.ToUser, s.ToHost,
		contact, s.RecordRoute, ip, port, s.Transport, nat, s.UserAgent, s.Accept, s.AuthUser,
		exp.Unix(), cseq, version, ss.node)
}

func (ss *subscriptions) remove(s *Subscription) {
	ss.mu.Lock()
	delete(ss.m, s.key())
	ss.mu.Unlock()
	ss.db.Write(`DELETE FROM sip_subscriptions WHERE call_id=? AND local_tag=?`, s.CallID, s.LocalTag)
}

// match returns the live subscriptions to event for account (user@host); a host listed in the
// profile's presence-hosts matches any of them, as FreeSWITCH's "presence_hosts like".
func (ss *subscriptions) match(event, user, host string) []*Subscription {
	now := time.Now()
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	var out []*Subscription
	for _, s := range ss.m {
		if s.Event != event || !strings.EqualFold(s.ToUser, user) || !s.expiry().After(now) {
			continue
		}
		if strings.EqualFold(s.ToHost, host) || (ss.e.presenceHost(s.Profile, host) && ss.e.presenceHost(s.Profile, s.ToHost)) {
			out = append(out, s)
		}
	}
	return out
}

// byCallID returns the subscription whose SUBSCRIBE had this Call-ID (FreeSWITCH's
// sub-call-id targeting).
func (ss *subscriptions) byCallID(callID string) []*Subscription {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	var out []*Subscription
	for _, s := range ss.m {
		if s.CallID == callID {
			out = append(out, s)
		}
	}
	return out
}

// Bounds on what one subscriber, and everyone together, can make us keep and notify: a phone
// with a full BLF side car watches a few dozen accounts.
const (
	maxSubscriptionsPerUser = 256
	maxSubscriptions        = 100000
)

// full reports whether user@host may not add another subscription.
func (ss *subscriptions) full(subscriber string) bool {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	if len(ss.m) >= maxSubscriptions {
		return true
	}
	n := 0
	for _, s := range ss.m {
		if s.subscriber() == subscriber {
			n++
		}
	}
	return n >= maxSubscriptionsPerUser
}

// subscriber is who the per-subscriber cap counts: the authenticated user, else the source
// address. Never the From header, which the sender writes as it likes.
func (s *Subscription) subscriber() string {
	if s.AuthUser != "" {
		return "user:" + strings.ToLower(s.AuthUser)
	}
	return "ip:" + s.NetworkIP
}

func (ss *subscriptions) all() []*Subscription {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	out := make([]*Subscription, 0, len(ss.m))
	for _, s := range ss.m {
		out = append(out, s)
	}
	return out
}

// sweep ends expired subscriptions once a second with a final NOTIFY (Subscription-State:
// terminated;reason=timeout, RFC 6665 4.2.2) and sends the fallback initial message-summary
// NOTIFY when no voicemail module answered the MESSAGE_QUERY.
func (ss *subscriptions) sweep(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(lastPrune) > 5*time.Second {
				lastPrune = now
				ss.e.presence.prune(now)
			}
			for _, s := range ss.all() {
				p, ok := ss.e.Profile(s.Profile)
				if !now.Before(s.expiry()) {
					ss.remove(s)
					if ok {
						p.queueNotify(s, notifyJob{terminated: "timeout"})
					}
					continue
				}
				s.mu.Lock()
				pending := !s.notified && len(s.queue) == 0 && !s.sending && now.Sub(s.Created) > time.Second
				s.mu.Unlock()
				if pending && ok && s.Event == "message-summary" {
					p.queueNotify(s, notifyJob{body: noMessagesBody(s), ctype: mwiContentType})
				}
			}
		}
	}
}

// presenceHost reports whether host is one of a profile's presence-hosts.
func (e *Endpoint) presenceHost(profile, host string) bool {
	p, ok := e.Profile(profile)
	if !ok {
		return false
	}
	for _, h := range strings.Split(p.cfg.Params["presence-hosts"], ",") {
		if h = strings.TrimSpace(h); h != "" && strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}
