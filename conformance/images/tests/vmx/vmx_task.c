/* vmx_task: task switches in VMX non-root operation. An unrestricted
 * guest in 32-bit protected mode without paging (identity EPT; its own
 * GDT with flat 32-bit segments, a busy TSS A in TR, an available TSS B
 * and a task gate to TSS B) executes far JMPs and CALLs to TSS B, directly
 * (JMP ptr16:32, EA; JMP m16:32, FF /5) or through the task gate (CALL
 * ptr16:32, 9A; CALL m16:32, FF /3). Each is a VM exit 9 whatever the
 * controls: qualification = the TSS selector (the gate's for a gate) with
 * the source in bits 31:30 (2 JMP, 0 CALL), the instruction's length,
 * the guest RIP at the instruction. IRET with RFLAGS.NT = 1 whose back
 * link names the busy TSS B exits the same way (source 1, length 1); with
 * TSS B available it is #TS (exit 0 under the exception bitmap) before any
 * task switch. A far JMP to a code segment runs on;
 * a far JMP to the busy TSS A raises #GP before any task switch (exit 0
 * under the exception bitmap; its error code is not compared: hvsim
 * reports 0 for faults Unicorn raises on segment loads,
 * docs/architecture.md). Events through a task gate in the guest's IDT
 * (source 3): INT 40H exits with the gate's TSS selector, the
 * IDT-vectoring information of the INT being delivered (software
 * interrupt, its length) and the guest RIP at the INT; a #NP (INT 41H
 * through a not-present interrupt gate) whose vector 11 is a task gate
 * exits with the #NP and its error code as IDT-vectoring information;
 * INT 42H through a task gate to the busy TSS A is #GP(18H) before any
 * exit (exit 0 under the exception bitmap, IDT-vectoring = the INT).
 * SDM Vol. 3C, "Task Switches" (chapter "VMX Non-Root Operation": the
 * checks that fault first), "Exit Qualification for Task Switches",
 * "Unrestricted Guests"; SDM Vol. 3A, "Task Switching". */
#include "tests/vmx/vmx.h"

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ggdt[6] __attribute__((aligned(16)));
static uint64_t gidt[0x43] __attribute__((aligned(16)));
static uint32_t tss_a[26] __attribute__((aligned(128)));
static uint32_t tss_b[26] __attribute__((aligned(128)));
static uint8_t stack32[4096] __attribute__((aligned(16)));

#define PROC2_UNRESTRICTED (1u << 7)
#define GSEL_CODE32 0x08
#define GSEL_DATA   0x10
#define GSEL_TSS_A  0x18   /* the guest's current task (busy) */
#define GSEL_TSS_B  0x20   /* available */
#define GSEL_GATE   0x28   /* a task gate to TSS B */
#define EXIT_TASK_SWITCH 9
#define EXIT_VMCALL 18
#define TS_CALL 0u
#define TS_IRET 1u
#define TS_JMP 2u
#define TS_IDT_GATE 3u
#define IDT_VECTORING_ERROR 0x440A   /* VMCS: IDT-vectoring error code */

extern char v32_ljmp[], v32_ljmp_mem[], v32_lcall[], v32_lcall_mem[], v32_ljmp_code[], v32_code_target[],
    v32_ljmp_busy[], v32_taskb[], v32_nt[], v32_iret[], v32_int40[], v32_int41[], v32_int42[];
__asm__(".text\n"
        ".code32\n"
        "v32_ljmp: ljmp $0x20, $0\n vmcall\n"
        "v32_ljmp_mem: ljmp *v32_far_tss_b\n vmcall\n"
        "v32_lcall: lcall $0x28, $0\n vmcall\n"
        "v32_lcall_mem: lcall *v32_far_gate\n vmcall\n"
        "v32_ljmp_code: ljmp $0x08, $v32_code_target\n"
        "v32_code_target: vmcall\n"
        "v32_ljmp_busy: ljmp $0x18, $0\n vmcall\n"
        /* RFLAGS.NT = 1, then IRET: a return to the back link's task. */
        "v32_nt: pushfl\n orl $0x4000, (%esp)\n popfl\n"
        "v32_iret: iretl\n vmcall\n"
        /* Events through task gates in the IDT. */
        "v32_int40: int $0x40\n vmcall\n"
        "v32_int41: int $0x41\n vmcall\n"
        "v32_int42: int $0x42\n vmcall\n"
        /* TSS B's code, reached only by a machine that switches tasks. */
        "v32_taskb: vmcall\n"
        "1: jmp 1b\n"
        ".code64\n"
        ".data\n.balign 8\n"
        "v32_far_tss_b: .long 0\n .word 0x20\n"
        ".balign 8\n"
        "v32_far_gate: .long 0\n .word 0x28\n"
        ".text\n");

