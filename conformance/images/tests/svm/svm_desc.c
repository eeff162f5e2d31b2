/* svm_desc: the intercepts of the descriptor-table instructions, SMSW,
 * ICEBP, RSM and PAUSE (with the pause filter where CPUID offers it). A guest runs SIDT, SGDT, SLDT, STR (IDTR/GDTR/LDTR/TR read
 * intercepts), LIDT, LGDT, LLDT, LTR (write intercepts), SMSW (the CR0 read
 * intercept), ICEBP and PAUSE under their intercepts: each exits with
 * its code and the guest RIP at the instruction; RSM outside SMM raises
 * #UD before its intercept. Without the intercepts
 * the stores, LGDT/LIDT/LLDT of the current values, SMSW and PAUSE run and
 * the guest reaches VMMCALL. A PAUSE loop under the filter runs
 * PAUSE FILTER COUNT PAUSEs before the intercept fires.
 * AMD APM Vol. 2, "Instruction Intercepts" (including "SMSW" as a CR0
 * read), "Pause Intercept Filtering"; APM Vol. 3, "RSM", "INT1". */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

#define ICPT1_IDTR_READ 6
#define ICPT1_GDTR_READ 7
#define ICPT1_LDTR_READ 8
#define ICPT1_TR_READ 9
#define ICPT1_IDTR_WRITE 10
#define ICPT1_GDTR_WRITE 11
#define ICPT1_LDTR_WRITE 12
#define ICPT1_TR_WRITE 13
#define ICPT1_RSM 19
#define ICPT1_PAUSE 23
#define ICPT2_ICEBP 8
#define VMCB_PAUSE_FILTER_COUNT 0x03E

void guest_desc(void);
extern char g_sidt[], g_sgdt[], g_sldt[], g_str[], g_lidt[], g_lgdt[], g_lldt[], g_ltr[], g_smsw[], g_icebp[],
    g_rsm[], g_pause[], g_pause_loop[];
extern uint8_t desc_buf[];
extern volatile uint64_t pauses;
__asm__(".text\n"
        "guest_desc:\n"
        "g_sidt: sidt desc_buf(%rip)\n vmmcall\n"
        "g_sgdt: sgdt desc_buf+16(%rip)\n vmmcall\n"
        "g_sldt: sldt %ax\n vmmcall\n"
        "g_str: str %ax\n vmmcall\n"
        "g_lidt: lidt desc_buf(%rip)\n vmmcall\n"
        "g_lgdt: lgdt desc_buf+16(%rip)\n vmmcall\n"
        "g_lldt: xor %eax, %eax\n lldt %ax\n vmmcall\n"
        "g_ltr: ltr %ax\n vmmcall\n"
        "g_smsw: smsw %rax\n vmmcall\n"
        "g_icebp: .byte 0xf1\n vmmcall\n"
        "g_rsm: rsm\n vmmcall\n"
        "g_pause: pause\n vmmcall\n"
        "g_pause_loop: pause\n incq pauses(%rip)\n jmp g_pause_loop\n"
        ".data\n.balign 16\n.globl desc_buf, pauses\ndesc_buf: .fill 32, 1, 0\npauses: .quad 0\n.text\n");

static uint64_t run_at(const char *rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void expect_exit(uint64_t code, const char *at, const char *what)
{
    tap_eq(code, run_at(at), "%s: EXITCODE", what);
    tap_eq((uintptr_t)at, vmcb_rd64(vmcb, VMCB_RIP), "%s: guest RIP at the instruction", what);
}

static void intercept1(unsigned bit, bool on) { vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, bit, on); }

