/* svm_sti_movss: the interrupt shadow #VMEXIT saves (VMCB offset 68h,
 * INTERRUPT_SHADOW) when the intercepted instruction follows an STI or a
 * MOV SS, and the shadow VMRUN loads from the same bit. Each case enters a
 * short guest sequence with the RFLAGS.IF it names:
 *  - STI that found IF = 0, then CPUID / HLT (intercepted) or UD2 (#UD
 *    intercepted): in the shadow;
 *  - STI that found IF = 1 (entered with IF = 1, or STI STI): no shadow;
 *  - CLI; STI entered with IF = 1: STI found IF = 0, in the shadow;
 *  - MOV SS then CPUID: in the shadow;
 *  - one instruction between them and the intercept: no shadow;
 *  - VMRUN loading the shadow: still in it at the first guest instruction,
 *    out of it after one instruction (a NOP, or a SYSCALL).
 * Departures (declared): QEMU 7.2 shadows after every STI and drops the
 * shadow VMRUN loads; Bochs 2.7 saves none at an exception intercept.
 * AMD APM Vol. 2, "#VMEXIT" and "VMCB Layout, Control Area"
 * (INTERRUPT_SHADOW), "Interrupt Shadows"; AMD APM Vol. 3, "STI" ("If STI
 * sets the IF flag and IF was initially clear, then interrupts are not
 * enabled until after the instruction following STI") and "MOV" (loading
 * SS). */
#include "rt/pic_pit.h"
#include "tests/sti_movss.h"
#include "tests/svm/svm_lib.h"

#define RFLAGS_IF 0x200u
#define ICPT1_HLT_BIT 24
#define VEC_UD 6

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));


/* Runs the guest at `rip` with `rflags` and the shadow bit `shadow`;
 * returns the shadow bit the #VMEXIT saved, after checking EXITCODE. */
static unsigned run_case(char *rip, uint64_t rflags, unsigned shadow, uint64_t code, const char *what)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RFLAGS, rflags);
    vmcb_wr64(vmcb, VMCB_INT_SHADOW, shadow);
    vmcb_wr64(vmcb, VMCB_EXITCODE, 0);
    svm_vmrun(vmcb);
    uint64_t got = vmcb_rd64(vmcb, VMCB_EXITCODE);
    tap_check(got == code, "%s: EXITCODE 0x%llx (got 0x%llx)", what, (unsigned long long)code, (unsigned long long)got);
    return (unsigned)vmcb_rd64(vmcb, VMCB_INT_SHADOW) & 1u;
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    /* No interrupt reaches a guest that runs with IF = 1. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    sti_movss_syscall_to_cpuid();   /* before vmcb_init copies EFER */
    svm_enable(hsave);
    vmcb_init(vmcb, (void (*)(void))g_cpuid, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_CPUID, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_HLT_BIT, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_EXC, VEC_UD, true);

    tap_eq(1, run_case(g_sti_cpuid, 0x2, 0, EXIT_CPUID, "STI (IF=0); CPUID"),
           "STI with IF=0, CPUID intercepted: interrupt shadow saved");
    tap_eq_or_departure(0, run_case(g_sti_cpuid, 0x2 | RFLAGS_IF, 0, EXIT_CPUID, "STI (IF=1); CPUID"), 1,
                        "qemu-tcg-svm-sti-shadow-with-if-set",
                        "STI with IF=1 already, CPUID intercepted: no interrupt shadow");
    tap_eq(1, run_case(g_sti_hlt, 0x2, 0, EXIT_HLT, "STI (IF=0); HLT"),
           "STI; HLT intercepted: interrupt shadow saved");
    /* The intercepted #UD is not delivered, so nothing ends the shadow
     * (QEMU agrees; Bochs 2.7 saves none). */
    tap_eq_or_departure(1, run_case(g_sti_ud2, 0x2, 0, EXIT_EXCP_BASE + VEC_UD, "STI (IF=0); UD2"), 0,
                        "bochs-svm-shadow-lost-at-exception-intercept",
                        "STI; UD2 with #UD intercepted: interrupt shadow saved");
    tap_eq(0, run_case(g_sti_sti_cpuid, 0x2, 0, EXIT_CPUID, "STI; STI (IF=0); CPUID"),
           "the second STI found IF=1: no shadow at the CPUID after it");
    tap_eq(1, run_case(g_cli_sti_cpuid, 0x2 | RFLAGS_IF, 0, EXIT_CPUID, "CLI; STI (IF=1); CPUID"),
           "CLI then STI: STI found IF=0, interrupt shadow saved");
    tap_eq(1, run_case(g_movss_cpuid, 0x2, 0, EXIT_CPUID, "MOV SS; CPUID"),
           "MOV SS then CPUID intercepted: interrupt shadow saved");
    tap_eq(0, run_case(g_sti_nop_cpuid, 0x2, 0, EXIT_CPUID, "STI; NOP; CPUID"),
           "one instruction between STI and the intercept: no shadow");
    tap_eq_or_departure(1, run_case(g_cpuid, 0x2 | RFLAGS_IF, 1, EXIT_CPUID, "VMRUN with the shadow; CPUID"), 0,
                        "qemu-tcg-svm-vmrun-shadow-dropped",
                        "the shadow VMRUN loaded, the first guest instruction intercepted: saved again");
    tap_eq(0, run_case(g_nop_cpuid, 0x2 | RFLAGS_IF, 1, EXIT_CPUID, "VMRUN with the shadow; NOP; CPUID"),
           "the shadow VMRUN loaded lasts one instruction");
    tap_eq(0, run_case(g_syscall, 0x2 | RFLAGS_IF, 1, EXIT_CPUID, "VMRUN with the shadow; SYSCALL; CPUID"),
           "the shadow VMRUN loaded ends with a SYSCALL");
    svm_stgi();
}
