/* svm_decode: decode assists and RDPRU, as the CPU's CPUID says it has
 * them. With decode assists (Fn8000_000A EDX bit 7) MOV CR/DR intercepts
 * report bit 63 and the GPR in EXITINFO1, CLTS and LMSW leave bit 63
 * clear, INVLPG and INVLPGA report the linear address and INTn the
 * vector, and a data #PF or #NPF brings the guest's instruction bytes
 * (count at VMCB 0D0h, bytes at 0D1h) while an instruction-fetch #PF and
 * every other exit report none (AMD APM Vol. 2, "Decode Assists"). Without
 * them EXITINFO1 is 0 for these exits and the instruction-byte field is
 * left alone. RDPRU (Fn8000_0008 EBX bit 4) exits under its intercept and
 * runs without it; on a CPU without RDPRU it is #UD (AMD APM Vol. 3,
 * "RDPRU"; APM Vol. 2, "Instruction Intercepts").
 *
 * The expected values follow the CPUID bits, and the lines print only
 * what every engine computes the same way, so the image runs on Bochs
 * ryzen, QEMU EPYC and hvsim zen (none with decode assists or RDPRU) and
 * is compared there, and also runs on hvsim zen2 (both), where it must
 * pass on its own (no oracle offers them). */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
/* Nested page tables: identity map of the first GiB in 2 MiB pages, less
 * the page at NPF_GPA. */
static uint64_t npt_pml4[512] __attribute__((aligned(4096)));
static uint64_t npt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t npt_pd[512] __attribute__((aligned(4096)));
#define NPF_GPA   0x20000000ull   /* 512 MiB: above every engine's RAM */
#define PF_LINEAR 0x40000000ull   /* 1 GiB: not mapped by rt/boot.S */

#define VMCB_INSN_LEN   0x0D0
#define VMCB_INSN_BYTES 0x0D1
#define ICPT1_SEL_CR0   5
#define ICPT1_INVLPGA   26
#define ICPT2_RDPRU     14
#define EXIT_CR0_SEL    0x065
#define EXIT_INVLPGA    0x07A
#define EXIT_RDPRU      0x08E
#define EXIT_PF         (EXIT_EXCP_BASE + 14)
#define EXIT_UD         (EXIT_EXCP_BASE + 6)
#define DA_MOV          (1ull << 63)

uint32_t rdpru_out[4];

void guest_decode(void);
extern char g_rdcr3[], g_wrcr4_pre[], g_wrcr4[], g_cr0sel_pre[], g_cr0sel[], g_clts[], g_lmsw_pre[], g_lmsw[],
    g_rddr7[], g_wrdr0_pre[], g_wrdr0[], g_invlpg[], g_invlpga_pre[], g_invlpga[], g_int[], g_pf[], g_pf_fetch[],
    g_npf[], g_cpuid[], g_rdpru_pre[], g_rdpru[], g_rdpru_run[], g_rdpru_user[];
__asm__(".text\n"
        "guest_decode:\n"
        "g_rdcr3: mov %cr3, %r10\n"
        "g_wrcr4_pre: mov %cr4, %rbx\n"
        "g_wrcr4: mov %rbx, %cr4\n"
        "g_cr0sel_pre: mov %cr0, %rcx\n xor $0x40000, %rcx\n"
        "g_cr0sel: mov %rcx, %cr0\n"
        "g_clts: clts\n"
        "g_lmsw_pre: smsw %ax\n"
        "g_lmsw: lmsw %ax\n"
        "g_rddr7: mov %dr7, %r9\n"
        "g_wrdr0_pre: xor %esi, %esi\n"
        "g_wrdr0: mov %rsi, %dr0\n"
        "g_invlpg: invlpg 0x123456\n"
        "g_invlpga_pre: mov $0x5000, %eax\n mov $1, %ecx\n"
        "g_invlpga: invlpga %rax, %ecx\n"
        "g_int: int $0x42\n"
        "g_pf: mov 0x40000000, %rbx\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
        "g_pf_fetch: mov $0x40000000, %eax\n jmp *%rax\n"
        "g_npf: mov 0x20000000, %rdx\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
        "g_cpuid: cpuid\n"
        "g_rdpru_pre: xor %ecx, %ecx\n"
        "g_rdpru: .byte 0x0f, 0x01, 0xfd\n vmmcall\n"
        /* RDPRU without its intercept: MPERF (ID 0) sets CF; ID 7 is not
         * a register: EDX:EAX = 0 with CF clear. */
        "g_rdpru_run: xor %ecx, %ecx\n .byte 0x0f, 0x01, 0xfd\n setc %cl\n mov %ecx, rdpru_out(%rip)\n"
        " mov $7, %ecx\n mov $-1, %eax\n mov $-1, %edx\n .byte 0x0f, 0x01, 0xfd\n setc %cl\n"
        " mov %ecx, rdpru_out+4(%rip)\n mov %eax, rdpru_out+8(%rip)\n mov %edx, rdpru_out+12(%rip)\n vmmcall\n"
        /* At CPL 3 (the exit is taken with the code unchanged). */
        "g_rdpru_user: xor %ecx, %ecx\n .byte 0x0f, 0x01, 0xfd\n vmmcall\n"
        "1: jmp 1b\n");

