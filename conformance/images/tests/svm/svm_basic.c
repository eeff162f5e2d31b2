/* svm_basic: an L1 hypervisor runs a guest that executes CPUID, HLT, OUT
 * and VMMCALL with those intercepted, and checks each #VMEXIT's EXITCODE,
 * the guest RIP it saves (at the intercepted instruction) and, for OUT, the
 * IOIO exit information. Then two VMCBs that fail VMRUN's consistency
 * checks (ASID 0, VMRUN intercept clear) must end in VMEXIT_INVALID.
 * AMD APM Vol. 2, "Secure Virtual Machine": "Enabling SVM", "VMRUN
 * Instruction", "Instruction Intercepts", "I/O Intercepts", "#VMEXIT",
 * "Canonicalization and Consistency Checks". */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

void guest_basic(void);
extern char guest_cpuid[], guest_hlt[], guest_out[], guest_vmmcall[], guest_after_out[], guest_end[];
__asm__(".text\n"
        "guest_basic:\n"
        "guest_cpuid: xor %eax, %eax\n cpuid\n"
        "guest_hlt: hlt\n"
        "guest_out: mov $0x5a, %al\n outb %al, $0x80\n"
        "guest_after_out: nop\n"
        "guest_vmmcall: vmmcall\n"
        "guest_end: jmp guest_end\n");

/* Resumes the guest at `rip` and returns the exit code. */
static uint64_t run_at(uintptr_t rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void intercepts(void)
{
    vmcb_init(vmcb, guest_basic, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_CPUID, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_HLT, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_IOIO, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    /* "I/O Intercepts": only port 0x80 is intercepted. */
    iopm[0x80 / 8] |= 1u << (0x80 % 8);
    vmcb_wr64(vmcb, VMCB_IOPM_BASE, (uintptr_t)iopm);

    /* xor eax,eax is 2 bytes: CPUID is at guest_cpuid + 2. */
    uint64_t code = run_at((uintptr_t)guest_basic);
    tap_eq(EXIT_CPUID, code, "CPUID intercepted: EXITCODE");
    tap_eq((uintptr_t)guest_cpuid + 2, vmcb_rd64(vmcb, VMCB_RIP), "CPUID exit: guest RIP at CPUID");

    code = run_at((uintptr_t)guest_hlt);
    tap_eq(EXIT_HLT, code, "HLT intercepted: EXITCODE");
    tap_eq((uintptr_t)guest_hlt, vmcb_rd64(vmcb, VMCB_RIP), "HLT exit: guest RIP at HLT");

    code = run_at((uintptr_t)guest_out);
    tap_eq(EXIT_IOIO, code, "OUT to port 0x80 intercepted: EXITCODE");
    tap_eq((uintptr_t)guest_out + 2, vmcb_rd64(vmcb, VMCB_RIP), "IOIO exit: guest RIP at OUT");
    /* Port 0x80, 8-bit, OUT (TYPE 0), 64-bit address size. */
    /* QEMU 7.2 TCG leaves the address-size bits (A16/A32/A64) clear. */
    uint64_t info1 = 0x80ull << 16 | 1u << 4 | 1u << 9;
    tap_eq_or_departure(info1, vmcb_rd64(vmcb, VMCB_EXITINFO1), info1 & ~(7ull << 7),
                        "qemu-tcg-ioio-no-address-size", "IOIO exit: EXITINFO1");
    tap_eq((uintptr_t)guest_after_out, vmcb_rd64(vmcb, VMCB_EXITINFO2), "IOIO exit: EXITINFO2 is the next RIP");
    tap_eq(0x5a, vmcb_rd64(vmcb, VMCB_RAX) & 0xff, "IOIO exit: guest RAX saved in the VMCB");

    code = run_at((uintptr_t)guest_vmmcall);
    tap_eq(EXIT_VMMCALL, code, "VMMCALL intercepted: EXITCODE");
    tap_eq((uintptr_t)guest_vmmcall, vmcb_rd64(vmcb, VMCB_RIP), "VMMCALL exit: guest RIP at VMMCALL");
}

static void invalid_vmcbs(void)
{
    vmcb_init(vmcb, guest_basic, guest_stack + sizeof guest_stack);
    vmcb_wr32(vmcb, VMCB_ASID, 0);
    svm_vmrun(vmcb);
    tap_invalid(vmcb_rd64(vmcb, VMCB_EXITCODE), "VMRUN with ASID 0: VMEXIT_INVALID");

    vmcb_init(vmcb, guest_basic, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMRUN, false);
    svm_vmrun(vmcb);
    tap_invalid(vmcb_rd64(vmcb, VMCB_EXITCODE), "VMRUN with the VMRUN intercept clear: VMEXIT_INVALID");

    /* The host goes on after a failed VMRUN: a valid VMCB still runs. */
    vmcb_init(vmcb, guest_basic, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)guest_vmmcall), "VMRUN after a failed VMRUN: VMMCALL exit");
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    intercepts();
    invalid_vmcbs();
    svm_stgi();
}
