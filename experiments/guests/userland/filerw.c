/* filerw: writes a 1 MiB file to the ext2 data partition, syncs, unmounts
 * (which drops the file's cached pages and the block device's page cache),
 * mounts again, reads it back and verifies. Skipped when no disk exists. */
#include "fl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define FR_SIZE (1u << 20)
#define FR_MNT "/mnt"
#define FR_FILE FR_MNT "/filerw.dat"

static const char *const candidates[] = {"/dev/sda2", "/dev/sdb", NULL};

static void fill(uint8_t *buf)
{
    uint32_t s = 0x5EED5EEDu;
    for (uint32_t i = 0; i < FR_SIZE; i += 4) {
        uint32_t v = fl_xorshift32(&s);
        memcpy(buf + i, &v, 4);
    }
}

static int mount_data(const char *dev)
{
    mkdir(FR_MNT, 0755);
    if (mount(dev, FR_MNT, "ext2", 0, NULL) != 0) {
        fl_printf("filerw: mount %s failed: %s\n", dev, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t read_all(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int filerw_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *dev = NULL;
    struct stat st;
    for (int i = 0; candidates[i]; i++)
        if (stat(candidates[i], &st) == 0 && S_ISBLK(st.st_mode)) {
            dev = candidates[i];
            break;
        }
    if (!dev) {
        fl_printf("filerw: no disk, skipped\n");
        return 0;
    }
    uint8_t *want = malloc(FR_SIZE);
    uint8_t *got = malloc(FR_SIZE);
    if (!want || !got) {
        fl_printf("filerw: out of memory\n");
        return 1;
    }
    fill(want);

    if (mount_data(dev) != 0)
        return 1;
    int fd = open(FR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, want, FR_SIZE) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        fl_printf("filerw: write %s failed: %s\n", FR_FILE, strerror(errno));
        umount(FR_MNT);
        return 1;
    }
    sync();
    if (umount(FR_MNT) != 0) {
        fl_printf("filerw: umount failed: %s\n", strerror(errno));
        return 1;
    }

    if (mount_data(dev) != 0)
        return 1;
    fd = open(FR_FILE, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read_all(fd, got, FR_SIZE);
    if (fd >= 0)
        close(fd);
    umount(FR_MNT);
    if (n != (ssize_t)FR_SIZE) {
        fl_printf("filerw: read back %ld of %u bytes: %s\n", (long)n, FR_SIZE,
                  n < 0 ? strerror(errno) : "short file");
        return 1;
    }
    if (memcmp(want, got, FR_SIZE) != 0) {
        size_t i = 0;
        while (want[i] == got[i])
            i++;
        fl_printf("filerw: verify FAILED at offset %zu\n", i);
        return 1;
    }
    fl_printf("filerw: %s crc32 %08x\n", dev, fl_crc32(0, got, FR_SIZE));
    fl_printf("filerw: verify ok\n");
    free(want);
    free(got);
    return 0;
}
