/* dbgbp: hardware breakpoints through DR0-DR3 and DR7 (SDM Vol. 3A,
 * chapter "Debug, Branch Profile, TSC, and Intel Resource Director
 * Technology Features": "Debug Registers", "Debug Exceptions",
 * "Breakpoint Exception Conditions"; AMD APM Vol. 2, "Debug and
 * Performance Resources").
 *
 * Data breakpoints: a write breakpoint traps after the store (saved RIP
 * after it, the value written, DR6.B0) and ignores reads; a read/write
 * breakpoint traps on a read; LEN masks the low bits of DRn; an access
 * overlapping the range matches; G0 enables as L0 does; a breakpoint that
 * is not enabled raises nothing; REP STOSB traps after each iteration that
 * hits (saved RIP at the instruction, RCX left, RF = 1 pushed) and after
 * the last one with RIP past it (RF = 0). Instruction breakpoints: a
 * fault before the instruction (saved RIP at it, RF = 0 pushed), RF = 1
 * in the IRET image runs it once, the next execution faults again. I/O
 * breakpoints with CR4.DE = 1: OUT to a port in the range traps after the
 * instruction, one outside does not. General detect: MOV DR with DR7.GD =
 * 1 faults with DR6.BD and GD cleared. MOV SS that reads a data
 * breakpoint: the #DB after the next instruction. A single step and a data
 * breakpoint on the same instruction: one #DB with BS and B0. A single
 * step whose next instruction is a disabled instruction breakpoint: DR6
 * shows BS alone (QEMU 7.2 also sets that B0: declared
 * qemu-tcg-single-step-sets-instruction-bn). */
#include "rt/rt.h"

#define VEC_DB 1
#define DR6_FIXED 0xFFFF0FF0ull
#define DR6_B0 0x1ull
#define DR6_BD (1ull << 13)
#define DR6_BS (1ull << 14)
#define DR7_FIXED 0x400ull
#define DR7_L0 0x1ull
#define DR7_G0 0x2ull
#define DR7_GD (1ull << 13)
#define RW0(x) ((uint64_t)(x) << 16)
#define LEN0(x) ((uint64_t)(x) << 18)
#define RW_EXEC 0
#define RW_WRITE 1
#define RW_IO 2
#define RW_RW 3
#define LEN_1 0
#define LEN_2 1
#define LEN_8 2
#define LEN_4 3
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)
#define CR4_DE (1ull << 3)

static volatile uint64_t watched[4] __attribute__((aligned(64)));

#define DR_ACCESSORS(n)                                                                  \
    __attribute__((unused)) static uint64_t read_dr##n(void)                                                     \
    {                                                                                    \
        uint64_t v;                                                                      \
        __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                                \
        return v;                                                                        \
    }                                                                                    \
    static void write_dr##n(uint64_t v) { __asm__ volatile("mov %0, %%dr" #n : : "r"(v) : "memory"); }
DR_ACCESSORS(0)
DR_ACCESSORS(6)
DR_ACCESSORS(7)


/* What the #DB handler saw: the first #DB since db_clear, and how many. */
static volatile struct {
    unsigned count;
    uint64_t rip, rflags, rcx, dr6, dr7;
    bool set_rf, clear_tf;
} db;

/* QEMU TCG sets CPUID.1:ECX[31] (hypervisor present), Bochs does not: it
 * tells which oracle a departure both show belongs to. */
static bool under_qemu(void) { return (cpuid(1, 0).ecx >> 31) & 1; }

static void db_clear(void)
{
    db.count = 0;
    db.rip = db.rflags = db.rcx = db.dr6 = db.dr7 = 0;
    db.set_rf = db.clear_tf = false;
    write_dr6(DR6_FIXED);
}

static void db_hook(struct rt_frame *f)
{
    if (db.count++ == 0) {
        db.rip = f->rip;
        db.rflags = f->rflags;
        db.rcx = f->rcx;
        db.dr6 = read_dr6();
        db.dr7 = read_dr7();
    }
    write_dr6(DR6_FIXED);
    if (db.set_rf) f->rflags |= RFLAGS_RF;
    if (db.clear_tf) f->rflags &= ~RFLAGS_TF;
}

static void arm(uint64_t dr0, uint64_t dr7)
{
    write_dr7(DR7_FIXED);
    write_dr0(dr0);
    db_clear();
    write_dr7(DR7_FIXED | dr7);
}

static void disarm(void) { write_dr7(DR7_FIXED); }

