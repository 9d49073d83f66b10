/*
 * null_kernel.S - the trivial multiboot v1 kernel used by
 * tests/bench/cpu_peers.sh to measure each emulator's fixed cost (process
 * start, firmware, kernel loading, exit) so it can be subtracted from the
 * benchmark kernels' wall times.
 *
 * It only prints "PASS\n" on the debug console (port 0xE9), the same final
 * line the project's guest kernels print, and writes exit status 0 to port
 * 0xF4.  The `exit` label marks that final stretch (cpu_peers.sh puts a Bochs
 * breakpoint there when it asks Bochs for instruction counts).
 *
 * Built by cpu_peers.sh (gcc -m32 -c, then ld with a one-section linker script
 * placing .text at 1 MiB).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002

    .text
    .p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl _start
_start:
    cli
    jmp exit

    .globl exit
exit:
    movl $msg, %esi
    movw $0xe9, %dx
1:  lodsb
    testb %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:  xorl %eax, %eax
    movw $0xf4, %dx
    outl %eax, %dx
3:  cli
    hlt
    jmp 3b

msg:
    .asciz "PASS\n"

    .section .note.GNU-stack, "", @progbits
