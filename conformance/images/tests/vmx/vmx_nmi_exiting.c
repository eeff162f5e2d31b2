/* vmx_nmi_exiting: physical NMIs and VMX. A 64-bit guest behind EPT (an
 * identity mapping of the first GiB and of the local APIC's page) sends
 * itself an NMI through the APIC's ICR. With "NMI exiting" the NMI is a VM
 * exit (reason 0, exit interruption information 80000202H: vector 2, type
 * NMI, valid; qualification 0; guest RIP after the ICR write) instead of
 * reaching the guest, and the exit leaves blocking by NMI in root
 * operation: the host's own NMI then waits for the host's IRET. Without
 * it the NMI goes through the guest IDT and blocks NMIs until the
 * handler's IRET (a VM exit inside the handler saves blocking by NMI).
 * With "NMI exiting" and blocking by NMI loaded by VM entry ("virtual
 * NMIs" 0) the NMI stays pending for the whole of non-root operation (the
 * guest's IRET does not end that blocking) and reaches the host after the
 * exit and the host's IRET; with "virtual NMIs" the bit is virtual-NMI
 * blocking and the NMI exits at once.
 * SDM Vol. 3C, "Pin-Based VM-Execution Controls", "Changes to Instruction
 * Behavior in VMX Non-Root Operation" (IRET), "Interruptibility State"
 * (chapter "VM Entries"), "Information for VM Exits Due to Vectored
 * Events", "Updating Non-Register State" (chapter "VM Exits"); SDM Vol.
 * 3A, "Interrupt Command Register (ICR)", "Nonmaskable Interrupt (NMI)". */
#include "tests/vmx/vmx.h"
#include "rt/lapic.h"

#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define BLOCKING_BY_NMI (1u << 3)
#define EXIT_VMCALL 18

static volatile unsigned nmi_count;
static volatile bool vmcall_in_handler;

/* The NMI handler of host and guest (they share the IDT). */
static void nmi_handler(struct rt_frame *f)
{
    (void)f;
    nmi_count++;
    if (vmcall_in_handler) __asm__ volatile("vmcall" ::: "memory");
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

/* The guest: ICR low = NMI (ICR high was set to this APIC's ID by the
 * host), a jump, a pause for any engine to deliver it, VMCALL. g_iret
 * first executes an IRET to the next instruction. */
void guest_send(void);
extern char g_write[], g_after_jmp[], g_iret[];
__asm__(".text\n"
        "guest_send:\n"
        "  mov $0xFEE00300, %eax\n"
        "g_write: movl $0x400, (%rax)\n"
        "  jmp g_after_jmp\n"
        "g_after_jmp: mov $1000, %ecx\n"
        "1: dec %ecx\n  jnz 1b\n"
        "g_iret: mov %rsp, %rax\n  mov %ss, %ecx\n  push %rcx\n  push %rax\n  pushfq\n"
        "  mov %cs, %ecx\n  push %rcx\n  lea 2f(%rip), %rcx\n  push %rcx\n  iretq\n"
        "2: vmcall\n");

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pd_apic[512] __attribute__((aligned(4096)));
#define EPT_RWX 7u
#define EPT_WB (6u << 3)
#define EPT_UC 0u
#define EPT_LARGE (1u << 7)

static int enter(uint32_t pin, uint32_t interruptibility)
{
    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, pin));
    vmwrite(GUEST_RIP, (uintptr_t)guest_send);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_INTERRUPTIBILITY, interruptibility);
    nmi_count = 0;
    return vmx_run(1);
}

static unsigned blocking(void) { return (unsigned)(vmread(GUEST_INTERRUPTIBILITY) & BLOCKING_BY_NMI); }

static bool rip_after_write(void)
{
    uint64_t rip = vmread(GUEST_RIP);
    return rip > (uintptr_t)g_write && rip <= (uintptr_t)g_after_jmp;
}

