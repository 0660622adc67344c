package sdp

import (
	"fmt"

	psdp "github.com/pion/sdp/v3"
)

// RFC 3389 comfort noise in offers and answers, as FreeSWITCH negotiates it: offered as
// "<pt> CN/8000" after telephone-event unless suppress_cng, answered when the offer has CN at
// 8 kHz, kept by re-offers.

// comfortNoise finds the CN payload type at 8 kHz in an m-line (0 = none).
func (m *mline) comfortNoise() uint8 {
	for _, pt := range m.formats {
		if r, ok := m.maps[pt]; ok && r.name == "CN" && r.clock == 8000 {
			return uint8(pt)
		}
	}
	return 0
}

// addComfortNoise appends CN to a media line: its format and, after telephone-event, its rtpmap.
func addComfortNoise(md *psdp.MediaDescription, pt uint8) {
	if pt == 0 {
		return
	}
	md.MediaName.Formats = append(md.MediaName.Formats, fmt.Sprint(pt))
	md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", fmt.Sprintf("%d CN/8000", pt)))
}
