package render

import (
	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

func kobjJSON(res commands.Result) (any, bool) {
	switch v := res.(type) {
	case commands.ProcessDump:
		procs := make([]any, 0, len(v.Processes))
		for _, p := range v.Processes {
			procs = append(procs, processJSON(p))
		}
		o := map[string]any{"flags": v.Flags, "processes": procs}
		if v.Stopped != "" {
			o["stopped"] = v.Stopped
		}
		if v.Note != "" {
			o["note"] = v.Note
		}
		return o, true
	case commands.ThreadDump:
		o := threadJSON(v.Thread)
		if v.Note != "" {
			o["note"] = v.Note
		}
		return o, true
	case commands.ThreadContext:
		o := map[string]any{"thread": Hex(v.Thread), "current": v.Current}
		if !v.Current {
			o["rip"], o["rsp"], o["rbp"] = Hex(v.RIP), Hex(v.RSP), Hex(v.RBP)
		}
		return o, true
	case commands.IrqlInfo:
		return map[string]any{"processor": v.Processor, "irql": v.Irql, "name": irqlNames[v.Irql]}, true
	case commands.BugCheckInfo:
		return map[string]any{"code": Hex(v.Code), "params": paramsJSON(v.Params), "bugchecked": v.Code != 0,
			"name": commands.BugCheckName(v.Code)}, true
	case commands.NoBugCheck:
		return map[string]any{"bugchecked": false, "kibugcheckdata": Hex(v.Addr)}, true
	case commands.Analysis:
		o := map[string]any{"code": Hex(v.BugCheck.Code), "name": v.Name, "description": v.Desc,
			"params": paramsJSON(v.BugCheck.Params)}
		descs := make([]string, 4)
		for i := range descs {
			descs[i] = v.ArgText(i)
		}
		o["param_meanings"] = descs
		if v.HaveFault {
			o["fault_address"], o["fault_symbol"], o["module"], o["image"] = Hex(v.FaultAddr), v.FaultSymbol, v.Module, v.Image
		}
		if v.Verbose {
			o["stack"] = stackJSON(commands.StackTrace{Stack: v.Stack})
		}
		return o, true
	case commands.ErrorCode:
		return map[string]any{"value": Hex(v.Value), "kind": v.Kind, "name": v.Name, "message": v.Message,
			"known": v.Message != ""}, true
	}
	return nil, false
}

func paramsJSON(p [4]uint64) []Hex { return []Hex{Hex(p[0]), Hex(p[1]), Hex(p[2]), Hex(p[3])} }

func processJSON(p target.Process) map[string]any {
	o := map[string]any{"address": Hex(p.Addr), "pid": p.PID, "parent_pid": p.ParentPID, "image": p.Image,
		"peb": Hex(p.Peb), "dirbase": Hex(p.DirBase), "object_table": Hex(p.ObjectTable)}
	if p.SessionOK && p.Session >= 0 {
		o["session"] = p.Session
	} else {
		o["session"] = nil
	}
	if p.HandlesOK {
		o["handle_count"] = p.Handles
	}
	if p.CreateTime != 0 {
		o["create_time"] = p.CreateTime
	}
	o["active_threads"] = p.NThreads
	if p.Threads != nil {
		ths := make([]any, 0, len(p.Threads))
		for _, th := range p.Threads {
			ths = append(ths, threadJSON(th))
		}
		o["threads"] = ths
	}
	if p.ThreadsStopped != "" {
		o["threads_stopped"] = p.ThreadsStopped
	}
	return o
}

func threadJSON(th target.Thread) map[string]any {
	o := map[string]any{"address": Hex(th.Addr), "pid": th.PID, "tid": th.TID, "process": Hex(th.Process),
		"process_image": th.ProcessImage, "teb": Hex(th.Teb), "win32thread": Hex(th.Win32Thread),
		"state": nameOf(threadStates, th.State), "priority": th.Priority, "base_priority": th.BasePriority,
		"kernel_time_ticks": th.KernelTime, "user_time_ticks": th.UserTime, "context_switches": th.Switches,
		"stack_init": Hex(th.InitStack), "stack_base": Hex(th.StackBase), "stack_limit": Hex(th.StackLimit),
		"kernel_stack": Hex(th.KernelStack), "current": th.Current}
	if th.State == target.ThreadWaiting {
		o["wait_reason"] = nameOf(waitReasons, th.WaitReason)
		o["wait_mode"] = map[int]string{0: "KernelMode", 1: "UserMode"}[th.WaitMode]
		o["alertable"] = th.Alertable
	}
	if th.StartAddress != 0 {
		o["start_address"], o["start_symbol"] = Hex(th.StartAddress), th.StartSymbol
	}
	if th.Stack != nil {
		o["stack"] = stackJSON(commands.StackTrace{Stack: *th.Stack})
	}
	if th.StackErr != "" {
		o["stack_error"] = th.StackErr
	}
	return o
}
