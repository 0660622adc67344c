package esl

import (
	"strconv"

	"github.com/goswitch/goswitch/core/esl/wire"
	"github.com/goswitch/goswitch/core/event"
)

// Message is one client command (wire.Message; outbound.go's sendmsg takes it).
type Message = wire.Message

// preAuthMaxBody bounds bodies before authentication, so an unauthenticated peer cannot make the
// server allocate wire.MaxBody per connection.
const preAuthMaxBody = 64 << 10

// Frames the server writes (mod_event_socket's exact texts).
const (
	authRequest    = "Content-Type: auth/request\n\n"
	rudeRejection  = "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
	disconnectText = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)

func appendReply(dst []byte, text string, extra ...event.Header) []byte {
	dst = append(dst, "Content-Type: command/reply\nReply-Text: "...)
	dst = append(dst, text...)
	dst = append(dst, '\n')
	for _, h := range extra {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

func appendAPIResponse(dst []byte, body string) []byte {
	dst = append(dst, "Content-Type: api/response\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\n\n"...)
	return append(dst, body...)
}

// appendEventFrame wraps a serialised event: Content-Length first, then Content-Type.
func appendEventFrame(dst []byte, format string, e *event.Event, scratch []byte) ([]byte, []byte) {
	switch format {
	case "json":
		scratch = e.AppendJSON(scratch[:0])
	case "xml":
		scratch = e.AppendXML(scratch[:0])
	default:
		format = "plain"
		scratch = e.AppendPlain(scratch[:0])
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(scratch)), 10)
	dst = append(dst, "\nContent-Type: text/event-"...)
	dst = append(dst, format...)
	dst = append(dst, "\n\n"...)
	return append(dst, scratch...), scratch
}
