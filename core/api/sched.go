package api

import (
	"context"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
)

// FreeSWITCH's scheduled API commands (mod_commands sched_api / sched_del over switch_scheduler):
// `sched_api +N group cmd args` runs cmd N seconds from now, `@N` every N seconds, a bare number
// at that epoch second; `sched_del <id|group>` removes tasks; `show tasks` lists them.
func init() {
	register("sched_api", "[+@]<time> <group_name> <command_string>[&]", "Schedule an api command", apiSchedAPI)
	register("sched_del", "<task_id>|<group_id>", "Delete a scheduled task", apiSchedDel)
}

// schedTaskDesc is the task_desc FreeSWITCH shows for sched_api tasks.
const schedTaskDesc = "sched_api_function"

type schedTask struct {
	id      uint32
	group   string
	runtime time.Time
	recur   time.Duration
	cmd     string
	timer   *time.Timer
}

// scheduler holds one host's scheduled tasks; its timers run the commands on goroutines counted
// by the mod_commands State's WaitGroup, so State.Stop waits for them.
type scheduler struct {
	mu      sync.Mutex
	nextID  uint32
	tasks   map[uint32]*schedTask
	stopped bool
}

func (sc *scheduler) add(st *State, t *schedTask) uint32 {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.tasks == nil {
		sc.tasks = map[uint32]*schedTask{}
	}
	sc.nextID++
	t.id = sc.nextID
	sc.tasks[t.id] = t
	sc.arm(st, t)
	return t.id
}

// arm starts t's timer (sc.mu held).
func (sc *scheduler) arm(st *State, t *schedTask) {
	t.timer = time.AfterFunc(time.Until(t.runtime), func() { sc.fire(st, t) })
}

func (sc *scheduler) fire(st *State, t *schedTask) {
	sc.mu.Lock()
	if sc.stopped || sc.tasks[t.id] != t {
		sc.mu.Unlock()
		return
	}
	if t.recur > 0 {
		t.runtime = time.Now().Add(t.recur)
		sc.arm(st, t)
	} else {
		delete(sc.tasks, t.id)
	}
	st.wg.Add(1)
	sc.mu.Unlock()
	go func() {
		defer st.wg.Done()
		cmd, args, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(t.cmd), "&"), " ")
		out, err := st.h.APIOutput(st.ctx, cmd, strings.TrimSpace(args))
		st.h.Log.Debug("sched_api ran", "task_id", t.id, "group", t.group, "command", t.cmd, "output", strings.TrimSpace(out), "err", err)
	}()
}

// del removes the task id, or every task of a group; it returns how many went.
func (sc *scheduler) del(id uint32, group string) int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	n := 0
	for k, t := range sc.tasks {
		if (id != 0 && k == id) || (id == 0 && t.group == group) {
			t.timer.Stop()
			delete(sc.tasks, k)
			n++
		}
	}
	return n
}

func (sc *scheduler) list() []schedTask {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make([]schedTask, 0, len(sc.tasks))
	for _, t := range sc.tasks {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// stop cancels every timer; commands already running finish under State.Stop's wait.
func (sc *scheduler) stop() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.stopped = true
	for _, t := range sc.tasks {
		t.timer.Stop()
	}
}

const schedUsage = "-ERR Invalid syntax. USAGE: sched_api [+@]<time> <group_name> <command_string>[&]\n"

func apiSchedAPI(_ context.Context, h *core.Host, args string, w io.Writer) error {
	tm, rest, ok := strings.Cut(strings.TrimSpace(args), " ")
	group, cmd, ok2 := strings.Cut(strings.TrimSpace(rest), " ")
	cmd = strings.TrimSpace(cmd)
	if !ok || !ok2 || cmd == "" {
		return write(w, schedUsage)
	}
	t := &schedTask{group: group, cmd: cmd}
	now := time.Now()
	switch {
	case strings.HasPrefix(tm, "+"):
		n, _ := strconv.ParseInt(tm[1:], 10, 64)
		t.runtime = now.Add(time.Duration(n) * time.Second)
	case strings.HasPrefix(tm, "@"):
		n, _ := strconv.ParseInt(tm[1:], 10, 64)
		if n <= 0 {
			n = 1
		}
		t.recur = time.Duration(n) * time.Second
		t.runtime = now.Add(t.recur)
	default:
		n, _ := strconv.ParseInt(tm, 10, 64)
		t.runtime = time.Unix(n, 0)
	}
	st := state(h)
	return writef(w, "+OK Added: %d\n", st.sched.add(st, t))
}

func apiSchedDel(_ context.Context, h *core.Host, args string, w io.Writer) error {
	arg := strings.TrimSpace(args)
	if arg == "" {
		return write(w, "-ERR Invalid syntax. USAGE: sched_del <task_id>|<group_id>\n")
	}
	st := state(h)
	n := 0
	if id, err := strconv.ParseUint(arg, 10, 32); err == nil {
		if id > 0 {
			n = st.sched.del(uint32(id), "")
		}
	} else {
		n = st.sched.del(0, arg)
	}
	return writef(w, "+OK Deleted: %d\n", n)
}

// tasksTable is `show tasks`: FreeSWITCH's task_id,task_desc,task_group,task_runtime,
// task_sql_manager,hostname.
func tasksTable(h *core.Host) table {
	t := table{cols: []string{"task_id", "task_desc", "task_group", "task_runtime", "task_sql_manager", "hostname"}}
	host := h.Globals()["hostname"]
	for _, k := range state(h).sched.list() {
		t.rows = append(t.rows, []string{strconv.FormatUint(uint64(k.id), 10), schedTaskDesc, k.group,
			strconv.FormatInt(k.runtime.Unix(), 10), "0", host})
	}
	return t
}
