/*
 * keyboard - reads a line typed on the PS/2 keyboard by polling the i8042
 * (status port 0x64 bit 0, data port 0x60; the controller translates to scan
 * code set 1), echoes it on the debug console as "typed: <line>" and exits 0
 * when Enter arrives. Run with `faultline run --pc --type "TEXT\n"`: it checks
 * that keyboard input from a script reaches a guest program. Gives up with
 * exit 3 if nothing arrives for a long time.
 */
#include "guest.h"

/* Set 1 make codes 0x02..0x39 to ASCII (unshifted US layout); 0 = ignored. */
static const char set1[0x3A] = {
    0, 0, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', 0, 0,
    'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n', 0, 'a', 's',
    'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0, '\\', 'z', 'x', 'c', 'v',
    'b', 'n', 'm', ',', '.', '/', 0, '*', 0, ' ',
};

int kmain(void)
{
    char line[128];
    unsigned n = 0, idle = 0;
    puts("keyboard: waiting for input\n");
    while (idle < 50000000u) {
        if (!(inb(0x64) & 1)) {
            ++idle;
            continue;
        }
        idle = 0;
        uint8_t code = inb(0x60);
        if (code & 0x80 || code >= sizeof set1)
            continue; /* break codes, extended prefixes, keys we do not map */
        char ch = set1[code];
        if (!ch)
            continue;
        if (ch == '\n') {
            line[n] = 0;
            printf("typed: %s\n", line);
            return 0;
        }
        if (n + 1 < sizeof line)
            line[n++] = ch;
    }
    puts("keyboard: no input arrived\n");
    return 3;
}
