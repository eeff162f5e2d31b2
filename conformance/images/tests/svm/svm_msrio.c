/* svm_msrio: the MSR and I/O permission maps. The L1 hypervisor sets one
 * read bit and one write bit in the MSR permission map and one port bit in
 * the I/O permission map, and a guest accesses intercepted and
 * non-intercepted MSRs and ports. Checked: EXITCODE, EXITINFO1 (0 for
 * RDMSR, 1 for WRMSR; the IOIO access description), EXITINFO2 (the next
 * RIP for IOIO), the saved guest RIP, and that non-intercepted accesses run
 * in the guest. AMD APM Vol. 2, "MSR Intercepts", "I/O Intercepts". */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t msrpm[2 * 4096] __attribute__((aligned(4096)));
static uint8_t iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

#define MSR_EFER_ 0xC0000080u
#define MSR_SYSENTER_CS 0x174u
#define MSR_UNMAPPED 0xC0002000u   /* beyond the three mapped ranges */

void guest_msrio(void);
extern char g_rd_efer[], g_wr_sysenter[], g_rd_sysenter[], g_rd_unmapped[], g_inw[], g_after_inw[], g_inb[],
    g_outl[], g_after_outl[], g_user_rdmsr[], g_user_hlt[], g_user_cpuid[];
__asm__(".text\n"
        "guest_msrio:\n"
        "g_rd_efer: mov $0xC0000080, %ecx\n rdmsr\n"
        "g_wr_sysenter: mov $0x174, %ecx\n xor %edx, %edx\n mov $0x99, %eax\n wrmsr\n"
        "g_rd_sysenter: mov $0x174, %ecx\n rdmsr\n vmmcall\n"
        "g_rd_unmapped: mov $0xC0002000, %ecx\n rdmsr\n"
        "g_inw: inw $0x71, %ax\n"
        "g_after_inw: nop\n"
        "g_inb: inb $0x71, %al\n vmmcall\n"
        "g_outl: mov $0x72, %edx\n outl %eax, %dx\n"
        "g_after_outl: nop\n vmmcall\n"
        "g_user_rdmsr: mov $0xC0000080, %ecx\n rdmsr\n"
        "g_user_hlt: hlt\n"
        "g_user_cpuid: cpuid\n"
        "1: jmp 1b\n");

static uint64_t run_at(uintptr_t rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void set_bit(uint8_t *map, uint32_t bit) { map[bit / 8] |= (uint8_t)(1u << (bit % 8)); }

static void msr_map(void)
{
    /* "MSR Intercepts": C000_0000h-C000_1FFFh at byte 800h, two bits per
     * MSR (read, write); 0000_0000h-0000_1FFFh at byte 0. */
    set_bit(msrpm, 0x800 * 8 + (MSR_EFER_ - 0xC0000000u) * 2);
    set_bit(msrpm, MSR_SYSENTER_CS * 2 + 1);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_MSR, true);
    vmcb_wr64(vmcb, VMCB_MSRPM_BASE, (uintptr_t)msrpm);
    wrmsr(MSR_SYSENTER_CS, 0x1234);

    tap_eq(EXIT_MSR, run_at((uintptr_t)g_rd_efer), "RDMSR EFER with its read bit set: EXITCODE");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "RDMSR exit: EXITINFO1 = 0 (read)");
    tap_eq((uintptr_t)g_rd_efer + 5, vmcb_rd64(vmcb, VMCB_RIP), "RDMSR exit: guest RIP at RDMSR");

    tap_eq(EXIT_MSR, run_at((uintptr_t)g_wr_sysenter), "WRMSR SYSENTER_CS with its write bit set: EXITCODE");
    tap_eq(1, vmcb_rd64(vmcb, VMCB_EXITINFO1), "WRMSR exit: EXITINFO1 = 1 (write)");
    tap_eq((uintptr_t)g_wr_sysenter + 12, vmcb_rd64(vmcb, VMCB_RIP), "WRMSR exit: guest RIP at WRMSR");
    tap_eq(0x1234, rdmsr(MSR_SYSENTER_CS), "intercepted WRMSR did not write the MSR");

    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_rd_sysenter), "RDMSR SYSENTER_CS with its read bit clear: no exit");
    tap_eq(0x1234, vmcb_rd64(vmcb, VMCB_RAX) & 0xFFFFFFFF, "non-intercepted RDMSR read the MSR in the guest");

    tap_eq(EXIT_MSR, run_at((uintptr_t)g_rd_unmapped), "RDMSR of an MSR outside the map's ranges: EXITCODE");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "unmapped MSR exit: EXITINFO1 = 0 (read)");
}

