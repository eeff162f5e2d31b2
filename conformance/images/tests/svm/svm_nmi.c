/* svm_nmi: NMIs and SVM, with the NMI a guest (or the host) sends itself
 * through the local APIC's ICR; the guest runs behind nested paging with
 * an identity mapping of the first GiB and of the APIC's page. Checked:
 * GIF = 0 holds an NMI in the host until STGI; under the NMI intercept the
 * guest's NMI is #VMEXIT(NMI) (61H, EXITINFO1/2 and EXITINTINFO 0, guest
 * RIP after the ICR write) and stays pending: GIF = 0 after the #VMEXIT
 * holds it until the host's STGI, which takes it through the host IDT; an
 * NMI already pending (held by GIF = 0) at VMRUN exits before the guest's
 * first instruction; without the intercept the NMI goes through the guest
 * IDT, sent by the guest or pending at VMRUN.
 * AMD APM Vol. 2, "Global Interrupt Flag, STGI and CLGI Instructions",
 * "Interrupt Intercepts" (NMI), "#VMEXIT"; SDM Vol. 3A, "Interrupt
 * Command Register (ICR)". */
#include "tests/svm/svm_lib.h"
#include "rt/lapic.h"

#define EXIT_NMI 0x061
#define ICPT1_NMI 1
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

static volatile unsigned nmi_count;
static volatile bool vmmcall_in_handler;

/* The NMI handler of host and guest (they share the IDT). */
static void nmi_handler(struct rt_frame *f)
{
    (void)f;
    nmi_count++;
    if (vmmcall_in_handler) __asm__ volatile("vmmcall" ::: "memory");
}

/* IRETQ to the next instruction on the same stack. */
static void iret_to_next(void)
{
    __asm__ volatile("mov %%rsp, %%rax\n  mov %%ss, %%ecx\n  push %%rcx\n  push %%rax\n  pushfq\n"
                     "  mov %%cs, %%ecx\n  push %%rcx\n  lea 1f(%%rip), %%rcx\n  push %%rcx\n  iretq\n1:"
                     ::: "rax", "rcx", "memory");
}

static void settle(void)
{
    for (volatile unsigned i = 0; i < 1000; i++) {}
}

/* The guest: ICR low = NMI (ICR high holds this APIC's ID), a jump, a
 * pause, VMMCALL. g_vmmcall: VMMCALL at once. */
void guest_send(void);
extern char g_write[], g_after_jmp[], g_vmmcall[];
__asm__(".text\n"
        "guest_send:\n"
        "  mov $0xFEE00300, %eax\n"
        "g_write: movl $0x400, (%rax)\n"
        "  jmp g_after_jmp\n"
        "g_after_jmp: mov $1000, %ecx\n"
        "1: dec %ecx\n  jnz 1b\n"
        "g_vmmcall: vmmcall\n");

static uint64_t run_at(char *rip, bool nmi_intercept)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RFLAGS, 0x2);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + sizeof guest_stack));
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_NMI, nmi_intercept);
    vmcb_wr64(vmcb, VMCB_EXITINTINFO, 0);
    nmi_count = 0;
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

void test_main(void)
{
    rt_set_vector_hook(2, nmi_handler);
    if (!svm_supported()) {
        tap_check(false, "CPUID reports SVM");
        return;
    }
    uint64_t apic = lapic_map();
    tap_eq(0xFEE00000, apic, "the APIC page is at FEE00000H");
    lapic_write(APIC_ICR_HIGH, lapic_read(APIC_ID) & 0xFF000000u);

    npt_pml4[0] = (uintptr_t)npt_pdpt | NPT_P | NPT_RW | NPT_US;
    npt_pdpt[0] = (uintptr_t)npt_pd | NPT_P | NPT_RW | NPT_US;
    for (uint64_t i = 0; i < 512; i++) npt_pd[i] = (i << 21) | NPT_P | NPT_RW | NPT_US | NPT_PS;
    npt_pdpt[apic >> 30] = (uintptr_t)npt_pd_apic | NPT_P | NPT_RW | NPT_US;
    npt_pd_apic[(apic >> 21) & 511] = (apic & ~0x1FFFFFull) | NPT_P | NPT_RW | NPT_US | NPT_PS;

    svm_enable(hsave);
    vmcb_init(vmcb, guest_send, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_wr64(vmcb, VMCB_NP_ENABLE, 1);
    vmcb_wr64(vmcb, VMCB_NCR3, (uintptr_t)npt_pml4);

    __asm__ volatile("clgi" ::: "memory");
    nmi_count = 0;
    lapic_self_nmi();
    settle();
    tap_eq(0, nmi_count, "GIF = 0 holds the host's own NMI");
    svm_stgi();
    settle();
    tap_eq(1, nmi_count, "STGI: the host takes it through its IDT");

    uint64_t code = run_at((char *)guest_send, true);
    tap_eq(EXIT_NMI, code, "the guest's NMI under the NMI intercept: #VMEXIT(NMI)");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "EXITINFO1 0");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO2), "EXITINFO2 0");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINTINFO), "EXITINTINFO not valid");
    uint64_t rip = vmcb_rd64(vmcb, VMCB_RIP);
    tap_check(rip > (uintptr_t)g_write && rip <= (uintptr_t)g_after_jmp,
              "guest RIP after the ICR write, before the instruction after the jump");
    settle();
    tap_eq(0, nmi_count, "the NMI stays pending: GIF = 0 after #VMEXIT holds it");
    svm_stgi();
    settle();
    tap_eq(1, nmi_count, "STGI: the host takes the intercepted NMI");

    __asm__ volatile("clgi" ::: "memory");
    lapic_self_nmi();
    settle();
    code = run_at(g_vmmcall, true);
    tap_eq(EXIT_NMI, code, "an NMI pending (GIF = 0) at VMRUN under the intercept: #VMEXIT(NMI)");
    tap_eq((uintptr_t)g_vmmcall, vmcb_rd64(vmcb, VMCB_RIP), "before the guest's first instruction");
    svm_stgi();
    settle();
    tap_eq(1, nmi_count, "STGI: the host takes it");

    code = run_at((char *)guest_send, false);
    tap_eq(EXIT_VMMCALL, code, "no NMI intercept: the guest's VMMCALL exits");
    tap_eq(1, nmi_count, "the guest's NMI went through the guest IDT");
    svm_stgi();

    __asm__ volatile("clgi" ::: "memory");
    lapic_self_nmi();
    settle();
    code = run_at(g_vmmcall, false);
    tap_eq(EXIT_VMMCALL, code, "an NMI pending at VMRUN without the intercept: the guest's VMMCALL exits");
    tap_eq(1, nmi_count, "the NMI went through the guest IDT first");
    svm_stgi();
    settle();
    tap_eq(1, nmi_count, "nothing is left for the host");

    vmmcall_in_handler = true;
    code = run_at((char *)guest_send, false);
    vmmcall_in_handler = false;
    tap_eq(EXIT_VMMCALL, code, "VMMCALL inside the guest's NMI handler exits");
    svm_stgi();
    lapic_self_nmi();
    settle();
    tap_eq(1, nmi_count, "blocking by NMI from the guest's NMI stays after #VMEXIT: the host's NMI waits");
    iret_to_next();
    settle();
    tap_eq(2, nmi_count, "until the host's IRET");
}
