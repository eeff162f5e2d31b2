/* vmx_intr: external interrupts and the interrupt window in VMX non-root
 * operation, with the 8259A PIC remapped to 0x20 and PIT counter 0 on
 * IRQ0. Checked: "external-interrupt exiting" exits (reason 1) whatever
 * the guest's RFLAGS.IF; with "acknowledge interrupt on exit" the PIC is
 * acknowledged (IR0 in service) and the exit interruption information
 * holds vector 20H, type external; without it the information is invalid
 * and the request stays in IRR for the host. Without the control the
 * interrupt goes through the guest IDT when IF=1 and stays pending when
 * IF=0. "Interrupt-window exiting" (reason 7) at VM entry with IF=1, after
 * the guest's STI and the instruction it shadows, after the first guest
 * instruction when VM entry loads blocking by STI, and never with IF=0. A
 * #GP raised while delivering the external interrupt (IDT limit) records
 * it as IDT-vectoring information of type 0. The HLT activity state and
 * a guest HLT with IF=0 are ended by the interrupt's exit.
 * Every wait is on observed state (IRR, a counter), never on a loop count.
 * SDM Vol. 3C, "External Interrupts", "Interrupt-Window Exiting and
 * Virtual-Interrupt Delivery", "Information for VM Exits Due to Vectored
 * Events", "Information for VM Exits That Occur During Event Delivery",
 * "Interruptibility State", "Guest Non-Register State". */
#include "rt/pic_pit.h"
#include "tests/vmx/vmx.h"

#define SPIN_LIMIT 200000000u

#define PIN_EXT_INTR_EXITING (1u << 0)
#define PROC_INTR_WINDOW (1u << 2)
#define EXIT_ACK_INTR (1u << 15)
#define RFLAGS_IF 0x200u

volatile unsigned intr_count;
static volatile unsigned intr_vector;

static void irq0_handler(struct rt_frame *f)
{
    intr_count++;
    intr_vector = (unsigned)f->vector;
    outb(PIC1_CMD, 0x20);   /* non-specific EOI */
}

static void spurious_handler(struct rt_frame *f) { (void)f; }

void guest_spin(void);
extern char g_spin0[], g_spin[], g_count[], g_irr[], g_sti[], g_sti_jmp[], g_sti_after[], g_vmcall[], g_hlt[],
    g_after_hlt[];
__asm__(".text\n"
        "guest_spin:\n"
        /* IF=0 entries start here: STI; CLI leaves IF=0 (STI's shadow
         * covers the CLI, so no interrupt can be taken in between). Bochs
         * 2.7 re-evaluates whether INTR is masked only when IF changes, so
         * without the change a guest entered with IF=0 from a host with
         * IF=0 would never see its external-interrupt exit there. */
        "g_spin0: sti\n  cli\n"
        "g_spin: jmp g_spin\n"
        /* IF=1: waits for the guest IDT's handler to count, then exits. */
        "g_count: cmpl $0, intr_count(%rip)\n  je g_count\n  vmcall\n"
        /* IF=0: waits until IRQ0 is latched in IRR, then exits. */
        "g_irr: mov $0x0a, %al\n  out %al, $0x20\n"
        "1: in $0x20, %al\n  test $1, %al\n  jz 1b\n"
        "  mov $100000, %ecx\n2: dec %ecx\n  jnz 2b\n  vmcall\n"
        "g_sti: sti\n"
        "g_sti_jmp: jmp g_sti_after\n"
        "g_sti_after: vmcall\n"
        "g_vmcall: vmcall\n"
        "g_hlt: hlt\n"
        "g_after_hlt: vmcall\n");

static void pic_setup(void)
{
    pic_remap();
    pit_program(2, PIT_PERIOD_1MS);
}

/* With IF=1 in the host, waits until the host's handler counted one. */
static bool host_takes_pending(void)
{
    unsigned before = intr_count;
    __asm__ volatile("sti" ::: "memory");
    for (unsigned i = 0; i < SPIN_LIMIT && intr_count == before; i++) {}
    __asm__ volatile("cli" ::: "memory");
    return intr_count != before;
}

/* PIT counter 0 in mode 0 with the longest count: OUT stays low (no edge)
 * until it expires; a request latched before is taken by the host first,
 * so IRR is clear when the guest starts and IRQ0 comes later. */
