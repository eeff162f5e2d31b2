/* svm_pausefilt: the PAUSE intercept filter and its threshold, as the
 * CPU's CPUID says it has them (AMD APM Vol. 2, "Pause Intercept
 * Filtering"; Fn8000_000A EDX bit 10 the filter, bit 12 the threshold).
 * Under the PAUSE intercept with PAUSE_FILTER_COUNT 3: a tight PAUSE loop
 * completes 3 PAUSEs and exits on the 4th with the filter (0 without it);
 * a loop whose PAUSEs are far more than PAUSE_FILTER_THRESHOLD cycles apart
 * never exits with the threshold (each PAUSE reloads the count), and
 * exits like the tight loop without it or with threshold 0.
 *
 * The expected values follow the CPUID bits and the lines print only what
 * every engine computes the same way: the image runs on Bochs ryzen (the
 * filter), QEMU EPYC (neither) and hvsim zen and is compared there, and it
 * runs on hvsim zen2, the only engine with the threshold, where it must
 * pass on its own (no oracle offers the threshold). */
#include "tests/svm/svm_lib.h"

#define ICPT1_PAUSE 23
#define EXIT_PAUSE 0x077
#define VMCB_PAUSE_FILTER_THRESHOLD 0x03C
#define VMCB_PAUSE_FILTER_COUNT 0x03E
#define FILTER_COUNT 3
#define THRESHOLD 1000     /* cycles; the spaced loop waits about 20000 instructions */
#define LOOP_PAUSES 10     /* a loop that is not stopped reaches VMMCALL after these */

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

extern char g_tight[], g_spaced[];
extern volatile uint64_t pauses;
__asm__(".text\n"
        "g_tight: pause\n incq pauses(%rip)\n cmpq $10, pauses(%rip)\n jb g_tight\n vmmcall\n"
        "g_spaced: pause\n incq pauses(%rip)\n mov $20000, %ecx\n"
        "1: dec %ecx\n jnz 1b\n cmpq $10, pauses(%rip)\n jb g_spaced\n vmmcall\n"
        ".data\n.balign 8\n.globl pauses\npauses: .quad 0\n.text\n");

static uint64_t run_at(const char *rip, uint16_t threshold)
{
    vmcb_wr16(vmcb, VMCB_PAUSE_FILTER_COUNT, FILTER_COUNT);
    vmcb_wr16(vmcb, VMCB_PAUSE_FILTER_THRESHOLD, threshold);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    pauses = 0;
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    uint32_t edx = cpuid(0x8000000A, 0).edx;
    bool filter = (edx & (1u << 10)) != 0, threshold = filter && (edx & (1u << 12)) != 0;
    svm_enable(hsave);
    vmcb_init(vmcb, (void (*)(void))g_tight, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_PAUSE, true);
    uint64_t stopped = filter ? FILTER_COUNT : 0;

    tap_eq(EXIT_PAUSE, run_at(g_tight, THRESHOLD), "tight PAUSE loop, count 3, threshold 1000: #VMEXIT(PAUSE)");
    tap_check(pauses == stopped, "tight PAUSE loop: PAUSEs completed before the exit follow the filter");
    tap_eq((uintptr_t)g_tight, vmcb_rd64(vmcb, VMCB_RIP), "tight PAUSE loop: guest RIP at the PAUSE");

    uint64_t code = run_at(g_spaced, THRESHOLD);
    tap_check(code == (threshold ? EXIT_VMMCALL : EXIT_PAUSE),
              "spaced PAUSEs, threshold 1000: the threshold (when offered) reloads the count at each PAUSE");
    tap_check(pauses == (threshold ? LOOP_PAUSES : stopped),
              "spaced PAUSEs, threshold 1000: PAUSEs completed follow the filter and the threshold");

    tap_eq(EXIT_PAUSE, run_at(g_spaced, 0), "spaced PAUSEs, threshold 0: #VMEXIT(PAUSE)");
    tap_check(pauses == stopped, "spaced PAUSEs, threshold 0 (no reload): PAUSEs completed follow the filter");
    svm_stgi();
}
