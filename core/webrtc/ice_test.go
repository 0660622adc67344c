package webrtc

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

// attr is a raw ICE attribute (pion/stun leaves ICE's to pion/ice).
type attr struct {
	t stun.AttrType
	v []byte
}

func (a attr) AddTo(m *stun.Message) error { m.Add(a.t, a.v); return nil }

func checkReq(t *testing.T, user, pwd string, extra ...stun.Setter) []byte {
	t.Helper()
	s := append([]stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user)}, extra...)
	s = append(s, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	m, err := stun.Build(s...)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// The lite agent's answers: success with XOR-MAPPED-ADDRESS and our integrity, nomination on
// USE-CANDIDATE, 487 to a peer that also claims the controlled role, silence for bad credentials.
func TestICELiteChecks(t *testing.T) {
	l := newICELite()
	from := netip.MustParseAddrPort("192.0.2.7:5004")
	user := l.ufrag + ":peer"
	tie := attr{stun.AttrICEControlling, make([]byte, 8)}

	resp, res := l.handle(checkReq(t, user, l.pwd, tie), from, "peer")
	if res != checkAnswered {
		t.Fatalf("valid check: %v", res)
	}
	m := &stun.Message{Raw: resp}
	if err := m.Decode(); err != nil || m.Type != stun.BindingSuccess {
		t.Fatalf("response %v %v", m.Type, err)
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(m); err != nil || xor.Port != 5004 || xor.IP.String() != "192.0.2.7" {
		t.Fatalf("XOR-MAPPED-ADDRESS %v %v", xor, err)
	}
	if err := stun.NewShortTermIntegrity(l.pwd).Check(m); err != nil {
		t.Fatalf("response integrity: %v", err)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		t.Fatalf("response fingerprint: %v", err)
	}

	if _, res := l.handle(checkReq(t, user, l.pwd, tie, attr{stun.AttrUseCandidate, nil}), from, "peer"); res != checkNominated {
		t.Fatalf("USE-CANDIDATE: %v", res)
	}

	controlled := attr{stun.AttrICEControlled, make([]byte, 8)}
	resp, res = l.handle(checkReq(t, user, l.pwd, controlled), from, "peer")
	m = &stun.Message{Raw: resp}
	var code stun.ErrorCodeAttribute
	if res != checkConflict || m.Decode() != nil || m.Type != stun.BindingError || code.GetFrom(m) != nil || code.Code != stun.CodeRoleConflict {
		t.Fatalf("role conflict: %v %v %v", res, m.Type, code)
	}

	for name, pkt := range map[string][]byte{
		"wrong password":  checkReq(t, user, "not-the-password", tie),
		"wrong ufrag":     checkReq(t, "other:peer", l.pwd, tie),
		"wrong peer":      checkReq(t, l.ufrag+":someone", l.pwd, tie),
		"not STUN":        {0, 1, 2, 3},
		"truncated check": checkReq(t, user, l.pwd, tie)[:30],
	} {
		if resp, res := l.handle(pkt, from, "peer"); res != checkIgnored || resp != nil {
			t.Errorf("%s: answered (%v)", name, res)
		}
	}
}