extern char st_w[], st_w_end[], ld_w[], ld_rw[], ld_rw_end[], st_b0[], st_b4[], st_ovl[], st_ovl_end[];
extern char rep1[], rep1_end[], repn[], repn_end[], ibp[], out80[], out80_end[], out82[], gd_mov[];
extern char st_cpuid[], rt_isr_stubs[];
extern char movss_next[], movss_after[];
extern char lmsw_m_end[];
extern char tf_st[], tf_st_end[], tf_nop[], tf_nop_end[];

static void data_write(void)
{
    arm((uintptr_t)&watched[1], DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    __asm__ volatile("st_w: movl $0x11, (%0)\n st_w_end:" : : "r"(&watched[1]) : "memory");
    disarm();
    tap_eq(1, db.count, "write breakpoint, 4-byte store: one #DB");
    tap_eq((uintptr_t)st_w_end, db.rip, "write breakpoint: a trap, saved RIP after the store");
    tap_eq(DR6_FIXED | DR6_B0, db.dr6, "write breakpoint: DR6 reports B0");
    tap_eq(0x11, watched[1], "write breakpoint: the store happened before the trap");
    tap_eq(0, db.rflags & RFLAGS_RF, "write breakpoint: RF = 0 in the saved RFLAGS");

    arm((uintptr_t)&watched[1], DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    uint32_t v;
    __asm__ volatile("ld_w: movl (%1), %0" : "=r"(v) : "r"(&watched[1]) : "memory");
    disarm();
    tap_eq(0, db.count, "write breakpoint, a read of the range: no #DB");

    arm((uintptr_t)&watched[1], DR7_L0 | RW0(RW_RW) | LEN0(LEN_4));
    __asm__ volatile("ld_rw: movl (%1), %0\n ld_rw_end:" : "=r"(v) : "r"(&watched[1]) : "memory");
    disarm();
    tap_eq(1, db.count, "read/write breakpoint, a read: one #DB");
    tap_eq((uintptr_t)ld_rw_end, db.rip, "read/write breakpoint: saved RIP after the load");
    tap_eq(DR6_FIXED | DR6_B0, db.dr6, "read/write breakpoint: DR6 reports B0");
}

/* A store that hits, then an instruction the machine intercepts (CPUID):
 * the trap comes before CPUID runs. The routine runs once unarmed first,
 * so hvsim's hook on the CPUID predates the breakpoint's. */
__attribute__((noinline)) static void store_then_cpuid(void)
{
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("movl $0x22, (%4)\n st_cpuid: cpuid"
                     : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : "r"(&watched[1]) : "memory");
}

static void before_system_insn(void)
{
    db_clear();
    store_then_cpuid();
    tap_eq(0, db.count, "a store and CPUID without breakpoints: no #DB");
    arm((uintptr_t)&watched[1], DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    store_then_cpuid();
    disarm();
    tap_eq(1, db.count, "a store that hits, then CPUID: one #DB");
    tap_eq((uintptr_t)st_cpuid, db.rip, "a store that hits, then CPUID: saved RIP at the CPUID");
}

/* A memory operand the machine reads itself, not Unicorn: LMSW's source
 * word meets a read/write breakpoint, a trap after the instruction
 * (INVPCID's descriptor: vmx_dbgbp, where every engine has INVPCID). */
static void model_operands(void)
{
    uint16_t msw;
    __asm__ volatile("smsw %0" : "=r"(msw));
    watched[2] = msw;
    arm((uintptr_t)&watched[2], DR7_L0 | RW0(RW_RW) | LEN0(LEN_2));
    __asm__ volatile("lmsw_m: lmsw (%0)\n lmsw_m_end:" : : "r"(&watched[2]) : "memory");
    disarm();
    tap_eq(1, db.count, "LMSW from memory under a read/write breakpoint: one #DB");
    tap_eq((uintptr_t)lmsw_m_end, db.rip, "LMSW from memory: a trap, saved RIP after it");
    tap_eq(DR6_FIXED | DR6_B0, db.dr6, "LMSW from memory: DR6 reports B0");
}

static void data_ranges(void)
{
    uint8_t *base = (uint8_t *)&watched[1];
    /* DR0 = base + 1 with LEN 4: the range is base..base+3. */
    arm((uintptr_t)base + 1, DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    __asm__ volatile("st_b0: movb $1, (%0)" : : "r"(base) : "memory");
    unsigned low = db.count;
    db_clear();
    __asm__ volatile("st_b4: movb $1, 4(%0)" : : "r"(base) : "memory");
    unsigned past = db.count;
    disarm();
    tap_eq_or_departure(1, low, 0, "qemu-tcg-dr-len-unmasked",
                        "LEN 4 masks DR0's low bits: a byte store at the aligned start hits");
    tap_eq_or_departure(0, past, 1, "qemu-tcg-dr-len-unmasked", "LEN 4: a byte store just past the range does not");

    /* An 8-byte store from base - 4 overlaps the first half of the range. */
    arm((uintptr_t)base, DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    __asm__ volatile("st_ovl: movq $0, -4(%0)\n st_ovl_end:" : : "r"(base) : "memory");
    disarm();
    tap_eq(1, db.count, "an 8-byte store overlapping the range: one #DB");
    tap_eq((uintptr_t)st_ovl_end, db.rip, "overlapping store: saved RIP after it");

    /* LEN 8 covers 8 bytes; G0 enables as L0 does. */
    arm((uintptr_t)base, DR7_G0 | RW0(RW_WRITE) | LEN0(LEN_8));
    base[7] = 2;
    disarm();
    tap_eq(1, db.count, "G0 with LEN 8: a store to the eighth byte hits");

    /* Neither L0 nor G0. */
    arm((uintptr_t)base, RW0(RW_WRITE) | LEN0(LEN_4));
    base[0] = 3;
    disarm();
    tap_eq(0, db.count, "a write breakpoint that is not enabled: no #DB");
}

static void rep_string(void)
{
    uint8_t *base = (uint8_t *)&watched[1];
    /* Eight bytes from base - 2: iterations 3 to 6 write the range. */
    arm((uintptr_t)base, DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    uint64_t rcx = 8, rdi = (uintptr_t)base - 2;
    __asm__ volatile("cld\n repn: rep stosb\n repn_end:" : "+c"(rcx), "+D"(rdi) : "a"(0) : "memory");
    disarm();
    tap_eq(4, db.count, "REP STOSB over the range: a #DB after each of the 4 iterations that hit");
    tap_eq((uintptr_t)repn, db.rip, "REP STOSB: the first trap's saved RIP is the instruction");
    tap_eq(5, db.rcx, "REP STOSB: the first trap comes after the third iteration (RCX = 5)");
    tap_eq_or_departure(RFLAGS_RF, db.rflags & RFLAGS_RF, 0, under_qemu() ? "qemu-tcg-rep-trap-rf-zero" : "bochs-rep-trap-rf-zero",
                        "REP STOSB: RF = 1 pushed for a trap before the last iteration");
    tap_eq(0, rcx, "REP STOSB: all iterations ran");

    arm((uintptr_t)base, DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    rcx = 1, rdi = (uintptr_t)base;
    __asm__ volatile("rep1: rep stosb\n rep1_end:" : "+c"(rcx), "+D"(rdi) : "a"(0) : "memory");
    disarm();
    tap_eq(1, db.count, "REP STOSB whose only iteration hits: one #DB");
    tap_eq_or_departure((uintptr_t)rep1_end, db.rip, (uintptr_t)rep1, "qemu-tcg-rep-last-iteration-trap-rip",
                        "REP STOSB, last iteration: saved RIP after the instruction");
    tap_eq(0, db.rflags & RFLAGS_RF, "REP STOSB, last iteration: RF = 0 pushed");
}

__attribute__((noinline)) static void ibp_target(void)
{
    __asm__ volatile("ibp: nop\n" ::: "memory");
}

static void instruction_bp(void)
{
    arm((uintptr_t)ibp, DR7_L0 | RW0(RW_EXEC) | LEN0(LEN_1));
    db.set_rf = true;
    ibp_target();
    unsigned first = db.count;
    uint64_t rip = db.rip, rflags = db.rflags, dr6 = db.dr6;
    ibp_target();
    unsigned second = db.count;
    disarm();
    tap_eq(1, first, "instruction breakpoint: one #DB, RF = 1 in the IRET image resumes");
    tap_eq((uintptr_t)ibp, rip, "instruction breakpoint: a fault, saved RIP at the instruction");
    tap_eq(0, rflags & RFLAGS_RF, "instruction breakpoint: RF = 0 pushed");
    tap_eq(DR6_FIXED | DR6_B0, dr6, "instruction breakpoint: DR6 reports B0");
    tap_eq(2, second, "instruction breakpoint: the next execution faults again");

    arm((uintptr_t)ibp, RW0(RW_EXEC) | LEN0(LEN_1));
    ibp_target();
    disarm();
    tap_eq(0, db.count, "an instruction breakpoint that is not enabled: no #DB");
}

static void io_bp(void)
{
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_DE);
    arm(0x80, DR7_L0 | RW0(RW_IO) | LEN0(LEN_2));
    __asm__ volatile("out80: outb %%al, $0x81\n out80_end:" : : "a"(0) : "memory");
    unsigned hit = db.count;
    uint64_t rip = db.rip, dr6 = db.dr6;
    db_clear();
    __asm__ volatile("out82: outb %%al, $0x82" : : "a"(0) : "memory");
    unsigned miss = db.count;
    disarm();
    write_cr4(cr4);
    tap_eq(1, hit, "I/O breakpoint (CR4.DE = 1) on ports 80H-81H, OUT to 81H: one #DB");
    tap_eq((uintptr_t)out80_end, rip, "I/O breakpoint: a trap, saved RIP after the OUT");
    tap_eq(DR6_FIXED | DR6_B0, dr6, "I/O breakpoint: DR6 reports B0");
    tap_eq(0, miss, "I/O breakpoint on ports 80H-81H, OUT to 82H: no #DB");
}

static void general_detect(void)
{
    db_clear();
    write_dr7(DR7_FIXED | DR7_GD);
    uint64_t v;
    __asm__ volatile("gd_mov: mov %%dr0, %0" : "=r"(v) : : "memory");
    uint64_t after = read_dr7();
    write_dr7(DR7_FIXED);
    const char *id = "qemu-tcg-no-general-detect";
    tap_eq_or_departure(1, db.count, 0, id, "MOV from DR0 with DR7.GD = 1: one #DB");
    tap_eq_or_departure((uintptr_t)gd_mov, db.rip, 0, id, "general detect: a fault, saved RIP at the MOV");
    tap_eq_or_departure(DR6_FIXED | DR6_BD, db.dr6, 0, id, "general detect: DR6 reports BD");
    tap_eq_or_departure(DR7_FIXED, db.dr7, 0, id, "general detect: GD cleared on entry to the handler");
    tap_eq_or_departure(DR7_FIXED, after, DR7_FIXED | DR7_GD, id, "general detect: the MOV then ran (GD stays clear)");
}

/* MOV SS blocks debug exceptions for one instruction: the #DB of its
 * read of a data breakpoint comes after the next instruction. */
static void mov_ss(void)
{
    uint16_t ss;
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    volatile uint16_t *slot = (volatile uint16_t *)&watched[2];
    *slot = ss;
    arm((uintptr_t)slot, DR7_L0 | RW0(RW_RW) | LEN0(LEN_2));
    __asm__ volatile("mov (%0), %%ss\n movss_next: nop\n movss_after:" : : "r"(slot) : "memory");
    disarm();
    tap_eq(1, db.count, "MOV SS that reads a read/write breakpoint: one #DB");
    tap_eq_or_departure((uintptr_t)movss_after, db.rip, (uintptr_t)movss_next, "qemu-tcg-movss-db-not-held",
                        "MOV SS: the #DB is held until the next instruction completed");
    tap_eq(DR6_FIXED | DR6_B0, db.dr6, "MOV SS: DR6 reports B0");
}

static void single_step(void)
{
    /* TF set by POPF traps after the instruction that follows it. */
    arm((uintptr_t)&watched[1], DR7_L0 | RW0(RW_WRITE) | LEN0(LEN_4));
    db.clear_tf = true;
    __asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n"
                     "tf_st: movl $5, (%0)\n tf_st_end: nop" : : "r"(&watched[1]) : "memory", "cc");
    disarm();
    const char *id = "qemu-tcg-single-step-data-bp-two-db";
    tap_eq_or_departure(1, db.count, 2, id, "single step over a store that hits a write breakpoint: one #DB");
    tap_eq_or_departure((uintptr_t)tf_st_end, db.rip, (uintptr_t)rt_isr_stubs + 16 * VEC_DB, id,
                        "single step and data breakpoint: saved RIP after the store");
    tap_eq(DR6_FIXED | DR6_BS | DR6_B0, db.dr6, "single step and data breakpoint: DR6 reports BS and B0");

    /* DR0 names the next instruction as a breakpoint of type instruction,
     * not enabled. */
    write_dr7(DR7_FIXED);
    write_dr0((uintptr_t)tf_nop_end);
    db_clear();
    db.clear_tf = true;
    __asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n"
                     "tf_nop: nop\n tf_nop_end: nop" : : : "memory", "cc");
    tap_eq(1, db.count, "single step: one #DB");
    tap_eq((uintptr_t)tf_nop_end, db.rip, "single step: saved RIP after the NOP");
    tap_eq_or_departure(DR6_FIXED | DR6_BS, db.dr6, DR6_FIXED | DR6_BS | DR6_B0,
                        "qemu-tcg-single-step-sets-instruction-bn",
                        "single step: DR6 reports BS alone (a disabled instruction breakpoint at the next RIP is no condition)");
}

void test_main(void)
{
    rt_set_vector_hook(VEC_DB, db_hook);
    data_write();
    before_system_insn();
    model_operands();
    data_ranges();
    rep_string();
    instruction_bp();
    io_bp();
    general_detect();
    mov_ss();
    single_step();
    write_dr0(0);
    write_dr6(DR6_FIXED);
}
