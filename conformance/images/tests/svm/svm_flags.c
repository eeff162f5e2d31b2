/* svm_flags: the PUSHF, POPF and IRET intercepts (AMD APM Vol. 2,
 * "Instruction Intercepts"; exit codes 70h, 71h, 74h). Under its
 * intercept each instruction exits before it executes: the guest RIP is
 * the instruction's, RSP and RFLAGS are unchanged, and NRIP (on CPUs with
 * NRIP save) is the next instruction. Without the intercepts the same
 * code runs to VMMCALL: PUSHF stores RFLAGS, POPF loads it (AC toggled
 * here), IRETQ returns to the frame it finds. */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

#define ICPT1_PUSHF 16
#define ICPT1_POPF  17
#define ICPT1_IRET  20
#define EXIT_PUSHF  0x070
#define EXIT_POPF   0x071
#define EXIT_IRET   0x074
#define RFLAGS_AC   (1ull << 18)

void guest_flags(void);
extern char g_pushf[], g_popf_pre[], g_popf[], g_iret_pre[], g_iret[], g_after_iret[], g_run[];
uint64_t g_pushed, g_popped;
__asm__(".text\n"
        "guest_flags:\n"
        "g_pushf: pushfq\n vmmcall\n"
        "g_popf_pre: pushfq\n xorq $0x40000, (%rsp)\n"
        "g_popf: popfq\n vmmcall\n"
        /* An IRETQ frame that returns to g_after_iret on the same stack. */
        "g_iret_pre: movq %rsp, %rax\n pushq $0x10\n pushq %rax\n pushfq\n pushq $0x18\n"
        " leaq g_after_iret(%rip), %rax\n pushq %rax\n"
        "g_iret: iretq\n"
        "g_after_iret: vmmcall\n"
        /* Without the intercepts: all three run. */
        "g_run: pushfq\n popq %rax\n movq %rax, g_pushed(%rip)\n"
        " pushq %rax\n xorq $0x40000, (%rsp)\n popfq\n pushfq\n popq %rax\n movq %rax, g_popped(%rip)\n"
        " xorq $0x40000, %rax\n pushq %rax\n popfq\n"
        " jmp g_iret_pre\n");

static uint64_t run_at(uintptr_t rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + sizeof guest_stack));
    vmcb_wr64(vmcb, VMCB_RFLAGS, 0x2);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

/* NRIP is saved only on CPUs with NRIP save (Fn8000_000A EDX bit 3):
 * Bochs ryzen and hvsim zen; QEMU TCG leaves it 0. */
static bool nrip_save;

static void intercepted(const char *what, unsigned bit, uint64_t exitcode, char *start, char *insn, unsigned len)
{
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, bit, true);
    uint64_t stack_top = (uintptr_t)(guest_stack + sizeof guest_stack);
    tap_eq(exitcode, run_at((uintptr_t)start), "%s under its intercept: EXITCODE", what);
    tap_eq((uintptr_t)insn, vmcb_rd64(vmcb, VMCB_RIP), "%s exit: guest RIP at the instruction", what);
    tap_check(nrip_save ? vmcb_rd64(vmcb, VMCB_NRIP) == (uintptr_t)insn + len : true,
              "%s exit: NRIP is the next instruction (with NRIP save)", what);
    tap_check(vmcb_rd64(vmcb, VMCB_RSP) <= stack_top && vmcb_rd64(vmcb, VMCB_RSP) >= stack_top - 48,
              "%s exit: guest RSP within the frame it built", what);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, bit, false);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    nrip_save = (cpuid(0x8000000A, 0).edx >> 3) & 1;
    svm_enable(hsave);
    vmcb_init(vmcb, guest_flags, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    uint64_t top = (uintptr_t)(guest_stack + sizeof guest_stack);

    intercepted("PUSHFQ", ICPT1_PUSHF, EXIT_PUSHF, g_pushf, g_pushf, 1);
    tap_eq(top, vmcb_rd64(vmcb, VMCB_RSP), "PUSHFQ exit: nothing pushed");
    intercepted("POPFQ", ICPT1_POPF, EXIT_POPF, g_popf_pre, g_popf, 1);
    tap_eq(0x2, vmcb_rd64(vmcb, VMCB_RFLAGS), "POPFQ exit: RFLAGS not loaded");
    intercepted("IRETQ", ICPT1_IRET, EXIT_IRET, g_iret_pre, g_iret, 2);
    tap_eq(top - 40, vmcb_rd64(vmcb, VMCB_RSP), "IRETQ exit: the frame not popped");

    /* An intercept of one leaves the others running. */
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_POPF, true);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_pushf), "PUSHFQ under the POPF intercept runs: VMMCALL exit");
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_POPF, false);

    g_pushed = g_popped = 0;
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_run), "PUSHFQ, POPFQ, IRETQ without intercepts: VMMCALL exit");
    tap_eq((uintptr_t)g_after_iret, vmcb_rd64(vmcb, VMCB_RIP), "IRETQ returned to its frame's RIP");
    tap_eq(0x2, g_pushed & 0xFFFFFF, "PUSHFQ stored RFLAGS");
    tap_eq(0x2 | RFLAGS_AC, g_popped & 0xFFFFFF, "POPFQ loaded RFLAGS.AC");
    tap_eq(top, vmcb_rd64(vmcb, VMCB_RSP), "the stack is balanced");
    svm_stgi();
}
