package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/goswitch/goswitch/conf"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// checkSupportedSections are the freeswitch.xml sections goswitch reads.
var checkSupportedSections = map[string]bool{
	"configuration": true, "dialplan": true, "directory": true, "languages": true,
}

// runCheck implements `goswitch check [-conf DIR] [-cfgname FILE] [-set name=value]...`:
// load the whole configuration, run every registered compiler over it and
// print each problem and each unsupported module, section, application or
// bridge endpoint as file:line: message. It returns 0 when there are no
// errors (warnings allowed), 1 on errors, 2 on a usage error.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	confDir := fl.String("conf", "", "configuration directory holding freeswitch.xml (default ./conf, else the embedded tree)")
	cfgname := fl.String("cfgname", "", "root file name (default freeswitch.xml)")
	var sets checkSetFlags
	fl.Var(&sets, "set", "override a global: name=value (repeatable)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: goswitch check [-conf DIR] [-cfgname FILE] [-set name=value]...")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "goswitch check: unexpected argument %q\n", fl.Arg(0))
		fl.Usage()
		return 2
	}

	opts := xmlconf.Options{File: *cfgname, Overrides: sets.m}
	where := "embedded default configuration"
	switch {
	case *confDir != "":
		opts.Dir, where = *confDir, *confDir
	case checkIsDir("conf"):
		opts.Dir, where = "conf", "conf"
	default:
		opts.FS = conf.FS
	}

	c := &checkReport{out: stdout, seen: map[string]bool{}}
	snap, err := xmlconf.Load(opts)
	if err != nil {
		c.addErr(err)
		return c.finish(where)
	}
	c.add(snap.Warnings()...)
	c.compile(snap)
	c.sections(snap)
	c.modules(snap)
	c.applications(snap)
	c.security(snap)
	return c.finish(where)
}

type checkReport struct {
	out              io.Writer
	seen             map[string]bool
	errors, warnings int
	onDiag           func(xmlconf.Diag) // also called for each finding, once (the daemon's start log)
}

func (c *checkReport) add(ds ...xmlconf.Diag) {
	for _, d := range ds {
		line := d.String()
		if c.seen[line] {
			continue
		}
		c.seen[line] = true
		if d.Warning {
			c.warnings++
		} else {
			c.errors++
		}
		fmt.Fprintln(c.out, line)
		if c.onDiag != nil {
			c.onDiag(d)
		}
	}
}

