/* C half of the unwind test image: clang's own prologs and epilogs. */
struct _MYOBJ {
	unsigned long long Id;
	struct _MYOBJ *Next;
	unsigned short Len;
	char Name[15];
	unsigned int Flags : 3, Kind : 5;
};
struct _MYOBJ GlobalObj;
static int StaticCounter;
void LeafNoPdata(void);

__declspec(noinline) int Leaf(int x) { return x * 3 + StaticCounter; }

__declspec(noinline) int Middle(struct _MYOBJ *o)
{
	volatile char b[300];
	b[0] = (char)o->Len;
	return Leaf(b[0]) + (int)o->Id;
}

/* A dynamic allocation makes clang use RBP as the frame register. */
__declspec(noinline) int WithAlloca(int n)
{
	volatile char *p = __builtin_alloca(n);
	p[0] = (char)n;
	LeafNoPdata();
	return p[0] + Leaf(n);
}

int DriverEntry(void *a, void *b)
{
	GlobalObj.Len = 3;
	return Middle(&GlobalObj) + WithAlloca(40);
}
