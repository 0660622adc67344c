package api

import (
	"context"
	"io"
	"sort"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// goswitch has no loadable modules: every module it has is built in and starts when
// modules.conf.xml loads it (or always, for a configuration without a module list). load, unload
// and reload answer as FreeSWITCH's mod_commands does for a module that cannot be (un)loaded at
// run time, and reload re-reads the XML, which is what reloading a module does to its config.
func init() {
	register("load", "<mod_name>", "Load Module", apiLoad)
	register("unload", "[-f] <mod_name>", "Unload Module", apiUnload)
	register("reload", "[-f] <mod_name>", "Reload Module", apiReload)
}

// moduleArg returns the module name of "[-f] <mod_name>".
func moduleArg(args string) string {
	f := strings.Fields(args)
	if len(f) > 0 && f[0] == "-f" {
		f = f[1:]
	}
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// moduleLoaded reports whether the running configuration starts the module.
func moduleLoaded(h *core.Host, name string) bool {
	if !core.ModuleBuiltIn(name) {
		return false
	}
	snap := h.Config()
	if snap == nil {
		return true
	}
	list, ok := core.LoadedModules(snap)
	return !ok || list[name]
}

func apiLoad(_ context.Context, h *core.Host, args string, w io.Writer) error {
	name := moduleArg(args)
	if name == "" {
		return write(w, "-USAGE: load <mod_name>\n")
	}
	if err := h.Reload(); err != nil {
		return writef(w, "-ERR [%s]\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	switch {
	case moduleLoaded(h, name):
		return write(w, "+OK Reloading XML\n-ERR [Module already loaded]\n")
	case core.ModuleBuiltIn(name):
		return writef(w, "+OK Reloading XML\n-ERR [Module %s is built into goswitch; add <load module=\"%s\"/> to modules.conf.xml and restart]\n", name, name)
	}
	return writef(w, "+OK Reloading XML\n-ERR [Module %s is not available in goswitch]\n", name)
}

func apiUnload(_ context.Context, h *core.Host, args string, w io.Writer) error {
	name := moduleArg(args)
	if name == "" {
		return write(w, "-USAGE: unload [-f] <mod_name>\n")
	}
	if !moduleLoaded(h, name) {
		return write(w, "-ERR [No such module!]\n")
	}
	return writef(w, "-ERR [Module %s is built into goswitch and is not unloadable]\n", name)
}

func apiReload(_ context.Context, h *core.Host, args string, w io.Writer) error {
	name := moduleArg(args)
	if name == "" {
		return write(w, "-USAGE: reload [-f] <mod_name>\n")
	}
	if !moduleLoaded(h, name) {
		return write(w, "-ERR [No such module!]\n")
	}
	if err := h.Reload(); err != nil {
		return writef(w, "-ERR [%s]\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return writef(w, "+OK Reloading XML\n+OK module %s is built in: its configuration was reloaded\n", name)
}

// modulesTable is `show modules`: the modules the running configuration loads (modules.conf.xml
// and the pre/post load lists) that goswitch has, or every built-in module when the
// configuration has no module list.
func modulesTable(h *core.Host) table {
	t := table{cols: []string{"type", "name", "ikey", "filename"}}
	var names []string
	if snap := h.Config(); snap != nil {
		if list, ok := core.LoadedModules(snap); ok {
			for name := range list {
				if core.ModuleBuiltIn(name) {
					names = append(names, name)
				}
			}
			sort.Strings(names)
		}
	}
	if names == nil {
		names = moduleNames()
	}
	for _, m := range names {
		t.rows = append(t.rows, []string{"module", m, m, "built-in"})
	}
	return t
}