/* A 32-bit TSS descriptor (type 9 available, 0xB busy), limit 0x67. */
static uint64_t tss_desc(const void *tss, unsigned type)
{
    uint64_t base = (uintptr_t)tss;
    return 0x67 | (base & 0xFFFFFF) << 16 | (uint64_t)(0x80 | type) << 40 | (base >> 24) << 56;
}

static int busy_b;   /* TSS B's descriptor busy (IRET's return target) */

static void guest_state(void)
{
    ggdt[0] = 0;
    ggdt[1] = 0x00CF9B000000FFFFull;   /* 32-bit code, accessed */
    ggdt[2] = 0x00CF93000000FFFFull;   /* data, accessed */
    ggdt[3] = tss_desc(tss_a, 0xB);
    ggdt[4] = tss_desc(tss_b, busy_b ? 0xB : 0x9);
    ggdt[5] = (uint64_t)GSEL_TSS_B << 16 | 0x8500ull << 32;   /* task gate, present, DPL 0 */
    memset(gidt, 0, sizeof gidt);
    gidt[0x40] = ggdt[5];                                       /* task gate to TSS B */
    gidt[0x41] = 0x0000EE0000080000ull & ~(0x80ull << 40);     /* interrupt gate, not present */
    gidt[11] = ggdt[5];                                         /* #NP: task gate to TSS B */
    gidt[0x42] = (uint64_t)GSEL_TSS_A << 16 | 0x8500ull << 32;  /* task gate to the busy TSS A */
    memset(tss_b, 0, sizeof tss_b);
    tss_b[8] = (uint32_t)(uintptr_t)v32_taskb;
    tss_b[9] = 0x2;
    tss_b[14] = (uint32_t)(uintptr_t)(stack32 + sizeof stack32);
    tss_b[18] = GSEL_DATA;
    tss_b[19] = GSEL_CODE32;
    tss_b[20] = tss_b[21] = tss_b[22] = tss_b[23] = GSEL_DATA;

    vmwrite(ENTRY_CONTROLS, vmread(ENTRY_CONTROLS) & ~ENTRY_GUEST_64);
    vmwrite(GUEST_CR0, (read_cr0() & ~CR0_PG) | CR0_PE | CR0_NE);
    vmwrite(GUEST_CR4, CR4_VMXE);
    vmwrite(GUEST_CR3, 0);
    for (unsigned i = 0; i < 6; i++) {     /* ES CS SS DS FS GS: flat 32-bit */
        vmwrite(GUEST_ES_SEL + 2 * i, i == 1 ? GSEL_CODE32 : GSEL_DATA);
        vmwrite(GUEST_ES_BASE + 2 * i, 0);
        vmwrite(GUEST_ES_LIMIT + 2 * i, 0xFFFFFFFF);
        vmwrite(GUEST_ES_AR + 2 * i, i == 1 ? 0xC09B : 0xC093);
    }
    vmwrite(GUEST_TR_SEL, GSEL_TSS_A);
    vmwrite(GUEST_ES_BASE + 14, (uintptr_t)tss_a);
    vmwrite(GUEST_ES_LIMIT + 14, 0x67);
    vmwrite(GUEST_ES_AR + 14, 0x8B);
    vmwrite(GUEST_GDTR_BASE, (uintptr_t)ggdt);
    vmwrite(GUEST_GDTR_LIMIT, sizeof ggdt - 1);
    vmwrite(GUEST_IDTR_BASE, (uintptr_t)gidt);
    vmwrite(GUEST_IDTR_LIMIT, sizeof gidt - 1);
    vmwrite(GUEST_RSP, (uintptr_t)(stack32 + sizeof stack32));
    vmwrite(GUEST_RFLAGS, 0x2);
}

static int launched;

/* Runs the guest from `at` with a fresh guest state. */
static unsigned run_at(const char *at)
{
    guest_state();
    vmwrite(GUEST_RIP, (uintptr_t)at);
    int r = vmx_run(launched);
    launched = 1;
    return r == VM_EXITED ? vmx_exit_reason() : ~0u;
}

static void expect_task_switch(const char *what, const char *start, const char *at, unsigned len, unsigned source)
{
    tap_eq(EXIT_TASK_SWITCH, run_at(start), "%s: exit reason task switch", what);
    tap_eq(GSEL_TSS_B | (uint64_t)source << 30, vmread(EXIT_QUALIFICATION),
           "%s: qualification (TSS selector, source)", what);
    tap_eq(len, vmread(EXIT_INSN_LEN), "%s: instruction length", what);
    tap_check(vmread(GUEST_RIP) == (uintptr_t)at, "%s: guest RIP at the instruction", what);
    tap_eq(GSEL_TSS_A, vmread(GUEST_TR_SEL), "%s: TR still TSS A", what);
}

