// kdtcls: C++ records for kd's PDB reader: classes with nested types
// (LF_NESTTYPE), base classes, static members, methods, a 64-bit enum
// (quadword numeric leaves), and extern "C" entry points.

namespace kdt {

enum class Wide : unsigned long long {
    Small = 1,
    Large = 0x123456789ull,
    Max = 0xFFFFFFFFFFFFFFFFull
};

class Base {
public:
    unsigned int BaseField;
    virtual int Get() const { return (int)BaseField; }
};

class Device : public Base {
public:
    struct Queue {
        int Depth;
        Queue *Next;
    };
    enum Color : signed char { Red = -2, Green = 0, Blue = 100 };
    Queue Head;
    Color Tint;
    Wide Span;
    static int Instances;
    int Get() const override { return Head.Depth + Tint; }
};

int Device::Instances = 0;

}  // namespace kdt

kdt::Device KdtDevice;

extern "C" __declspec(noinline) int KdtCppEntry(int n) {
    KdtDevice.Head.Depth = n;
    KdtDevice.Span = kdt::Wide::Large;
    kdt::Device::Instances++;
    kdt::Base *b = &KdtDevice;
    return b->Get();
}
