/* vmx_dbgbp: hardware breakpoints in VMX non-root operation. The guest's
 * DR7 comes from the VMCS ("load debug controls"), DR0-DR3 and DR6 are
 * shared with the host. A data breakpoint's #DB with bit 1 of the
 * exception bitmap exits (reason 0, interruption information 80000301H:
 * hardware exception, vector 1) after the store (guest RIP after it) with
 * B0 as the exit qualification, DR6 not written; without the bit the #DB
 * goes through the guest IDT with DR6.B0 set. An instruction breakpoint's
 * #DB exits before the instruction (guest RIP at it, qualification B0).
 * After the exit the host's DR7 is 400H: its own store to the address
 * raises nothing. General detect (a MOV DR with the guest's DR7.GD = 1)
 * exits with qualification BD, the guest RIP at the MOV, and neither DR6
 * nor DR7.GD updated ("Architectural State Before a VM Exit"). With the
 * monitor trap flag (where offered: not on Bochs's or hvsim's
 * skylake-x; vmx_machine_dbgbp runs the branch on the Nehalem VMX model)
 * the MTF exit after the store takes priority over its trap, which is
 * saved pending (B0 and bit 12, "enabled breakpoint"), DR6 untouched
 * ("Monitor Trap Flag", "Saving Non-Register State").
 * A guest MOV SS that reads a read/write breakpoint holds its #DB for the
 * next instruction; when that instruction (CPUID) exits, the exit saves
 * the #DB as pending debug exceptions (B0, bit 12) with blocking by MOV
 * SS ("Saving Non-Register State"), nothing delivered; resuming after the
 * CPUID with both kept holds the #DB for one more instruction and then
 * delivers it through the guest IDT ("Delivery of Pending Debug
 * Exceptions after VM Entry"); the same when the next instruction's #UD
 * exits under the bitmap (Bochs 2.7 saves neither: declared,
 * bochs-vmx-movss-db-lost-at-exception-exit). With "MOV-DR exiting", a MOV DR while the
 * guest's DR7.GD = 1 exits (reason 29) instead of raising the
 * general-detect #DB: DR6 and DR7.GD unchanged ("Relative Priority of
 * Faults and VM Exits": fault-like VM exits have priority over exceptions
 * other than #UD, privilege-level faults and the TSS I/O-permission #GP);
 * the exit also comes before DR4's #UD with CR4.DE = 1 and the #GP at
 * CPL 3 ("MOV DR is an exception to this rule"). The processor's own
 * accesses meet data breakpoints ("Data Memory and I/O Breakpoint
 * Exception Conditions"): the host's VMPTRST and SMSW stores and its
 * INVPCID's descriptor read trap after the instruction; the frame a guest INT3's delivery pushes on a watched
 * slot raises the #DB after the delivery, before the #BP handler's first
 * instruction (exit 0, guest RIP at the handler).
 * SDM Vol. 3C, "Exceptions" (chapter "VMX Non-Root Operation"), "Exit
 * Qualification for Debug Exceptions", "Loading Guest State" (DR7),
 * "Loading Host State" (DR7 = 400H); SDM Vol. 3A, "Debug Exceptions". */
#include "tests/vmx/vmx.h"

#define EXIT_EXCEPTION 0
#define EXIT_VMCALL 18
#define VEC_DB 1
#define HW_DB 0x80000301u               /* valid, type 3, vector 1 */
#define DR6_FIXED 0xFFFF0FF0ull
#define DR7_WRITE0 (0x400ull | 0x1 | 1ull << 16 | 3ull << 18)   /* L0, R/W0 01, LEN0 4 bytes */
#define DR7_EXEC0 (0x400ull | 0x1)                               /* L0, R/W0 00, LEN0 1 byte */

static volatile uint32_t watched __attribute__((aligned(64)));
static volatile uint16_t ss_slot __attribute__((aligned(64)));

