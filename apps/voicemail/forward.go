package voicemail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/core/media/audio"
)

// forward copies a message into another mailbox of the domain (forward-key), optionally with a
// recorded introduction in front (prepend-key).
func (b *box) forward(ctx context.Context, msg *Message) {
	p := b.p
	prependKey, fwdKey := p.Param("prepend-key"), p.Param("forward-key")
	d, err := b.menu(ctx, "voicemail_forward_prepend", prependKey+":"+fwdKey)
	if err != nil || d == 0 {
		return
	}
	src, extra := msg.Path, 0
	switch string(d) {
	case prependKey:
		intro := filepath.Join(b.dir(), "intro_"+uuid.NewString()+"."+b.ext())
		defer os.Remove(intro)
		dur, err := b.record(ctx, "voicemail_record_message", intro)
		if err != nil || dur <= 0 {
			return
		}
		joined := filepath.Join(b.dir(), "fwd_"+uuid.NewString()+"."+b.ext())
		defer os.Remove(joined)
		if err := concatWav(joined, intro, msg.Path); err != nil {
			b.s.Log().Warn("voicemail: prepend failed", "err", err)
			return
		}
		src, extra = joined, int(dur.Seconds())
	case fwdKey:
	default:
		return
	}
	ext, err := b.collect(ctx, "voicemail_forward_message_enter_extension", p.Param("terminator-key"), 32)
	if err != nil {
		return
	}
	to := &box{m: b.m, s: b.s, p: p, id: ext, domain: b.domain, timeout: b.timeout}
	if ext == "" || !to.lookup() {
		_, _ = phrase(ctx, b.s, "voicemail_invalid_extension", ext, nil)
		return
	}
	id := uuid.NewString()
	dst := filepath.Join(to.dir(), "msg_"+id+"."+b.ext())
	if err := copyFile(dst, src); err != nil {
		b.s.Log().Warn("voicemail: forward copy failed", "err", err)
		return
	}
	if err := b.m.exec(p.Name, `INSERT INTO voicemail_msgs (created_epoch, read_epoch, username, domain, uuid,
		cid_name, cid_number, in_folder, file_path, message_len, flags, read_flags, forwarded_by)
		VALUES (?, 0, ?, ?, ?, ?, ?, 'inbox', ?, ?, '', ?, ?)`,
		time.Now().Unix(), to.id, to.domain, id, msg.CIDName, msg.CIDNumber, dst, msg.Len+extra,
		firstNonEmpty(msg.ReadFlags, "B_NORMAL"), b.id+"@"+b.domain); err != nil {
		b.s.Log().Warn("voicemail: forward failed", "err", err)
		os.Remove(dst)
		return
	}
	b.m.maintenance(b.s, "leave-message", to.id, to.domain, [2]string{"VM-File-Path", dst},
		[2]string{"VM-UUID", id}, [2]string{"VM-Forwarded-By", b.id + "@" + b.domain})
	b.m.MWI(p.Name, to.id, to.domain, "NEW")
	_, _ = phrase(ctx, b.s, "voicemail_ack", "saved", nil)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func copyFile(dst, src string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// concatWav writes the files one after the other into dst (16-bit mono at the first file's rate).
func concatWav(dst string, files ...string) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	var w *audio.WavWriter
	buf := make([]int16, 4096)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		r, err := audio.NewWavReader(f)
		if err != nil {
			f.Close()
			return err
		}
		if w == nil {
			if w, err = audio.NewWavWriter(out, r.Rate(), audio.WavPCM); err != nil {
				f.Close()
				return err
			}
		} else if r.Rate() != w.Rate() {
			f.Close()
			return fmt.Errorf("voicemail: cannot join %d Hz and %d Hz files", w.Rate(), r.Rate())
		}
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if werr := w.Write(buf[:n]); werr != nil {
					f.Close()
					return werr
				}
			}
			if errors.Is(err, io.EOF) || n == 0 {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
	}
	if w == nil {
		return errors.New("voicemail: nothing to join")
	}
	return w.Close()
}
