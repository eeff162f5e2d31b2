/* svm_strio: string I/O under the IOIO intercept. A guest executes INS and
 * OUTS (with and without REP, 64- and 32-bit address size, a segment
 * override) on a port the I/O permission map intercepts, and the L1
 * hypervisor checks the #VMEXIT(IOIO): EXITCODE, EXITINFO1 (port, TYPE,
 * STR, REP, size, address size), EXITINFO2 = the next RIP, the guest RIP
 * at the instruction, and that the instruction had no effect: RCX, RSI and
 * RDI (which the #VMEXIT leaves in the host's registers) as before it and
 * memory untouched. The same instructions on a port the map leaves alone
 * run to the end in the guest. AMD APM Vol. 2, "I/O Intercepts" and
 * "IOIO Intercept Information" (exits are fault-like: "the intercepted
 * instruction has not executed"). */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t iopm[3 * 4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint8_t buf[64] __attribute__((aligned(16)));

#define PORT_ICPT 0x72   /* its IOPM bit is set */
#define PORT_FREE 0x80   /* POST diagnostic port: no bit, reads and writes harmlessly */

/* Each guest fragment is entered with RCX/RSI/RDI/RDX loaded by the host
 * (strio_run) and ends with VMMCALL when it runs to its end. */
extern char g_rep_insb[], g_rep_outsw[], g_outsb[], g_insd[], g_rep_outsb_a32[], g_rep_outsb_fs[],
    g_rep_outsb_free[], g_movs_outsb[], g_movs_outsb_insn[], g_end[];
__asm__(".text\n"
        "g_rep_insb: rep insb\n vmmcall\n"
        "g_rep_outsw: rep outsw\n vmmcall\n"
        "g_outsb: outsb\n vmmcall\n"
        "g_insd: insl\n vmmcall\n"
        "g_rep_outsb_a32: addr32 rep outsb\n vmmcall\n"
        "g_rep_outsb_fs: rep outsb %fs:(%rsi), %dx\n vmmcall\n"
        "g_rep_outsb_free: rep outsb\n vmmcall\n"
        "g_movs_outsb: mov %rcx, %rcx\n mov %rsi, %rsi\n mov %rdi, %rdi\n"
        "g_movs_outsb_insn: rep outsb\n vmmcall\n"
        "g_end: jmp g_end\n");

struct strio_regs { uint64_t rcx, rsi, rdi; };

/* VMRUN at `rip` with RCX/RSI/RDI/RDX set for the guest; the guest's RCX,
 * RSI and RDI come back in the host's registers after #VMEXIT (VMRUN saves
 * and restores only RAX and RSP). */
static uint64_t strio_run(char *rip, struct strio_regs *r, uint16_t port)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    uintptr_t pa = (uintptr_t)vmcb;
    uint64_t rcx = r->rcx, rsi = r->rsi, rdi = r->rdi, rdx = port;
    __asm__ volatile("push %%rbp\n\tvmrun\n\tpop %%rbp"
                     : "+a"(pa), "+c"(rcx), "+S"(rsi), "+D"(rdi), "+d"(rdx)
                     :
                     : "memory", "cc", "rbx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
    r->rcx = rcx;
    r->rsi = rsi;
    r->rdi = rdi;
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void set_bit(uint8_t *map, uint32_t bit) { map[bit / 8] |= (uint8_t)(1u << (bit % 8)); }

/* The IOIO EXITINFO1 bits ("IOIO Intercept Information"). */
#define IO_IN   (1ull << 0)
#define IO_STR  (1ull << 2)
#define IO_REP  (1ull << 3)
#define IO_SZ8  (1ull << 4)
#define IO_SZ16 (1ull << 5)
#define IO_SZ32 (1ull << 6)
#define IO_A32  (1ull << 8)
#define IO_A64  (1ull << 9)
#define IO_ADDR_MASK (7ull << 7)

/* One intercepted string instruction: the exit and the untouched state. */
static void intercepted_at(const char *what, char *entry, char *rip, unsigned len, uint64_t info1,
                           struct strio_regs in)
{
    struct strio_regs r = in;
    memset(buf, 0x5A, sizeof buf);
    tap_eq(EXIT_IOIO, strio_run(entry, &r, PORT_ICPT), "%s on an intercepted port: EXITCODE", what);
    tap_eq_or_departure(info1, vmcb_rd64(vmcb, VMCB_EXITINFO1), info1 & ~IO_ADDR_MASK,
                        "qemu-tcg-ioio-no-address-size", "IOIO exit: EXITINFO1 of %s", what);
    tap_eq((uintptr_t)rip + len, vmcb_rd64(vmcb, VMCB_EXITINFO2), "%s: EXITINFO2 is the next RIP", what);
    tap_eq((uintptr_t)rip, vmcb_rd64(vmcb, VMCB_RIP), "%s: guest RIP at the instruction", what);
    tap_eq(in.rcx, r.rcx, "%s: RCX as before the instruction", what);
    tap_eq(in.rsi, r.rsi, "%s: RSI as before the instruction", what);
    tap_eq(in.rdi, r.rdi, "%s: RDI as before the instruction", what);
    bool untouched = true;
    for (unsigned i = 0; i < sizeof buf; i++) untouched = untouched && buf[i] == 0x5A;
    tap_check(untouched, "%s: memory untouched", what);
}

static void intercepted(const char *what, char *rip, unsigned len, uint64_t info1, struct strio_regs in)
{
    intercepted_at(what, rip, rip, len, info1, in);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, (void (*)(void))g_end, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    set_bit(iopm, PORT_ICPT);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_IOIO, true);
    vmcb_wr64(vmcb, VMCB_IOPM_BASE, (uintptr_t)iopm);
    uintptr_t b = (uintptr_t)buf;

    intercepted("REP INSB", g_rep_insb, 2, (uint64_t)PORT_ICPT << 16 | IO_IN | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 4, .rsi = 0x1111, .rdi = b});
    intercepted("REP OUTSW", g_rep_outsw, 3, (uint64_t)PORT_ICPT << 16 | IO_STR | IO_REP | IO_SZ16 | IO_A64,
                (struct strio_regs){.rcx = 5, .rsi = b, .rdi = 0x2222});
    intercepted("OUTSB", g_outsb, 1, (uint64_t)PORT_ICPT << 16 | IO_STR | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 7, .rsi = b, .rdi = 0x3333});
    intercepted("INSD", g_insd, 1, (uint64_t)PORT_ICPT << 16 | IO_IN | IO_STR | IO_SZ32 | IO_A64,
                (struct strio_regs){.rcx = 9, .rsi = 0x4444, .rdi = b + 8});
    intercepted("REP OUTSB with a 32-bit address size", g_rep_outsb_a32, 3,
                (uint64_t)PORT_ICPT << 16 | IO_STR | IO_REP | IO_SZ8 | IO_A32,
                (struct strio_regs){.rcx = 3, .rsi = b, .rdi = 0x5555});
    /* The segment field (bits 12:10) is a decode assist: neither oracle
     * model has it, so it reads 0 here. */
    intercepted("REP OUTSB with an FS override", g_rep_outsb_fs, 3,
                (uint64_t)PORT_ICPT << 16 | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 2, .rsi = b, .rdi = 0x6666});

    intercepted("REP INSB again", g_rep_insb, 2, (uint64_t)PORT_ICPT << 16 | IO_IN | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 4, .rsi = 0x1111, .rdi = b});
    intercepted_at("REP OUTSB after MOVs in the same block", g_movs_outsb, g_movs_outsb_insn, 2, (uint64_t)PORT_ICPT << 16 | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 4, .rsi = b, .rdi = 0x8888});
    /* The intercept comes before the memory operand's checks ("Instruction
     * Intercepts"): a non-canonical RDI exits rather than raise #GP, and
     * so it does before the count: RCX = 0 exits too (the three machines
     * agree; the APM does not single the case out). */
    intercepted("REP INSB with a non-canonical RDI", g_rep_insb, 2,
                (uint64_t)PORT_ICPT << 16 | IO_IN | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 4, .rsi = 0x1111, .rdi = 0x8000000000000000ull});
    intercepted("REP INSB with RCX = 0", g_rep_insb, 2,
                (uint64_t)PORT_ICPT << 16 | IO_IN | IO_STR | IO_REP | IO_SZ8 | IO_A64,
                (struct strio_regs){.rcx = 0, .rsi = 0x1111, .rdi = b});
    /* Not intercepted: REP OUTSB runs to the end in the guest. */
    struct strio_regs r = {.rcx = 6, .rsi = b, .rdi = 0x7777};
    tap_eq(EXIT_VMMCALL, strio_run(g_rep_outsb_free, &r, PORT_FREE), "REP OUTSB on a port the map leaves alone: no IOIO exit");
    tap_eq(0, r.rcx, "REP OUTSB not intercepted: RCX counted down to 0");
    tap_eq(b + 6, r.rsi, "REP OUTSB not intercepted: RSI advanced by 6");
    r = (struct strio_regs){.rcx = 5, .rsi = 0x1111, .rdi = b};
    tap_eq(EXIT_VMMCALL, strio_run(g_rep_insb, &r, PORT_FREE), "REP INSB on a port the map leaves alone: no IOIO exit");
    tap_eq(0, r.rcx, "REP INSB not intercepted: RCX counted down to 0");
    tap_eq(b + 5, r.rdi, "REP INSB not intercepted: RDI advanced by 5");
    svm_stgi();
}
