package sdp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core/media/rtp"
)

// Crypto is one SDES a=crypto attribute (RFC 4568 §9.1):
// "<tag> <suite> inline:<key||salt>[|<lifetime>][|<MKI>:<length>] [session params]".
type Crypto struct {
	Tag           int
	Suite         string
	KeySalt       []byte
	Lifetime      string // "2^31", "1048576" or empty
	MKI           uint64
	MKILen        int // bytes; 0 = no MKI
	SessionParams []string
	padded        bool
}

// ErrCrypto is returned for malformed a=crypto lines.
var ErrCrypto = errors.New("sdp: bad a=crypto")

// ParseCrypto parses the value of an a=crypto attribute (without "a=crypto:"). It accepts
// suites we cannot key; Key reports those.
func ParseCrypto(v string) (Crypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w: %q", ErrCrypto, v)
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, fmt.Errorf("%w: tag %q", ErrCrypto, f[0])
	}
	c := Crypto{Tag: tag, Suite: f[1], SessionParams: f[3:]}
	// Several key-params may be separated by ';' (RFC 4568 §9.1); the first one keys the stream.
	kp, _, _ := strings.Cut(f[2], ";")
	method, rest, ok := strings.Cut(kp, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return Crypto{}, fmt.Errorf("%w: key method %q", ErrCrypto, kp)
	}
	parts := strings.Split(rest, "|")
	if c.KeySalt, c.padded, err = decodeKey(parts[0]); err != nil {
		return Crypto{}, err
	}
	for _, p := range parts[1:] {
		if mki, ln, ok := strings.Cut(p, ":"); ok {
			v, err1 := strconv.ParseUint(mki, 10, 64)
			l, err2 := strconv.Atoi(ln)
			if err1 != nil || err2 != nil || l < 1 || l > 128 || (l < 8 && v >= 1<<(8*uint(l))) {
				return Crypto{}, fmt.Errorf("%w: MKI %q", ErrCrypto, p)
			}
			c.MKI, c.MKILen = v, l
		} else {
			if !validLifetime(p) {
				return Crypto{}, fmt.Errorf("%w: lifetime %q", ErrCrypto, p)
			}
			c.Lifetime = p
		}
	}
	return c, nil
}

func validLifetime(s string) bool {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.Atoi(e)
		return err == nil && n >= 0 && n <= 64
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// decodeKey accepts padded and unpadded base64 (FreeSWITCH sends unpadded, others pad).
func decodeKey(s string) ([]byte, bool, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, false, fmt.Errorf("%w: key: %v", ErrCrypto, err)
	}
	return b, false, nil
}

// String formats the attribute value the way FreeSWITCH does (unpadded base64).
func (c Crypto) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s inline:%s", c.Tag, c.Suite, base64.RawStdEncoding.EncodeToString(c.KeySalt))
	if c.Lifetime != "" {
		b.WriteString("|" + c.Lifetime)
	}
	if c.MKILen > 0 {
		fmt.Fprintf(&b, "|%d:%d", c.MKI, c.MKILen)
	}
	for _, p := range c.SessionParams {
		b.WriteString(" " + p)
	}
	return b.String()
}

// Key converts the attribute to SRTP keying material; it fails for suites pion cannot do and for
// keys of the wrong length, so such lines are skipped instead of mis-keyed.
func (c Crypto) Key() (rtp.SRTPKey, error) {
	s, ok := rtp.LookupSRTPSuite(c.Suite)
	if !ok {
		return rtp.SRTPKey{}, fmt.Errorf("%w: %s", rtp.ErrSRTPSuite, c.Suite)
	}
	if len(c.KeySalt) != s.KeyLen+s.SaltLen {
		return rtp.SRTPKey{}, fmt.Errorf("%w: %s key is %d bytes, want %d", ErrCrypto, c.Suite, len(c.KeySalt), s.KeyLen+s.SaltLen)
	}
	k := rtp.SRTPKey{Suite: s, Key: c.KeySalt[:s.KeyLen:s.KeyLen], Salt: c.KeySalt[s.KeyLen:]}
	if c.MKILen > 0 {
		k.MKI = new(big.Int).SetUint64(c.MKI).FillBytes(make([]byte, c.MKILen))
	}
	return k, nil
}

// newLocalCrypto generates our key for a suite with the given tag.
func newLocalCrypto(tag int, s rtp.SRTPSuite) (Crypto, rtp.SRTPKey, error) {
	k, err := rtp.NewSRTPKey(s)
	if err != nil {
		return Crypto{}, rtp.SRTPKey{}, err
	}
	return Crypto{Tag: tag, Suite: s.Name, KeySalt: k.KeySalt()}, k, nil
}
