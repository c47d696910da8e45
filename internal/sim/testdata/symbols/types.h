/* Types of the simulated kernel's data, for its PDBs (dt nt!_KPRCB ...).
   The layouts are the simulator's: the fields it fills are at the offsets
   it writes them (image.go, buildCPU). Written for kdsim; part of gensyms. */
typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef unsigned long ULONG;
typedef unsigned long long ULONG64;

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY;

struct _KPROCESS;

typedef struct _KTHREAD {
    UCHAR Header[0x18];
    void *SListFaultAddress;
    ULONG64 QuantumTarget;
    void *InitialStack;
    void *StackLimit;
    void *StackBase;
    UCHAR Reserved[0x78];
    struct _KPROCESS *Process;
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
} KPROCESS;

typedef enum _SIM_STATE { SimStateIdle = 0, SimStateTicking = 1, SimStateAsserting = 2 } SIM_STATE;
