/*
 * realmode_tramp.S - code that runs in real mode for the realmode kernel.
 *
 * rm_run (32-bit, called from C) leaves protected mode the documented way:
 * far jump to a 16-bit code segment, load 16-bit data segments with 64 KiB
 * limits, clear CR0.PE, far jump to a real-mode CS.  The real-mode part
 * (everything between tramp_start and tramp_end, copied by C to TRAMP_BASE
 * and addressed with offsets relative to tramp_start) does its work, writes
 * results through FS into the result block, then sets CR0.PE again and far
 * jumps (with a 32-bit offset) back into 32-bit code.
 */
#include "realmode.h"

    .text
    .code32
    .globl rm_run
rm_run:
    pushal
    movl %esp, rm_saved_esp
    sidt rm_saved_idtr
    sgdt TRAMP_BASE + (rm_gdtr - tramp_start)
    ljmp $0x30, $(rm16_entry - tramp_start)   /* SEL_CODE16, base TRAMP_BASE */

    .globl rm_back32
rm_back32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl rm_saved_esp, %esp
    lidt rm_saved_idtr
    popal
    ret

    .globl tramp_start, tramp_end
    .p2align 4
tramp_start:
    .code16
rm16_entry:
    /* 16-bit protected mode: give every data segment a real-mode-like cache */
    movw $0x38, %ax            /* SEL_DATA16: base 0, limit 0xFFFF */
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl %cr0, %eax
    andl $~1, %eax
    movl %eax, %cr0
    ljmp $TRAMP_SEG, $(rm_entry - tramp_start)

rm_entry:
    /* real mode from here on */
    movw $RM_STACK_SEG, %ax
    movw %ax, %ss
    movl $RM_STACK_TOP, %esp
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw $RES_SEG, %ax
    movw %ax, %fs
    lidt %cs:(rm_ivt_desc - tramp_start)

    movl %cr0, %eax
    movl %eax, %fs:R_CR0

    /* --- segment arithmetic: physical = segment * 16 + offset --- */
    movw $0x2000, %ax
    movw %ax, %ds
    movw $0x0010, %si
    movl (%si), %eax
    movl %eax, %fs:R_SEG1
    movw $0x1FFF, %ax
    movw %ax, %ds
    movw $0x0020, %si
    movl (%si), %eax
    movl %eax, %fs:R_SEG2
    movw $0x2FFF, %ax
    movw %ax, %ds
    movl 0x0000, %eax
    movl %eax, %fs:R_SEG3
    movw $0x2000, %ax
    movw %ax, %ds
    movl $0x10, %esi
    addr32 movl (%esi), %eax
    movl %eax, %fs:R_SEG4
    movw $0x2100, %ax
    movw %ax, %es
    movw $0x0004, %di
    movl $0xA5A5F00D, %es:(%di)

    /* --- software interrupt through the IVT --- */
    movw $0x1234, %ax
    movw $0x1111, %bx
    stc
    int $0x30
rm_after_int:
    movw %ax, %fs:R_INT_AX
    movw $(rm_after_int - tramp_start), %fs:R_INT_RET

    /* --- divide error through IVT[0]; the handler skips the 2-byte div --- */
    movw $100, %ax
    xorb %bl, %bl
rm_de_site:
    divb %bl
    movw $(rm_de_site - tramp_start), %fs:R_DE_SITE

    /* --- 16-bit string instructions --- */
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw $(rm_str - tramp_start), %si
    movw $0x2000, %ax
    movw %ax, %es
    movw $0x0200, %di
    movw $16, %cx
    rep movsb                         /* 2000:0200 = "faultline-rm-str" */

    movw $0x2000, %ax
    movw %ax, %ds
    std
    movw $0x020E, %si
    movw $0x030E, %di
    movw $8, %cx
    rep movsw                         /* copy backwards to 2000:0300 */
    cld
    movw %si, %fs:R_MOVSW_SI
    movw %di, %fs:R_MOVSW_DI

    movw $0x0400, %di
    movw $0xBEEF, %ax
    movw $5, %cx
    rep stosw
    movw %di, %fs:R_STOS_DI
    movw %cx, %fs:R_STOS_CX

    movw $0x0200, %si
    movw $0x0500, %di                 /* C put "faultLine-rm-str" there */
    movw $16, %cx
    repe cmpsb
    pushf
    popw %fs:R_CMPS_FL
    movw %cx, %fs:R_CMPS_CX
    movw %si, %fs:R_CMPS_SI

    movw $0x0200, %di
    movb $'-', %al
    movw $16, %cx
    repne scasb
    movw %cx, %fs:R_SCAS_CX
    movw %di, %fs:R_SCAS_DI

    movw $0x0010, %si
    lodsw
    movw %ax, %fs:R_LODS_AX
    movw %si, %fs:R_LODS_SI

    /* --- 16-bit arithmetic, far call, stack --- */
    movw $0x1234, %ax
    movw $0x0010, %cx
    mulw %cx
    movw %ax, %fs:R_MUL_AX
    movw %dx, %fs:R_MUL_DX

    lcall $TRAMP_SEG, $(rm_farproc - tramp_start)
rm_after_far:
    movw $(rm_after_far - tramp_start), %fs:R_FAR_RET

    movl $RM_STACK_TOP, %esp
    pushw $0x5a5a
    movw %sp, %fs:R_PUSH_SP
    popw %ax

    movl $0x524D4F4B, %fs:R_MAGIC

    /* --- back to 32-bit protected mode --- */
    cli
    lgdtl %cs:(rm_gdtr - tramp_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $rm_back32

rm_int30:
    movw %sp, %fs:R_INT_SP
    pushf
    popw %fs:R_INT_HFL
    movw %sp, %bp
    movw (%bp), %dx
    movw %dx, %fs:R_INT_IP
    movw 2(%bp), %dx
    movw %dx, %fs:R_INT_CS
    movw 4(%bp), %dx
    movw %dx, %fs:R_INT_FL
    addw %bx, %ax
    iret

rm_de_handler:
    pushw %bp
    movw %sp, %bp
    movw 2(%bp), %dx
    movw %dx, %fs:R_DE_IP
    addw $2, 2(%bp)                   /* skip "div %bl" (F6 F3) */
    incw %fs:R_DE_CNT
    popw %bp
    iret

rm_farproc:
    movw %sp, %bp
    movw (%bp), %dx
    movw %dx, %fs:R_FAR_IP
    movw 2(%bp), %dx
    movw %dx, %fs:R_FAR_CS
    lret

rm_str:
    .ascii "faultline-rm-str"
    .p2align 2
rm_ivt_desc:
    .word 0x3FF
    .long 0
rm_gdtr:
    .word 0
    .long 0
tramp_end:

    .globl rm_int30_off, rm_de_off
    .set rm_int30_off, rm_int30 - tramp_start
    .set rm_de_off, rm_de_handler - tramp_start

    .data
    .p2align 2
rm_saved_esp:
    .long 0
rm_saved_idtr:
    .word 0
    .long 0

    .section .note.GNU-stack, "", @progbits
