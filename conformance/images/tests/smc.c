/* smc: self-modifying code at the instructions a simulator must carry out
 * itself. A small routine is written into memory, run, rewritten in place
 * and run again, with no serializing instruction in between: the processor
 * must run the new bytes (SDM Vol. 3A, "Self-Modifying Code": a write to a
 * code location already fetched or being executed is detected and the
 * prefetched code invalidated). Each rewrite swaps one system instruction
 * for another of the same or a different length, or an ordinary
 * instruction for a system one, and each run leaves a register that tells
 * which instruction ran. The same at the end of a page and across two. */
#include "rt/rt.h"
#include "rt/arch.h"

#define SENTINEL 0x5a5a5a5au

static uint8_t code[64] __attribute__((aligned(64)));
static uint8_t fresh[64] __attribute__((aligned(64)));   /* never held a system instruction before */
static uint8_t edge[8192] __attribute__((aligned(4096)));  /* code at the end of a page, and across it */

/* Runs `code` with EAX = 0 and EBX = SENTINEL; returns EBX in the high half
 * and EAX in the low half of the result. */
static uint64_t run_at(uint8_t *where)
{
    uint32_t a = 0, b = SENTINEL;
    __asm__ volatile("call *%2" : "+a"(a), "+b"(b) : "r"(where) : "rcx", "rdx", "memory");
    return (uint64_t)b << 32 | a;
}

static uint64_t run(void) { return run_at(code); }

static void put_at(uint8_t *where, const uint8_t *bytes, unsigned n)
{
    for (unsigned i = 0; i < n; i++) ((volatile uint8_t *)where)[i] = bytes[i];
}

static void put(const uint8_t *bytes, unsigned n) { put_at(code, bytes, n); }

void test_main(void)
{
    uint32_t vendor_ebx = cpuid(0, 0).ebx;

    static const uint8_t do_cpuid[] = {0x0f, 0xa2, 0xc3};           /* CPUID; RET */
    static const uint8_t do_rdtsc[] = {0x0f, 0x31, 0xc3};           /* RDTSC; RET */
    static const uint8_t do_cr0[] = {0x0f, 0x20, 0xc0, 0xc3};       /* MOV RAX, CR0; RET */
    static const uint8_t do_nops[] = {0x90, 0x90, 0xc3};            /* NOP; NOP; RET */

    put(do_cpuid, sizeof do_cpuid);
    /* Values that differ between machines (the vendor, CR0's fixed bits)
     * are compared, not printed. */
    tap_check(run() >> 32 == vendor_ebx, "CPUID written into memory runs (EBX = the vendor)");
    tap_check(run() >> 32 == vendor_ebx, "and runs again");

    put(do_rdtsc, sizeof do_rdtsc);
    tap_eq(SENTINEL, run() >> 32, "CPUID rewritten as RDTSC: RDTSC runs (EBX kept)");

    put(do_cr0, sizeof do_cr0);
    tap_check((uint32_t)run() == (uint32_t)read_cr0(), "RDTSC rewritten as MOV RAX, CR0: EAX = CR0");

    put(do_nops, sizeof do_nops);
    tap_eq(SENTINEL, run() >> 32, "rewritten as NOPs: nothing runs (EBX kept)");
    tap_eq(SENTINEL, run() >> 32, "and again");

    put(do_cpuid, sizeof do_cpuid);
    tap_check(run() >> 32 == vendor_ebx, "NOPs rewritten as CPUID: CPUID runs (EBX = the vendor)");

    put_at(fresh, do_nops, sizeof do_nops);
    tap_eq(SENTINEL, run_at(fresh) >> 32, "NOPs at a fresh address run (EBX kept)");
    tap_eq(SENTINEL, run_at(fresh) >> 32, "and again");
    put_at(fresh, do_cpuid, sizeof do_cpuid);
    tap_check(run_at(fresh) >> 32 == vendor_ebx, "rewritten as CPUID: CPUID runs (EBX = the vendor)");

    /* A system instruction in the last bytes of a page (a simulator that
     * keeps decoded instructions must compare them there too), and one
     * that continues on the next page, rewritten on that page. */
    uint8_t *at_end = edge + 4096 - sizeof do_cpuid;
    put_at(at_end, do_cpuid, sizeof do_cpuid);
    tap_check(run_at(at_end) >> 32 == vendor_ebx, "CPUID ending a page runs (EBX = the vendor)");
    tap_check(run_at(at_end) >> 32 == vendor_ebx, "and runs again");
    put_at(at_end, do_rdtsc, sizeof do_rdtsc);
    tap_eq(SENTINEL, run_at(at_end) >> 32, "rewritten as RDTSC: RDTSC runs (EBX kept)");
    uint8_t *across = edge + 4095;
    put_at(across, do_cpuid, sizeof do_cpuid);
    tap_check(run_at(across) >> 32 == vendor_ebx, "CPUID across two pages runs (EBX = the vendor)");
    tap_check(run_at(across) >> 32 == vendor_ebx, "and runs again");
    put_at(across + 1, do_rdtsc + 1, 1);
    tap_eq(SENTINEL, run_at(across) >> 32, "its second byte rewritten on the next page (RDTSC): RDTSC runs (EBX kept)");
}
