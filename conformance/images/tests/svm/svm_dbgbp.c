/* svm_dbgbp: hardware breakpoints in an SVM guest. VMRUN loads the
 * guest's DR7 and DR6 from the VMCB; DR0-DR3 are shared with the host.
 * Under the #DB exception intercept a data breakpoint exits (0x41) after
 * the store (guest RIP after it), the VMCB's DR6 reporting B0; without it
 * the #DB goes through the guest's IDT (return RIP after the store) and
 * the guest's DR6, saved at the next #VMEXIT, reports B0. An instruction
 * breakpoint under the intercept exits before the instruction. After the
 * #VMEXIT the host's DR7 is its own (400H): its store raises nothing.
 * AMD APM Vol. 2, "Exception Intercepts" (#DB), "VMRUN" (the guest state
 * loaded), "#VMEXIT" (the guest state saved), "Debug and Performance
 * Resources" ("Breakpoint Conditions"). The #DB intercept comes after
 * DR6 was updated (KVM on hardware: "Under SVM, DR6 is modified before L1
 * can intercept the fault"); Bochs 2.7's ryzen leaves the VMCB's DR6 as
 * VMRUN loaded it: "known departure: bochs-svm-db-intercept-dr6-unchanged".
 * QEMU 7.2 TCG does not arm the breakpoints of the DR7 VMRUN loads: no
 * #DB at all, "known departure: qemu-tcg-svm-guest-dr7-not-armed" (the
 * image tells the two apart by CPUID.1:ECX[31], which QEMU sets).
 * In the host, GIF = 0 discards breakpoint matches: AMD APM Vol. 2,
 * "Global Interrupt Flag, STGI and CLGI Instructions", the table of the
 * GIF's effect: "Debug exception or trap, due to breakpoint register
 * match": "Ignored and discarded". A data breakpoint's store and an
 * instruction breakpoint's instruction then run without a #DB; after STGI
 * both raise it. Bochs 2.7 (ryzen) discards the data breakpoint's trap but
 * raises the instruction breakpoint's fault: "known departure:
 * bochs-svm-gif0-insn-breakpoint-not-discarded"; QEMU 7.2 TCG raises
 * both: "known departure: qemu-tcg-svm-gif0-breakpoints-not-discarded". */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint64_t guest_stack[512] __attribute__((aligned(16)));
static uint64_t guest_idt[2 * 256] __attribute__((aligned(16)));
static volatile uint32_t watched __attribute__((aligned(64)));

#define VEC_DB 1
#define DR6_FIXED 0xFFFF0FF0ull
#define DR7_WRITE0 (0x400ull | 0x1 | 1ull << 16 | 3ull << 18)   /* L0, R/W0 01, LEN0 4 bytes */
#define DR7_EXEC0 (0x400ull | 0x1)                               /* L0, R/W0 00, LEN0 1 byte */

void guest_store(void);
extern char g_store[], g_after[], g_nop[], g_handler[];
__asm__(".text\n"
        "guest_store:\n"
        "g_store: movl $7, watched(%rip)\n"
        "g_after: vmmcall\n"
        "g_nop: nop\n"
        "vmmcall\n"
        "g_handler: vmmcall\n"
        "1: jmp 1b\n");

#define QEMU_ID "qemu-tcg-svm-guest-dr7-not-armed"
static bool under_qemu(void) { return (cpuid(1, 0).ecx >> 31) & 1; }

static void write_dr0(uint64_t v) { __asm__ volatile("mov %0, %%dr0" : : "r"(v)); }
static uint64_t read_dr7(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    return v;
}

extern char h_nop[];
__asm__(".text\n"
        "host_nop: h_nop: nop\n"
        "ret\n");
void host_nop(void);

static void write_dr7(uint64_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }
static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }
static inline void svm_clgi(void) { __asm__ volatile("clgi" ::: "memory"); }

/* The host's #DB handler: counts, keeps DR6, and resumes (RF = 1 steps
 * over an instruction breakpoint). */
static volatile unsigned host_dbs;
static volatile uint64_t host_db_dr6, host_db_rip;
static void host_db(struct rt_frame *f)
{
    host_dbs++;
    host_db_dr6 = read_dr6();
    host_db_rip = f->rip;
    f->rflags |= 1u << 16;
}

#define QEMU_GIF_ID "qemu-tcg-svm-gif0-breakpoints-not-discarded"
#define BOCHS_GIF_ID "bochs-svm-gif0-insn-breakpoint-not-discarded"

/* Breakpoints in the host with GIF = 0, then GIF = 1; each case counts
 * the #DBs it raised itself. */