void guest_store(void);
extern char g_store[], g_after[], g_nop[], g_gd[], g_movss[], g_cpuid[], g_movss_nop[], g_movss_end[], g_dr4[], g_int3[], g_movss_ud[], g_ud2[];
__asm__(".text\n"
        "guest_store:\n"
        "g_store: movl $7, watched(%rip)\n"
        "g_after: vmcall\n"
        "g_nop: nop\n"
        "vmcall\n"
        "g_gd: mov %dr0, %rax\n"
        "vmcall\n"
        "g_movss: mov ss_slot(%rip), %ss\n"
        "g_cpuid: cpuid\n"
        "g_movss_nop: nop\n"
        "g_movss_end: vmcall\n"
        "g_dr4: mov %dr4, %rax\n"
        "vmcall\n"
        "g_int3: int3\n"
        "vmcall\n"
        "g_movss_ud: mov ss_slot(%rip), %ss\n"
        "g_ud2: ud2\n");

static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }
static void write_dr0(uint64_t v) { __asm__ volatile("mov %0, %%dr0" : : "r"(v)); }

static volatile struct { unsigned count; uint64_t rip, dr6; } db;

static void db_hook(struct rt_frame *f)
{
    db.count++;
    db.rip = f->rip;
    db.dr6 = read_dr6();
    write_dr6(DR6_FIXED);
}

static void code_descriptor_accessed(void)
{
    extern uint64_t rt_gdt[];
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    rt_gdt[cs >> 3] |= 1ull << 40;
}

static int enter_at(const void *rip, uint64_t dr7, int resume)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_DR7, dr7);
    db.count = 0;
    db.rip = db.dr6 = 0;
    write_dr6(DR6_FIXED);
    return vmx_run(resume);
}

static void data_bp_exits(void)
{
    write_dr0((uintptr_t)&watched);
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter_at(g_store, DR7_WRITE0, 0), "VMLAUNCH, guest DR7 with a write breakpoint, #DB in the bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "data breakpoint: exception exit (0)");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "data breakpoint: interruption information 80000301H");
    tap_eq(1, vmread(EXIT_QUALIFICATION), "data breakpoint: qualification B0");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after, "data breakpoint: a trap, guest RIP after the store");
    tap_eq(7, watched, "data breakpoint: the store happened");
    tap_eq(DR6_FIXED, read_dr6(), "data breakpoint exit: DR6 not written");
    tap_eq(0, db.count, "data breakpoint exit: the guest's #DB handler did not run");
    tap_eq(DR7_WRITE0, vmread(GUEST_DR7), "the exit saved the guest's DR7");

    watched = 1;
    tap_eq(0, db.count, "host store after the exit (host DR7 400H): no #DB");
}

static void data_bp_through_guest_idt(void)
{
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_EXITED, enter_at(g_store, DR7_WRITE0, 1), "VMRESUME, write breakpoint, #DB not in the bitmap");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the #DB went through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "the guest's #DB handler ran once");
    tap_check(db.rip == (uintptr_t)g_after, "the #DB's saved RIP is after the store");
    tap_eq(DR6_FIXED | 1, db.dr6, "the guest's #DB: DR6 reports B0");
}

static void instruction_bp_exits(void)
{
    write_dr0((uintptr_t)g_nop);
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter_at(g_nop, DR7_EXEC0, 1), "VMRESUME at an instruction breakpoint, #DB in the bitmap");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "instruction breakpoint: exception exit (0)");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "instruction breakpoint: interruption information 80000301H");
    tap_eq(1, vmread(EXIT_QUALIFICATION), "instruction breakpoint: qualification B0");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_nop, "instruction breakpoint: a fault, guest RIP at the instruction");
    tap_eq(DR6_FIXED, read_dr6(), "instruction breakpoint exit: DR6 not written");
    write_dr0(0);
}

static void general_detect_exits(void)
{
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    tap_eq(VM_EXITED, enter_at(g_gd, 0x400 | 1u << 13, 1), "VMRESUME at MOV from DR0 with the guest's DR7.GD = 1");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "general detect exit: exception exit (0)");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "general detect exit: interruption information 80000301H");
    tap_eq(1u << 13, vmread(EXIT_QUALIFICATION), "general detect exit: qualification BD");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_gd, "general detect exit: a fault, guest RIP at the MOV");
    tap_eq(0x400 | 1u << 13, vmread(GUEST_DR7), "general detect exit: the guest's DR7.GD is not cleared");
    tap_eq(DR6_FIXED, read_dr6(), "general detect exit: DR6 not written");
}

