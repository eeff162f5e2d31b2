/* vmx_basic: an L1 hypervisor's first steps. VMXON (with its #UD before
 * CR4.VMXE), VMCLEAR, VMPTRLD, VMPTRST, VMREAD/VMWRITE and their
 * VM-instruction errors, then VMLAUNCH of a 64-bit guest that executes
 * CPUID, OUT, HLT and VMCALL, each a VM exit whose reason, qualification
 * and instruction length the host prints; VMLAUNCH of a launched VMCS,
 * VMRESUME of a clear one, a VM entry that fails on guest state, VMXOFF.
 * SDM Vol. 3C, "VMX Instruction Reference"; "Instructions That Cause VM
 * Exits Unconditionally" and "... Conditionally"; "Exit Qualification for
 * I/O Instructions"; "VM-Entry Failures During or After Loading Guest
 * State"; "Checks on Guest RIP, RFLAGS, and SSP". */
#include "tests/vmx/vmx.h"

void guest_main(void);
extern char guest_cpuid[], guest_out[], guest_hlt[], guest_vmcall[];
__asm__(".text\n"
        "guest_main:   xor %eax, %eax\n"
        "guest_cpuid:  cpuid\n"
        "  mov $0x5a, %al\n"
        "guest_out:    outb %al, $0x80\n"
        "guest_hlt:    hlt\n"
        "guest_vmcall: vmcall\n"
        "  ud2\n");

#define VEC_UD 6
#define VEC_GP 13

static void check_exit(unsigned reason, uint64_t len, const char *at, char *where)
{
    tap_eq(reason, vmx_exit_reason(), "%s: exit reason", at);
    tap_eq(len, vmread(EXIT_INSN_LEN), "%s: VM-exit instruction length", at);
    tap_check(vmread(GUEST_RIP) == (uintptr_t)where, "%s: guest RIP is the instruction", at);
    tap_eq(0, vmread(EXIT_INTR_INFO) >> 31, "%s: exit interruption information not valid", at);
}

