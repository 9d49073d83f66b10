/*
 * triple_fault - deliberately shuts the machine down: loads an IDT with limit
 * 0 and executes int3. The #BP cannot be delivered (#GP), the #GP cannot be
 * delivered (#DF), the #DF cannot be delivered: triple fault. The simulator
 * must report a triple fault with its own exit status, not crash.
 */
#include "guest.h"

int kmain(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr = {0, 0};
    puts("triple_fault: loading an empty IDT and raising #BP\n");
    __asm__ volatile("lidt %0\n\tint3" ::"m"(idtr));
    puts("triple_fault: still running (BUG)\n");
    return 1;
}
