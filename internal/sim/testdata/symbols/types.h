/* Types of the simulated kernel's data, for its PDBs (dt nt!_KPRCB ...).
   The layouts are the simulator's: the fields it fills are at the offsets
   it writes them (image.go, buildCPU). Written for kdsim; part of gensyms. */
typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef unsigned long ULONG;
typedef unsigned long long ULONG64;
typedef char CHAR;
typedef long LONG;
typedef long long LONG64;

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY;

struct _KPROCESS;

typedef struct _KAPC_STATE {
    LIST_ENTRY ApcListHead[2];
    struct _KPROCESS *Process;
    UCHAR InProgressFlags;
    UCHAR KernelApcPending;
    UCHAR UserApcPendingAll;
    UCHAR Spare[5];
} KAPC_STATE;

/* kdsim's KTHREAD: the stack fields and ApcState.Process where Windows 10
   has them, the scheduling fields packed after 0x100 (procs.go). */
typedef struct _KTHREAD {
    UCHAR Header[0x18];
    void *SListFaultAddress;
    ULONG64 QuantumTarget;
    void *InitialStack;
    void *StackLimit;
    void *StackBase;
    ULONG64 ThreadLock;
    ULONG64 CycleTime;
    ULONG CurrentRunTime;
    ULONG ExpectedRunTime;
    void *KernelStack;
    UCHAR Reserved0[0x38];
    KAPC_STATE ApcState;
    LONG64 WaitStatus;
    void *WaitBlockList;
    LIST_ENTRY WaitListEntry;
    void *Queue;
    void *Teb;
    ULONG64 RelativeTimerBias;
    UCHAR State;
    CHAR Priority;
    CHAR BasePriority;
    UCHAR WaitReason;
    UCHAR WaitMode;
    UCHAR WaitIrql;
    UCHAR Alertable;
    UCHAR IdealProcessor;
    ULONG KernelTime;
    ULONG UserTime;
    ULONG WaitTime;
    ULONG ContextSwitches;
    void *Win32Thread;
    struct _KPROCESS *Process;
    LIST_ENTRY ThreadListEntry;
    UCHAR Reserved1[0x2F8];
} KTHREAD;

typedef struct _KPRCB {
    ULONG MxCsr;
    UCHAR LegacyNumber;
    UCHAR ReservedMustBeZero;
    UCHAR InterruptRequest;
    UCHAR IdleHalt;
    struct _KTHREAD *CurrentThread;
    struct _KTHREAD *NextThread;
    struct _KTHREAD *IdleThread;
    UCHAR NestingLevel;
    UCHAR ClockOwner;
    UCHAR PendingTick : 1;
    UCHAR PendingBackupTick : 1;
    UCHAR Spare : 6;
    UCHAR IdleState;
    ULONG Number;
    union {
        ULONG64 RspBase;
        void *RspBasePointer;
    } u;
    char VendorString[13];
    UCHAR CpuType;
    UCHAR CpuID;
    USHORT CpuStep;
    ULONG MHz;
    ULONG64 FeatureBits;
} KPRCB;

typedef struct _KPROCESS {
    UCHAR Header[0x18];
    LIST_ENTRY ProfileListHead;
    ULONG64 DirectoryTableBase;
    LIST_ENTRY ThreadListHead;
    ULONG ProcessLock;
    ULONG ProcessTimerDelay;
    ULONG64 DeepFreezeStartTime;
    ULONG64 Affinity;
    UCHAR Reserved0[0x330];
    ULONG64 UserDirectoryTableBase;
    UCHAR Reserved1[0xA8];
} KPROCESS;

typedef struct _CLIENT_ID {
    void *UniqueProcess;
    void *UniqueThread;
} CLIENT_ID;

typedef struct _ETHREAD {
    KTHREAD Tcb;
    LONG64 CreateTime;
    LONG64 ExitTime;
    UCHAR Reserved0[0x10];
    void *StartAddress;
    UCHAR Reserved1[0x20];
    CLIENT_ID Cid;
    UCHAR Reserved2[0x48];
    void *Win32StartAddress;
    UCHAR Reserved3[0x10];
    LIST_ENTRY ThreadListEntry;
    UCHAR Reserved4[0x8];
} ETHREAD;

typedef struct _MM_SESSION_SPACE {
    LONG ReferenceCount;
    ULONG Flags;
    ULONG SessionId;
    ULONG ProcessReferenceToSession;
    LIST_ENTRY ProcessList;
} MM_SESSION_SPACE;

/* kdsim's handle table keeps the count !process shows. */
typedef struct _HANDLE_TABLE {
    ULONG NextHandleNeedingPool;
    LONG ExtraInfoPages;
    ULONG64 TableCode;
    struct _EPROCESS *QuotaProcess;
    LIST_ENTRY HandleTableList;
    ULONG UniqueProcessId;
    ULONG Flags;
    ULONG HandleCount;
    ULONG Spare;
} HANDLE_TABLE;

/* kdsim's EPROCESS: the fields !process reads at their Windows 10 2004
   offsets (UniqueProcessId 0x440, ActiveProcessLinks 0x448, Peb 0x550,
   ImageFileName 0x5a8, ThreadListHead 0x5e0). */
typedef struct _EPROCESS {
    KPROCESS Pcb;
    ULONG64 ProcessLock;
    void *UniqueProcessId;
    LIST_ENTRY ActiveProcessLinks;
    ULONG64 RundownProtect;
    ULONG Flags2;
    ULONG Flags;
    LONG64 CreateTime;
    UCHAR Reserved0[0x38];
    struct _ETHREAD *ForkInProgress;
    UCHAR Reserved1[0x90];
    void *InheritedFromUniqueProcessId;
    ULONG64 OwnerProcessId;
    void *Peb;
    struct _MM_SESSION_SPACE *Session;
    void *Spare1;
    ULONG64 QuotaBlock;
    struct _HANDLE_TABLE *ObjectTable;
    UCHAR Reserved2[0x30];
    UCHAR ImageFileName[15];
    UCHAR PriorityClass;
    UCHAR Reserved3[0x28];
    LIST_ENTRY ThreadListHead;
    ULONG ActiveThreads;
    ULONG Reserved4;
    UCHAR Reserved5[0x8];
} EPROCESS;

typedef enum _SIM_STATE { SimStateIdle = 0, SimStateTicking = 1, SimStateAsserting = 2 } SIM_STATE;