#define EXIT_CPUID 10
#define EXIT_MOV_DR 29
#define PROC_MOV_DR (1u << 23)
#define BLOCK_MOV_SS 2u
#define DR7_RW0 (0x400ull | 0x1 | 3ull << 16 | 1ull << 18)      /* L0, R/W0 11, LEN0 2 bytes */

/* The CPUID right after a MOV SS whose #DB is held exits: the #DB is
 * saved pending with blocking by MOV SS, then delivered after one guest
 * instruction once the host resumes with both. */
static void movss_held_db_saved_by_exit(void)
{
    uint16_t ss;
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    ss_slot = ss;
    write_dr0((uintptr_t)&ss_slot);
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    tap_eq(VM_EXITED, enter_at(g_movss, DR7_RW0, 1), "VMRESUME at MOV SS reading a read/write breakpoint");
    tap_eq(EXIT_CPUID, vmx_exit_reason(), "MOV SS then CPUID: the CPUID exits");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_cpuid, "MOV SS then CPUID: guest RIP at the CPUID");
    tap_eq(0, db.count, "MOV SS then CPUID exit: the held #DB was not delivered");
    tap_eq(1 | 1u << 12, vmread(GUEST_PENDING_DBG), "MOV SS then CPUID exit: B0 and enabled breakpoint saved pending");
    tap_eq(BLOCK_MOV_SS, vmread(GUEST_INTERRUPTIBILITY) & 3, "MOV SS then CPUID exit: blocking by MOV SS saved");
    tap_eq(DR6_FIXED, read_dr6(), "MOV SS then CPUID exit: DR6 not written");

    vmwrite(GUEST_RIP, (uintptr_t)g_movss_nop);
    db.count = 0;
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME after the CPUID with the pending #DB and blocking by MOV SS");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the pending #DB went through the guest IDT, then VMCALL");
    tap_eq(1, db.count, "the held pending #DB: the guest's handler ran once");
    tap_check(db.rip == (uintptr_t)g_movss_end, "the held pending #DB: delivered after one guest instruction");
    tap_eq(DR6_FIXED | 1, db.dr6, "the held pending #DB: DR6 reports B0");
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);

    /* The same when the next instruction's exception exits (#UD under
     * the bitmap): a VM exit "due to another reason (but not a debug
     * exception)". */
    vmwrite(EXCEPTION_BITMAP, 1u << 6);
    tap_eq(VM_EXITED, enter_at(g_movss_ud, DR7_RW0, 1), "VMRESUME at MOV SS reading a breakpoint, then UD2");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "MOV SS then UD2: the #UD exits (0)");
    tap_eq(0x80000306u, vmread(EXIT_INTR_INFO), "MOV SS then UD2: interruption information #UD");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_ud2, "MOV SS then UD2: guest RIP at the UD2");
    tap_eq_or_departure(1 | 1u << 12, vmread(GUEST_PENDING_DBG), 0, "bochs-vmx-movss-db-lost-at-exception-exit",
                        "MOV SS then UD2 exit: B0 and enabled breakpoint saved pending");
    tap_eq_or_departure(BLOCK_MOV_SS, vmread(GUEST_INTERRUPTIBILITY) & 3, 0, "bochs-vmx-movss-db-lost-at-exception-exit",
                        "MOV SS then UD2 exit: blocking by MOV SS saved");
    tap_eq(0, db.count, "MOV SS then UD2 exit: the held #DB was not delivered");
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    write_dr0(0);
}

/* "MOV-DR exiting": the VM exit comes before DR7.GD's #DB, DR4's #UD
 * and CPL 3's #GP. */
