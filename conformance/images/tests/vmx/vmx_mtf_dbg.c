/* vmx_mtf_dbg: single-step debug traps (RFLAGS.TF) in a VMX guest, the
 * pending-debug-exceptions field, and their priority against the monitor
 * trap flag.
 *
 * On every VMX CPU: a guest NOP with TF = 1 is followed by a #DB trap —
 * through the guest IDT (saved RIP after the NOP, DR6.BS set) or, with bit
 * 1 of the exception bitmap, exit 0 (hardware exception 80000301H,
 * qualification BS = 4000H, DR6 untouched). VM entry with BS in the
 * pending-debug-exceptions field delivers a #DB before the first guest
 * instruction (or exits 0 with qualification BS under the bitmap).
 *
 * Where the CPU offers the monitor trap flag: "MTF VM exits take priority
 * over debug-trap exceptions", so a NOP with TF = 1 ends in the MTF exit
 * after the NOP, with the single-step trap saved as pending (BS), not
 * delivered, DR6 untouched; VM entry with that pending BS delivers the #DB
 * and then exits for MTF at the handler ("a pending event (e.g., debug
 * exception ...) is delivered before an instruction can execute"). Where
 * it is not offered (Bochs 2.7, hvsim's skylake-x) VM entry with it fails
 * (error 7); hvsim runs the supported branch in vmx_machine_mtf_dbg.
 *
 * SDM Vol. 3C, "Monitor Trap Flag", "Exit Qualification for Debug
 * Exceptions", "Saving Non-Register State" (pending debug exceptions),
 * "Delivery of Pending Debug Exceptions after VM Entry"; SDM Vol. 3A,
 * "Single-Step Exception Condition". */
#include "tests/vmx/vmx.h"

#define PROC_MTF (1u << 27)
#define EXIT_EXCEPTION 0
#define EXIT_VMCALL 18
#define EXIT_MTF 37
#define VEC_DB 1
#define HW_DB 0x80000301u
#define DBG_BS 0x4000ull
#define DR6_BS 0x4000ull
#define DR6_INIT 0xFFFF0FF0ull
#define RFLAGS_TF 0x100ull

void guest_dbg(void);
extern char g_nop[], g_next[];
__asm__(".text\n"
        "guest_dbg:\n"
        "g_nop: nop\n"
        "g_next: vmcall\n");

static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }
static void write_dr0(uint64_t v) { __asm__ volatile("mov %0, %%dr0" : : "r"(v)); }

/* The guest's #DB handler (the guest shares the host's IDT): records the
 * saved RIP and DR6, clears TF in the frame so the guest goes on without
 * another trap, and returns. */
static volatile struct { unsigned count; uint64_t rip, dr6; } db;

static void db_hook(struct rt_frame *f)
{
    db.count++;
    db.rip = f->rip;
    db.dr6 = read_dr6();
    f->rflags &= ~RFLAGS_TF;
}

static void code_descriptor_accessed(void)
{
    extern uint64_t rt_gdt[];
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    rt_gdt[cs >> 3] |= 1ull << 40;
}

/* The handler the IDT gives `vector` (a 64-bit gate). */
static uint64_t idt_handler(unsigned vector)
{
    struct dtr idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    const uint32_t *g = (const uint32_t *)(idt.base + 16 * vector);
    return (g[0] & 0xFFFF) | (g[1] & 0xFFFF0000u) | ((uint64_t)g[2] << 32);
}

static int launched;

static int enter(uint64_t rflags, uint64_t pending_dbg)
{
    vmwrite(GUEST_RIP, (uintptr_t)g_nop);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, rflags);
    vmwrite(GUEST_PENDING_DBG, pending_dbg);
    vmwrite(ENTRY_INTR_INFO, 0);
    db.count = 0;
    db.rip = db.dr6 = 0;
    write_dr6(DR6_INIT);
    int r = vmx_run(launched);
    launched = 1;
    return r;
}

static void single_step(void)
{
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMLAUNCH at a NOP with TF = 1");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "single step: the #DB went through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "single step: the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_next, "single step: the saved RIP is the instruction after the NOP");
    tap_eq(DR6_BS, db.dr6 & DR6_BS, "single step: DR6.BS is set in the handler");

    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMRESUME at a NOP with TF = 1, #DB in the bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "single step under the bitmap: exception exit");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "single step under the bitmap: hardware exception #DB");
    tap_eq(DBG_BS, vmread(EXIT_QUALIFICATION), "single step under the bitmap: qualification BS");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_next, "single step under the bitmap: guest RIP after the NOP");
    tap_eq(0, read_dr6() & DR6_BS, "single step under the bitmap: DR6 not updated");
    tap_eq(0, db.count, "single step under the bitmap: the guest's handler did not run");

    /* DR0 naming the next instruction with R/W0 = 00 (DR7 = 400H: an
     * instruction breakpoint, not enabled) is no condition of the single
     * step: an instruction breakpoint is a fault of the instruction it
     * names, and B0 "may be set" only for a condition met. */
    write_dr0((uintptr_t)g_next);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMRESUME at a NOP with TF = 1, DR0 = the next RIP, R/W0 = 00");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "single step, DR0 = next RIP: exception exit");
    tap_eq(DBG_BS, vmread(EXIT_QUALIFICATION), "single step, DR0 = next RIP: qualification BS alone");
    write_dr0(0);
}

