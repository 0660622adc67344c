package dptools

import (
	"context"
	"fmt"
	"strings"

	"github.com/goswitch/goswitch/core"
)

// splitVar splits "name=value" (or FreeSWITCH's older "name,value" form when there is no '=').
func splitVar(args string) (name, value string, ok bool) {
	if n, v, found := strings.Cut(args, "="); found {
		return strings.TrimSpace(n), v, true
	}
	if n, v, found := strings.Cut(args, ","); found {
		return strings.TrimSpace(n), v, true
	}
	return strings.TrimSpace(args), "", args != ""
}

func set(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok || name == "" {
		return fmt.Errorf("set: no variable name in %q", args)
	}
	if strings.Contains(value, "${") || strings.Contains(value, "$${") {
		value = s.Expand(value)
	}
	s.SetVar(name, value)
	return nil
}

// export sets locally (unless nolocal:) and adds the name to export_vars so every leg this channel
// originates later gets it.
func export(ctx context.Context, s *core.Session, args string) error {
	prefix := ""
	for _, p := range []string{"nolocal:", "_nolocal_"} {
		if rest, ok := strings.CutPrefix(args, p); ok {
			args, prefix = rest, "nolocal:"
		}
	}
	name, value, ok := splitVar(args)
	if !ok || name == "" {
		return fmt.Errorf("export: no variable name in %q", args)
	}
	// As in FreeSWITCH, a nolocal export is stored as "nolocal:<name>" and listed that way in
	// export_vars; originate strips the prefix on the new leg.
	name = prefix + name
	s.SetVar(name, value)
	for _, e := range strings.Split(s.Vars().Value("export_vars"), ",") {
		if strings.TrimSpace(e) == name {
			return nil
		}
	}
	if v := s.Vars().Value("export_vars"); v != "" {
		s.SetVar("export_vars", v+","+name)
	} else {
		s.SetVar("export_vars", name)
	}
	return nil
}

func unset(ctx context.Context, s *core.Session, args string) error {
	s.UnsetVar(strings.TrimSpace(args))
	return nil
}

// multiset takes "a=1 b=2", or "^^<d>a=1<d>b=2" with a custom delimiter.
func multiset(ctx context.Context, s *core.Session, args string) error {
	var items []string
	if strings.HasPrefix(args, "^^") && len(args) > 3 {
		items = strings.Split(args[3:], string(args[2]))
	} else {
		items = core.SplitArgs(args, 0)
	}
	for _, it := range items {
		if err := set(ctx, s, it); err != nil {
			return err
		}
	}
	return nil
}

func multiunset(ctx context.Context, s *core.Session, args string) error {
	for _, n := range core.SplitArgs(args, 0) {
		s.UnsetVar(n)
	}
	return nil
}

// push appends (or, with front, prepends) to a FreeSWITCH array variable.
func push(front bool) core.AppFunc {
	return func(ctx context.Context, s *core.Session, args string) error {
		name, value, ok := splitVar(args)
		if !ok {
			return fmt.Errorf("push: bad data %q", args)
		}
		cur := s.Vars().Value(name)
		if cur == "" {
			s.SetVar(name, value)
			return nil
		}
		items := []string{cur}
		if rest, ok := strings.CutPrefix(cur, "ARRAY::"); ok {
			items = strings.Split(rest, "|:")
		}
		if front {
			items = append([]string{value}, items...)
		} else {
			items = append(items, value)
		}
		s.SetVar(name, "ARRAY::"+strings.Join(items, "|:"))
		return nil
	}
}

func setGlobal(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok {
		return fmt.Errorf("set_global: bad data %q", args)
	}
	s.Host().SetGlobal(name, value)
	return nil
}

func setProfileVar(ctx context.Context, s *core.Session, args string) error {
	name, value, ok := splitVar(args)
	if !ok {
		return fmt.Errorf("set_profile_var: bad data %q", args)
	}
	var err error
	s.UpdateProfile(func(p *core.CallerProfile) {
		switch strings.ToLower(name) {
		case "caller_id_name":
			p.CallerIDName = value
		case "caller_id_number":
			p.CallerIDNumber = value
		case "callee_id_name":
			p.CalleeIDName = value
		case "callee_id_number":
			p.CalleeIDNumber = value
		case "destination_number":
			p.DestNumber = value
		case "context":
			p.Context = value
		case "dialplan":
			p.Dialplan = value
		case "ani":
			p.ANI = value
		case "aniii":
			p.ANIII = value
		case "rdnis":
			p.RDNIS = value
		case "network_addr":
			p.NetworkAddr = value
		case "username":
			p.Username = value
		case "source":
			p.Source = value
		default:
			err = fmt.Errorf("set_profile_var: unknown field %q", name)
		}
	})
	return err
}
