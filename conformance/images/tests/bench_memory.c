/* bench_memory: a loop that touches 4096 distinct 4 KiB pages (16 MiB, each
 * through its own PTE) pass after pass, for `make bench`: it measures the
 * cost of translations more than of arithmetic. Prints the work done and
 * checks the memory contents afterwards, never a time.
 * BENCH_MEMORY_PASSES comes from the build (HVSIM_BENCH_MEMORY_PASSES). */
#include "rt/rt.h"

#ifndef BENCH_MEMORY_PASSES
#error "BENCH_MEMORY_PASSES must be defined by the build"
#endif
#define PAGES 4096u
#define INSNS_PER_PAGE 4   /* ADD to memory, ADD, DEC, JNZ */
#define INSNS_PER_PASS 5   /* MOV, MOV, INC, DEC, JNZ */

#define P  1ull
#define RW 2ull
#define PS 0x80ull
#define BUF_VA 0x40000000ull /* 1 GiB */
#define BUF_PA 0x2000000ull  /* 32 MiB: the runner gives every machine 64 MiB */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_buf[512] __attribute__((aligned(4096)));
static uint64_t pt_buf[PAGES] __attribute__((aligned(4096)));

static void map_buffer(void)
{
    for (unsigned i = 0; i < 512; i++)
        pd_low[i] = (uint64_t)i * 0x200000 | P | RW | PS;
    for (unsigned i = 0; i < PAGES; i++)
        pt_buf[i] = (BUF_PA + (uint64_t)i * 4096) | P | RW;
    for (unsigned i = 0; i < PAGES / 512; i++)
        pd_buf[i] = (uintptr_t)&pt_buf[i * 512] | P | RW;
    pdpt[0] = (uintptr_t)pd_low | P | RW;
    pdpt[1] = (uintptr_t)pd_buf | P | RW;
    pml4[0] = (uintptr_t)pdpt | P | RW;
    write_cr3((uintptr_t)pml4);
}

/* Pass k (counting from `first`) adds k to the first qword of every page. */
static void touch_pages(uint64_t first, uint64_t passes)
{
    uint64_t va, pages;
    __asm__ volatile("1: mov %[base], %[va]\n"
                     "   mov %[n], %[pages]\n"
                     "2: add %[k], (%[va])\n"
                     "   add $4096, %[va]\n"
                     "   dec %[pages]\n"
                     "   jnz 2b\n"
                     "   inc %[k]\n"
                     "   dec %[passes]\n"
                     "   jnz 1b\n"
                     : [k] "+r"(first), [passes] "+r"(passes), [va] "=&r"(va), [pages] "=&r"(pages)
                     : [base] "i"(BUF_VA), [n] "i"(PAGES)
                     : "memory");
}

/* Every page must hold the same sum; checked through the identity map. */
static bool all_pages_hold(uint64_t want)
{
    for (unsigned i = 0; i < PAGES; i++)
        if (*(volatile uint64_t *)(uintptr_t)(BUF_PA + (uint64_t)i * 4096) != want)
            return false;
    return true;
}

void test_main(void)
{
    for (unsigned i = 0; i < PAGES; i++)
        *(volatile uint64_t *)(uintptr_t)(BUF_PA + (uint64_t)i * 4096) = 0;
    map_buffer();
    touch_pages(1, 2);
    tap_check(all_pages_hold(1 + 2), "two passes left 1 + 2 in each of %u pages", PAGES);

    uint64_t n = BENCH_MEMORY_PASSES;
    rt_printf("# bench memory pages=%u passes=%llu insns_per_page=%u insns_per_pass=%u\n", PAGES,
              (unsigned long long)n, INSNS_PER_PAGE, INSNS_PER_PASS);
    touch_pages(1, n);
    /* 3 from before, plus 1 + 2 + ... + n. */
    uint64_t want = 3 + n * (n + 1) / 2;
    tap_check(all_pages_hold(want), "%llu passes left 0x%llx in each page", (unsigned long long)n,
              (unsigned long long)want);
}
