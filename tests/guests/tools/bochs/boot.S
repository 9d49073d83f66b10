/*
 * boot.S - a floppy boot sector that starts a guest kernel under Bochs,
 * which cannot load multiboot ELF files itself.  Used by run-in-bochs.sh to
 * cross-check the behaviour QEMU's TCG does not emulate.
 *
 * Floppy layout: this sector, then the kernel as a flat binary (objcopy -O
 * binary, loaded address 0x100000) from sector 2 on.  The word at offset 508
 * holds the number of kernel sectors (patched by the script).  We read them
 * with INT 13h to 0x10000, enable A20 (port 0x92), enter protected mode,
 * copy the image to 0x100000, build a minimal multiboot info (memory sizes
 * and the command line "maskpic") and jump to 0x100000, which starts with a
 * jump to _start, with EAX = 0x2BADB002 and EBX = the info structure.
 */
#define LOAD_SEG 0x1000
#define MBI 0x0500

    .code16
    .text
    .globl start
start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $0x7C00, %sp
    movb %dl, drive
    sti

    movw $LOAD_SEG, %ax
    movw %ax, %es
    movw $1, %si                  /* LBA of the first kernel sector */
read_loop:
    movw nsect, %cx
    cmpw %cx, %si
    ja read_done
    movw %si, %ax                 /* LBA -> CHS for 18 sectors, 2 heads */
    xorw %dx, %dx
    movw $18, %bx
    divw %bx                      /* ax = LBA / 18, dx = LBA % 18 */
    movb %dl, %cl
    incb %cl                      /* sector */
    movb %al, %dh
    andb $1, %dh                  /* head */
    shrw $1, %ax
    movb %al, %ch                 /* cylinder */
    movb drive, %dl
    xorw %bx, %bx
    movw $0x0201, %ax
    int $0x13
    jc read_error
    movw %es, %ax
    addw $0x20, %ax
    movw %ax, %es
    incw %si
    jmp read_loop
read_error:
    movb $'E', %al
    outb %al, $0xE9
    hlt
    jmp read_error

read_done:
    cli
    inb $0x92, %al                /* fast A20 */
    orb $2, %al
    andb $0xFE, %al
    outb %al, $0x92
    lgdt gdt_desc
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    ljmp $0x08, $pm32

    .code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $0x7C00, %esp
    movzwl nsect, %ecx
    shll $7, %ecx                 /* sectors -> dwords */
    movl $(LOAD_SEG << 4), %esi
    movl $0x100000, %edi
    cld
    rep movsl
    movl $MBI, %ebx
    movl $0x5, 0(%ebx)            /* mem_* and cmdline present */
    movl $639, 4(%ebx)
    movl $(31 * 1024), 8(%ebx)
    movl $cmdline, 16(%ebx)
    movl $0x2BADB002, %eax
    ljmp $0x08, $0x100000

    .p2align 3
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF
    .quad 0x00CF92000000FFFF
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt
cmdline:
    .asciz "maskpic"
drive:
    .byte 0

    .org 508
nsect:
    .word 0
    .word 0xAA55
