package sim

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/pdb"
)

// TestKernelObjectLayout checks the offsets procs.go writes against the
// types in ntkrnlmp.pdb, which kd reads them by.
func TestKernelObjectLayout(t *testing.T) {
	f, err := pdb.Open(filepath.Join("testdata", "symbols", "ntkrnlmp.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		typ, field string
		off        uint64
	}{
		{"_KTHREAD", "InitialStack", kthInitialStack}, {"_KTHREAD", "StackLimit", kthStackLimit},
		{"_KTHREAD", "StackBase", kthStackBase}, {"_KTHREAD", "KernelStack", kthKernelStack},
		{"_KTHREAD", "ApcState.Process", kthApcProcess}, {"_KTHREAD", "Teb", kthTeb},
		{"_KTHREAD", "State", kthState}, {"_KTHREAD", "Priority", kthPriority},
		{"_KTHREAD", "BasePriority", kthBasePriority}, {"_KTHREAD", "WaitReason", kthWaitReason},
		{"_KTHREAD", "WaitMode", kthWaitMode}, {"_KTHREAD", "Alertable", kthAlertable},
		{"_KTHREAD", "KernelTime", kthKernelTime}, {"_KTHREAD", "UserTime", kthUserTime},
		{"_KTHREAD", "WaitTime", kthWaitTime}, {"_KTHREAD", "ContextSwitches", kthContextSwitch},
		{"_KTHREAD", "Process", kthProcess}, {"_KTHREAD", "ThreadListEntry", kthThreadListEnt},
		{"_ETHREAD", "CreateTime", ethCreateTime}, {"_ETHREAD", "StartAddress", ethStartAddress},
		{"_ETHREAD", "Cid", ethCid}, {"_ETHREAD", "Win32StartAddress", ethWin32Start},
		{"_ETHREAD", "ThreadListEntry", ethThreadListEnt},
		{"_KPROCESS", "DirectoryTableBase", kprDirBase}, {"_KPROCESS", "ThreadListHead", kprThreadListHead},
		{"_EPROCESS", "UniqueProcessId", epPid}, {"_EPROCESS", "ActiveProcessLinks", epActiveLinks},
		{"_EPROCESS", "CreateTime", epCreateTime}, {"_EPROCESS", "InheritedFromUniqueProcessId", epParentPid},
		{"_EPROCESS", "Peb", epPeb}, {"_EPROCESS", "Session", epSession}, {"_EPROCESS", "ObjectTable", epObjectTable},
		{"_EPROCESS", "ImageFileName", epImageFileName}, {"_EPROCESS", "ThreadListHead", epThreadListHead},
		{"_EPROCESS", "ActiveThreads", epActiveThreads},
		{"_HANDLE_TABLE", "HandleCount", htHandleCount}, {"_HANDLE_TABLE", "UniqueProcessId", htPid},
		{"_MM_SESSION_SPACE", "SessionId", sessSessionID},
	} {
		ty, err := f.TypeByName(tc.typ)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		ms, err := f.Layout(ty.Index, 2)
		if err != nil {
			t.Fatal(err)
		}
		off, ok := fieldOffset(ms, strings.Split(tc.field, "."))
		if !ok || off != tc.off {
			t.Errorf("%s.%s at %#x (found %v), procs.go writes %#x", tc.typ, tc.field, off, ok, tc.off)
		}
	}
	for typ, size := range map[string]uint64{"_EPROCESS": eprocessSize, "_ETHREAD": ethreadSize} {
		ty, err := f.TypeByName(typ)
		if err != nil || ty.Size != size {
			t.Errorf("%s: size %#x (%v), want %#x", typ, ty.Size, err, size)
		}
	}
}

func fieldOffset(ms []pdb.Member, path []string) (uint64, bool) {
	for _, m := range ms {
		if m.Name != path[0] {
			continue
		}
		if len(path) == 1 {
			return m.Offset, true
		}
		off, ok := fieldOffset(m.Members, path[1:])
		return m.Offset + off, ok
	}
	return 0, false
}

// TestProcessList walks PsActiveProcessHead and each thread list in the
// machine's memory and checks that they hold what Processes reports, and
// that each thread's planted stack returns through its wait path.
func TestProcessList(t *testing.T) {
	m := New(Config{Seed: 3})
	procs := m.Processes()
	if len(procs) != len(processTable) {
		t.Fatalf("%d processes, want %d", len(procs), len(processTable))
	}
	mem := m.im.vmem
	head := m.Symbol("nt!PsActiveProcessHead")
	e, _ := mem.u64(head)
	for i, p := range procs {
		if e != p.Addr+epActiveLinks {
			t.Fatalf("entry %d is %#x, want %#x", i, e, p.Addr+epActiveLinks)
		}
		pid, _ := mem.u64(p.Addr + epPid)
		name, _ := m.PeekVirtual(p.Addr+epImageFileName, 15)
		if pid != p.PID || !strings.HasPrefix(string(name), p.Name) {
			t.Errorf("process %d: pid %#x name %q, want %#x %q", i, pid, name, p.PID, p.Name)
		}
		te, _ := mem.u64(p.Addr + epThreadListHead)
		for _, th := range p.Threads {
			if te != th.Addr+ethThreadListEnt {
				t.Fatalf("%s: thread entry %#x, want %#x", p.Name, te, th.Addr+ethThreadListEnt)
			}
			te, _ = mem.u64(te)
			// The switch frame's return address is in KiSwapContext and
			// the frame-pointer chain names each function of the path.
			ret, _ := mem.u64(th.KernelStack + 0x38)
			rbp, _ := mem.u64(th.KernelStack + 0x30)
			for k, fn := range th.Frames {
				if at := m.Symbol(fn); ret <= at || ret > at+0x40 {
					t.Errorf("%s thread %#x frame %d: return %#x is not in %s (%#x)", p.Name, th.TID, k, ret, fn, at)
				}
				ret, _ = mem.u64(rbp + 8)
				rbp, _ = mem.u64(rbp)
			}
			if ret != 0 {
				t.Errorf("%s thread %#x: the outermost frame returns to %#x, want 0", p.Name, th.TID, ret)
			}
		}
		if te != p.Addr+epThreadListHead {
			t.Errorf("%s: thread list does not end at its head", p.Name)
		}
		e, _ = mem.u64(e)
	}
	if e != head {
		t.Errorf("the process list does not come back to its head")
	}
}
