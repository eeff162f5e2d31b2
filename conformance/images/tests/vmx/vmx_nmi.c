/* vmx_nmi: virtual NMIs ("NMI exiting" and "virtual NMIs" set) and
 * NMI-window exiting. The NMI-window exit (reason 8) comes before the
 * first guest instruction when VM entry leaves no virtual-NMI blocking,
 * and right after the guest's IRET that removes it; without the control
 * IRET still removes it (the saved interruptibility state says so) and
 * without IRET it stays. An injected NMI (type 2) is delivered through the
 * guest IDT and leaves virtual-NMI blocking until the handler's IRET;
 * injecting one while blocking is set fails VM entry (33). A #GP on an
 * IRET that removed the blocking exits with "NMI unblocking due to IRET"
 * (bit 12 of the exit interruption information), not without blocking.
 * SDM Vol. 3C, "NMI-Window Exiting", "Changes to Instruction Behavior in
 * VMX Non-Root Operation" (IRET), "Event Injection", "Guest Non-Register
 * State", "Information for VM Exits Due to Vectored Events". */
#include "tests/vmx/vmx.h"

#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PROC_NMI_WINDOW (1u << 22)
#define BLOCKING_BY_NMI (1u << 3)
#define EXIT_NMI_WINDOW 8
#define EXIT_VMCALL 18

volatile unsigned nmi_count;
static volatile bool vmcall_in_handler;

/* The guest's NMI handler (the guest shares the host's IDT); the runtime's
 * stub returns from it with IRETQ. */
static void nmi_handler(struct rt_frame *f)
{
    (void)f;
    nmi_count++;
    if (vmcall_in_handler) __asm__ volatile("vmcall" ::: "memory");
}

void guest_start(void);
extern char g_start[], g_iret[], g_after_iret[], g_bad_iret[];
__asm__(".text\n"
        "guest_start:\n"
        "g_start: nop\n  vmcall\n"
        /* IRETQ to the next label on the same stack. */
        "g_iret: mov %rsp, %rax\n  mov %ss, %ecx\n  push %rcx\n  push %rax\n  pushfq\n"
        "  mov %cs, %ecx\n  push %rcx\n  lea g_after_iret(%rip), %rcx\n  push %rcx\n  iretq\n"
        "g_after_iret: vmcall\n"
        /* IRETQ to a CS selector beyond the GDT limit: #GP(selector). */
        "g_bad_iret_start: mov %rsp, %rax\n  mov %ss, %ecx\n  push %rcx\n  push %rax\n  pushfq\n"
        "  push $0x7ff8\n  lea g_after_iret(%rip), %rcx\n  push %rcx\n"
        "g_bad_iret: iretq\n");
extern char g_bad_iret_start[];

static int enter(const void *rip, uint32_t proc_extra, uint32_t interruptibility, uint32_t inject, int resume)
{
    vmwrite(PROC_CONTROLS, vmx_adjust(MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED, proc_extra));
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_INTERRUPTIBILITY, interruptibility);
    vmwrite(ENTRY_INTR_INFO, inject);
    nmi_count = 0;
    return vmx_run(resume);
}

static unsigned blocking(void) { return (unsigned)(vmread(GUEST_INTERRUPTIBILITY) & BLOCKING_BY_NMI); }

