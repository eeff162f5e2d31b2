/* vmx_cpuid_loop: an L1 hypervisor's hot path, CPUID exit round trips.
 * The guest executes CPUID in a loop; the host handles each exit (skips
 * the instruction, VMRESUME) VMX_LOOP_EXITS times and checks every exit's
 * reason and RIP. Its run time on each machine is the cost of a VM exit
 * plus VM entry there (hvsim: `time hvsim run --cpu skylake-x ...`).
 * SDM Vol. 3C, "Instructions That Cause VM Exits Unconditionally". */
#include "tests/vmx/vmx.h"

#ifndef VMX_LOOP_EXITS
#define VMX_LOOP_EXITS 20000
#endif

void guest_loop(void);
extern char guest_loop_cpuid[];
__asm__(".text\n"
        "guest_loop: xor %eax, %eax\n"
        "guest_loop_cpuid: cpuid\n"
        "  jmp guest_loop\n");

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_loop, 0, 0);
    unsigned wrong = 0, n = 0;
    for (int st = vmx_run(0); st == VM_EXITED && n < VMX_LOOP_EXITS; n++) {
        if (vmx_exit_reason() != 10 || vmread(GUEST_RIP) != (uintptr_t)guest_loop_cpuid) wrong++;
        if (n + 1 < VMX_LOOP_EXITS) st = vmx_skip_and_resume();
    }
    tap_eq(VMX_LOOP_EXITS, n, "CPUID exits handled");
    tap_eq(0, wrong, "exits that were not CPUID at the loop's CPUID");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
