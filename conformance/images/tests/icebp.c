/* icebp: INT1 (ICEBP, opcode F1), a #DB trap delivered as a "privileged
 * software exception": the saved RIP is the next instruction; no gate-DPL
 * check (CPL 3 reaches a DPL 0 gate, where INT 1 (CD 01) raises #GP); a
 * fault during its delivery has EXT = 1 in its error code and its saved
 * RIP at the ICEBP (INT 1's has EXT = 0); DR6 is left as it was.
 * SDM Vol. 2, "INT n/INTO/INT3/INT1—Call to Interrupt Procedure"; SDM Vol.
 * 3A, "Error Code", "Debug Exceptions"; AMD APM Vol. 3, "INT1".
 *
 * QEMU 7.2 TCG is built without WANT_ICEBP and raises #UD for F1: its ICEBP
 * lines are "known departure: qemu-tcg-icebp-is-ud"
 * (conformance/oracles/declared-differences.txt). */
#include "rt/rt.h"

#define VEC_DB 1
#define VEC_UD 6
#define VEC_NP 11
#define VEC_GP 13
#define DR6_B0 0x1ull
#define DR6_FIXED 0xFFFF0FF0ull

static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }

/* What a probe saw: the #DB through the vector-1 hook (a trap, which the
 * runtime's probe logic does not expect), any other exception through the
 * probe's exception table (a fault at the instruction). */
static volatile struct { int vector; uint64_t error, rip; unsigned cpl; } seen;

static void db_hook(struct rt_frame *f)
{
    seen.vector = VEC_DB;
    seen.error = f->error_code;
    seen.rip = f->rip;
    seen.cpl = (unsigned)(f->cs & 3);
}

extern char icebp0[], icebp0_end[], icebp3[], icebp3_end[], int1_3[], icebp_np[], int1_np[];

static void probe_icebp0(void)
{
    seen.vector = -1;
    rt_fault_clear();
    __asm__ volatile("icebp0: .byte 0xf1\n icebp0_end:\n"
                     ".pushsection .extable, \"a\"\n.quad icebp0, icebp0_end\n.popsection\n" ::: "memory");
}

static void user_icebp(void)
{
    seen.vector = -1;
    rt_fault_clear();
    __asm__ volatile("icebp3: .byte 0xf1\n icebp3_end:\n"
                     ".pushsection .extable, \"a\"\n.quad icebp3, icebp3_end\n.popsection\n" ::: "memory");
}

static struct { int vector; uint64_t error, rip; unsigned cpl; } user_int1;

static void user_int1_probe(void)
{
    rt_fault_clear();
    __asm__ volatile("int1_3: int $1\n 1:\n"
                     ".pushsection .extable, \"a\"\n.quad int1_3, 1b\n.popsection\n" ::: "memory");
    user_int1.vector = rt_fault_vector();
    user_int1.error = rt_fault.error_code;
    user_int1.rip = rt_fault.rip;
    user_int1.cpl = rt_fault.cpl;
}

/* The probe's outcome: the hook's #DB, else what the exception table caught. */
static int outcome(uint64_t *error, uint64_t *rip, unsigned *cpl)
{
    if (seen.vector == VEC_DB) {
        *error = seen.error;
        *rip = seen.rip;
        *cpl = seen.cpl;
        return VEC_DB;
    }
    *error = rt_fault.error_code;
    *rip = rt_fault.rip;
    *cpl = rt_fault.cpl;
    return rt_fault_vector();
}

static void at_cpl0(void)
{
    write_dr6(DR6_FIXED | DR6_B0);
    probe_icebp0();
    uint64_t error, rip;
    unsigned cpl;
    int v = outcome(&error, &rip, &cpl);
    tap_eq_or_departure(VEC_DB, (uint64_t)v, VEC_UD, "qemu-tcg-icebp-is-ud", "ICEBP at CPL 0: #DB");
    tap_eq_or_departure((uintptr_t)icebp0_end, rip, (uintptr_t)icebp0, "qemu-tcg-icebp-is-ud",
                        "ICEBP at CPL 0: saved RIP is the next instruction (a trap)");
    tap_eq(DR6_FIXED | DR6_B0, read_dr6(), "ICEBP leaves DR6 as it was (B0 still set)");
    write_dr6(DR6_FIXED);
}

