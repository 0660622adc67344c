package webrtc

import (
	"crypto/rand"
	"net/netip"
	"strings"

	"github.com/pion/stun/v4"
)

// iceChars is the ice-char set of RFC 8839 (ALPHA / DIGIT / "+" / "/").
const iceChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"

func randICE(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = iceChars[int(b[i])%len(iceChars)]
	}
	return string(b)
}

// checkResult is what one STUN datagram meant for the agent.
type checkResult int

const (
	checkIgnored   checkResult = iota // not a valid binding request for us: dropped
	checkAnswered                     // answered; the pair is valid
	checkNominated                    // answered, with USE-CANDIDATE: the pair is selected
	checkConflict                     // answered 487: the peer must take the controlling role
)

// iceLite answers connectivity checks as a lite, always-controlled agent (RFC 8445 §2.5, §7.3):
// requests must carry USERNAME "ourUfrag:theirUfrag", MESSAGE-INTEGRITY with our ice-pwd and a
// FINGERPRINT; the success response has XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT.
type iceLite struct {
	ufrag, pwd string
	integrity  stun.MessageIntegrity
}

func newICELite() *iceLite {
	l := &iceLite{ufrag: randICE(8), pwd: randICE(24)}
	l.integrity = stun.NewShortTermIntegrity(l.pwd)
	return l
}

// handle checks one STUN datagram and returns the response to send (nil: none).
func (l *iceLite) handle(pkt []byte, from netip.AddrPort, remoteUfrag string) ([]byte, checkResult) {
	m := &stun.Message{Raw: append([]byte(nil), pkt...)}
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest {
		return nil, checkIgnored
	}
	var user stun.Username
	if err := user.GetFrom(m); err != nil {
		return nil, checkIgnored
	}
	ours, theirs, _ := strings.Cut(string(user), ":")
	if ours != l.ufrag || (remoteUfrag != "" && theirs != remoteUfrag) {
		return nil, checkIgnored
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		return nil, checkIgnored
	}
	if err := l.integrity.Check(m); err != nil {
		return nil, checkIgnored
	}
	if m.Contains(stun.AttrICEControlled) {
		// Both sides think they are controlled. A lite agent never takes control (§6.1.1), so it
		// answers 487 whatever the tie-breakers say: the full agent switches and checks again.
		resp, err := stun.Build(m, stun.BindingError, stun.CodeRoleConflict, l.integrity, stun.Fingerprint)
		if err != nil {
			return nil, checkIgnored
		}
		return resp.Raw, checkConflict
	}
	xor := &stun.XORMappedAddress{IP: from.Addr().Unmap().AsSlice(), Port: int(from.Port())}
	resp, err := stun.Build(m, stun.BindingSuccess, xor, l.integrity, stun.Fingerprint)
	if err != nil {
		return nil, checkIgnored
	}
	if m.Contains(stun.AttrUseCandidate) {
		return resp.Raw, checkNominated
	}
	return resp.Raw, checkAnswered
}
