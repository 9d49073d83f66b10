/* sort: 200k generated integers, hand-written quicksort, order check,
 * permutation check (sum and xor preserved), digest of the sorted array. */
#include "fl.h"

#include <stdlib.h>

#define SORT_N 200000

static void insertion(int32_t *a, long lo, long hi)
{
    for (long i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap32(int32_t *x, int32_t *y)
{
    int32_t t = *x;
    *x = *y;
    *y = t;
}

/* Median-of-three Hoare partition; recurses into the smaller side. */
static void quicksort(int32_t *a, long lo, long hi)
{
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo])
            swap32(&a[mid], &a[lo]);
        if (a[hi] < a[lo])
            swap32(&a[hi], &a[lo]);
        if (a[hi] < a[mid])
            swap32(&a[hi], &a[mid]);
        int32_t pivot = a[mid];
        long i = lo - 1, j = hi + 1;
        for (;;) {
            do
                i++;
            while (a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (i >= j)
                break;
            swap32(&a[i], &a[j]);
        }
        if (j - lo < hi - j) {
            quicksort(a, lo, j);
            lo = j + 1;
        } else {
            quicksort(a, j + 1, hi);
            hi = j;
        }
    }
    insertion(a, lo, hi);
}

int sort_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int32_t *a = malloc(SORT_N * sizeof *a);
    if (!a) {
        fl_printf("sort: out of memory\n");
        return 1;
    }
    uint32_t s = 0xC0FFEE11u;
    uint64_t sum_before = 0;
    uint32_t xor_before = 0;
    for (long i = 0; i < SORT_N; i++) {
        a[i] = (int32_t)fl_xorshift32(&s);
        sum_before += (uint32_t)a[i];
        xor_before ^= (uint32_t)a[i];
    }
    quicksort(a, 0, SORT_N - 1);
    uint64_t sum_after = 0;
    uint32_t xor_after = 0;
    long disorder = 0;
    for (long i = 0; i < SORT_N; i++) {
        sum_after += (uint32_t)a[i];
        xor_after ^= (uint32_t)a[i];
        if (i > 0 && a[i - 1] > a[i])
            disorder++;
    }
    uint32_t digest = fl_crc32(0, a, SORT_N * sizeof *a);
    fl_printf("sort: n=%d min=%d max=%d digest %08x\n", SORT_N, (int)a[0], (int)a[SORT_N - 1],
              digest);
    free(a);
    if (disorder) {
        fl_printf("sort: %ld elements out of order\n", disorder);
        return 1;
    }
    if (sum_before != sum_after || xor_before != xor_after) {
        fl_printf("sort: result is not a permutation of the input\n");
        return 1;
    }
    return 0;
}