func (c *checkReport) warn(p xmlconf.Pos, format string, args ...any) {
	c.add(xmlconf.Diag{Pos: p, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// addErr prints an error from the loader or a compiler; those carrying
// diagnostics print them all.
func (c *checkReport) addErr(err error) {
	var xe *xmlconf.Error
	if errors.As(err, &xe) {
		c.add(xe.Diags...)
		if len(xe.Errors()) > 0 {
			return
		}
	}
	var d xmlconf.Diag
	if errors.As(err, &d) {
		c.add(d)
		return
	}
	c.add(xmlconf.Diag{Msg: err.Error()})
}

func (c *checkReport) finish(where string) int {
	fmt.Fprintf(c.out, "%s: %d error(s), %d warning(s)\n", where, c.errors, c.warnings)
	if c.errors > 0 {
		return 1
	}
	return 0
}

// checkWarner is what compiled config values offer to report usable oddities.
type checkWarner interface{ Warnings() []xmlconf.Diag }

// compile runs the compilers registered by the dialplan and modules, the
// same ones the daemon runs at every (re)load.
func (c *checkReport) compile(snap *xmlconf.Snapshot) {
	run := func(compile func(*xmlconf.Snapshot) (any, error)) {
		if compile == nil {
			return
		}
		v, err := compile(snap)
		if err != nil {
			c.addErr(err)
			return
		}
		if w, ok := v.(checkWarner); ok {
			c.add(w.Warnings()...)
		}
	}
	for _, d := range core.Dialplans() {
		run(d.Compile)
	}
	for _, m := range core.Modules() {
		run(m.Compile)
	}
}

func (c *checkReport) sections(snap *xmlconf.Snapshot) {
	for _, s := range snap.Root().SelectElements("section") {
		name := s.SelectAttrValue("name", "")
		if !checkSupportedSections[strings.ToLower(name)] {
			c.warn(snap.Pos(s), "section %s is not supported and is ignored", name)
		}
	}
}

// modules reports <load module="..."/> entries of pre_load_modules.conf,
// modules.conf and post_load_modules.conf that goswitch does not have.
func (c *checkReport) modules(snap *xmlconf.Snapshot) {
	for _, file := range []string{"pre_load_modules.conf", "modules.conf", "post_load_modules.conf"} {
		cfg := snap.Configuration(file)
		if cfg == nil {
			continue
		}
		for _, l := range cfg.FindElements("modules/load") {
			name := l.SelectAttrValue("module", "")
			if !core.ModuleBuiltIn(name) {
				c.warn(snap.Pos(l), "module %s is not supported", name)
			}
		}
	}
}

// checkAppKnown says whether a dialplan application is registered. cmd/goswitch links the whole
// module set (modules.go), so the registry is the one list.
func checkAppKnown(name string) bool {
	_, ok := core.LookupApp(name)
	return ok
}

// checkEndpointKnown says whether a dial-string endpoint ("sofia", "user", ...) is registered.
func checkEndpointKnown(name string) bool {
	for _, e := range core.Endpoints() {
		if e.Name == name {
			return true
		}
	}
	return false
}

// checkEndpoints returns the endpoint names of a bridge dial string, parsed by the grammar
// bridge itself uses (core.ParseDialString). Endpoints built at run time ("${...}") are skipped.
func checkEndpoints(dial string) ([]string, error) {
	ds, err := core.ParseDialString(dial)
	if errors.Is(err, core.ErrEmptyDialString) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, seq := range ds.Seqs {
		for _, g := range seq.Groups {
			for _, l := range g.Legs {
				if l.Endpoint == "" || l.Target == "" || strings.ContainsAny(l.Endpoint, "${}") {
					continue
				}
				out = append(out, l.Endpoint)
			}
		}
	}
	return out, nil
}

// applications reports dialplan actions and IVR menu-exec-app entries whose
// application goswitch lacks: FreeSWITCH would hang such a call up with
// DESTINATION_OUT_OF_ORDER when it reaches the action.
func (c *checkReport) applications(snap *xmlconf.Snapshot) {
	if dp := snap.Section("dialplan"); dp != nil {
		for _, a := range dp.FindElements(".//*") {
			if a.Tag != "action" && a.Tag != "anti-action" {
				continue
			}
			app := a.SelectAttrValue("application", "")
			if app == "" || strings.Contains(app, "${") || checkAppKnown(app) {
				continue
			}
			c.warn(snap.Pos(a), "application %s is not supported (%s)", app, checkWhere(a))
		}
		for _, a := range dp.FindElements(".//*") {
			if (a.Tag != "action" && a.Tag != "anti-action") || a.SelectAttrValue("application", "") != "bridge" {
				continue
			}
			eps, err := checkEndpoints(a.SelectAttrValue("data", ""))
			if err != nil {
				c.warn(snap.Pos(a), "bridge %s: %v (%s)", a.SelectAttrValue("data", ""), err, checkWhere(a))
			}
			for _, ep := range eps {
				if !checkEndpointKnown(ep) {
					c.warn(snap.Pos(a), "endpoint %s/ is not supported (%s)", ep, checkWhere(a))
				}
			}
		}
	}
	if ivr := snap.Configuration("ivr.conf"); ivr != nil {
		for _, e := range ivr.FindElements("menus/menu/entry") {
			if e.SelectAttrValue("action", "") != "menu-exec-app" {
				continue
			}
			app, _, _ := strings.Cut(strings.TrimSpace(e.SelectAttrValue("param", "")), " ")
			if app == "" || strings.Contains(app, "${") || checkAppKnown(app) {
				continue
			}
			menu := ""
			if p := e.Parent(); p != nil {
				menu = p.SelectAttrValue("name", "")
			}
			c.warn(snap.Pos(e), "application %s is not supported (ivr menu %s)", app, menu)
		}
	}
}

// checkWhere names the extension and context an action belongs to.
func checkWhere(e *etree.Element) string {
	var ext, ctx string
	for p := e.Parent(); p != nil; p = p.Parent() {
		switch p.Tag {
		case "extension":
			if ext == "" {
				ext = p.SelectAttrValue("name", "")
			}
		case "context":
			ctx = p.SelectAttrValue("name", "")
		}
	}
	return fmt.Sprintf("extension %s, context %s", ext, ctx)
}

func checkIsDir(p string) bool {
	fi, err := os.Stat(filepath.Clean(p))
	return err == nil && fi.IsDir()
}

// checkSetFlags collects repeatable -set name=value flags.
type checkSetFlags struct{ m map[string]string }

func (s *checkSetFlags) String() string { return "" }

func (s *checkSetFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[name] = value
	return nil
}
