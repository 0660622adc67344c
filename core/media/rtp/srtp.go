package rtp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTPSuite describes an SDES crypto suite and how it maps onto a pion protection profile.
type SRTPSuite struct {
	Name    string                 // FreeSWITCH's spelling, as offered in a=crypto
	Aliases []string               // other spellings peers use (RFC 6188 names)
	Profile srtp.ProtectionProfile // pion profile
	NoAuth  bool                   // AES_CM_128_NULL_AUTH: AES-CM with a zero-length tag
	KeyLen  int
	SaltLen int
}

// SRTPSuites lists the suites we can key, in FreeSWITCH's offer order (rtp_sdes_suites) with
// the AEAD suites first. FreeSWITCH's AEAD_*_GCM_8 (8-byte tag) and AES_CM_192_* suites are not
// here because pion cannot do them: they are skipped when parsing offers, never mis-keyed.
var SRTPSuites = []SRTPSuite{
	{Name: "AEAD_AES_256_GCM", Profile: srtp.ProtectionProfileAeadAes256Gcm, KeyLen: 32, SaltLen: 12},
	{Name: "AEAD_AES_128_GCM", Profile: srtp.ProtectionProfileAeadAes128Gcm, KeyLen: 16, SaltLen: 12},
	{Name: "AES_CM_256_HMAC_SHA1_80", Aliases: []string{"AES_256_CM_HMAC_SHA1_80"}, Profile: srtp.ProtectionProfileAes256CmHmacSha1_80, KeyLen: 32, SaltLen: 14},
	{Name: "AES_CM_128_HMAC_SHA1_80", Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, KeyLen: 16, SaltLen: 14},
	{Name: "AES_CM_256_HMAC_SHA1_32", Aliases: []string{"AES_256_CM_HMAC_SHA1_32"}, Profile: srtp.ProtectionProfileAes256CmHmacSha1_32, KeyLen: 32, SaltLen: 14},
	{Name: "AES_CM_128_HMAC_SHA1_32", Profile: srtp.ProtectionProfileAes128CmHmacSha1_32, KeyLen: 16, SaltLen: 14},
	{Name: "AES_CM_128_NULL_AUTH", Profile: srtp.ProtectionProfileAes128CmHmacSha1_80, NoAuth: true, KeyLen: 16, SaltLen: 14},
}

// ErrSRTPSuite is returned for a suite we cannot key.
var ErrSRTPSuite = errors.New("media: unsupported SRTP suite")

// LookupSRTPSuite finds a suite by any of its names (case-insensitive).
func LookupSRTPSuite(name string) (SRTPSuite, bool) {
	for _, s := range SRTPSuites {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
		for _, a := range s.Aliases {
			if strings.EqualFold(a, name) {
				return s, true
			}
		}
	}
	return SRTPSuite{}, false
}

// SRTPKey is one direction's keying material from SDES.
type SRTPKey struct {
	Suite SRTPSuite
	Key   []byte // master key, Suite.KeyLen bytes
	Salt  []byte // master salt, Suite.SaltLen bytes
	MKI   []byte // optional master key identifier carried in every packet
}

// NewSRTPKey generates random key material for our side of a suite.
func NewSRTPKey(suite SRTPSuite) (SRTPKey, error) {
	b := make([]byte, suite.KeyLen+suite.SaltLen)
	if _, err := rand.Read(b); err != nil {
		return SRTPKey{}, err
	}
	return SRTPKey{Suite: suite, Key: b[:suite.KeyLen], Salt: b[suite.KeyLen:]}, nil
}

// KeySalt returns key||salt, the bytes an a=crypto inline: parameter carries.
func (k SRTPKey) KeySalt() []byte {
	return append(append([]byte(nil), k.Key...), k.Salt...)
}

func (k SRTPKey) options(decrypt bool) []srtp.ContextOption {
	var o []srtp.ContextOption
	if k.Suite.NoAuth {
		o = append(o, srtp.SRTPAuthenticationTagLength(0))
	}
	if len(k.MKI) > 0 {
		o = append(o, srtp.MasterKeyIndicator(k.MKI))
	}
	if decrypt {
		o = append(o, srtp.SRTPReplayProtection(64), srtp.SRTCPReplayProtection(64))
	}
	return o
}

// NewContext creates a pion context for one direction; decrypt contexts get replay protection.
func (k SRTPKey) NewContext(decrypt bool) (*srtp.Context, error) {
	if len(k.Key) != k.Suite.KeyLen || len(k.Salt) != k.Suite.SaltLen {
		return nil, fmt.Errorf("%w: %s needs %d+%d key bytes, got %d+%d", ErrSRTPSuite, k.Suite.Name,
			k.Suite.KeyLen, k.Suite.SaltLen, len(k.Key), len(k.Salt))
	}
	return srtp.CreateContext(k.Key, k.Salt, k.Suite.Profile, k.options(decrypt)...)
}
