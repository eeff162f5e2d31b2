/* bench_compute: a register-only loop of a fixed number of iterations, for
 * `make bench` (guest instructions per second on hvsim, QEMU and Bochs).
 * Prints the work done, never a time: the runner times the whole run.
 * BENCH_COMPUTE_ITERS comes from the build (HVSIM_BENCH_COMPUTE_ITERS). */
#include "rt/rt.h"

#ifndef BENCH_COMPUTE_ITERS
#error "BENCH_COMPUTE_ITERS must be defined by the build"
#endif
#define INSNS_PER_ITER 4

/* Four instructions per iteration: LEA, XOR, DEC, JNZ. */
static uint64_t compute_loop(uint64_t iters)
{
    uint64_t a = 0, b = 1, n = iters;
    __asm__ volatile("1: lea 1(%0,%1), %0\n"
                     "   xor %0, %1\n"
                     "   dec %2\n"
                     "   jnz 1b\n"
                     : "+r"(a), "+r"(b), "+r"(n));
    return a ^ b;
}

/* The same recurrence in C, to check the loop computes what it should. */
static uint64_t compute_reference(uint64_t iters)
{
    uint64_t a = 0, b = 1;
    for (uint64_t i = 0; i < iters; i++) {
        a = a + b + 1;
        b ^= a;
    }
    return a ^ b;
}

void test_main(void)
{
    tap_eq(compute_reference(1000), compute_loop(1000), "loop matches its C reference over 1000 iterations");
    rt_printf("# bench compute iterations=%llu insns_per_iteration=%u\n",
              (unsigned long long)BENCH_COMPUTE_ITERS, INSNS_PER_ITER);
    uint64_t sum = compute_loop(BENCH_COMPUTE_ITERS);
    rt_printf("# bench compute checksum=0x%llx\n", (unsigned long long)sum);
    tap_check(true, "compute loop finished %llu iterations", (unsigned long long)BENCH_COMPUTE_ITERS);
}