static void host_breakpoints_and_gif(void)
{
    const char *insn_id = under_qemu() ? QEMU_GIF_ID : BOCHS_GIF_ID;
    rt_set_vector_hook(VEC_DB, host_db);
    write_dr6(DR6_FIXED);
    write_dr0((uintptr_t)&watched);
    svm_clgi();
    unsigned before = host_dbs;
    write_dr7(DR7_WRITE0);
    watched = 2;
    write_dr7(0x400);
    tap_eq_or_departure(0, host_dbs - before, 1, QEMU_GIF_ID,
                        "GIF = 0: a write breakpoint's match is discarded (no #DB)");
    tap_eq(2, watched, "GIF = 0: the store happened");
    tap_eq_or_departure(0, read_dr6() & 0xF, 1, QEMU_GIF_ID, "GIF = 0: DR6 reports no breakpoint");
    write_dr0((uintptr_t)h_nop);
    before = host_dbs;
    write_dr7(DR7_EXEC0);
    host_nop();
    write_dr7(0x400);
    tap_eq_or_departure(0, host_dbs - before, 1, insn_id,
                        "GIF = 0: an instruction breakpoint's match is discarded (no #DB)");

    svm_stgi();
    before = host_dbs;
    write_dr7(DR7_EXEC0);
    host_nop();
    write_dr7(0x400);
    tap_eq(1, host_dbs - before, "GIF = 1: the instruction breakpoint raises #DB");
    tap_eq((uintptr_t)h_nop, host_db_rip, "GIF = 1: instruction breakpoint: a fault at the instruction");
    write_dr6(DR6_FIXED);
    write_dr0((uintptr_t)&watched);
    before = host_dbs;
    write_dr7(DR7_WRITE0);
    watched = 3;
    write_dr7(0x400);
    tap_eq(1, host_dbs - before, "GIF = 1: the write breakpoint raises #DB");
    tap_eq(1, host_db_dr6 & 0xF, "GIF = 1: write breakpoint: DR6 reports B0");
    write_dr0(0);
}

static uint64_t run_at(uintptr_t rip, uint64_t dr7)
{
    for (unsigned i = 0; i < 512; i++) guest_stack[i] = 0;
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + 512));
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    vmcb_wr64(vmcb, VMCB_DR7, dr7);
    vmcb_wr64(vmcb, VMCB_DR6, DR6_FIXED);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static uint64_t guest_stack_word(unsigned i)
{
    return ((const uint64_t *)(uintptr_t)vmcb_rd64(vmcb, VMCB_RSP))[i];
}

static void guest_gate(unsigned vector)
{
    uint64_t off = (uintptr_t)g_handler;
    guest_idt[2 * vector] = (off & 0xFFFF) | ((uint64_t)RT_SEL_CODE64 << 16) | (0x8Eull << 40) | ((off >> 16 & 0xFFFF) << 48);
    guest_idt[2 * vector + 1] = off >> 32;
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, guest_store, guest_stack + 512);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    guest_gate(VEC_DB);
    vmcb_wr32(vmcb, VMCB_IDTR + 4, sizeof guest_idt - 1);
    vmcb_wr64(vmcb, VMCB_IDTR + 8, (uintptr_t)guest_idt);

    write_dr0((uintptr_t)&watched);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << VEC_DB);
    const char *dr6_id = under_qemu() ? QEMU_ID : "bochs-svm-db-intercept-dr6-unchanged";
    tap_eq_or_departure(EXIT_EXCP_BASE + VEC_DB, run_at((uintptr_t)g_store, DR7_WRITE0), EXIT_VMMCALL, QEMU_ID,
                        "write breakpoint under the #DB intercept: EXITCODE 0x41");
    tap_eq((uintptr_t)g_after, vmcb_rd64(vmcb, VMCB_RIP), "write breakpoint: a trap, guest RIP after the store");
    tap_eq(7, watched, "write breakpoint: the store happened");
    tap_eq_or_departure(DR6_FIXED | 1, vmcb_rd64(vmcb, VMCB_DR6), DR6_FIXED, dr6_id,
                        "write breakpoint intercept: the VMCB's DR6 reports B0");
    tap_eq(0x400, read_dr7(), "after #VMEXIT the host's DR7 is its own");
    watched = 1;   /* a #DB here would end the run: the host has no handler for it */
    tap_eq(1, watched, "host store after #VMEXIT: done without a #DB");

    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_store, DR7_WRITE0),
           "write breakpoint without the intercept: a VMMCALL exit (the guest's #DB handler's)");
    tap_eq_or_departure((uintptr_t)g_after, guest_stack_word(0), 0, QEMU_ID, "guest's #DB: return RIP after the store");
    tap_eq_or_departure(DR6_FIXED | 1, vmcb_rd64(vmcb, VMCB_DR6), DR6_FIXED, QEMU_ID,
                        "guest's #DB: the guest's DR6 reports B0");

    write_dr0((uintptr_t)g_nop);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << VEC_DB);
    tap_eq_or_departure(EXIT_EXCP_BASE + VEC_DB, run_at((uintptr_t)g_nop, DR7_EXEC0), EXIT_VMMCALL, QEMU_ID,
                        "instruction breakpoint under the #DB intercept: EXITCODE 0x41");
    tap_eq_or_departure((uintptr_t)g_nop, vmcb_rd64(vmcb, VMCB_RIP), (uintptr_t)g_nop + 1, QEMU_ID,
                        "instruction breakpoint intercept: a fault, guest RIP at the instruction");
    tap_eq_or_departure(DR6_FIXED | 1, vmcb_rd64(vmcb, VMCB_DR6), DR6_FIXED, dr6_id,
                        "instruction breakpoint intercept: the VMCB's DR6 reports B0");
    write_dr0(0);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
    host_breakpoints_and_gif();
}
