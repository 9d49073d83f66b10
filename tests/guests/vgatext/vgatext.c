/*
 * vgatext - writes a line straight into the VGA text buffer at 0xB8000 (no
 * BIOS involved) and exits 0. Run with `faultline run --pc --screen-text`
 * it checks the VGA model's text memory and screen capture end to end; run
 * without devices the writes land in plain RAM and it still passes.
 */
#include "guest.h"

int kmain(void)
{
    static const char msg[] = "faultline VGA text check";
    volatile uint16_t *screen = (volatile uint16_t *)0xB8000;
    for (unsigned row = 0; row < 25; ++row)
        for (unsigned col = 0; col < 80; ++col)
            screen[row * 80 + col] = 0x0720;  /* grey on black space */
    for (unsigned i = 0; msg[i]; ++i)
        screen[2 * 80 + 4 + i] = (uint16_t)(0x1F00 | (uint8_t)msg[i]);
    puts("vgatext: wrote the message at row 2, column 4\n");
    return 0;
}
