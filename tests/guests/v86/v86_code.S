/*
 * v86_code.S - the virtual-8086 program and the ring-0 entry/exit glue.
 *
 * enter_v86(eflags): saves the kernel context and IRETs with EFLAGS.VM=1,
 * pushing the 9-dword v86 frame (EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS).
 * v86_return is where the monitor sends the "exit" service: it restores the
 * kernel context and returns AL of the exit call.
 *
 * The v86 program (v86_start..v86_end, copied to V86_BASE, CS = 0x1000) uses
 * the "DOS-like" services of int 0x21 (AH=02 print DL, AH=30 version,
 * AH=31 check my frame, AH=4C exit) which the 32-bit monitor emulates.
 */
#include "v86.h"

    .text
    .code32
    .globl enter_v86, v86_return
enter_v86:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, v86_saved_esp
    movl 20(%esp), %eax           /* eflags */
    movl 24(%esp), %ecx           /* FS for the result block */
    pushl $0                      /* GS */
    pushl %ecx                    /* FS */
    pushl $0                      /* DS */
    pushl $0                      /* ES */
    pushl $V86_STACK_SEG          /* SS */
    pushl $V86_STACK_TOP          /* ESP */
    pushl %eax                    /* EFLAGS (VM set by the caller) */
    pushl $V86_SEG                /* CS */
    pushl $(v86_entry - v86_start) /* EIP */
    iret

v86_return:
    movw $0x10, %dx
    movw %dx, %ds
    movw %dx, %es
    movw %dx, %fs
    movw %dx, %gs
    movw %dx, %ss
    movl v86_saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .globl v86_start, v86_end
    .p2align 4
v86_start:
    .code16
v86_entry:
    /* direct I/O: allowed because the TSS bitmap permits port 0xE9 */
    movb $'v', %al
    outb %al, $0xE9
    movb $'8', %al
    outb %al, $0xE9
    movb $'6', %al
    outb %al, $0xE9
    /* the rest of the greeting through the monitor */
    movw %cs, %ax
    movw %ax, %ds
    movw $(v86_msg - v86_start), %si
1:  lodsb
    testb %al, %al
    jz 2f
    movb %al, %dl
    movb $0x02, %ah
    int $0x21
    jmp 1b
2:
    /* port 0x80 is denied by the bitmap: #GP even with IOPL=3 */
    xorb %al, %al
    outb %al, $0x80

    /* segment arithmetic */
    movw $0x2000, %ax
    movw %ax, %ds
    movl 0x0010, %eax
    movl %eax, %fs:V_SEG1
    movw $0x1FFF, %ax
    movw %ax, %ds
    movl 0x0020, %eax
    movl %eax, %fs:V_SEG2

    /* services */
    movb $0x30, %ah
    int $0x21
    movw %ax, %fs:V_VER

    movw $0x2000, %ax
    movw %ax, %ds
    movw $0x2100, %ax
    movw %ax, %es
    movw $0x4000, %ax
    movw %ax, %gs
    movw %sp, %fs:V_SP
    movb $0x31, %ah
    int $0x21                     /* monitor checks this frame */

    /* interrupt flag: real (IOPL=3) or virtual (IOPL<3, emulated) */
    cli
    pushf
    popw %ax
    movw %ax, %fs:V_FL_CLI
    sti
    pushf
    popw %ax
    movw %ax, %fs:V_FL_STI
    cli

    /* a divide error goes through the protected-mode IDT */
    movw $0x0DE00, %fs:V_DE
    movw $7, %ax
    xorb %bl, %bl
    divb %bl                       /* handler skips these 2 bytes */
    movw $100, %ax
    movb $7, %bl
    divb %bl                       /* AL = 14, AH = 2 */
    movw %ax, %fs:V_DIV_AX

    /* string copy inside segment 0x2000 */
    cld
    movw $0x2000, %ax
    movw %ax, %ds
    movw %ax, %es
    movw $0x0010, %si
    movw $0x0100, %di
    movw $8, %cx
    rep movsb
    movw %di, %fs:V_MOVS_DI

    movl $0x56383621, %fs:V_MAGIC
    movw $0x4C00, %ax
    int $0x21
3:  jmp 3b

v86_msg:
    .asciz " mode says hello through int 0x21\n"
v86_end:

    .data
    .p2align 2
v86_saved_esp:
    .long 0

    .section .note.GNU-stack, "", @progbits
