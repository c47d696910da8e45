# Assembly half of the unwind test image: one function per unwind code,
# a chained entry, machine frames, a tail call and a leaf without .pdata.
# The test in internal/unwind runs Root in a small x86 emulator and unwinds
# at every instruction; int3 and ud2 stand for a hardware interrupt that
# enters TrapStub and for an exception with an error code (TrapStubErr).
	.intel_syntax noprefix
	.text

	.globl LeafNoPdata
LeafNoPdata:
	mov eax, 1
	ret

	.globl __chkstk
__chkstk:
	ret

	.globl Root
	.def Root; .scl 2; .type 32; .endef
	.seh_proc Root
Root:
	push rbp
	.seh_pushreg rbp
	push rbx
	.seh_pushreg rbx
	sub rsp, 0x28
	.seh_stackalloc 0x28
	.seh_endprologue
	mov rbx, 0x1111
	mov ecx, 0
	mov edx, 0
	call DriverEntry
	call FramePtr
	call BigFrame
	call SmallSaves
	call Chained
	call Trapper
	call TailCaller
	add rsp, 0x28
	pop rbx
	pop rbp
	ret
	.seh_endproc

# SET_FPREG with a body that moves RSP, undone by lea rsp,[rbp+disp].
	.globl FramePtr
	.def FramePtr; .scl 2; .type 32; .endef
	.seh_proc FramePtr
FramePtr:
	push rbp
	.seh_pushreg rbp
	push rdi
	.seh_pushreg rdi
	sub rsp, 0x40
	.seh_stackalloc 0x40
	lea rbp, [rsp+0x20]
	.seh_setframe rbp, 0x20
	.seh_endprologue
	mov rdi, 5
	sub rsp, 0x30
	call LeafNoPdata
	lea rsp, [rbp+0x20]
	pop rdi
	pop rbp
	ret
	.seh_endproc

# ALLOC_LARGE with a 32-bit size, SAVE_NONVOL_FAR and SAVE_XMM128_FAR.
	.globl BigFrame
	.def BigFrame; .scl 2; .type 32; .endef
	.seh_proc BigFrame
BigFrame:
	push r12
	.seh_pushreg r12
	sub rsp, 0x200000
	.seh_stackalloc 0x200000
	mov [rsp+0x80010], r13
	.seh_savereg r13, 0x80010
	movaps [rsp+0x100010], xmm6
	.seh_savexmm xmm6, 0x100010
	.seh_endprologue
	mov r12, 0x12
	mov r13, 0x13
	xorps xmm6, xmm6
	call MedFrame
	movaps xmm6, [rsp+0x100010]
	mov r13, [rsp+0x80010]
	add rsp, 0x200000
	pop r12
	ret
	.seh_endproc

# ALLOC_LARGE with a 16-bit size, SAVE_NONVOL and SAVE_XMM128.
	.globl MedFrame
	.def MedFrame; .scl 2; .type 32; .endef
	.seh_proc MedFrame
MedFrame:
	push rsi
	.seh_pushreg rsi
	sub rsp, 0x11000
	.seh_stackalloc 0x11000
	mov [rsp+0x100], rdi
	.seh_savereg rdi, 0x100
	movaps [rsp+0x200], xmm8
	.seh_savexmm xmm8, 0x200
	.seh_endprologue
	mov rsi, 0x21
	mov rdi, 0x22
	xorps xmm8, xmm8
	call LeafNoPdata
	movaps xmm8, [rsp+0x200]
	mov rdi, [rsp+0x100]
	add rsp, 0x11000
	pop rsi
	ret
	.seh_endproc

# ALLOC_SMALL, then saves into the allocated frame.
	.globl SmallSaves
	.def SmallSaves; .scl 2; .type 32; .endef
	.seh_proc SmallSaves
