/* kdtdrv: a small driver-like image whose PDB exercises kd's PDB reader.
 * Types: nested structs, bitfields, arrays, enums (with large and negative
 * values), unions (named and anonymous), pointers (self, double, function),
 * const/volatile, a structure over 32 KiB (numeric leaf size).
 * Functions: exported, static, a leaf, a frame-pointer function (alloca). */

typedef unsigned long long ULONG64;
typedef unsigned int ULONG;
typedef unsigned short USHORT;
typedef unsigned char UCHAR;

typedef struct _KDT_LIST_ENTRY {
    struct _KDT_LIST_ENTRY *Flink;
    struct _KDT_LIST_ENTRY *Blink;
} KDT_LIST_ENTRY;

typedef enum _KDT_STATE {
    KdtIdle = 0,
    KdtRunning = 1,
    KdtBroken = -1,
    KdtHigh = 0x7FFFFFFF
} KDT_STATE;

typedef enum _KDT_FLAGS {
    KdtFlagNone = 0,
    KdtFlagTop = 0x80000000u
} KDT_FLAGS;

typedef int (*KDT_CALLBACK)(void *Context, ULONG Reason);

struct _KDT_OBJECT {
    ULONG64 Id;
    struct _KDT_OBJECT *Next;
    struct _KDT_OBJECT **Owner;
    USHORT Length;
    char Name[15];
    ULONG Kind : 3;
    ULONG Mode : 5;
    ULONG Spare : 24;
    ULONG64 Big : 40;
    ULONG64 Small : 24;
    struct _KDT_HEADER {
        UCHAR Type;
        UCHAR Size;
        union {
            ULONG Whole;
            struct {
                USHORT Low;
                USHORT High;
            } Parts;
        } u;
    } Header;
    union {
        ULONG64 Value;
        void *Pointer;
    };
    KDT_LIST_ENTRY Links;
    KDT_STATE State;
    KDT_FLAGS Flags;
    KDT_CALLBACK Callback;
    const volatile ULONG *Counter;
    int Matrix[3][4];
    struct _KDT_OBJECT *Children[2];
};

typedef struct _KDT_BIG {
    ULONG Count;
    UCHAR Buffer[40000];
    ULONG64 Tail;
} KDT_BIG;

struct _KDT_OBJECT KdtGlobalObject;
KDT_BIG KdtBigBuffer;
static ULONG KdtStaticCounter;
const volatile ULONG KdtReadOnly = 7;

void *__cdecl memset(void *d, int c, unsigned long long n);
void __chkstk(void) {}

__declspec(noinline) int KdtLeaf(int x) { return x * 3 + (int)KdtStaticCounter; }

static __declspec(noinline) int KdtStaticHelper(struct _KDT_OBJECT *o) {
    return o->Kind + o->Mode + (int)o->Header.u.Parts.Low;
}

__declspec(noinline) int KdtMiddle(struct _KDT_OBJECT *o) {
    volatile char b[300];
    b[0] = (char)o->Length;
    b[299] = (char)o->Name[1];
    return KdtLeaf(b[0] + b[299]) + (int)o->Id + KdtStaticHelper(o);
}

__declspec(noinline) int KdtFramePointer(unsigned n) {
    volatile char *p = __builtin_alloca(n);
    p[0] = (char)n;
    return KdtMiddle(&KdtGlobalObject) + p[0];
}

static int KdtCallbackImpl(void *Context, ULONG Reason) {
    return (int)Reason + (Context != 0);
}

int DriverEntry(void *DriverObject, void *RegistryPath) {
    KdtGlobalObject.Length = 3;
    KdtGlobalObject.Callback = KdtCallbackImpl;
    KdtGlobalObject.State = KdtRunning;
    KdtBigBuffer.Count = KdtReadOnly;
    KdtStaticCounter++;
    return KdtFramePointer(64) + KdtGlobalObject.Callback(DriverObject, 1) + (RegistryPath != 0);
}