static bool da, rdpru;

static uint64_t run_at(uintptr_t rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

/* EXITINFO1 as a CPU with / without decode assists reports it. */
static uint64_t with_da(uint64_t value) { return da ? value : 0; }

struct case_ {
    const char *what;
    char *rip;               /* the intercepted instruction */
    char *start;             /* where the guest starts (NULL: at rip) */
    unsigned word, bit;      /* the intercept */
    uint64_t exitcode;
    uint64_t info1_da;       /* EXITINFO1 with decode assists */
};

static void exitinfo1(void)
{
    const struct case_ cases[] = {
        {"MOV from CR3 to R10", g_rdcr3, NULL, VMCB_INTERCEPT_CR, 3, EXIT_READ_CR0 + 3, DA_MOV | 10},
        {"MOV from RBX to CR4", g_wrcr4, g_wrcr4_pre, VMCB_INTERCEPT_CR, 16 + 4, EXIT_WRITE_CR0 + 4, DA_MOV | 3},
        {"MOV from RCX to CR0 under the selective CR0 write intercept", g_cr0sel, g_cr0sel_pre, VMCB_INTERCEPT_VEC1,
         ICPT1_SEL_CR0, EXIT_CR0_SEL, DA_MOV | 1},
        {"CLTS under the CR0 write intercept", g_clts, NULL, VMCB_INTERCEPT_CR, 16, EXIT_WRITE_CR0, 0},
        {"LMSW under the CR0 write intercept", g_lmsw, g_lmsw_pre, VMCB_INTERCEPT_CR, 16, EXIT_WRITE_CR0, 0},
        {"MOV from DR7 to R9", g_rddr7, NULL, VMCB_INTERCEPT_DR, 7, 0x27, 9},
        {"MOV from RSI to DR0", g_wrdr0, g_wrdr0_pre, VMCB_INTERCEPT_DR, 16, 0x30, 6},
        {"INVLPG 0x123456", g_invlpg, NULL, VMCB_INTERCEPT_VEC1, ICPT1_INVLPG, EXIT_INVLPG, 0x123456},
        {"INVLPGA of 0x5000 for ASID 1", g_invlpga, g_invlpga_pre, VMCB_INTERCEPT_VEC1, ICPT1_INVLPGA, EXIT_INVLPGA,
         0x5000},
        {"INT 0x42", g_int, NULL, VMCB_INTERCEPT_VEC1, ICPT1_INTN, EXIT_SWINT, 0x42},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct case_ *c = &cases[i];
        vmcb_intercept(vmcb, c->word, c->bit, true);
        tap_eq(c->exitcode, run_at((uintptr_t)(c->start ? c->start : c->rip)), "%s: EXITCODE", c->what);
        tap_eq((uintptr_t)c->rip, vmcb_rd64(vmcb, VMCB_RIP), "%s: guest RIP at the instruction", c->what);
        tap_check(vmcb_rd64(vmcb, VMCB_EXITINFO1) == with_da(c->info1_da),
                  "%s: EXITINFO1 as the decode-assist bit says", c->what);
        vmcb_intercept(vmcb, c->word, c->bit, false);
    }
}

/* The instruction-byte field, preset to 0xAA: with decode assists it holds
 * `n` bytes of `code` (n = 0: none), without it is untouched. */
static void preset_insn_bytes(void)
{
    for (unsigned i = 0; i < 16; i++)
        vmcb_wr8(vmcb, VMCB_INSN_LEN + i, 0xAA);
}

static bool insn_bytes_are(const char *code, unsigned n)
{
    const volatile uint8_t *f = vmcb + VMCB_INSN_LEN;
    if (!da)
        return f[0] == 0xAA;
    if (f[0] != n)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (f[1 + i] != (uint8_t)code[i])
            return false;
    return true;
}

static void insn_bytes(void)
{
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 14);
    preset_insn_bytes();
    tap_eq(EXIT_PF, run_at((uintptr_t)g_pf), "data #PF under the #PF intercept: EXITCODE");
    tap_eq(PF_LINEAR, vmcb_rd64(vmcb, VMCB_EXITINFO2), "data #PF: EXITINFO2 is the address");
    tap_check(insn_bytes_are(g_pf, 15), "data #PF: 15 instruction bytes from the guest RIP (with decode assists)");

    preset_insn_bytes();
    tap_eq(EXIT_PF, run_at((uintptr_t)g_pf_fetch), "instruction-fetch #PF: EXITCODE");
    tap_eq(PF_LINEAR, vmcb_rd64(vmcb, VMCB_RIP), "instruction-fetch #PF: guest RIP at the unmapped address");
    tap_check(insn_bytes_are(NULL, 0), "instruction-fetch #PF: no instruction bytes (with decode assists)");
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);

    /* Every other exit clears the count. */
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_CPUID, true);
    preset_insn_bytes();
    tap_eq(EXIT_CPUID, run_at((uintptr_t)g_cpuid), "CPUID exit: EXITCODE");
    tap_check(insn_bytes_are(NULL, 0), "CPUID exit: no instruction bytes (with decode assists)");
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_CPUID, false);

    /* #NPF of a data read: nested paging maps the first GiB but NPF_GPA. */
    npt_pml4[0] = (uintptr_t)npt_pdpt | 7;
    npt_pdpt[0] = (uintptr_t)npt_pd | 7;
    for (unsigned i = 0; i < 512; i++)
        npt_pd[i] = ((uint64_t)i << 21) | 0x87;   /* P W U PS */
    npt_pd[NPF_GPA >> 21] = 0;
    vmcb_wr64(vmcb, VMCB_NP_ENABLE, 1);
    vmcb_wr64(vmcb, VMCB_NCR3, (uintptr_t)npt_pml4);
    vmcb_wr32(vmcb, VMCB_TLB_CONTROL, 1);
    preset_insn_bytes();
    tap_eq(EXIT_NPF, run_at((uintptr_t)g_npf), "data #NPF: EXITCODE");
    tap_eq(NPF_GPA, vmcb_rd64(vmcb, VMCB_EXITINFO2), "data #NPF: EXITINFO2 is the guest-physical address");
    tap_check(insn_bytes_are(g_npf, 15), "data #NPF: 15 instruction bytes from the guest RIP (with decode assists)");
    vmcb_wr64(vmcb, VMCB_NP_ENABLE, 0);
    vmcb_wr32(vmcb, VMCB_TLB_CONTROL, 1);
}

