/*
 * spin - never exits: loops forever with interrupts disabled but without
 * HLT, so only an instruction limit can end the run.
 */
#include "guest.h"

int kmain(void)
{
    puts("spin: looping forever\n");
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}
