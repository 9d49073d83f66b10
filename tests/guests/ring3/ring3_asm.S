/*
 * ring3_asm.S - ring transitions for the ring3 kernel.
 *
 * enter_user(entry, user_esp, eflags): saves the kernel's callee-saved
 * registers and ESP, loads the user data selector into DS/ES/FS/GS and IRETs
 * to CPL 3.  The ring-0 "exit" system call later points the IRET frame at
 * user_return, which restores the kernel context and returns from
 * enter_user with EAX as set by the system call.
 *
 * callgate_entry: target of a 32-bit call gate with 2 parameters.  It copies
 * the six dwords the CPU pushed on the ring-0 stack (EIP, CS, 2 parameters,
 * ESP, SS) into cg_frame, records ESP and CS, and returns with lret $8.
 */
    .text
    .globl enter_user, user_return, callgate_entry
enter_user:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, kernel_saved_esp
    movl 20(%esp), %eax      /* entry */
    movl 24(%esp), %ebx      /* user esp */
    movl 28(%esp), %ecx      /* eflags */
    movw $0x23, %dx
    movw %dx, %ds
    movw %dx, %es
    movw %dx, %fs
    movw %dx, %gs
    pushl $0x23
    pushl %ebx
    pushl %ecx
    pushl $0x1B
    pushl %eax
    iret

user_return:
    movw $0x10, %dx
    movw %dx, %ds
    movw %dx, %es
    movw %dx, %fs
    movw %dx, %gs
    movw %dx, %ss
    movl kernel_saved_esp, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

callgate_entry:
    movl %esp, cg_esp
    pushl %eax
    movw %cs, %ax
    movzwl %ax, %eax
    movl %eax, cg_cs
    movl 4(%esp), %eax
    movl %eax, cg_frame
    movl 8(%esp), %eax
    movl %eax, cg_frame + 4
    movl 12(%esp), %eax
    movl %eax, cg_frame + 8
    movl 16(%esp), %eax
    movl %eax, cg_frame + 12
    movl 20(%esp), %eax
    movl %eax, cg_frame + 16
    movl 24(%esp), %eax
    movl %eax, cg_frame + 20
    popl %eax
    lret $8

    .data
    .p2align 2
kernel_saved_esp:
    .long 0

    .section .note.GNU-stack, "", @progbits
