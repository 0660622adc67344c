package api_test

import (
	"strings"
	"testing"
	"time"
)

// TestSchedAPI: sched_api runs a command later (+N), repeatedly (@N), is listed by show tasks
// with FreeSWITCH's columns and removed by sched_del, by id or by group.
func TestSchedAPI(t *testing.T) {
	h := host(t)
	if out := run(t, h, "sched_api +1"); !strings.HasPrefix(out, "-ERR Invalid syntax. USAGE: sched_api [+@]<time> <group_name> <command_string>[&]") {
		t.Errorf("bad syntax: %q", out)
	}
	once := run(t, h, "sched_api +1 once global_setvar sched_once=fired")
	if !strings.HasPrefix(once, "+OK Added: ") {
		t.Fatalf("sched_api +1: %q", once)
	}
	every := run(t, h, "sched_api @1 tick hash insert/sched/ticks/x&")
	never := run(t, h, "sched_api +3600 later global_setvar sched_later=fired")
	tasks := run(t, h, "show tasks")
	if !strings.HasPrefix(tasks, "task_id,task_desc,task_group,task_runtime,task_sql_manager,hostname\n") ||
		!strings.Contains(tasks, ",sched_api_function,once,") || !strings.Contains(tasks, ",sched_api_function,tick,") ||
		!strings.Contains(tasks, "\n3 total.\n") {
		t.Errorf("show tasks:\n%s", tasks)
	}
	deadline := time.Now().Add(5 * time.Second)
	for run(t, h, "global_getvar sched_once") != "fired" || run(t, h, "hash select/sched/ticks") != "x" {
		if time.Now().After(deadline) {
			t.Fatalf("scheduled commands did not run: sched_once=%q ticks=%q", run(t, h, "global_getvar sched_once"), run(t, h, "hash select/sched/ticks"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	tasks = run(t, h, "show tasks")
	if strings.Contains(tasks, ",once,") || !strings.Contains(tasks, ",tick,") || !strings.Contains(tasks, "\n2 total.\n") {
		t.Errorf("after the one-shot ran (the recurring one stays):\n%s", tasks)
	}
	if out := run(t, h, "sched_del tick"); out != "+OK Deleted: 1\n" {
		t.Errorf("sched_del group: %q (added %q)", out, every)
	}
	id := strings.TrimSpace(strings.TrimPrefix(never, "+OK Added: "))
	if out := run(t, h, "sched_del "+id); out != "+OK Deleted: 1\n" {
		t.Errorf("sched_del id: %q", out)
	}
	if out := run(t, h, "sched_del 999"); out != "+OK Deleted: 0\n" {
		t.Errorf("sched_del unknown: %q", out)
	}
	if out := run(t, h, "show tasks"); out != "\n0 total.\n" {
		t.Errorf("show tasks at the end: %q", out)
	}
}

// TestLoadUnloadReload: goswitch's modules are built in; load/unload/reload answer as
// FreeSWITCH does for modules that cannot change at run time, and reload re-reads the XML.
func TestLoadUnloadReload(t *testing.T) {
	h := host(t)
	for cmd, want := range map[string]string{
		"load mod_commands":      "+OK Reloading XML\n-ERR [Module already loaded]\n",
		"load mod_lua":           "+OK Reloading XML\n-ERR [Module mod_lua is not available in goswitch]\n",
		"unload mod_commands":    "-ERR [Module mod_commands is built into goswitch and is not unloadable]\n",
		"unload -f mod_lua":      "-ERR [No such module!]\n",
		"reload mod_commands":    "+OK Reloading XML\n+OK module mod_commands is built in: its configuration was reloaded\n",
		"reload -f mod_nonesuch": "-ERR [No such module!]\n",
		"load":                   "-USAGE: load <mod_name>\n",
	} {
		if out := run(t, h, cmd); out != want {
			t.Errorf("%s: %q, want %q", cmd, out, want)
		}
	}
}
