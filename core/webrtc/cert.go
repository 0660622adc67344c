package webrtc

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
)

// Certificate is the process's DTLS identity: one self-signed ECDSA P-256 certificate for every
// call, as FreeSWITCH keeps one dtls-srtp.pem, and its SHA-256 fingerprint for a=fingerprint.
type Certificate struct {
	TLS         tls.Certificate
	Fingerprint string // "sha-256 AB:CD:..."
}

var (
	certOnce sync.Once
	certVal  *Certificate
	certErr  error
)

// ProcessCertificate returns the process certificate, made on first use.
func ProcessCertificate() (*Certificate, error) {
	certOnce.Do(func() { certVal, certErr = NewCertificate() })
	return certVal, certErr
}

// NewCertificate makes a fresh self-signed ECDSA P-256 certificate.
func NewCertificate() (*Certificate, error) {
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, err
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return nil, err
	}
	fp, err := fingerprint.Fingerprint(x, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &Certificate{TLS: c, Fingerprint: "sha-256 " + fp}, nil
}

// ErrFingerprint is the handshake error when the peer's certificate is not the one its SDP named.
var ErrFingerprint = errors.New("webrtc: DTLS certificate does not match a=fingerprint")

// checkFingerprint compares the peer's certificate with the SDP's "alg HEX:HEX..." value.
func checkFingerprint(want string, rawCerts [][]byte) error {
	alg, val, ok := strings.Cut(strings.TrimSpace(want), " ")
	if !ok || len(rawCerts) == 0 {
		return fmt.Errorf("%w: no fingerprint or no certificate", ErrFingerprint)
	}
	h, err := fingerprint.HashFromString(strings.ToLower(alg))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFingerprint, err)
	}
	x, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFingerprint, err)
	}
	got, err := fingerprint.Fingerprint(x, h)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFingerprint, err)
	}
	if !strings.EqualFold(got, strings.TrimSpace(val)) {
		return ErrFingerprint
	}
	return nil
}
