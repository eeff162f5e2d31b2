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
 * Pending debug exceptions a VM entry cannot deliver at once: blocking by
 * MOV SS holds them until the guest's first instruction has run (then one
 * #DB, merged with that instruction's own single step; an exit on that
 * instruction saves them still pending); the HLT activity state does not
 * hold them (a #DB exit at once saving HLT; through the guest IDT the #DB
 * wakes the guest, where Bochs 2.7 waits: declared departure
 * bochs-vmx-pending-dbg-waits-in-hlt). A single step's conditions
 * exclude an instruction breakpoint (DR7 R/W0 = 00) whose address is the
 * next instruction.
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
 * "Delivery of Pending Debug Exceptions after VM Entry", "Activity
 * State"; SDM Vol. 3A,
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
#define BLOCK_MOV_SS 2u
#define ACTIVITY_HLT 1u
#define DBG_B0 0x1ull
#define DBG_ENABLED 0x1000ull
#define PIN_PREEMPTION_TIMER (1u << 6)
#define TIMER_VALUE 0x482E
#define EXIT_PREEMPTION_TIMER 52

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

    /* Held by MOV SS for after the first instruction: the MTF exit after
     * it takes priority and saves them still pending. */
    vmwrite(GUEST_INTERRUPTIBILITY, BLOCK_MOV_SS);
    tap_eq(VM_EXITED, enter(0x2, DBG_B0 | DBG_ENABLED), "VMRESUME, MTF, MOV SS blocking, B0 + enabled pending");
    tap_eq(EXIT_MTF, vmx_exit_reason(), "MTF and held #DB: the MTF exit after the first instruction");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_next, "MTF and held #DB: guest RIP after the NOP");
    tap_eq(DBG_B0 | DBG_ENABLED, vmread(GUEST_PENDING_DBG), "MTF and held #DB: saved still pending");
    tap_eq(0, db.count, "MTF and held #DB: nothing delivered");
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    vmwrite(PROC_CONTROLS, proc);
}


/* Pending debug exceptions a VM entry cannot deliver at once. "Delivery of
 * Pending Debug Exceptions after VM Entry": with blocking by MOV SS they
 * "are held pending or lost as would normally be the case" — held, as
 * after a MOV SS that hit a debug trap: the #DB comes after the guest's
 * first instruction, with the held conditions (and the single step of
 * that instruction with TF = 1). A VM exit on that first instruction
 * saves them still pending. */
static void held_by_mov_ss(void)
{
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(GUEST_INTERRUPTIBILITY, BLOCK_MOV_SS);
    tap_eq(VM_EXITED, enter(0x2, DBG_B0 | DBG_ENABLED), "VMRESUME, MOV SS blocking, B0 + enabled breakpoint pending");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "held by MOV SS: #DB exit after the first instruction");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_next, "held by MOV SS: guest RIP after the NOP");
    tap_eq(DBG_B0, vmread(EXIT_QUALIFICATION), "held by MOV SS: qualification B0");

    vmwrite(GUEST_INTERRUPTIBILITY, BLOCK_MOV_SS);
    tap_eq(VM_EXITED, enter(0x2 | RFLAGS_TF, DBG_BS | DBG_B0 | DBG_ENABLED),
           "VMRESUME, MOV SS blocking, TF = 1, BS + B0 + enabled breakpoint pending");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "held by MOV SS with TF: one #DB exit after the first instruction");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_next, "held by MOV SS with TF: guest RIP after the NOP");
    tap_eq(DBG_BS | DBG_B0, vmread(EXIT_QUALIFICATION), "held by MOV SS with TF: qualification BS + B0");

    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, BLOCK_MOV_SS);
    tap_eq(VM_EXITED, enter(0x2, DBG_B0 | DBG_ENABLED), "VMRESUME, MOV SS blocking, B0 + enabled pending, no bitmap");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "held by MOV SS: #DB through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "held by MOV SS: the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_next, "held by MOV SS: the saved RIP is the instruction after the NOP");
    tap_eq(DBG_B0, db.dr6 & 0xF, "held by MOV SS: DR6.B0 set in the handler");

    /* The first instruction exits itself: still pending. */
    vmwrite(GUEST_INTERRUPTIBILITY, BLOCK_MOV_SS);
    vmwrite(GUEST_RIP, (uintptr_t)g_next);
    vmwrite(GUEST_PENDING_DBG, DBG_B0 | DBG_ENABLED);
    db.count = 0;
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at a VMCALL, MOV SS blocking, B0 + enabled pending");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "held by MOV SS, VMCALL first: the VMCALL exits");
    tap_eq(DBG_B0 | DBG_ENABLED, vmread(GUEST_PENDING_DBG), "held by MOV SS, VMCALL first: saved still pending");
    tap_eq(0, db.count, "held by MOV SS, VMCALL first: nothing delivered");
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
}