void test_main(void)
{
    ept_pml4[0] = (uintptr_t)ept_pdpt | 7;
    ept_pdpt[0] = (uintptr_t)ept_pd | 7;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | 7 | (6u << 3) | (1u << 7);

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs((void (*)(void))v32_ljmp, 0, PROC2_EPT | PROC2_UNRESTRICTED);
    vmwrite(EPT_POINTER, (uintptr_t)ept_pml4 | (3u << 3) | 6);

    expect_task_switch("JMP ptr16:32 to TSS B", v32_ljmp, v32_ljmp, 7, TS_JMP);
    expect_task_switch("JMP m16:32 to TSS B", v32_ljmp_mem, v32_ljmp_mem, 6, TS_JMP);
    expect_task_switch("CALL ptr16:32 through a task gate", v32_lcall, v32_lcall, 7, TS_CALL);
    expect_task_switch("CALL m16:32 through a task gate", v32_lcall_mem, v32_lcall_mem, 6, TS_CALL);

    /* IRET with NT = 1 returns to the task in TSS A's back link, which must
     * be busy: TSS B marked busy, back link = TSS B. */
    memset(tss_a, 0, sizeof tss_a);
    tss_a[0] = GSEL_TSS_B;
    busy_b = 1;
    expect_task_switch("IRET with NT to the back link", v32_nt, v32_iret, 1, TS_IRET);
    tap_check(vmread(GUEST_RFLAGS) & 0x4000, "IRET task switch: the saved RFLAGS has NT");
    /* The same IRET whose back link is an available TSS: #TS, no switch. */
    busy_b = 0;
    vmwrite(EXCEPTION_BITMAP, 1u << 10);
    tap_eq(0, run_at(v32_nt), "IRET with NT to an available TSS: #TS (exit 0), not a task switch");
    tap_eq(0x80000B0A, vmread(EXIT_INTR_INFO) & 0x80000FFF, "IRET to an available TSS: #TS with an error code");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)v32_iret, "IRET to an available TSS: guest RIP at the IRET");
    vmwrite(EXCEPTION_BITMAP, 0);

    tap_eq(EXIT_VMCALL, run_at(v32_ljmp_code), "far JMP to a code segment: no exit, VMCALL");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)v32_code_target, "far JMP to a code segment: it jumped");

    vmwrite(EXCEPTION_BITMAP, 1u << 13);
    tap_eq(0, run_at(v32_ljmp_busy), "far JMP to a busy TSS: #GP (exit 0), not a task switch");
    tap_eq(0x8000030D, vmread(EXIT_INTR_INFO) & 0x800007FF, "far JMP to a busy TSS: #GP, hardware exception");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)v32_ljmp_busy, "far JMP to a busy TSS: guest RIP at the JMP");
    vmwrite(EXCEPTION_BITMAP, 0);

    /* Events through task gates in the IDT: source 3. */
    tap_eq(EXIT_TASK_SWITCH, run_at(v32_int40), "INT 40H through an IDT task gate: exit reason task switch");
    tap_eq(GSEL_TSS_B | (uint64_t)TS_IDT_GATE << 30, vmread(EXIT_QUALIFICATION),
           "INT 40H through an IDT task gate: qualification (TSS selector, source 3)");
    tap_eq(0x80000440, vmread(IDT_VECTORING_INFO), "INT 40H through an IDT task gate: IDT-vectoring information");
    tap_eq(2, vmread(EXIT_INSN_LEN), "INT 40H through an IDT task gate: instruction length");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)v32_int40, "INT 40H through an IDT task gate: guest RIP at the INT");
    tap_eq(GSEL_TSS_A, vmread(GUEST_TR_SEL), "INT 40H through an IDT task gate: TR still TSS A");

    tap_eq(EXIT_TASK_SWITCH, run_at(v32_int41), "#NP through an IDT task gate: exit reason task switch");
    tap_eq(GSEL_TSS_B | (uint64_t)TS_IDT_GATE << 30, vmread(EXIT_QUALIFICATION),
           "#NP through an IDT task gate: qualification (TSS selector, source 3)");
    tap_eq(0x80000B0B, vmread(IDT_VECTORING_INFO), "#NP through an IDT task gate: IDT-vectoring information");
    tap_eq(0x41 * 8 + 2, vmread(IDT_VECTORING_ERROR), "#NP through an IDT task gate: IDT-vectoring error code");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)v32_int41, "#NP through an IDT task gate: guest RIP at the INT");

    vmwrite(EXCEPTION_BITMAP, 1u << 13);
    tap_eq(0, run_at(v32_int42), "INT 42H through a task gate to the busy TSS A: #GP (exit 0), not a task switch");
    tap_eq(0x80000B0D, vmread(EXIT_INTR_INFO), "task gate to a busy TSS: #GP with an error code");
    tap_eq(GSEL_TSS_A, vmread(EXIT_INTR_ERROR), "task gate to a busy TSS: error code is the TSS selector");
    tap_eq(0x80000442, vmread(IDT_VECTORING_INFO), "task gate to a busy TSS: IDT-vectoring is the INT 42H");
    vmwrite(EXCEPTION_BITMAP, 0);
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
