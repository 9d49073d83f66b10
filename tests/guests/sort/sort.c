/*
 * sort - a fault-injection workload with a self-check (detected errors).
 *
 * Why: besides `checksum` (whose corrupted result is silent data corruption
 * unless compared against the golden output), campaigns need a guest that
 * catches some errors itself, so the "detected" outcome can be exercised.
 * The kernel fills `sort_array` (2048 uint32 in .data) from a fixed linear
 * congruential generator, sorts it in place with a heapsort
 * (`sort_values`), prints "sorted digest=0x%08x" (FNV-1a over the sorted
 * words) and then checks the order itself:
 *   - not sorted: prints "sort check failed" and exits 2 (detected);
 *   - sorted: exits 0.  A corrupted but still sorted array shows up only in
 *     the digest (silent data corruption against the golden run).
 * Fill: x = x * 1664525 + 1013904223 from x = 12345, element = x.
 */
#include "guest.h"

#define SORT_N 2048
#define SORT_EXIT_DETECTED 2

__attribute__((section(".data"), aligned(64))) uint32_t sort_array[SORT_N];
uint32_t sort_digest;

NOINLINE void fill_values(uint32_t *a, uint32_t n)
{
    uint32_t x = 12345u;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        a[i] = x;
    }
}

static void sift_down(uint32_t *a, uint32_t root, uint32_t n)
{
    uint32_t v = a[root];
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= v)
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

NOINLINE void sort_values(uint32_t *a, uint32_t n)
{
    if (n < 2)
        return;
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (uint32_t end = n - 1; end > 0; end--) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

NOINLINE uint32_t digest_values(const uint32_t *a, uint32_t n)
{
    uint32_t h = 0x811C9DC5u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ a[i]) * 0x01000193u;
    return h;
}

NOINLINE int check_sorted(const uint32_t *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        if (a[i - 1] > a[i])
            return 0;
    return 1;
}

int kmain(void)
{
    fill_values(sort_array, SORT_N);
    sort_values(sort_array, SORT_N);
    sort_digest = digest_values(sort_array, SORT_N);
    printf("sorted digest=0x%08x\n", sort_digest);
    if (!check_sorted(sort_array, SORT_N)) {
        puts("sort check failed\n");
        return SORT_EXIT_DETECTED;
    }
    return 0;
}