static void pending_at_entry(void)
{
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_EXITED, enter(0x2, DBG_BS), "VMRESUME with BS pending, TF = 0");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "pending BS: #DB through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "pending BS: the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_nop, "pending BS: delivered before the first guest instruction");
    tap_eq(DR6_BS, db.dr6 & DR6_BS, "pending BS: DR6.BS is set in the handler");

    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter(0x2, DBG_BS), "VMRESUME with BS pending, #DB in the bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "pending BS under the bitmap: exception exit");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "pending BS under the bitmap: hardware exception #DB");
    tap_eq(DBG_BS, vmread(EXIT_QUALIFICATION), "pending BS under the bitmap: qualification BS");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_nop, "pending BS under the bitmap: guest RIP at the first instruction");
    tap_eq(0, read_dr6() & DR6_BS, "pending BS under the bitmap: DR6 not updated");
}

static void with_mtf(uint32_t proc)
{
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(PROC_CONTROLS, proc | PROC_MTF);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMRESUME at a NOP with TF = 1 and the monitor trap flag");
    tap_eq(EXIT_MTF, vmx_exit_reason(), "MTF and single step: the MTF exit comes first");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_next, "MTF and single step: guest RIP after the NOP");
    tap_eq(DBG_BS, vmread(GUEST_PENDING_DBG), "MTF and single step: the trap is saved pending (BS)");
    tap_eq(0, db.count, "MTF and single step: the #DB was not delivered");
    tap_eq(0, read_dr6() & DR6_BS, "MTF and single step: DR6 not updated");

    /* The same with DR0 = the next RIP and R/W0 = 00: the instruction
     * breakpoint is no part of the saved trap (B0 and bit 12 clear). */
    write_dr0((uintptr_t)g_next);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMRESUME, TF = 1, MTF, DR0 = the next RIP, R/W0 = 00");
    tap_eq(EXIT_MTF, vmx_exit_reason(), "MTF, single step, DR0 = next RIP: the MTF exit comes first");
    tap_eq(DBG_BS, vmread(GUEST_PENDING_DBG), "MTF, single step, DR0 = next RIP: BS alone saved pending");
    write_dr0(0);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, 0), "VMRESUME at a NOP with TF = 1 and the monitor trap flag, again");

    /* Resuming with what the exit saved: the pending #DB is delivered,
     * then the MTF exit comes at the handler's first instruction. */
    vmwrite(GUEST_RFLAGS, 0x2);
    db.count = 0;
    write_dr6(DR6_INIT);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with the saved pending BS and the monitor trap flag");
    tap_eq(EXIT_MTF, vmx_exit_reason(), "pending BS and MTF: MTF exit after the #DB's delivery");
    tap_check(vmread(GUEST_RIP) == idt_handler(VEC_DB), "pending BS and MTF: guest RIP at the #DB handler");
    tap_eq(0, vmread(GUEST_PENDING_DBG), "pending BS and MTF: nothing pending any more");
    tap_eq(DR6_BS, read_dr6() & DR6_BS, "pending BS and MTF: the delivery set DR6.BS");
    vmwrite(PROC_CONTROLS, proc);
}

void test_main(void)
{
    code_descriptor_accessed();
    rt_set_vector_hook(VEC_DB, db_hook);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_dbg, 0, 0);
    uint32_t proc = (uint32_t)vmread(PROC_CONTROLS);
    single_step();
    pending_at_entry();
    uint64_t cap = rdmsr((rdmsr(MSR_VMX_BASIC) >> 55) & 1 ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    if ((cap >> 32) & PROC_MTF) {
        tap_note("the monitor trap flag is supported");
        with_mtf(proc);
    } else {
        tap_note("the monitor trap flag is not supported");
        vmwrite(PROC_CONTROLS, proc | PROC_MTF);
        tap_eq(VM_FAIL_VALID, enter(0x2 | RFLAGS_TF, 0), "VMRESUME with the unsupported monitor trap flag fails");
        tap_eq(7, vmread(VM_INSTRUCTION_ERROR), "VM-instruction error 7 (invalid control field)");
        vmwrite(PROC_CONTROLS, proc);
    }
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