static void mov_dr_exit_before_general_detect(uint32_t proc)
{
    uint16_t cs_sel = (uint16_t)vmread(GUEST_CS_SEL), ss_sel = (uint16_t)vmread(GUEST_SS_SEL);
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(PROC_CONTROLS, proc | PROC_MOV_DR);
    tap_eq(VM_EXITED, enter_at(g_gd, 0x400 | 1u << 13, 1), "VMRESUME at MOV from DR0, DR7.GD = 1, MOV-DR exiting");
    tap_eq(EXIT_MOV_DR, vmx_exit_reason(), "MOV-DR exiting and DR7.GD: the MOV-DR exit (29), not the #DB");
    tap_eq(0x10, vmread(EXIT_QUALIFICATION), "MOV-DR exit: qualification MOV from DR0 into RAX");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_gd, "MOV-DR exit: guest RIP at the MOV");
    tap_eq(0x400 | 1u << 13, vmread(GUEST_DR7), "MOV-DR exit: the guest's DR7.GD is not cleared");
    tap_eq(DR6_FIXED, read_dr6(), "MOV-DR exit: DR6 not written");

    /* The exit also comes before the #UD of DR4 with CR4.DE = 1 and the
     * #GP at CPL 3 ("MOV DR is an exception to this rule"). */
    uint64_t cr4 = vmread(GUEST_CR4);
    vmwrite(EXCEPTION_BITMAP, 1u << 6 | 1u << 13);
    vmwrite(GUEST_CR4, cr4 | 8);
    tap_eq(VM_EXITED, enter_at(g_dr4, 0x400, 1), "VMRESUME at MOV from DR4 with CR4.DE = 1, MOV-DR exiting");
    tap_eq(EXIT_MOV_DR, vmx_exit_reason(), "MOV from DR4 with CR4.DE = 1: the MOV-DR exit (29), not #UD");
    tap_eq(0x14, vmread(EXIT_QUALIFICATION), "MOV-DR exit: qualification MOV from DR4 into RAX");
    vmwrite(PROC_CONTROLS, proc);
    tap_eq(VM_EXITED, enter_at(g_dr4, 0x400, 1), "VMRESUME at MOV from DR4 with CR4.DE = 1, no MOV-DR exiting");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "MOV from DR4 with CR4.DE = 1, no MOV-DR exiting: exception exit");
    tap_eq(0x80000306u, vmread(EXIT_INTR_INFO), "MOV from DR4 with CR4.DE = 1: #UD");
    vmwrite(GUEST_CR4, cr4);

    /* CPL 3: the guest's CS and SS are the runtime's ring-3 selectors. */
    vmwrite(GUEST_CS_SEL, 0x23);
    vmwrite(GUEST_ES_AR + 2, 0xA0FB);
    vmwrite(GUEST_SS_SEL, 0x2B);
    vmwrite(GUEST_ES_AR + 4, 0xC0F3);
    vmwrite(PROC_CONTROLS, proc | PROC_MOV_DR);
    tap_eq(VM_EXITED, enter_at(g_gd, 0x400, 1), "VMRESUME at MOV from DR0 at CPL 3, MOV-DR exiting");
    tap_eq(EXIT_MOV_DR, vmx_exit_reason(), "MOV from DR0 at CPL 3: the MOV-DR exit (29), not #GP");
    vmwrite(PROC_CONTROLS, proc);
    tap_eq(VM_EXITED, enter_at(g_gd, 0x400, 1), "VMRESUME at MOV from DR0 at CPL 3, no MOV-DR exiting");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "MOV from DR0 at CPL 3, no MOV-DR exiting: exception exit");
    tap_eq(0x80000B0Du, vmread(EXIT_INTR_INFO), "MOV from DR0 at CPL 3: #GP with an error code");
    vmwrite(GUEST_CS_SEL, cs_sel);
    vmwrite(GUEST_ES_AR + 2, 0xA09B);
    vmwrite(GUEST_SS_SEL, ss_sel);
    vmwrite(GUEST_ES_AR + 4, ss_sel ? 0xC093 : 0x10000);
    vmwrite(EXCEPTION_BITMAP, 0);
}