static void rdpru_insn(void)
{
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 6);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_RDPRU, true);
    tap_check(run_at((uintptr_t)g_rdpru_pre) == (rdpru ? EXIT_RDPRU : EXIT_UD),
              "RDPRU under its intercept: the RDPRU exit (#UD without RDPRU)");
    tap_eq((uintptr_t)g_rdpru, vmcb_rd64(vmcb, VMCB_RIP), "RDPRU exit: guest RIP at RDPRU");
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_RDPRU, false);
    rdpru_out[0] = rdpru_out[1] = rdpru_out[2] = rdpru_out[3] = 0x55;
    uint64_t code = run_at((uintptr_t)g_rdpru_run);
    tap_check(code == (rdpru ? EXIT_VMMCALL : EXIT_UD), "RDPRU without its intercept: runs (#UD without RDPRU)");
    tap_check(!rdpru || (rdpru_out[0] == 1 && rdpru_out[1] == 0 && rdpru_out[2] == 0 && rdpru_out[3] == 0),
              "RDPRU: MPERF sets CF; an unknown register ID reads 0 with CF clear");

    /* At CPL 3, CR4.TSD = 1 makes RDPRU #UD, before its intercept; with
     * TSD = 0 it runs. */
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_RDPRU, true);
    vmcb_seg_from_gdt(vmcb, VMCB_CS, RT_SEL_UCODE64 | 3);
    vmcb_seg_from_gdt(vmcb, VMCB_SS, RT_SEL_UDATA | 3);
    vmcb_wr8(vmcb, VMCB_CPL, 3);
    uint64_t cr4 = vmcb_rd64(vmcb, VMCB_CR4);
    vmcb_wr64(vmcb, VMCB_CR4, cr4 | (1u << 2));   /* TSD */
    tap_eq(EXIT_UD, run_at((uintptr_t)g_rdpru_user), "CPL-3 RDPRU with CR4.TSD under its intercept: #UD, not an exit");
    vmcb_wr64(vmcb, VMCB_CR4, cr4);
    tap_check(run_at((uintptr_t)g_rdpru_user) == (rdpru ? EXIT_RDPRU : EXIT_UD),
              "CPL-3 RDPRU without CR4.TSD under its intercept: the RDPRU exit (#UD without RDPRU)");
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_RDPRU, false);
    vmcb_seg_from_gdt(vmcb, VMCB_CS, RT_SEL_CODE64);
    vmcb_seg_from_gdt(vmcb, VMCB_SS, RT_SEL_DATA);
    vmcb_wr8(vmcb, VMCB_CPL, 0);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    da = (cpuid(0x8000000A, 0).edx >> 7) & 1;
    rdpru = (cpuid(0x80000008, 0).ebx >> 4) & 1;
    svm_enable(hsave);
    vmcb_init(vmcb, guest_decode, guest_stack + sizeof guest_stack);
    exitinfo1();
    insn_bytes();
    rdpru_insn();
    svm_stgi();
}
