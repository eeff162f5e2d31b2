/* vmx_icebp: INT1 (ICEBP, F1) in VMX non-root operation. Its #DB is a
 * privileged software exception: with bit 1 of the exception bitmap it
 * exits (reason 0) with interruption type 5, the instruction length, the
 * guest RIP at the ICEBP and qualification 0; without it the #DB goes
 * through the guest IDT with the saved RIP after the ICEBP. A fault while
 * delivering it records it as IDT-vectoring information (type 5, with its
 * length; the #NP's error code has EXT = 1). VM entry injecting a
 * privileged software exception delivers it with RIP + the VM-entry
 * instruction length, without consulting the exception bitmap; a fault
 * while delivering it records the injected event.
 * SDM Vol. 3C, "Exceptions" (chapter "VMX Non-Root Operation"), "Basic
 * VM-Exit Information", "Information for VM Exits That Occur During Event
 * Delivery", "Event Injection"; SDM Vol. 2, "INT n/INTO/INT3/INT1". */
#include "tests/vmx/vmx.h"

#define EXIT_EXCEPTION 0
#define EXIT_VMCALL 18
#define VEC_DB 1
#define VEC_NP 11
#define PRIV_SW_DB 0x80000501u          /* valid, type 5, vector 1 */

void guest_icebp(void);
extern char g_icebp[], g_after[], g_nop[], g_nop_next[];
__asm__(".text\n"
        "guest_icebp:\n"
        "g_icebp: .byte 0xf1\n"
        "g_after: vmcall\n"
        "g_nop: nop\n"
        "g_nop_next: vmcall\n");

/* The guest's #DB handler (the guest shares the host's IDT): records the
 * saved RIP and returns there. */
static volatile struct { unsigned count; uint64_t rip; } db;

static void db_hook(struct rt_frame *f)
{
    db.count++;
    db.rip = f->rip;
}

/* Delivery through the IDT reloads CS from its descriptor, which a VM exit
 * saves and the next VM entry checks (accessed): set the bit as the
 * processor would ("Segment Descriptors", SDM Vol. 3A). */
static void code_descriptor_accessed(void)
{
    extern uint64_t rt_gdt[];
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    rt_gdt[cs >> 3] |= 1ull << 40;
}

static int enter_at(const void *rip, uint32_t inject, uint32_t len)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(ENTRY_INTR_INFO, inject);
    vmwrite(ENTRY_INSN_LEN, len);
    db.count = 0;
    db.rip = 0;
    return vmx_run(1);
}

static void exit_on_bitmap(void)
{
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(GUEST_RIP, (uintptr_t)g_icebp);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH at ICEBP with #DB in the exception bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "ICEBP: exception exit (0)");
    tap_eq(PRIV_SW_DB, vmread(EXIT_INTR_INFO), "ICEBP: interruption information, privileged software exception");
    tap_eq(1, vmread(EXIT_INSN_LEN), "ICEBP: instruction length 1");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_icebp, "ICEBP: guest RIP is the ICEBP");
    tap_eq(0, vmread(EXIT_QUALIFICATION), "ICEBP: qualification 0 (no B3-B0, BD, BS)");
    tap_eq(0, vmread(IDT_VECTORING_INFO) >> 31, "ICEBP: no IDT-vectoring information");
    tap_eq(0, db.count, "ICEBP: the guest's #DB handler did not run");
}

static void delivered_without_bitmap(void)
{
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_EXITED, enter_at(g_icebp, 0, 0), "VMRESUME at ICEBP, #DB not in the bitmap");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "ICEBP's #DB went through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_after, "the #DB's saved RIP is the instruction after ICEBP");
}

static void fault_while_delivering(void)
{
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_NP);
    rt_idt_set_present(VEC_DB, false);
    tap_eq(VM_EXITED, enter_at(g_icebp, 0, 0), "VMRESUME at ICEBP, #DB gate not present, #NP in the bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "#NP while delivering ICEBP's #DB: exception exit");
    tap_eq(0x80000B0B, vmread(EXIT_INTR_INFO), "#NP: interruption information");
    tap_eq(VEC_DB * 8 + 2 + 1, vmread(EXIT_INTR_ERROR), "#NP: error code names the gate, EXT = 1");
    tap_eq(PRIV_SW_DB, vmread(IDT_VECTORING_INFO), "#NP: IDT-vectoring information is ICEBP's #DB (type 5)");
    tap_eq(1, vmread(EXIT_INSN_LEN), "#NP: the ICEBP's instruction length");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_icebp, "#NP: guest RIP is the ICEBP");

    tap_eq(VM_EXITED, enter_at(g_nop, PRIV_SW_DB, 1), "VMRESUME injecting a privileged software #DB, gate not present");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "#NP while delivering the injected event: exception exit");
    tap_eq(VEC_DB * 8 + 2 + 1, vmread(EXIT_INTR_ERROR), "#NP: error code names the gate, EXT = 1 (injected)");
    tap_eq(PRIV_SW_DB, vmread(IDT_VECTORING_INFO), "#NP: IDT-vectoring information is the injected event");
    tap_eq(1, vmread(EXIT_INSN_LEN), "#NP: the VM-entry instruction length");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_nop, "#NP: guest RIP as VM entry loaded it");
    rt_idt_set_present(VEC_DB, true);
}

static void injected(void)
{
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter_at(g_nop, PRIV_SW_DB, 1), "VMRESUME injecting a privileged software #DB, length 1");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the injected event did not consult the bitmap, then VMCALL");
    tap_eq(1, db.count, "the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_nop_next, "the saved RIP is GUEST_RIP + the VM-entry instruction length");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_nop_next, "the guest went on at the saved RIP");
}

void test_main(void)
{
    code_descriptor_accessed();
    rt_set_vector_hook(VEC_DB, db_hook);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_icebp, 0, 0);
    exit_on_bitmap();
    delivered_without_bitmap();
    fault_while_delivering();
    injected();
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
