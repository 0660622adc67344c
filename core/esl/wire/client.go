package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Client is a minimal inbound ESL client (what gs_cli uses). Replies (command/reply,
// api/response) are returned by the calling method; everything else (events, log/data,
// disconnect notices) arrives on Frames.
type Client struct {
	nc      net.Conn
	r       *bufio.Reader
	wmu     sync.Mutex
	replies chan *Frame
	frames  chan *Frame
	done    chan struct{}
	err     error
	reqMu   sync.Mutex
}

// ErrAuth is returned by Dial when the password is refused.
var ErrAuth = errors.New("esl: authentication failed")

// Dial connects, waits for auth/request and authenticates with password (or, when user is
// "name@domain", with userauth).
func Dial(addr, user, password string, timeout time.Duration) (*Client, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), replies: make(chan *Frame, 1),
		frames: make(chan *Frame, 4096), done: make(chan struct{})}
	_ = nc.SetReadDeadline(time.Now().Add(timeout))
	f, err := ReadFrame(c.r)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if f.Type() != "auth/request" {
		nc.Close()
		if f.Type() == "text/rude-rejection" {
			return nil, errors.New("esl: " + strings.TrimSpace(f.Body))
		}
		return nil, fmt.Errorf("esl: unexpected %q", f.Type())
	}
	cmd := "auth " + password
	if user != "" {
		cmd = "userauth " + user + ":" + password
	}
	if _, err := io.WriteString(nc, cmd+"\n\n"); err != nil {
		nc.Close()
		return nil, err
	}
	f, err = ReadFrame(c.r)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if !strings.HasPrefix(f.ReplyText(), "+OK") {
		nc.Close()
		return nil, ErrAuth
	}
	_ = nc.SetReadDeadline(time.Time{})
	go c.read()
	return c, nil
}

func (c *Client) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		f, err := ReadFrame(c.r)
		if err != nil {
			c.err = err
			return
		}
		switch f.Type() {
		case "command/reply", "api/response":
			c.replies <- f
		default:
			select {
			case c.frames <- f:
			default: // the program does not read them: drop rather than stall replies
			}
		}
	}
}

// Frames delivers events, logs and the disconnect notice. It is closed when the connection ends.
func (c *Client) Frames() <-chan *Frame { return c.frames }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Send writes a raw command (header lines allowed) and waits for its reply frame.
func (c *Client) Send(cmd string) (*Frame, error) {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	c.wmu.Lock()
	_, err := io.WriteString(c.nc, strings.TrimRight(cmd, "\n")+"\n\n")
	c.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case f := <-c.replies:
		return f, nil
	case <-c.done:
		select { // the reply may have arrived just before the connection closed (exit)
		case f := <-c.replies:
			return f, nil
		default:
		}
		if c.err != nil {
			return nil, c.err
		}
		return nil, io.EOF
	}
}

// API runs an api command (as fs_cli does, with console_execute) and returns its output.
func (c *Client) API(cmd string) (string, error) {
	f, err := c.Send("api " + cmd + "\nconsole_execute: true")
	if err != nil {
		return "", err
	}
	return f.Body, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	err := c.nc.Close()
	<-c.done
	return err
}