static void at_cpl3(void)
{
    rt_user_call(user_icebp);
    uint64_t error, rip;
    unsigned cpl;
    int v = outcome(&error, &rip, &cpl);
    tap_eq_or_departure(VEC_DB, (uint64_t)v, VEC_UD, "qemu-tcg-icebp-is-ud",
                        "ICEBP at CPL 3 through the DPL 0 gate of vector 1: #DB, no DPL check");
    tap_eq(3, cpl, "ICEBP at CPL 3: the event is taken from CPL 3");
    tap_eq_or_departure((uintptr_t)icebp3_end, rip, (uintptr_t)icebp3, "qemu-tcg-icebp-is-ud",
                        "ICEBP at CPL 3: saved RIP is the next instruction");

    rt_user_call(user_int1_probe);
    tap_eq(VEC_GP, (uint64_t)user_int1.vector, "INT 1 (CD 01) at CPL 3 through the DPL 0 gate: #GP");
    tap_eq(3, user_int1.cpl, "INT 1 at CPL 3: the #GP is taken from CPL 3");
    tap_eq_or_departure(VEC_DB * 8 + 2, user_int1.error, VEC_DB * 16 + 2, "qemu-tcg-idt-error-code-x16",
                        "INT 1 at CPL 3: error code names the IDT gate");
    tap_eq((uintptr_t)int1_3, user_int1.rip, "INT 1 at CPL 3: the #GP's saved RIP is the INT 1");
}

/* A fault while delivering: the IDT gate of vector 1 not present. */
static void delivery_fault(void)
{
    rt_idt_set_present(VEC_DB, false);
    rt_fault_clear();
    seen.vector = -1;
    __asm__ volatile("icebp_np: .byte 0xf1\n 1:\n"
                     ".pushsection .extable, \"a\"\n.quad icebp_np, 1b\n.popsection\n" ::: "memory");
    int v = rt_fault_vector();
    uint64_t error = rt_fault.error_code, rip = rt_fault.rip;
    rt_fault_clear();
    __asm__ volatile("int1_np: int $1\n 1:\n"
                     ".pushsection .extable, \"a\"\n.quad int1_np, 1b\n.popsection\n" ::: "memory");
    int v_int = rt_fault_vector();
    uint64_t error_int = rt_fault.error_code, rip_int = rt_fault.rip;
    rt_idt_set_present(VEC_DB, true);

    tap_eq_or_departure(VEC_NP, (uint64_t)v, VEC_UD, "qemu-tcg-icebp-is-ud",
                        "ICEBP with vector 1's gate not present: #NP");
    tap_eq_or_departure(VEC_DB * 8 + 2 + 1, error, 0, "qemu-tcg-icebp-is-ud",
                        "ICEBP's #NP: error code names the gate with EXT = 1");
    tap_eq((uintptr_t)icebp_np, rip, "ICEBP's #NP: saved RIP is the ICEBP");
    tap_eq(VEC_NP, (uint64_t)v_int, "INT 1 with vector 1's gate not present: #NP");
    tap_eq_or_departure(VEC_DB * 8 + 2, error_int, VEC_DB * 16 + 2, "qemu-tcg-idt-error-code-x16",
                        "INT 1's #NP (EXT = 0): error code names the IDT gate");
    tap_eq((uintptr_t)int1_np, rip_int, "INT 1's #NP: saved RIP is the INT 1");
}

void test_main(void)
{
    rt_set_vector_hook(VEC_DB, db_hook);
    at_cpl0();
    at_cpl3();
    delivery_fault();
}