void test_main(void)
{
    tap_eq(1, (cpuid(1, 0).ecx >> 5) & 1, "CPUID.1:ECX.VMX");
    tap_eq(5, rdmsr(MSR_FEATURE_CONTROL) & 5, "IA32_FEATURE_CONTROL locked with VMX outside SMX");

    /* VMXON: "IF (register operand) or (CR0.PE = 0) or (CR4.VMXE = 0) ...
     * THEN #UD". */
    uint64_t pa = (uintptr_t)vmx_vmxon_region;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("vmxon %0") : : "m"(pa) : "cc", "memory");
    tap_eq(VEC_UD, (uint64_t)rt_fault_vector(), "VMXON with CR4.VMXE = 0 raises #UD");

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    tap_eq(VM_FAIL_INVALID, vmxon(pa), "VMXON in VMX root operation without a current VMCS: VMfailInvalid");
    uint64_t ptr = 0;
    tap_eq(VM_SUCCEED, vmptrst(&ptr), "VMPTRST without a current VMCS");
    tap_eq(~0ull, ptr, "VMPTRST: the current-VMCS pointer is FFFFFFFF_FFFFFFFFH");

    *(uint32_t *)vmx_vmcs_region = vmx_revision();
    tap_eq(VM_SUCCEED, vmclear((uintptr_t)vmx_vmcs_region), "VMCLEAR");
    tap_eq(VM_FAIL_INVALID, vmwrite_status(GUEST_RIP, 0), "VMWRITE without a current VMCS: VMfailInvalid");
    tap_eq(VM_SUCCEED, vmptrld((uintptr_t)vmx_vmcs_region), "VMPTRLD");
    tap_eq(VM_SUCCEED, vmptrst(&ptr), "VMPTRST");
    tap_check(ptr == (uintptr_t)vmx_vmcs_region, "VMPTRST stores the VMCS address");
    tap_eq(VM_FAIL_VALID, vmxon(pa), "VMXON in VMX root operation: VMfailValid");
    tap_eq(15, vmread(VM_INSTRUCTION_ERROR), "VMXON in VMX root operation: VM-instruction error");
    tap_eq(VM_FAIL_VALID, vmclear(pa), "VMCLEAR of the VMXON pointer: VMfailValid");
    tap_eq(3, vmread(VM_INSTRUCTION_ERROR), "VMCLEAR of the VMXON pointer: VM-instruction error");
    tap_eq(VM_FAIL_VALID, vmptrld((uintptr_t)vmx_vmcs_region + 8), "VMPTRLD of an unaligned address: VMfailValid");
    tap_eq(9, vmread(VM_INSTRUCTION_ERROR), "VMPTRLD of an unaligned address: VM-instruction error");
    uint64_t v = 0;
    tap_eq(VM_FAIL_VALID, vmread_status(0x7FFE, &v), "VMREAD of an unsupported field: VMfailValid");
    tap_eq(12, vmread(VM_INSTRUCTION_ERROR), "VMREAD of an unsupported field: VM-instruction error");
    tap_eq(VM_SUCCEED, vmwrite_status(GUEST_RSP, 0x123456789abcull), "VMWRITE of GUEST_RSP");
    tap_eq(0x123456789abcull, vmread(GUEST_RSP), "VMREAD of GUEST_RSP returns what VMWRITE stored");
    tap_eq(VM_SUCCEED, vmwrite_status(GUEST_CS_SEL, 0xABCD5678), "VMWRITE of a 16-bit field with a wider value");
    tap_eq(0x5678, vmread(GUEST_CS_SEL), "VMREAD of the 16-bit field: the low 16 bits");

    /* VMLAUNCH to a guest with HLT exiting and unconditional I/O exiting:
     * each guest instruction exits in turn. */
    vmx_setup_vmcs(guest_main, PROC_HLT_EXITING | PROC_UNCOND_IO, 0);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH enters the guest");
    check_exit(10, 2, "CPUID", guest_cpuid);
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME after CPUID");
    check_exit(30, 2, "OUT imm8", guest_out);
    /* Size 1 (0), OUT (bit 3 = 0), not string, not REP, immediate (bit
     * 6), port 80H in bits 31:16. */
    tap_eq(0x00800040, vmread(EXIT_QUALIFICATION), "OUT imm8: exit qualification");
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME after OUT");
    check_exit(12, 1, "HLT", guest_hlt);
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME after HLT");
    check_exit(18, 3, "VMCALL", guest_vmcall);

    tap_eq(VM_FAIL_VALID, vmx_run(0), "VMLAUNCH of a launched VMCS: VMfailValid");
    tap_eq(4, vmread(VM_INSTRUCTION_ERROR), "VMLAUNCH of a launched VMCS: VM-instruction error");

    tap_eq(VM_SUCCEED, vmclear((uintptr_t)vmx_vmcs_region), "VMCLEAR of the current VMCS");
    tap_eq(VM_SUCCEED, vmptrst(&ptr), "VMPTRST after VMCLEAR");
    tap_eq(~0ull, ptr, "VMCLEAR of the current VMCS makes it not current");
    tap_eq(VM_SUCCEED, vmptrld((uintptr_t)vmx_vmcs_region), "VMPTRLD after VMCLEAR");
    tap_eq(VM_FAIL_VALID, vmx_run(1), "VMRESUME of a clear VMCS: VMfailValid");
    tap_eq(5, vmread(VM_INSTRUCTION_ERROR), "VMRESUME of a clear VMCS: VM-instruction error");

    /* "Checks on Guest RIP, RFLAGS, and SSP": RFLAGS bit 1 must be 1. The
     * entry fails after the checks on controls and host state, so the
     * processor continues at HOST_RIP with exit reason 33 and bit 31. */
    vmwrite(GUEST_RFLAGS, 0);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH with RFLAGS bit 1 clear continues at HOST_RIP");
    tap_eq(0x80000021, vmread(EXIT_REASON), "VM-entry failure: exit reason 33 with bit 31");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "VM-entry failure: exit qualification");
    tap_eq(VM_FAIL_VALID, vmx_run(1), "VMRESUME after the failed VMLAUNCH: the VMCS is still clear");
    tap_eq(5, vmread(VM_INSTRUCTION_ERROR), "VMRESUME after the failed VMLAUNCH: VM-instruction error");

    /* "Checks on VMX Controls": a control bit outside the allowed-1
     * settings fails with VM-instruction error 7. */
    vmwrite(GUEST_RFLAGS, 2);
    vmwrite(PIN_CONTROLS, vmread(PIN_CONTROLS) | (1u << 31));
    tap_eq(VM_FAIL_VALID, vmx_run(0), "VMLAUNCH with a reserved pin-based control: VMfailValid");
    tap_eq(7, vmread(VM_INSTRUCTION_ERROR), "VMLAUNCH with a reserved pin-based control: VM-instruction error");

    /* "VMX-Fixed Bits in CR0/CR4" and "Restrictions on VMX Operation": in
     * VMX operation CR0.NE (fixed 1) and CR4.VMXE cannot be cleared. */
    unsigned long cr0 = read_cr0(), cr4 = read_cr4();
    tap_eq(VEC_GP, (uint64_t)probe_write_cr0(cr0 & ~CR0_NE), "MOV CR0 clearing NE in VMX operation raises #GP");
    tap_eq(VEC_GP, (uint64_t)probe_write_cr4(cr4 & ~CR4_VMXE), "MOV CR4 clearing VMXE in VMX operation raises #GP");
    tap_check(read_cr0() == cr0 && read_cr4() == cr4, "CR0 and CR4 unchanged");
    /* "Enabling and Entering VMX Operation": the locked
     * IA32_FEATURE_CONTROL cannot be written. */
    tap_eq(VEC_GP, (uint64_t)probe_wrmsr(MSR_FEATURE_CONTROL, 5), "WRMSR to the locked IA32_FEATURE_CONTROL raises #GP");

    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
    tap_no_fault(probe_write_cr4(cr4 & ~CR4_VMXE), "MOV CR4 clearing VMXE after VMXOFF");
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("vmxoff") : : : "cc", "memory");
    tap_eq(VEC_UD, (uint64_t)rt_fault_vector(), "VMXOFF outside VMX operation raises #UD");
}