void test_main(void)
{
    rt_set_vector_hook(2, nmi_handler);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_start, 0, 0);
    uint64_t pin_cap = rdmsr(MSR_VMX_TRUE_PINBASED) >> 32, proc_cap = rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32;
    tap_check((pin_cap & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)) == (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
              "NMI exiting and virtual NMIs are supported");
    tap_check(proc_cap & PROC_NMI_WINDOW, "NMI-window exiting is supported");
    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS));

    tap_eq(VM_EXITED, enter(g_start, PROC_NMI_WINDOW, 0, 0, 0), "VMLAUNCH, NMI-window exiting, no virtual-NMI blocking");
    tap_eq(EXIT_NMI_WINDOW, vmx_exit_reason(), "NMI-window exit (8) at once");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "qualification 0");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_start, "before the first guest instruction");

    tap_eq(VM_EXITED, enter(g_iret, PROC_NMI_WINDOW, BLOCKING_BY_NMI, 0, 1), "VMRESUME with virtual-NMI blocking");
    tap_eq(EXIT_NMI_WINDOW, vmx_exit_reason(), "the guest's IRET opens the NMI window: exit 8");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after_iret, "right after the IRET");
    tap_eq(0, blocking(), "no virtual-NMI blocking saved");

    tap_eq(VM_EXITED, enter(g_start, 0, BLOCKING_BY_NMI, 0, 1), "VMRESUME with blocking, no window exiting, no IRET");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the guest runs to its VMCALL");
    tap_eq(BLOCKING_BY_NMI, blocking(), "virtual-NMI blocking stays without IRET");

    tap_eq(VM_EXITED, enter(g_iret, 0, BLOCKING_BY_NMI, 0, 1), "VMRESUME with blocking, IRET, no window exiting");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the guest runs to its VMCALL after IRET");
    tap_eq(0, blocking(), "IRET removed virtual-NMI blocking");

    uint32_t nmi = (1u << 31) | (2u << 8) | 2;
    tap_eq(VM_EXITED, enter(g_start, 0, 0, nmi, 1), "VMRESUME injecting an NMI");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the guest's handler returned and the guest reached VMCALL");
    tap_eq(1, nmi_count, "the NMI went through the guest IDT once");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_start + 1, "the handler returned to the injection point");
    tap_eq(0, blocking(), "the handler's IRET removed the blocking the NMI set");

    tap_eq(VM_EXITED, enter(g_start, PROC_NMI_WINDOW, 0, nmi, 1), "VMRESUME injecting an NMI with NMI-window exiting");
    tap_eq(EXIT_NMI_WINDOW, vmx_exit_reason(), "no window until the handler's IRET, then exit 8");
    tap_eq(1, nmi_count, "the handler ran first");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_start, "the exit is at the interrupted instruction");

    vmcall_in_handler = true;
    tap_eq(VM_EXITED, enter(g_start, 0, 0, nmi, 1), "VMRESUME injecting an NMI whose handler exits");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "VMCALL inside the NMI handler");
    tap_eq(BLOCKING_BY_NMI, blocking(), "the injected NMI left virtual-NMI blocking");
    vmcall_in_handler = false;

    tap_eq(VM_EXITED, enter(g_start, 0, BLOCKING_BY_NMI, nmi, 1), "VMRESUME injecting an NMI with blocking set");
    /* "Checks on Guest Non-Register State": with "virtual NMIs" 1 and an
     * NMI injected, blocking by NMI must be 0. Bochs 2.7 does not check it
     * and delivers the NMI (the guest reaches its VMCALL). */
    tap_eq_or_departure(0x80000021, vmread(EXIT_REASON), EXIT_VMCALL, "bochs-vmx-vnmi-injection-blocking-unchecked",
                        "NMI injected with virtual-NMI blocking: VM entry fails (33)");

    vmwrite(EXCEPTION_BITMAP, 1u << 13);
    tap_eq(VM_EXITED, enter(g_bad_iret_start, 0, BLOCKING_BY_NMI, 0, 1), "VMRESUME, IRET to a bad CS with blocking");
    tap_eq(0, vmx_exit_reason(), "#GP exits");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_bad_iret, "at the IRET");
    tap_eq(0x80001B0D, vmread(EXIT_INTR_INFO), "#GP with NMI unblocking due to IRET (bit 12)");
    tap_eq(0, blocking(), "the IRET had removed the blocking");
    tap_eq(VM_EXITED, enter(g_bad_iret_start, 0, 0, 0, 1), "VMRESUME, IRET to a bad CS without blocking");
    tap_eq(0x80000B0D, vmread(EXIT_INTR_INFO), "#GP without bit 12");
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