#define DR7_WRITE0_8 (0x400ull | 0x1 | 1ull << 16 | 2ull << 18)   /* L0, R/W0 01, LEN0 8 bytes */
#define DR7_RW0_8 (0x400ull | 0x1 | 3ull << 16 | 2ull << 18)      /* L0, R/W0 11, LEN0 8 bytes */

static void write_dr7(uint64_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }
static volatile uint64_t vmcs_ptr_slot __attribute__((aligned(64)));
static volatile uint64_t other_slot __attribute__((aligned(64)));
static volatile uint16_t msw_slot __attribute__((aligned(64)));
static volatile uint64_t invpcid_desc[2] __attribute__((aligned(64)));
static volatile unsigned bp_count;
static void bp_hook(struct rt_frame *f) { (void)f; bp_count++; }

/* Memory operands of instructions the processor carries out in VMX root
 * operation (VMPTRST, SMSW, INVPCID's descriptor) meet data breakpoints: a trap after the
 * instruction ("Data Memory and I/O Breakpoint Exception Conditions"). */
static void operand_bps_in_root(void)
{
    write_dr0((uintptr_t)&vmcs_ptr_slot);
    db.count = 0;
    write_dr6(DR6_FIXED);
    write_dr7(DR7_WRITE0_8);
    __asm__ volatile("vmptrst %0\n.globl h_after_vmptrst\nh_after_vmptrst:" : "=m"(other_slot));
    unsigned miss = db.count;
    __asm__ volatile("vmptrst %0\n.globl h_after_vmptrst2\nh_after_vmptrst2:" : "=m"(vmcs_ptr_slot));
    write_dr7(0x400);
    extern char h_after_vmptrst2[];
    tap_eq(0, miss, "VMPTRST to memory no breakpoint watches: no #DB");
    tap_eq(1, db.count, "VMPTRST to a write breakpoint: one #DB");
    tap_check(db.rip == (uintptr_t)h_after_vmptrst2, "VMPTRST's data breakpoint: a trap, saved RIP after it");
    tap_eq(DR6_FIXED | 1, db.dr6, "VMPTRST's data breakpoint: DR6 reports B0");
    tap_check(vmcs_ptr_slot == (uintptr_t)vmx_vmcs_region, "VMPTRST stored the current-VMCS pointer");

    write_dr0((uintptr_t)&msw_slot);
    db.count = 0;
    write_dr6(DR6_FIXED);
    write_dr7(DR7_WRITE0);
    __asm__ volatile("smsw %0\n.globl h_after_smsw\nh_after_smsw:" : "=m"(msw_slot));
    write_dr7(0x400);
    extern char h_after_smsw[];
    tap_eq(1, db.count, "SMSW to a write breakpoint: one #DB");
    tap_check(db.rip == (uintptr_t)h_after_smsw, "SMSW's data breakpoint: a trap, saved RIP after it");

    /* INVPCID (type 2, all contexts) reads its descriptor. */
    invpcid_desc[0] = invpcid_desc[1] = 0;
    write_dr0((uintptr_t)&invpcid_desc[0]);
    db.count = 0;
    write_dr6(DR6_FIXED);
    write_dr7(DR7_RW0_8);
    __asm__ volatile("invpcid %0, %1\n.globl h_after_invpcid\nh_after_invpcid:" : : "m"(invpcid_desc), "r"(2ull)
                     : "memory");
    write_dr7(0x400);
    extern char h_after_invpcid[];
    tap_eq(1, db.count, "INVPCID's descriptor under a read/write breakpoint: one #DB");
    tap_check(db.rip == (uintptr_t)h_after_invpcid, "INVPCID's data breakpoint: a trap, saved RIP after it");
    write_dr0(0);
}

/* The stack frame that event delivery pushes meets data breakpoints too:
 * the guest's INT3 pushes its frame on a watched slot, and the #DB trap
 * comes after the delivery, before the #BP handler's first instruction
 * (exit 0 under the bitmap, guest RIP at the handler). */
static uint64_t idt_handler(unsigned vector)
{
    struct dtr idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    const uint32_t *g = (const uint32_t *)(uintptr_t)(idt.base + 16 * vector);
    return (g[0] & 0xFFFF) | (g[1] & 0xFFFF0000u) | (uint64_t)g[2] << 32;
}

