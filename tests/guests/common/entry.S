/*
 * entry.S - multiboot v1 header and entry point shared by all guest kernels.
 *
 * The loader enters _start in 32-bit protected mode with paging and
 * interrupts off, EAX = 0x2BADB002 and EBX = the multiboot info address.  We
 * record both, switch to our own stack and our own GDT (never relying on the
 * loader's), zero .bss (noting whether the loader had already done so), then
 * call kmain().  kmain's return value is the exit status.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002   /* bit 1: please provide mem_lower/mem_upper */

    .section .multiboot, "ax"
    /* Loaders that simply jump to the load address (e.g. Bochs' "nullkernel"
     * 32-bit image loader) land here; multiboot loaders use the ELF entry. */
    jmp _start
    .p2align 2
    .globl multiboot_header
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
    .type _start, @function
_start:
    cli
    movl %eax, mb_magic
    movl %ebx, mb_info_addr
    movl $boot_stack_top, %esp
    cld

    /* install our GDT before anything else touches a segment register */
    lgdt gdt_ptr
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

    /* count non-zero dwords in .bss (loader should have zeroed it), zero it */
    movl $__bss_start, %edi
    xorl %edx, %edx
2:  cmpl $__bss_end, %edi
    jae 3f
    cmpl $0, (%edi)
    je 4f
    incl %edx
4:  movl $0, (%edi)
    addl $4, %edi
    jmp 2b
3:
    /* boot_stack lives in .bss too: nothing has been pushed yet */
    movl %edx, boot_bss_dirty

    call guest_init
    call kmain
    pushl %eax
    call exit
5:  cli
    hlt
    jmp 5b

    .bss
    .p2align 4
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip 32768
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
