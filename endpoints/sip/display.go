package sip

import (
	"context"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// sendDisplay tells the phone what to show for the other party (send_display "name|number"),
// as mod_sofia does: an UPDATE with P-Asserted-Identity when the phone allows UPDATE, else an
// INFO with X-FS-Display-Name and X-FS-Display-Number. Only an answered call has a dialog to
// carry it.
func (c *call) sendDisplay(ctx context.Context, data string) error {
	if !c.isAnswered() {
		return nil
	}
	name, number, _ := strings.Cut(data, "|")
	name, number = strings.TrimSpace(name), strings.TrimSpace(number)
	if number == "" {
		number = name
	}
	if !validHeaderValue(name) || !validHeaderValue(number) || strings.ContainsAny(name, `"<>`) || strings.ContainsAny(number, `"<>@;`) {
		return errHeaderValue
	}
	method := sip.INFO
	if c.peerAllows("UPDATE") {
		method = sip.UPDATE
	}
	req := sip.NewRequest(method, c.remoteTarget())
	if method == sip.UPDATE {
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", fmt.Sprintf(`"%s" <sip:%s@%s>`, name, number, c.p.cfg.SIPIP)))
	} else {
		req.AppendHeader(sip.NewHeader("X-FS-Display-Name", name))
		req.AppendHeader(sip.NewHeader("X-FS-Display-Number", number))
	}
	res, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("send_display: %s answered %d %s", method, res.StatusCode, res.Reason)
	}
	return nil
}