void test_main(void)
{
    rt_set_vector_hook(2, nmi_handler);
    uint64_t apic = lapic_map();
    tap_eq(0xFEE00000, apic, "the APIC page is at FEE00000H");
    lapic_write(APIC_ICR_HIGH, lapic_read(APIC_ID) & 0xFF000000u);

    /* EPT: the first GiB with 2-MByte WB pages, the APIC's 2 MBytes UC. */
    ept_pml4[0] = (uintptr_t)ept_pdpt | EPT_RWX;
    ept_pdpt[0] = (uintptr_t)ept_pd | EPT_RWX;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | EPT_RWX | EPT_WB | EPT_LARGE;
    ept_pdpt[apic >> 30] = (uintptr_t)ept_pd_apic | EPT_RWX;
    ept_pd_apic[(apic >> 21) & 511] = (apic & ~0x1FFFFFull) | EPT_RWX | EPT_UC | EPT_LARGE;

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_send, 0, PROC2_EPT);
    vmwrite(EPT_POINTER, (uintptr_t)ept_pml4 | (3u << 3) | 6);
    uint64_t pin_cap = rdmsr(MSR_VMX_TRUE_PINBASED) >> 32;
    tap_check((pin_cap & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)) == (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
              "NMI exiting and virtual NMIs are supported");

    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, PIN_NMI_EXITING));
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH, NMI exiting, the guest writes the ICR");
    tap_eq(0, vmx_exit_reason(), "the NMI exits: reason 0");
    tap_eq(0x80000202, vmread(EXIT_INTR_INFO), "exit interruption information: vector 2, type NMI, valid");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "qualification 0");
    tap_eq(0, vmread(IDT_VECTORING_INFO) >> 31, "no IDT-vectoring information");
    tap_check(rip_after_write(), "guest RIP after the ICR write, before the instruction after the jump");
    /* "Saving Non-Register State": the interruptibility state "before the
     * VM exit", and "Architectural State Before a VM Exit": "An NMI causes
     * subsequent NMIs to be blocked, but only after the VM exit completes".
     * Bochs 2.7 blocks NMIs before its exit and saves bit 3 set. */
    tap_eq_or_departure(0, blocking(), BLOCKING_BY_NMI, "bochs-vmx-nmi-exit-saves-nmi-blocking",
                        "the guest's blocking by NMI saved as before the NMI (clear)");
    tap_eq(0, nmi_count, "no handler ran in the guest or in the host");
    /* "VM exits caused directly by NMIs cause blocking by NMI". */
    lapic_self_nmi();
    settle();
    tap_eq(0, nmi_count, "after the NMI's exit the host's own NMI waits (blocking by NMI)");
    iret_to_next();
    settle();
    tap_eq(1, nmi_count, "and reaches the host's handler after the host's IRET");

    tap_eq(VM_EXITED, enter(0, 0), "VMRESUME without NMI exiting");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the NMI went through the guest IDT and the guest reached VMCALL");
    tap_eq(1, nmi_count, "the handler ran once, in the guest");
    tap_eq(0, blocking(), "the handler's IRET ended blocking by NMI");

    vmcall_in_handler = true;
    tap_eq(VM_EXITED, enter(0, 0), "VMRESUME without NMI exiting, a handler that exits");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "VMCALL inside the guest's NMI handler");
    tap_eq(BLOCKING_BY_NMI, blocking(), "the NMI's delivery left blocking by NMI in the guest");
    vmcall_in_handler = false;
    /* "Other VM exits do not affect blocking by NMI": the host is blocked. */
    lapic_self_nmi();
    settle();
    tap_eq(1, nmi_count, "the host's NMI waits after that exit too");
    iret_to_next();
    settle();
    tap_eq(2, nmi_count, "until the host's IRET");

    tap_eq(VM_EXITED, enter(PIN_NMI_EXITING, BLOCKING_BY_NMI), "VMRESUME, NMI exiting, blocking by NMI");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the NMI is held through the guest's IRET: VMCALL exits");
    tap_eq(BLOCKING_BY_NMI, blocking(), "blocking by NMI stays (IRET does not end it under NMI exiting)");
    tap_eq(0, nmi_count, "no handler ran");
    iret_to_next();
    settle();
    tap_eq(1, nmi_count, "the pending NMI reaches the host after the host's IRET");

    tap_eq(VM_EXITED, enter(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, BLOCKING_BY_NMI),
           "VMRESUME, virtual NMIs, virtual-NMI blocking");
    tap_eq(0, vmx_exit_reason(), "virtual-NMI blocking does not block NMIs: reason 0");
    tap_eq(0x80000202, vmread(EXIT_INTR_INFO), "exit interruption information 80000202H");
    tap_check(rip_after_write(), "guest RIP after the ICR write");
    tap_eq(BLOCKING_BY_NMI, blocking(), "virtual-NMI blocking saved unchanged");
    tap_eq(0, nmi_count, "no handler ran");
    iret_to_next();
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
