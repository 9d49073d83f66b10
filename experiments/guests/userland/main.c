/* Multi-call binary: the applet is chosen by the base name of argv[0]
 * (/init, /bin/checksum, ...), or by argv[1] when started as "flbox APPLET". */
#include "fl.h"

#include <string.h>
#include <unistd.h>

struct applet {
    const char *name;
    int (*fn)(int, char **);
};

static const struct applet applets[] = {
    {"init", init_main},         {"shell", shell_main},   {"checksum", checksum_main},
    {"sort", sort_main},         {"filerw", filerw_main}, {"forkexec", forkexec_main},
    {"true", true_main},
};

static int dispatch(const char *name, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
        if (strcmp(applets[i].name, name) == 0)
            return applets[i].fn(argc, argv);
    return -1000;
}

int true_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int main(int argc, char **argv)
{
    if (getpid() == 1)
        return init_main(argc, argv);
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : (argc > 0 ? argv[0] : "");
    int rc = dispatch(base, argc, argv);
    if (rc != -1000)
        return rc;
    if (argc > 1) {
        rc = dispatch(argv[1], argc - 1, argv + 1);
        if (rc != -1000)
            return rc;
    }
    fl_printf("usage: flbox {init|shell|checksum|sort|filerw|forkexec|true}\n");
    return 2;
}
