/*
 * isr.S - one entry stub per interrupt vector (0..255) and the common path.
 *
 * Each stub makes the stack look the same (a dummy error code is pushed for
 * vectors where the CPU pushes none), pushes its vector number and jumps to
 * isr_common, which saves all general and data segment registers into a
 * struct regs (guest.h), loads the kernel data segment and calls
 * isr_dispatch(struct regs *).  The dispatcher may edit the frame (EIP, CS,
 * EFLAGS, registers) before we return with IRET.
 *
 * Vectors with a CPU error code: 8, 10, 11, 12, 13, 14, 17.  (A software INT n
 * to one of those pushes no error code; tests only use INT n for n >= 32.)
 */
    .altmacro

    .macro STUB n
    .p2align 3
isr_stub_\n:
    .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17)
    .else
    pushl $0
    .endif
    pushl $\n
    jmp isr_common
    .endm

    .macro STUBADDR n
    .long isr_stub_\n
    .endm

    .text
    .set vec, 0
    .rept 256
    STUB %vec
    .set vec, vec + 1
    .endr

    .globl isr_common
isr_common:
    pushal
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    cld
    pushl %esp
    call isr_dispatch
    addl $4, %esp
    popl %gs
    popl %fs
    popl %es
    popl %ds
    popal
    addl $8, %esp
    iret

    .section .rodata
    .p2align 2
    .globl isr_table
isr_table:
    .set vec, 0
    .rept 256
    STUBADDR %vec
    .set vec, vec + 1
    .endr

    .section .note.GNU-stack, "", @progbits
