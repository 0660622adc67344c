package media

// Direction is a media stream's SDP direction from our side (RFC 3264 §5.1).
type Direction uint8

const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String gives the SDP attribute name.
func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// CanSend reports whether we may send media.
func (d Direction) CanSend() bool { return d == SendRecv || d == SendOnly }

// CanRecv reports whether we expect media.
func (d Direction) CanRecv() bool { return d == SendRecv || d == RecvOnly }

// Reverse gives the direction the other side sees ("sendonly" answers "recvonly").
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// ParseDirection reads an SDP direction attribute name; ok is false for anything else.
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return SendRecv, false
}

// DTMFMode is how a leg sends digits (FreeSWITCH dtmf-type).
type DTMFMode uint8

const (
	DTMFRFC2833 DTMFMode = iota // RFC 4733 telephone-events when negotiated, else in-band
	DTMFInband                  // always tones in the audio
	DTMFInfo                    // SIP INFO through the sender set with SetInfoSender
	DTMFNone                    // drop
)
