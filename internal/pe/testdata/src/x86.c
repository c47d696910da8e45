/* A PE32 (x86) DLL for the header reader. */
__declspec(dllexport) int Add(int a, int b) { return a + b; }