static void descriptor_tables(void)
{
    static const struct { unsigned bit; uint64_t code; const char *at; const char *what; } t[] = {
        {ICPT1_IDTR_READ, 0x66, g_sidt, "SIDT under the IDTR read intercept"},
        {ICPT1_GDTR_READ, 0x67, g_sgdt, "SGDT under the GDTR read intercept"},
        {ICPT1_LDTR_READ, 0x68, g_sldt, "SLDT under the LDTR read intercept"},
        {ICPT1_TR_READ, 0x69, g_str, "STR under the TR read intercept"},
        {ICPT1_IDTR_WRITE, 0x6A, g_lidt, "LIDT under the IDTR write intercept"},
        {ICPT1_GDTR_WRITE, 0x6B, g_lgdt, "LGDT under the GDTR write intercept"},
        {ICPT1_LDTR_WRITE, 0x6C, g_lldt + 2, "LLDT under the LDTR write intercept"},
        {ICPT1_TR_WRITE, 0x6D, g_ltr, "LTR under the TR write intercept"},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) intercept1(t[i].bit, true);
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        /* LLDT's label is at the XOR before it. */
        const char *at = t[i].at == g_lldt + 2 ? g_lldt : t[i].at;
        tap_eq(t[i].code, run_at(at), "%s: EXITCODE", t[i].what);
        tap_eq((uintptr_t)t[i].at, vmcb_rd64(vmcb, VMCB_RIP), "%s: guest RIP at the instruction", t[i].what);
    }
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) intercept1(t[i].bit, false);
    /* Without them the stores run, then the loads of what they stored. */
    tap_eq(EXIT_VMMCALL, run_at(g_sidt), "SIDT without intercepts runs");
    tap_eq(vmcb_rd64(vmcb, VMCB_IDTR + 8), *(volatile uint64_t *)(desc_buf + 2), "SIDT stores the guest IDTR base");
    tap_eq(EXIT_VMMCALL, run_at(g_sgdt), "SGDT without intercepts runs");
    tap_eq(vmcb_rd64(vmcb, VMCB_GDTR + 8), *(volatile uint64_t *)(desc_buf + 18), "SGDT stores the guest GDTR base");
    tap_eq(EXIT_VMMCALL, run_at(g_sldt), "SLDT without intercepts runs");
    tap_eq(EXIT_VMMCALL, run_at(g_str), "STR without intercepts runs");
    tap_eq(EXIT_VMMCALL, run_at(g_lidt), "LIDT of the guest IDTR without intercepts runs");
    tap_eq(EXIT_VMMCALL, run_at(g_lgdt), "LGDT of the guest GDTR without intercepts runs");
    tap_eq(EXIT_VMMCALL, run_at(g_lldt), "LLDT of the null selector without intercepts runs");
}

static void smsw_icebp_rsm(void)
{
    vmcb_wr32(vmcb, VMCB_INTERCEPT_CR, 1u << 0);
    expect_exit(EXIT_READ_CR0, g_smsw, "SMSW under the CR0 read intercept");
    vmcb_wr32(vmcb, VMCB_INTERCEPT_CR, 0);
    tap_eq(EXIT_VMMCALL, run_at(g_smsw), "SMSW without the CR0 read intercept runs");

    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_ICEBP, true);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 6);
    /* QEMU 7.2 TCG decodes F1 as an invalid opcode (#UD, here taken by
     * the #UD intercept). */
    tap_eq_or_departure(0x88, run_at(g_icebp), EXIT_EXCP_BASE + 6, "qemu-tcg-icebp-is-ud",
                        "ICEBP under the ICEBP intercept: EXITCODE");
    tap_eq((uintptr_t)g_icebp, vmcb_rd64(vmcb, VMCB_RIP), "ICEBP under the ICEBP intercept: guest RIP at the instruction");
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_ICEBP, false);

    /* "Instruction Intercepts": intercepts are checked after the simple
     * exceptions; RSM outside SMM is #UD (APM Vol. 3, "RSM"). QEMU 7.2 TCG
     * checks the RSM intercept first. */
    intercept1(ICPT1_RSM, true);
    tap_eq_or_departure(EXIT_EXCP_BASE + 6, run_at(g_rsm), 0x73, "qemu-tcg-rsm-intercept-before-ud",
                        "RSM outside SMM under the RSM intercept: #UD first (#UD intercept)");
    intercept1(ICPT1_RSM, false);
    tap_eq(EXIT_EXCP_BASE + 6, run_at(g_rsm), "RSM outside SMM without its intercept raises #UD (#UD intercept)");
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
}

static void pause_intercept(void)
{
    bool filter = (cpuid(0x8000000A, 0).edx & (1u << 10)) != 0;
    intercept1(ICPT1_PAUSE, true);
    vmcb_wr16(vmcb, VMCB_PAUSE_FILTER_COUNT, 0);
    expect_exit(0x77, g_pause, "PAUSE under the PAUSE intercept, filter count 0");
    vmcb_wr16(vmcb, VMCB_PAUSE_FILTER_COUNT, 3);
    pauses = 0;
    tap_eq(0x77, run_at(g_pause_loop), "PAUSE loop under the PAUSE intercept, filter count 3: EXITCODE");
    /* Without the filter the first PAUSE exits; with it, three PAUSEs
     * count the filter down and the fourth exits (as Bochs 2.7 does). */
    tap_check(pauses == (filter ? 3 : 0), "PAUSE loop: PAUSEs completed before the exit follow the filter count");
    intercept1(ICPT1_PAUSE, false);
    tap_eq(EXIT_VMMCALL, run_at(g_pause), "PAUSE without its intercept runs");
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, guest_desc, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    descriptor_tables();
    smsw_icebp_rsm();
    pause_intercept();
    svm_stgi();
}
