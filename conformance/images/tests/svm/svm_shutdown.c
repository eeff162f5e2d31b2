/* svm_shutdown: the SHUTDOWN intercept. A guest whose IDT is empty (limit
 * 0) executes UD2: #UD cannot be delivered (#GP), nor can the #GP (#DF),
 * nor the #DF — a triple fault, which under the SHUTDOWN intercept is a
 * #VMEXIT (0x7F) instead of the processor's shutdown; the host goes on.
 * Bochs 2.7 shuts the whole machine down instead (its log: "3rd (13)
 * exception with no resolution"), so this image runs on QEMU and hvsim
 * only (conformance/images/oracle-tests.cmake).
 * AMD APM Vol. 2, "Miscellaneous Intercepts" (shutdown), "Double Fault
 * Exception (#DF)" (APM Vol. 2, "Exceptions and Interrupts"). */
#include "tests/svm/svm_lib.h"

#define ICPT1_SHUTDOWN_BIT 31

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

void guest_ud2(void);
__asm__(".text\nguest_ud2: ud2\n vmmcall\n");

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, guest_ud2, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_SHUTDOWN_BIT, true);
    vmcb_wr32(vmcb, VMCB_IDTR + 4, 0);
    svm_vmrun(vmcb);
    tap_eq(EXIT_SHUTDOWN, vmcb_rd64(vmcb, VMCB_EXITCODE),
           "UD2 with an empty IDT (triple fault) under the SHUTDOWN intercept: EXITCODE");
    svm_stgi();
}
