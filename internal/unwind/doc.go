// Package unwind walks x64 Windows stacks the way the Windows unwinder
// does, from a register context and the .pdata and UNWIND_INFO of the
// images the code lives in.
//
// One step (Step) turns the context of a frame into the context of its
// caller. The function's RUNTIME_FUNCTION gives its UNWIND_INFO; if the
// instruction pointer is in an epilog (found by decoding the instruction
// bytes there, or from the version 2 epilog descriptors) the rest of the
// epilog is emulated; otherwise the unwind codes are undone in order
// (PUSH_NONVOL, ALLOC_LARGE, ALLOC_SMALL, SET_FPREG, SAVE_NONVOL(_FAR),
// SAVE_XMM128(_FAR), PUSH_MACHFRAME), skipping the ones whose prolog
// instruction has not run yet, following chained entries to their parents,
// and finally popping the return address unless a machine frame supplied
// the caller's RIP and RSP. A function in a known image without a
// RUNTIME_FUNCTION is a leaf: its return address is at RSP.
//
// Walk repeats Step, records for every frame the stack pointer, instruction
// pointer, return address and how the frame was found, and stops at a zero
// return address, a stack pointer that does not grow, a frame limit or the
// caller's context being cancelled. When the code is in no known image, or
// its unwind data cannot be read, Walk can follow the RBP chain instead;
// such frames are marked as guesses.
//
// The package reads target memory through the Memory interface and finds
// unwind data through Lookup, so the debugger core supplies both (with its
// memory cache and module list) and tests supply maps; Modules is a
// ready Lookup over images whose .pdata internal/pe has read. Memory should
// return the original bytes under software breakpoints: the epilog check
// decodes code bytes. All data is hostile: reads are fixed-size, chains
// are limited to 32 links and frames to Options.MaxFrames.
package unwind
