/*
 * bochs_boot.S - a 512-byte floppy boot sector that starts one of the
 * project's multiboot v1 guest kernels under Bochs (which cannot load a
 * multiboot ELF itself).  Used only by tests/bench/cpu_peers.sh.
 *
 * Floppy layout (1.44 MB, 18 sectors/track, 2 heads): sector 0 is this boot
 * sector, sectors 1..KSECTORS hold the kernel's flat image (its PT_LOAD
 * segments' file contents laid out by physical address from KLOAD on).
 *
 * Steps: read the image with BIOS int 13h (one sector per call, so no DMA
 * boundary or track crossing issues) to 0x10000, enable A20 (port 0x92),
 * enter 32-bit protected mode with flat segments, copy the image to KLOAD,
 * zero the rest up to KEND (.bss), fill a multiboot info structure at 0x500
 * (flags: mem_lower/mem_upper and a command line "bochs") and jump to KENTRY
 * with EAX = 0x2BADB002, EBX = the info address, interrupts off, paging off:
 * the machine state the multiboot v1 specification promises.
 *
 * Build-time parameters (-D): KSECTORS, KLOAD, KEND, KENTRY, MEM_MB.
 */
#ifndef KSECTORS
#error "define KSECTORS, KLOAD, KEND, KENTRY"
#endif
#ifndef MEM_MB
#define MEM_MB 32
#endif
#define STAGE_SEG 0x1000            /* image staged at 0x10000 in real mode */
#define MBI 0x500                   /* multiboot info */

    .code16
    .text
    .globl _start
_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $0x7c00, %sp
    ljmp $0, $1f
1:  sti
    movb %dl, drive
    movw $STAGE_SEG, %ax
    movw %ax, %es

read_next:
    movw $5, retries
retry:
    /* LBA -> CHS: sector = lba % 18 + 1, head = (lba / 18) % 2, cyl = lba / 36 */
    movw lba, %ax
    xorw %dx, %dx
    movw $18, %bx
    divw %bx
    movb %dl, %cl
    incb %cl
    xorw %dx, %dx
    movw $2, %bx
    divw %bx
    movb %al, %ch
    movb %dl, %dh
    movb drive, %dl
    xorw %bx, %bx
    movw $0x0201, %ax               /* read 1 sector to ES:0 */
    int $0x13
    jnc read_ok
    decw retries
    jz disk_error
    xorb %ah, %ah                   /* reset the drive and try again */
    movb drive, %dl
    int $0x13
    jmp retry
read_ok:
    movw %es, %ax
    addw $0x20, %ax
    movw %ax, %es
    incw lba
    decw remaining
    jnz read_next

    /* stop the floppy motor so its timer does not run during the benchmark */
    movw $0x3f2, %dx
    movb $0x0c, %al
    outb %al, %dx

    cli
    inb $0x92, %al                  /* fast A20 */
    orb $0x02, %al
    andb $0xfe, %al
    outb %al, $0x92
    lgdt gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmp $0x08, $pmode

disk_error:
    movw $err_msg, %si
2:  lodsb
    testb %al, %al
    jz 3f
    outb %al, $0xe9
    jmp 2b
3:  hlt
    jmp 3b

    .code32
pmode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $0x7c00, %esp
    cld
    movl $(STAGE_SEG << 4), %esi
    movl $KLOAD, %edi
    movl $(KSECTORS * 128), %ecx
    rep movsl
    /* zero .bss (and anything up to KEND not covered by the sectors) */
    movl $KEND, %ecx
    subl %edi, %ecx
    jbe 4f
    xorl %eax, %eax
    rep stosb
4:
    movl $MBI, %edi
    xorl %eax, %eax
    movl $16, %ecx
    rep stosl
    movl $0x00000005, MBI + 0       /* flags: bit 0 mem_*, bit 2 cmdline */
    movl $639, MBI + 4              /* mem_lower (KiB) */
    movl $((MEM_MB - 1) * 1024), MBI + 8 /* mem_upper (KiB above 1 MiB) */
    movl $cmdline, MBI + 16
    movl $0x2BADB002, %eax
    movl $MBI, %ebx
    movl $KENTRY, %ecx
    jmp *%ecx

    .p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat 32-bit data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

drive:      .byte 0
lba:        .word 1
remaining:  .word KSECTORS
retries:    .word 0
cmdline:    .asciz "bochs"
err_msg:    .asciz "bochs_boot: disk read error\n"

    .org 510
    .byte 0x55, 0xaa