static void arm_one_shot(void)
{
    pit_program(0, 0xffff);
    __asm__ volatile("sti" ::: "memory");
    for (unsigned i = 0; i < SPIN_LIMIT && ((pic_read_irr() | pic_read_isr()) & 1); i++) {}
    __asm__ volatile("cli" ::: "memory");
}

static void guest_at(char *rip, uint64_t rflags, uint32_t pin, uint32_t proc, uint32_t exit_extra)
{
    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, pin));
    vmwrite(PROC_CONTROLS, vmx_adjust(MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED, proc));
    vmwrite(EXIT_CONTROLS, vmx_adjust(MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT, EXIT_HOST_64 | exit_extra));
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RFLAGS, rflags);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    vmwrite(GUEST_ACTIVITY, 0);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
}

void test_main(void)
{
    rt_set_vector_hook(VEC_IRQ0, irq0_handler);
    rt_set_vector_hook(VEC_IRQ0 + 7, spurious_handler);
    __asm__ volatile("cli");
    pic_setup();

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_spin, 0, 0);
    outb(PIC1_DATA, 0xfe);                         /* IRQ0 unmasked */

    /* External-interrupt exiting with acknowledge, guest IF=0. */
    guest_at(g_spin0, 0x2, PIN_EXT_INTR_EXITING, 0, EXIT_ACK_INTR);
    intr_count = 0;
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH, external-interrupt exiting with acknowledge, guest IF=0");
    tap_eq(1, vmx_exit_reason(), "IF=0: IRQ0 causes an external-interrupt exit");
    tap_eq(0x80000020, vmread(EXIT_INTR_INFO), "acknowledged: vector 20H, type external, valid");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_spin, "the exit's guest RIP is the next guest instruction");
    tap_eq(1, pic_read_isr() & 1, "acknowledged on exit: IR0 is in service");
    outb(PIC1_CMD, 0x20);
    tap_eq(0, pic_read_isr() & 1, "the host's EOI ends it");
    tap_eq(0, intr_count, "no IDT delivery: neither guest nor host handler ran");

    /* Without acknowledge, guest IF=1: the exit still wins over the guest IDT. */
    guest_at(g_spin, 0x202, PIN_EXT_INTR_EXITING, 0, 0);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME, external-interrupt exiting without acknowledge, guest IF=1");
    tap_eq(1, vmx_exit_reason(), "IF=1: IRQ0 still exits");
    tap_eq(0, vmread(EXIT_INTR_INFO) >> 31, "not acknowledged: interruption information invalid");
    tap_eq(1, pic_read_irr() & 1, "not acknowledged: the request stays in IRR");
    tap_eq(0, pic_read_isr() & 1, "not acknowledged: nothing in service");
    tap_eq(0, intr_count, "the guest IDT's handler did not run");
    tap_check(host_takes_pending(), "the host takes the pending request once it sets IF");
    tap_eq(VEC_IRQ0, intr_vector, "through the host IDT at vector 20H");

    /* No exiting, guest IF=1: through the guest IDT. */
    guest_at(g_count, 0x202, 0, 0, 0);
    intr_count = 0;
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME without external-interrupt exiting, guest IF=1");
    tap_eq(18, vmx_exit_reason(), "the guest counted its interrupt and executed VMCALL");
    tap_check(intr_count >= 1, "IRQ0 went through the guest IDT");
    tap_eq(VEC_IRQ0, intr_vector, "at vector 20H");

    /* No exiting, guest IF=0: the request waits in the PIC. */
    guest_at(g_irr, 0x2, 0, 0, 0);
    intr_count = 0;
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME without external-interrupt exiting, guest IF=0");
    tap_eq(18, vmx_exit_reason(), "the guest saw IRQ0 in IRR and executed VMCALL");
    tap_eq(0, intr_count, "IF=0: nothing delivered to the guest");
    tap_eq(1, pic_read_irr() & 1, "the request is still pending");
    tap_check(host_takes_pending(), "the host takes it");

    /* The interrupt window, IRQ0 masked. */
    outb(PIC1_DATA, 0xff);
    guest_at(g_spin, 0x202, 0, PROC_INTR_WINDOW, 0);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with interrupt-window exiting, guest IF=1");
    tap_eq(7, vmx_exit_reason(), "IF=1 at VM entry: interrupt-window exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_spin, "before the first guest instruction");

    guest_at(g_sti, 0x2, 0, PROC_INTR_WINDOW, 0);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with interrupt-window exiting, guest IF=0 then STI");
    tap_eq(7, vmx_exit_reason(), "STI opens the window: interrupt-window exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_sti_after, "after the instruction STI shadows");
    tap_eq(0, vmread(GUEST_INTERRUPTIBILITY) & 3, "no blocking by STI or MOV SS saved");

    guest_at(g_sti_jmp, 0x202, 0, PROC_INTR_WINDOW, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, 1);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with interrupt-window exiting, IF=1 and blocking by STI");
    tap_eq(7, vmx_exit_reason(), "blocking by STI from the VMCS: the window opens one instruction later");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_sti_after, "after the first guest instruction");

    guest_at(g_vmcall, 0x2, 0, PROC_INTR_WINDOW, 0);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with interrupt-window exiting, guest IF=0");
    tap_eq(18, vmx_exit_reason(), "IF=0: no interrupt-window exit, the VMCALL exits");

    /* A #GP while delivering IRQ0 through the guest IDT (vector 20H beyond
     * the limit): IDT-vectoring information of type 0. */
    outb(PIC1_DATA, 0xfe);
    guest_at(g_spin, 0x202, 0, 0, 0);
    vmwrite(EXCEPTION_BITMAP, 1u << 13);
    vmwrite(GUEST_IDTR_LIMIT, 0x1ff);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with a guest IDT of 32 gates, guest IF=1");
    tap_eq(0, vmx_exit_reason(), "delivering IRQ0 raises #GP, an exception exit");
    tap_eq(0x80000B0D, vmread(EXIT_INTR_INFO), "#GP with an error code");
    tap_eq(0x20 * 8 + 3, vmread(EXIT_INTR_ERROR), "the error code names IDT gate 20H, external");
    tap_eq(0x80000020, vmread(IDT_VECTORING_INFO), "IDT-vectoring information: vector 20H, type external");
    tap_eq(1, pic_read_isr() & 1, "the PIC was acknowledged by the delivery");
    outb(PIC1_CMD, 0x20);
    struct dtr idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    vmwrite(GUEST_IDTR_LIMIT, idt.limit);
    vmwrite(EXCEPTION_BITMAP, 0);

    /* The HLT activity state and a guest HLT with IF=0, ended by IRQ0. */
    guest_at(g_vmcall, 0x202, PIN_EXT_INTR_EXITING, 0, EXIT_ACK_INTR);
    vmwrite(GUEST_ACTIVITY, 1);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME into the HLT activity state, external-interrupt exiting");
    tap_eq(1, vmx_exit_reason(), "IRQ0 ends the HLT state with an external-interrupt exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_vmcall, "no guest instruction ran");
    outb(PIC1_CMD, 0x20);

    guest_at(g_vmcall, 0x202, 0, 0, 0);
    vmwrite(GUEST_ACTIVITY, 1);
    intr_count = 0;
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME into the HLT activity state, guest IF=1");
    tap_eq(18, vmx_exit_reason(), "IRQ0 wakes the guest through its IDT, then VMCALL exits");
    tap_check(intr_count >= 1, "the guest's handler ran");

    arm_one_shot();
    tap_eq(0, pic_read_irr() & 1, "one-shot armed: nothing pending before the guest runs");
    guest_at(g_hlt, 0x202, PIN_EXT_INTR_EXITING, 0, EXIT_ACK_INTR);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at HLT, external-interrupt exiting");
    tap_eq(1, vmx_exit_reason(), "the guest's HLT is ended by the external-interrupt exit");
    tap_eq(1, vmread(GUEST_RIP) - (uintptr_t)g_hlt, "guest RIP after the HLT (offset from it)");
    /* "Architectural State Before a VM Exit": an unblocked event that
     * causes a VM exit from an inactive state returns to the active state
     * only after the VM exit completes, so the saved activity state is
     * HLT. Bochs 2.7 wakes the processor first and saves "active". */
    tap_eq_or_departure(1, vmread(GUEST_ACTIVITY), 0, "bochs-vmx-exit-from-hlt-saves-active",
                        "activity state saved by an exit from HLT: HLT");
    outb(PIC1_CMD, 0x20);

    outb(PIC1_DATA, 0xff);
}