/* VM entry into the HLT activity state with valid pending debug
 * exceptions: HLT is not among the activity states that ignore them
 * (shutdown, wait-for-SIPI), and they are not blocked, so the #DB is
 * delivered after VM entry, from the HLT state: under the bitmap an exit
 * at the entry RIP that saves the HLT activity state; through the guest
 * IDT it wakes the guest. The VMX-preemption timer bounds the wait where
 * it would not be delivered. */
static void in_hlt_state(void)
{
    uint32_t pin = (uint32_t)vmread(PIN_CONTROLS);
    bool timer = (rdmsr(MSR_VMX_PINBASED) >> 32) & PIN_PREEMPTION_TIMER;
    if (timer) {
        vmwrite(PIN_CONTROLS, pin | PIN_PREEMPTION_TIMER);
        vmwrite(TIMER_VALUE, 100000);
    }
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(GUEST_ACTIVITY, ACTIVITY_HLT);
    tap_eq(VM_EXITED, enter(0x2, DBG_B0 | DBG_ENABLED), "VMRESUME into HLT, B0 + enabled breakpoint pending");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "HLT state with pending #DB: #DB exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_nop, "HLT state with pending #DB: guest RIP as entered");
    tap_eq(DBG_B0, vmread(EXIT_QUALIFICATION), "HLT state with pending #DB: qualification B0");
    tap_eq(ACTIVITY_HLT, vmread(GUEST_ACTIVITY), "HLT state with pending #DB: the exit saves the HLT state");

    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(GUEST_ACTIVITY, ACTIVITY_HLT);
    tap_eq(VM_EXITED, enter(0x2, DBG_B0 | DBG_ENABLED), "VMRESUME into HLT, B0 + enabled pending, no bitmap");
    /* Bochs 2.7 leaves the #DB undelivered in the HLT state until the
     * timer's exit (declared: bochs-vmx-pending-dbg-waits-in-hlt). */
    tap_eq_or_departure(EXIT_VMCALL, vmx_exit_reason(), EXIT_PREEMPTION_TIMER, "bochs-vmx-pending-dbg-waits-in-hlt",
                        "HLT state with pending #DB, no bitmap: the #DB woke the guest, then VMCALL");
    tap_eq_or_departure(1, db.count, 0, "bochs-vmx-pending-dbg-waits-in-hlt",
                        "HLT state with pending #DB, no bitmap: the guest's #DB handler ran once");
    tap_eq_or_departure((uintptr_t)g_nop, db.rip, 0, "bochs-vmx-pending-dbg-waits-in-hlt",
                        "HLT state with pending #DB, no bitmap: the saved RIP is the entry RIP");
    tap_eq_or_departure(DBG_B0, db.dr6 & 0xF, 0, "bochs-vmx-pending-dbg-waits-in-hlt",
                        "HLT state with pending #DB, no bitmap: DR6.B0 set in the handler");
    vmwrite(GUEST_ACTIVITY, 0);
    vmwrite(PIN_CONTROLS, pin);
    vmwrite(EXCEPTION_BITMAP, 0);
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
    held_by_mov_ss();
    in_hlt_state();
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