static void io_map(void)
{
    set_bit(iopm, 0x72);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_IOIO, true);
    vmcb_wr64(vmcb, VMCB_IOPM_BASE, (uintptr_t)iopm);

    /* A 16-bit IN at 0x71 touches port 0x72: intercepted. QEMU 7.2 TCG
     * leaves the address-size bits clear. */
    tap_eq(EXIT_IOIO, run_at((uintptr_t)g_inw), "INW from port 0x71 covering intercepted port 0x72: EXITCODE");
    uint64_t info1 = 0x71ull << 16 | 1u << 0 | 1u << 5 | 1u << 9;
    tap_eq_or_departure(info1, vmcb_rd64(vmcb, VMCB_EXITINFO1), info1 & ~(7ull << 7),
                        "qemu-tcg-ioio-no-address-size", "IOIO exit: EXITINFO1 of INW (port, IN, SZ16, A64)");
    tap_eq((uintptr_t)g_after_inw, vmcb_rd64(vmcb, VMCB_EXITINFO2), "INW exit: EXITINFO2 is the next RIP");
    tap_eq((uintptr_t)g_inw, vmcb_rd64(vmcb, VMCB_RIP), "INW exit: guest RIP at INW");

    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_inb), "INB from port 0x71 alone: no exit");

    info1 = 0x72ull << 16 | 1u << 6 | 1u << 9;
    tap_eq(EXIT_IOIO, run_at((uintptr_t)g_outl), "OUTL to port DX = 0x72: EXITCODE");
    tap_eq_or_departure(info1, vmcb_rd64(vmcb, VMCB_EXITINFO1), info1 & ~(7ull << 7),
                        "qemu-tcg-ioio-no-address-size", "IOIO exit: EXITINFO1 of OUTL (port from DX, SZ32, A64)");
    tap_eq((uintptr_t)g_after_outl, vmcb_rd64(vmcb, VMCB_EXITINFO2), "OUTL exit: EXITINFO2 is the next RIP");
}

/* "Instruction Intercepts": the CPL check of a privileged instruction comes
 * before its intercept. A CPL-3 guest's RDMSR of an intercepted MSR and its
 * HLT raise #GP (taken by the #GP intercept), while CPUID, which has no
 * CPL rule, exits. */
static void ring3_guest(void)
{
    vmcb_seg_from_gdt(vmcb, VMCB_CS, RT_SEL_UCODE64 | 3);
    vmcb_seg_from_gdt(vmcb, VMCB_SS, RT_SEL_UDATA | 3);
    vmcb_wr8(vmcb, VMCB_CPL, 3);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 13);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_HLT, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_CPUID, true);

    tap_eq(EXIT_EXCP_BASE + 13, run_at((uintptr_t)g_user_rdmsr), "CPL-3 RDMSR of an intercepted MSR: #GP, not an MSR exit");
    tap_eq((uintptr_t)g_user_rdmsr + 5, vmcb_rd64(vmcb, VMCB_RIP), "CPL-3 RDMSR #GP: guest RIP at RDMSR");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "CPL-3 RDMSR #GP: error code 0");
    tap_eq(EXIT_EXCP_BASE + 13, run_at((uintptr_t)g_user_hlt), "CPL-3 HLT under the HLT intercept: #GP, not a HLT exit");
    tap_eq(EXIT_CPUID, run_at((uintptr_t)g_user_cpuid), "CPL-3 CPUID under the CPUID intercept: CPUID exit");
    tap_eq(3, *(volatile uint8_t *)(vmcb + VMCB_CPL), "the VMCB's CPL after a CPL-3 exit");
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, guest_msrio, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    msr_map();
    io_map();
    ring3_guest();
    svm_stgi();
}