static void frame_bp_in_guest(void)
{
    uintptr_t top = (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack);
    rt_set_vector_hook(3, bp_hook);
    vmwrite(EXCEPTION_BITMAP, 1u << VEC_DB);
    write_dr0(top - 40);                 /* the RIP slot of the 64-bit frame */
    bp_count = 0;
    tap_eq(VM_EXITED, enter_at(g_int3, DR7_WRITE0_8, 1), "VMRESUME at INT3, write breakpoint on its frame's RIP slot");
    tap_eq(EXIT_EXCEPTION, vmx_exit_reason(), "INT3 frame on a breakpoint: exception exit (0)");
    tap_eq(HW_DB, vmread(EXIT_INTR_INFO), "INT3 frame on a breakpoint: a #DB (80000301H)");
    tap_eq(1, vmread(EXIT_QUALIFICATION), "INT3 frame on a breakpoint: qualification B0");
    tap_check(vmread(GUEST_RIP) == idt_handler(3), "INT3 frame on a breakpoint: guest RIP at the #BP handler");
    tap_check(vmread(GUEST_RSP) == top - 40, "INT3 frame on a breakpoint: guest RSP at the pushed frame");
    tap_eq(0, bp_count, "INT3 frame on a breakpoint: the #BP handler has not run");

    write_dr0(top);                      /* just above the frame (below it, the handler's own pushes) */
    tap_eq(VM_EXITED, enter_at(g_int3, DR7_WRITE0_8, 1), "VMRESUME at INT3, write breakpoint just above its frame");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "INT3 frame clear of the breakpoint: the handler ran, then VMCALL");
    tap_eq(1, bp_count, "INT3 frame clear of the breakpoint: the #BP handler ran once");
    vmwrite(EXCEPTION_BITMAP, 0);
    write_dr0(0);
}

#define EXIT_MTF 37
#define PROC_MTF (1u << 27)

static void with_mtf(uint32_t proc)
{
    write_dr0((uintptr_t)&watched);
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(PROC_CONTROLS, proc | PROC_MTF);
    tap_eq(VM_EXITED, enter_at(g_store, DR7_WRITE0, 1), "VMRESUME at the store with the monitor trap flag");
    tap_eq(EXIT_MTF, vmx_exit_reason(), "MTF and data breakpoint: the MTF exit comes first");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_after, "MTF and data breakpoint: guest RIP after the store");
    tap_eq(1 | 1u << 12, vmread(GUEST_PENDING_DBG), "MTF and data breakpoint: B0 and enabled breakpoint saved pending");
    tap_eq(0, db.count, "MTF and data breakpoint: the #DB was not delivered");
    tap_eq(DR6_FIXED, read_dr6(), "MTF and data breakpoint: DR6 not updated");
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(PROC_CONTROLS, proc);
    write_dr0(0);
}

void test_main(void)
{
    code_descriptor_accessed();
    rt_set_vector_hook(VEC_DB, db_hook);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_store, 0, 0);
    /* "load debug controls" and "save debug controls" (bit 2 of each). */
    vmwrite(ENTRY_CONTROLS, vmread(ENTRY_CONTROLS) | 4);
    vmwrite(EXIT_CONTROLS, vmread(EXIT_CONTROLS) | 4);
    data_bp_exits();
    data_bp_through_guest_idt();
    instruction_bp_exits();
    general_detect_exits();
    movss_held_db_saved_by_exit();
    uint32_t proc = (uint32_t)vmread(PROC_CONTROLS);
    mov_dr_exit_before_general_detect(proc);
    operand_bps_in_root();
    frame_bp_in_guest();
    uint64_t cap = rdmsr((rdmsr(MSR_VMX_BASIC) >> 55) & 1 ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    if ((cap >> 32) & PROC_MTF) {
        tap_note("the monitor trap flag is supported");
        with_mtf(proc);
    } else {
        tap_note("the monitor trap flag is not supported");
    }
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
