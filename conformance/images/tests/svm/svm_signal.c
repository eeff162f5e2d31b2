/* svm_signal: the body of svm_smi and svm_init (SIGNAL_INIT selects INIT):
 * an SMI or INIT a guest sends itself through the local APIC's ICR, under
 * its intercept. The guest runs behind nested paging with an identity
 * mapping of the first GiB and of the APIC's page. Checked: the guest
 * clears GIF (CLGI, not intercepted), sends the signal, keeps running (GIF
 * = 0 holds it), then sets GIF (STGI): #VMEXIT(SMI) 62H or #VMEXIT(INIT)
 * 63H with EXITINFO1/2 and EXITINTINFO 0 and the guest RIP after the STGI;
 * the signal is not consumed: GIF = 0 after the #VMEXIT holds it in the
 * host, and the next VMRUN (GIF = 1) exits with it again before the
 * guest's first instruction.
 * AMD APM Vol. 2, "Global Interrupt Flag, STGI and CLGI Instructions",
 * "Interrupt Intercepts", "#VMEXIT"; SDM Vol. 3A, "Interrupt Command
 * Register (ICR)".
 *
 * The host never sets GIF while the signal is pending (it would enter SMM
 * or perform the INIT reset, which hvsim does not model), and the image
 * ends with GIF = 0. */
#include "tests/svm/svm_lib.h"

#ifdef SIGNAL_INIT
#define SIGNAL "INIT"
#define ICR_VALUE 0x4500u       /* INIT, level assert, physical, no shorthand */
#define INTERCEPT_BIT 3
#define EXIT_SIGNAL 0x063
#else
#define SIGNAL "SMI"
#define ICR_VALUE 0x200u        /* SMI, physical, no shorthand */
#define INTERCEPT_BIT 2
#define EXIT_SIGNAL 0x062
#endif
#define MSR_IA32_APIC_BASE 0x1B
#define APIC_ID 0x020
#define APIC_ICR_HIGH 0x310
#define NPT_P 1u
#define NPT_RW 2u
#define NPT_US 4u
#define NPT_PS (1u << 7)

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint64_t npt_pml4[512] __attribute__((aligned(4096)));
static uint64_t npt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t npt_pd[512] __attribute__((aligned(4096)));
static uint64_t npt_pd_apic[512] __attribute__((aligned(4096)));
extern uint64_t rt_boot_pdpt[512];
static uint64_t host_apic_pd[512] __attribute__((aligned(4096)));

/* The guest: CLGI, the ICR write (the value in icr_value), a loop that
 * counts, STGI, a jump, VMMCALL. g_vmmcall: VMMCALL at once. */
void guest_signal(void);
extern char g_stgi[], g_after_jmp[], g_vmmcall[];
extern volatile uint32_t icr_value;
extern volatile uint64_t held_runs;
__asm__(".text\n"
        "guest_signal:\n"
        "  clgi\n"
        "  mov $0xFEE00300, %eax\n"
        "  mov icr_value(%rip), %ecx\n"
        "  movl %ecx, (%rax)\n"
        "  jmp 1f\n"
        "1: incq held_runs(%rip)\n"
        "  mov $1000, %ecx\n"
        "2: dec %ecx\n  jnz 2b\n"
        "g_stgi: stgi\n"
        "  jmp g_after_jmp\n"
        "g_after_jmp: vmmcall\n"
        "g_vmmcall: vmmcall\n"
        ".data\n.balign 8\n.globl icr_value, held_runs\nicr_value: .long 0\n.balign 8\nheld_runs: .quad 0\n.text\n");

/* Maps the 2-MByte page holding the APIC page (uncached) at its physical
 * address in the boot page tables and returns the APIC's base. */
static uint64_t apic_map(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & ~0xFFFull & 0xFFFFFFFFFull;
    rt_boot_pdpt[base >> 30] = (uintptr_t)host_apic_pd | 0x3;
    host_apic_pd[(base >> 21) & 511] = (base & ~0x1FFFFFull) | 0x83 | 0x18;
    write_cr3(read_cr3());
    return base;
}

static uint64_t run_at(const char *rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RFLAGS, 0x2);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + sizeof guest_stack));
    vmcb_wr64(vmcb, VMCB_EXITINTINFO, 0);
    held_runs = 0;
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID reports SVM");
        return;
    }
    uint64_t apic = apic_map();
    tap_eq(0xFEE00000, apic, "the APIC page is at FEE00000H");
    volatile uint32_t *regs = (volatile uint32_t *)(uintptr_t)apic;
    regs[APIC_ICR_HIGH / 4] = regs[APIC_ID / 4] & 0xFF000000u;
    icr_value = ICR_VALUE;

    npt_pml4[0] = (uintptr_t)npt_pdpt | NPT_P | NPT_RW | NPT_US;
    npt_pdpt[0] = (uintptr_t)npt_pd | NPT_P | NPT_RW | NPT_US;
    for (uint64_t i = 0; i < 512; i++) npt_pd[i] = (i << 21) | NPT_P | NPT_RW | NPT_US | NPT_PS;
    npt_pdpt[apic >> 30] = (uintptr_t)npt_pd_apic | NPT_P | NPT_RW | NPT_US;
    npt_pd_apic[(apic >> 21) & 511] = (apic & ~0x1FFFFFull) | NPT_P | NPT_RW | NPT_US | NPT_PS;

    svm_enable(hsave);
    vmcb_init(vmcb, guest_signal, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, INTERCEPT_BIT, true);
    vmcb_wr64(vmcb, VMCB_NP_ENABLE, 1);
    vmcb_wr64(vmcb, VMCB_NCR3, (uintptr_t)npt_pml4);

    uint64_t code = run_at((char *)guest_signal);
    tap_eq(EXIT_SIGNAL, code, "the guest's " SIGNAL " under its intercept, sent with GIF = 0: #VMEXIT(" SIGNAL ")");
    tap_eq(1, held_runs, "GIF = 0 held it: the guest ran on to its STGI");
    uint64_t rip = vmcb_rd64(vmcb, VMCB_RIP);
    tap_check(rip > (uintptr_t)g_stgi && rip <= (uintptr_t)g_after_jmp,
              "guest RIP after the STGI, before the instruction after the jump");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "EXITINFO1 0");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO2), "EXITINFO2 0");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINTINFO), "EXITINTINFO not valid");

    code = run_at(g_vmmcall);
    tap_eq(EXIT_SIGNAL, code, "the " SIGNAL " stays pending (GIF = 0 in the host): the next VMRUN exits with it");
    tap_eq((uintptr_t)g_vmmcall, vmcb_rd64(vmcb, VMCB_RIP), "before the guest's first instruction");
    tap_eq(0, held_runs, "the guest ran nothing");
}
