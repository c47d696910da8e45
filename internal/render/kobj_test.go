package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

func sampleKobjResults() []commands.Result {
	st := target.Stack{Frames: []target.StackFrame{
		{Num: 0, ChildSP: 0xfffff800162dfee0, RetAddr: 0xfffff80010a0125d, IP: 0xfffff80010a0127d, CallSite: "nt!KiSwapContext+0xd"},
		{Num: 1, ChildSP: 0xfffff800162dff10, IP: 0xfffff80010a0125d, CallSite: "nt!KiCommitThreadWait+0xd"},
	}}
	th := target.Thread{Addr: 0xffffc2aab2416000, PID: 0x2b0, TID: 0x3c, Process: 0xffffc2aab2415000, ProcessImage: "lsass.exe",
		Teb: 0x77991000, State: target.ThreadWaiting, WaitReason: 15, WaitMode: 1, Alertable: true, Priority: 10, BasePriority: 8,
		KernelTime: 205, UserTime: 159, WaitTime: 7686, Switches: 2226, StartAddress: 0xfffff80010a01210,
		StartSymbol: "nt!NtRemoveIoCompletion", InitStack: 0xfffff800162dffd0, StackLimit: 0xfffff800162de000,
		StackBase: 0xfffff800162e0000, KernelStack: 0xfffff800162dfea0, Stack: &st}
	p := target.Process{Addr: 0xffffc2aab2415000, PID: 0x2b0, ParentPID: 0x238, Image: "lsass.exe", Session: 0, SessionOK: true,
		Peb: 0x7f65000, DirBase: 0xc95000, ObjectTable: 0xffffc2aab2415800, Handles: 1280, HandlesOK: true,
		Threads: []target.Thread{th}}
	sys := target.Process{Addr: 0xffffc2aab2401000, PID: 4, Image: "System", Session: -1, SessionOK: true}
	bc := target.BugCheck{Addr: 0xfffff80010a04040, Code: 0xD1, Params: [4]uint64{0x10, 2, 0, 0xfffff80011a01038}}
	return []commands.Result{
		commands.ProcessDump{ProcessList: target.ProcessList{Processes: []target.Process{sys, p}, Stopped: "the list loops back on itself",
			Note: "no type information for nt"}, Flags: 7, All: true},
		commands.ThreadDump{ThreadDetail: target.ThreadDetail{Thread: th}, Flags: 6},
		commands.ThreadContext{Thread: th.Addr, RIP: 0xfffff80010a0127d, RSP: 0xfffff800162dfee0, RBP: 0xfffff800162dff00},
		commands.IrqlInfo{Processor: 0, Irql: 2},
		commands.BugCheckInfo{BugCheck: bc},
		commands.NoBugCheck{Addr: bc.Addr},
		commands.Analysis{BugCheck: bc, Name: "DRIVER_IRQL_NOT_LESS_OR_EQUAL", Verbose: true, FaultAddr: bc.Params[3], HaveFault: true,
			FaultSymbol: "simdrv!SimDrvFaultRoutine+0x8", Module: "simdrv", Image: "simdrv.sys", Stack: st},
		commands.LookupError(0xc0000005, false),
	}
}

// TestKobjJSON decodes every kernel-object result's JSON and checks its
// values; the text forms must not fall back to the generic dump.
func TestKobjJSON(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	var s screen
	r := &Text{Out: &s}
	for _, res := range sampleKobjResults() {
		j.Result("cmd", res, nil)
		r.Result(res)
	}
	if strings.Contains(s.b.String(), ": map[") {
		t.Errorf("a result fell back to the generic text:\n%s", s.b.String())
	}
	var objs []map[string]any
	sc := bufio.NewScanner(&b)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("%v in %s", err, sc.Text())
		}
		objs = append(objs, o)
	}
	data := func(i int) map[string]any { return objs[i]["data"].(map[string]any) }
	procs := data(0)["processes"].([]any)
	lsass := procs[1].(map[string]any)
	thread := lsass["threads"].([]any)[0].(map[string]any)
	frames := thread["stack"].(map[string]any)["frames"].([]any)
	for _, c := range []struct {
		got, want any
	}{
		{objs[0]["kind"], "processes"}, {len(procs), 2}, {procs[0].(map[string]any)["session"], nil},
		{lsass["pid"], float64(0x2b0)}, {lsass["image"], "lsass.exe"}, {lsass["address"], "0xffffc2aab2415000"},
		{lsass["handle_count"], float64(1280)}, {data(0)["stopped"], "the list loops back on itself"},
		{thread["tid"], float64(0x3c)}, {thread["wait_reason"], "WrQueue"}, {thread["wait_mode"], "UserMode"},
		{frames[0].(map[string]any)["call_site"], "nt!KiSwapContext+0xd"},
		{data(1)["process_image"], "lsass.exe"}, {data(2)["rip"], "0xfffff80010a0127d"},
		{data(3)["name"], "DISPATCH_LEVEL"}, {data(4)["code"], "0xd1"}, {data(4)["name"], "DRIVER_IRQL_NOT_LESS_OR_EQUAL"},
		{data(4)["params"].([]any)[3], "0xfffff80011a01038"}, {data(5)["bugchecked"], false},
		{data(6)["fault_symbol"], "simdrv!SimDrvFaultRoutine+0x8"}, {data(6)["image"], "simdrv.sys"},
		{data(7)["kind"], "NTSTATUS"}, {data(7)["name"], "STATUS_ACCESS_VIOLATION"}, {data(7)["value"], "0xc0000005"},
	} {
		if c.got != c.want {
			t.Errorf("got %#v, want %#v", c.got, c.want)
		}
	}
}
