/*
 * halt - executes HLT with interrupts disabled: the machine can never wake,
 * which the simulator reports as a stuck guest.
 */
#include "guest.h"

int kmain(void)
{
    puts("halt: cli; hlt\n");
    __asm__ volatile("cli\n\thlt");
    return 1;
}