SmallSaves:
	sub rsp, 0x48
	.seh_stackalloc 0x48
	mov [rsp+0x50], rbx
	.seh_savereg rbx, 0x50
	movaps [rsp+0x20], xmm7
	.seh_savexmm xmm7, 0x20
	.seh_endprologue
	mov rbx, 0x31
	xorps xmm7, xmm7
	call MedFrame
	movaps xmm7, [rsp+0x20]
	mov rbx, [rsp+0x50]
	add rsp, 0x48
	ret
	.seh_endproc

# A function in two .pdata entries: the second chains to the first.
# Its unwind data is written by hand below (the assembler would emit
# overlapping ranges for .seh_startchained).
	.globl Chained
Chained:
	push rsi
Chained_p1:
	sub rsp, 0x20
Chained_p2:
	mov rsi, 0x41
	.globl Chained_part
Chained_part:
	push rdi
Chained_part_p1:
	mov rdi, 0x42
	call LeafNoPdata
	pop rdi
	add rsp, 0x20
	pop rsi
	ret
Chained_end:

# Takes an interrupt (int3) and an exception with an error code (ud2).
	.globl Trapper
	.def Trapper; .scl 2; .type 32; .endef
	.seh_proc Trapper
Trapper:
	push rbx
	.seh_pushreg rbx
	sub rsp, 0x20
	.seh_stackalloc 0x20
	.seh_endprologue
	mov rbx, 0x51
	int3
	nop
	ud2
	nop
	add rsp, 0x20
	pop rbx
	ret
	.seh_endproc

# Interrupt entry: PUSH_MACHFRAME without an error code.
	.globl TrapStub
	.def TrapStub; .scl 2; .type 32; .endef
	.seh_proc TrapStub
TrapStub:
	.seh_pushframe
	push rbp
	.seh_pushreg rbp
	sub rsp, 0x10
	.seh_stackalloc 0x10
	.seh_endprologue
	mov rbp, 0x61
	call LeafNoPdata
	.globl TrapStub_epi
TrapStub_epi:
	add rsp, 0x10
	pop rbp
	iretq
	.seh_endproc

# Exception entry: PUSH_MACHFRAME with an error code.
	.globl TrapStubErr
	.def TrapStubErr; .scl 2; .type 32; .endef
	.seh_proc TrapStubErr
TrapStubErr:
	.seh_pushframe @code
	push rbp
	.seh_pushreg rbp
	.seh_endprologue
	mov rbp, 0x62
	call LeafNoPdata
	.globl TrapStubErr_epi
TrapStubErr_epi:
	pop rbp
	add rsp, 8
	iretq
	.seh_endproc

# Ends in a tail call: jmp to another function is an epilog.
	.globl TailCaller
	.def TailCaller; .scl 2; .type 32; .endef
	.seh_proc TailCaller
TailCaller:
	push rbx
	.seh_pushreg rbx
	sub rsp, 0x20
	.seh_stackalloc 0x20
	.seh_endprologue
	mov rbx, 0x71
	call LeafNoPdata
	add rsp, 0x20
	pop rbx
	jmp MedFrame
	.seh_endproc

	.section .xdata,"dr"
	.p2align 2
Chained_xdata:
	.byte 1                       # version 1, no flags
	.byte Chained_p2 - Chained    # prolog size
	.byte 2                       # two codes
	.byte 0                       # no frame register
	.byte Chained_p2 - Chained, 0x32   # ALLOC_SMALL 0x20
	.byte Chained_p1 - Chained, 0x60   # PUSH_NONVOL rsi
	.p2align 2
Chained_part_xdata:
	.byte 0x21                    # version 1, UNW_FLAG_CHAININFO
	.byte Chained_part_p1 - Chained_part
	.byte 1
	.byte 0
	.byte Chained_part_p1 - Chained_part, 0x70  # PUSH_NONVOL rdi
	.short 0                      # pad to an even slot count
	.rva Chained
	.rva Chained_part
	.rva Chained_xdata

	.section .pdata,"dr"
	.p2align 2
	.rva Chained
	.rva Chained_part
	.rva Chained_xdata
	.rva Chained_part
	.rva Chained_end
	.rva Chained_part_xdata
