package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// svcrack is attack 3: sipvicious guesses the extension's password.
func svcrack(h netip.Addr) string {
	bin, err := exec.LookPath("svcrack")
	if err != nil {
		return line("3", "svcrack", "-", "svcrack not installed (apt-get install sipvicious)", false)
	}
	home, _ := os.MkdirTemp("", "attack-svcrack")
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lp := freeUDPPort()
	cmd := exec.CommandContext(ctx, bin, "-u"+*user, "-r"+*svRange, "-p", strconv.Itoa(*internal), "-b", "127.0.0.3",
		"-P", strconv.Itoa(lp), "--maximumtime=3", "-vv", h.String())
	cmd.Env = append(os.Environ(), "HOME="+home)
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	o := string(out)
	tries := strings.Count(o, "trying ")
	found := regexp.MustCompile(`The password for \S+ is (\S+)`).FindStringSubmatch(o)
	res := "found nothing"
	if found != nil {
		res = "FOUND password " + found[1]
	}
	// svcrack binds -b but the kernel may pick another source towards a non-loopback target:
	// look for whatever source the internal profile banned for auth failures.
	banned := "ban list unavailable"
	if bl, ok := eslAPI("127.0.0.1", "ban list"); ok && !strings.Contains(bl, "-ERR") {
		banned = "svcrack's source not banned"
		for _, l := range strings.Split(bl, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[2] == "auth-failures" && f[3] == "sip/internal" {
				banned = "its source " + f[0] + " banned"
			}
		}
	}
	if st, ok := eslAPI("127.0.0.1", "sofia status profile internal"); ok {
		if m := regexp.MustCompile(`AUTH-FAILURES\s+(\d+)`).FindStringSubmatch(st); m != nil {
			banned += ", goswitch counted " + m[1] + " auth failures"
		}
	}
	return line("3", "svcrack", fmt.Sprintf("svcrack -u%s -r%s from 127.0.0.3 (%d guesses sent in %.1fs)", *user, *svRange, tries, time.Since(start).Seconds()),
		res+"; "+banned, found == nil)
}

func freeUDPPort() int {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3)})
	if err != nil {
		return 5099
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
