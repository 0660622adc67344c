// Package web is goswitch's web phone: a page an admin opens at https://<host>:<wss port>/ to
// test a new install from a browser. It registers as a directory user over the profile's WSS
// listener, dials, hangs up, sends DTMF, answers incoming calls and shows the audio level. The
// page and its small script are embedded; the SIP stack is SIP.js from npm (web/package.json,
// `npm ci` in web/), served as the ES modules it ships, never vendored here.
//
// It does not do: video, chat, presence, or anything without a WSS listener (ws-binding alone
// serves SIP only: browsers refuse microphones on plain http).
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed static
var static embed.FS

// SIPJSDir finds SIP.js's lib directory: $GOSWITCH_WEB_DIR/node_modules/sip.js/lib, else
// web/node_modules/sip.js/lib under the working directory, beside the executable, or in this
// source tree (go run, go test). "" when it is not installed.
func SIPJSDir() string {
	var roots []string
	if d := os.Getenv("GOSWITCH_WEB_DIR"); d != "" {
		roots = append(roots, d)
	}
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, filepath.Join(wd, "web"), wd)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Join(filepath.Dir(exe), "web"))
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		roots = append(roots, filepath.Dir(file))
	}
	for _, r := range roots {
		d := filepath.Join(r, "node_modules", "sip.js", "lib")
		if st, err := os.Stat(filepath.Join(d, "index.js")); err == nil && !st.IsDir() {
			return d
		}
	}
	return ""
}

// Handler serves the page at /, its script, and SIP.js under /sipjs/.
func Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	files := http.FileServer(http.FS(sub))
	mux.Handle("/", noStore(files))
	mux.HandleFunc("/sipjs/", func(w http.ResponseWriter, r *http.Request) {
		dir := SIPJSDir()
		if dir == "" {
			http.Error(w, "SIP.js is not installed: run `npm ci` in goswitch's web/ directory (or set GOSWITCH_WEB_DIR)", http.StatusNotFound)
			return
		}
		if !strings.HasSuffix(r.URL.Path, ".js") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.StripPrefix("/sipjs/", http.FileServer(http.Dir(dir))).ServeHTTP(w, r)
	})
	return securityHeaders(mux)
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// securityHeaders: the page talks only to its own origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' wss:; media-src 'self' blob: mediastream:")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
