package sdp

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sdp")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, pol := range []string{"false", "optional"} {
			ans, r, err := Answer(b, cfg(pol))
			if err != nil {
				continue
			}
			if r.Codec.Name == "" || len(ans) == 0 {
				t.Fatalf("accepted without codec: %+v", r)
			}
			if _, _, err := parse(ans); err != nil {
				t.Fatalf("our answer does not parse: %v\n%s", err, ans)
			}
		}
		if o, err := ParseOffer(b, cfg("optional")); err == nil {
			_, _ = o.ParseAnswer(b)
		}
	})
}

func FuzzCrypto(f *testing.F) {
	for _, s := range []string{
		"3 AES_CM_256_HMAC_SHA1_80 inline:/itE1k5BLMoTNzo7YEv6hCyM6R6wyHem3Coc5jjYVlKR2L3tEzBG5zx1QHgVSg==",
		"1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32",
		"2 AEAD_AES_128_GCM_8 inline:ePH/F2Qw5+zi8c7tkBb6Y2AQE5uevp+jWUkjgQ",
		"1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31 KDR=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCrypto(s)
		if err != nil {
			return
		}
		if k, err := c.Key(); err == nil {
			if len(k.Key) != k.Suite.KeyLen || len(k.Salt) != k.Suite.SaltLen {
				t.Fatalf("mis-keyed %+v", k)
			}
		}
		c2, err := ParseCrypto(c.String())
		if err != nil || c2.Tag != c.Tag || string(c2.KeySalt) != string(c.KeySalt) || c2.MKI != c.MKI {
			t.Fatalf("round trip %q -> %q: %v", s, c.String(), err)
		}
	})
}
