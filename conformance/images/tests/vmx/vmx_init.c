/* vmx_init: INIT signals and VMX. A 64-bit guest behind EPT (an identity
 * mapping of the first GiB and of the local APIC's page) sends itself an
 * INIT through the APIC's ICR: in VMX non-root operation the INIT is a VM
 * exit (reason 3, qualification 0, no exit interruption or IDT-vectoring
 * information, guest RIP after the ICR write) that consumes it: the next
 * VM entry runs the guest to VMCALL. In VMX root operation an INIT is
 * blocked: the host sends itself one and keeps running, and the INIT stays
 * pending until the next VM entry, which exits with reason 3 before the
 * guest's first instruction; the entry after that runs the guest.
 * SDM Vol. 3C, "INIT Signals" (chapter "VMX Non-Root Operation", "Other
 * Causes of VM Exits"), "VMX Root Operation" ("INIT signals are blocked
 * whenever a logical processor is in VMX root operation"), "Basic VM-Exit
 * Information"; SDM Vol. 3A, "Interrupt Command Register (ICR)".
 *
 * The image never sends an SMI: the SMI's default treatment enters SMM,
 * which hvsim does not model (the run stops there), and the image never
 * leaves VMX operation with an INIT pending (VMXOFF would unblock it and
 * reset the processor). Built with VMX_INIT_SEND_SMI (vmx_init_smi.c,
 * hvsim only: conformance/vmx/test_vmx_machine.c), the guest first sends
 * itself an SMI, and the run must stop there with a message. */
#include "tests/vmx/vmx.h"

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_ID 0x020
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define ICR_INIT 0x4500u      /* delivery mode INIT, level assert, edge, physical, no shorthand */
#define EXIT_INIT 3
#define EXIT_VMCALL 18

extern uint64_t rt_boot_pdpt[512];
static uint64_t host_apic_pd[512] __attribute__((aligned(4096)));
static volatile uint32_t *apic;

/* Maps the 2-MByte page holding the APIC page (uncached) at its physical
 * address in the boot page tables and returns the APIC's base. */
static uint64_t apic_map(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & ~0xFFFull & 0xFFFFFFFFFull;
    rt_boot_pdpt[base >> 30] = (uintptr_t)host_apic_pd | 0x3;
    host_apic_pd[(base >> 21) & 511] = (base & ~0x1FFFFFull) | 0x83 | 0x18;
    write_cr3(read_cr3());
    apic = (volatile uint32_t *)(uintptr_t)base;
    return base;
}

static void settle(void)
{
    for (volatile unsigned i = 0; i < 1000; i++) {}
}

/* The guest: ICR low = INIT (ICR high holds this APIC's ID), a jump, a
 * pause, VMCALL. g_vmcall: VMCALL at once. */
void guest_init(void);
extern char g_write[], g_after_jmp[], g_vmcall[];
__asm__(".text\n"
        "guest_init:\n"
        "  mov $0xFEE00300, %eax\n"
        "g_write: movl $0x4500, (%rax)\n"
        "  jmp g_after_jmp\n"
        "g_after_jmp: mov $1000, %ecx\n"
        "1: dec %ecx\n  jnz 1b\n"
        "g_vmcall: vmcall\n"
        "g_smi: mov $0xFEE00300, %eax\n"
        "  movl $0x200, (%rax)\n"
        "  jmp 2f\n"
        "2: vmcall\n");
extern char g_smi[];

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pd_apic[512] __attribute__((aligned(4096)));
#define EPT_RWX 7u
#define EPT_WB (6u << 3)
#define EPT_UC 0u
#define EPT_LARGE (1u << 7)

static int resume_at(const char *rip)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    return vmx_run(1);
}

void test_main(void)
{
    uint64_t base = apic_map();
    tap_eq(0xFEE00000, base, "the APIC page is at FEE00000H");
    apic[APIC_ICR_HIGH / 4] = apic[APIC_ID / 4] & 0xFF000000u;

    /* EPT: the first GiB with 2-MByte WB pages, the APIC's 2 MBytes UC. */
    ept_pml4[0] = (uintptr_t)ept_pdpt | EPT_RWX;
    ept_pdpt[0] = (uintptr_t)ept_pd | EPT_RWX;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | EPT_RWX | EPT_WB | EPT_LARGE;
    ept_pdpt[base >> 30] = (uintptr_t)ept_pd_apic | EPT_RWX;
    ept_pd_apic[(base >> 21) & 511] = (base & ~0x1FFFFFull) | EPT_RWX | EPT_UC | EPT_LARGE;

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_init, 0, PROC2_EPT);
    vmwrite(EPT_POINTER, (uintptr_t)ept_pml4 | (3u << 3) | 6);
#ifdef VMX_INIT_SEND_SMI
    /* Default treatment of SMIs: the processor enters SMM (not modelled). */
    vmwrite(GUEST_RIP, (uintptr_t)g_smi);
    vmx_run(0);
    tap_check(false, "the guest's SMI stopped the run (SMM is not modelled)");
    return;
#endif

    /* VMX root operation blocks INIT: the host runs on. Bochs 2.7 drops
     * an INIT that arrives while INIT is blocked (its deliver_INIT ignores
     * a masked INIT) instead of holding it. */
    apic[APIC_ICR_LOW / 4] = ICR_INIT;
    settle();
    tap_check(true, "the host's own INIT in VMX root operation: the host keeps running");
    vmwrite(GUEST_RIP, (uintptr_t)g_vmcall);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH with the INIT pending");
    tap_eq_or_departure(EXIT_INIT, vmx_exit_reason(), EXIT_VMCALL, "bochs-vmx-init-in-root-dropped",
                        "the pending INIT exits right after VM entry: reason 3");
    tap_eq((uintptr_t)g_vmcall, vmread(GUEST_RIP), "guest RIP at the guest's first instruction");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "qualification 0");
    tap_eq(VM_EXITED, resume_at(g_vmcall), "VMRESUME at VMCALL");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the exit consumed the INIT: VMCALL exits");

    tap_eq(VM_EXITED, resume_at((char *)guest_init), "VMRESUME, the guest sends itself an INIT");
    tap_eq(EXIT_INIT, vmx_exit_reason(), "the INIT exits: reason 3");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "qualification 0");
    tap_eq(0, vmread(EXIT_INTR_INFO) >> 31, "no exit interruption information");
    tap_eq(0, vmread(IDT_VECTORING_INFO) >> 31, "no IDT-vectoring information");
    uint64_t rip = vmread(GUEST_RIP);
    tap_check(rip > (uintptr_t)g_write && rip <= (uintptr_t)g_after_jmp,
              "guest RIP after the ICR write, before the instruction after the jump");
    /* Bochs 2.7 clears its INIT event only in the INIT reset, which the
     * VM exit skips: the INIT stays pending and every later VM entry
     * exits with it again. */
    tap_eq(VM_EXITED, resume_at(g_vmcall), "VMRESUME at VMCALL");
    tap_eq_or_departure(EXIT_VMCALL, vmx_exit_reason(), EXIT_INIT, "bochs-vmx-init-exit-keeps-init-pending",
                        "the guest's INIT was consumed by its exit: VMCALL exits");
    /* The image stays in VMX operation: VMXOFF unblocks INIT. */
}
