/* svm_task: the task-switch intercept. A guest in legacy protected mode
 * (32-bit code, no paging, its own GDT with two 32-bit TSSs and an IDT
 * whose vector 0x40 is a task gate) executes INT 0x40 under the
 * TASK_SWITCH intercept: #VMEXIT(TASK_SWITCH) with EXITINFO1 = the TSS
 * selector of the gate, EXITINFO2 = 0 (INT n pushes no error code, not an
 * IRET or a far JMP), the guest RIP at the INT (AMD APM Vol. 2,
 * "Miscellaneous Intercepts": task switch; "#VMEXIT"). Then IRET with
 * RFLAGS.NT = 1, a return to the task named by the current TSS's back link
 * (TSS B, busy): EXITINFO1 = that selector, EXITINFO2 bit 36 (IRET). Far JMP and CALL: JMP ptr16:32 (EA)
 * and JMP m16:32 (FF /5) straight to TSS B exit with EXITINFO1 = 20H and
 * EXITINFO2 bit 38 (far JMP); CALL ptr16:32 (9A) and CALL m16:32 (FF /3)
 * through a task gate in the GDT exit with the gate's TSS selector and
 * EXITINFO2 = 0; a far JMP to a code segment runs (no task switch), and a
 * far JMP to the busy TSS A raises #GP before any task switch (the #GP
 * intercept takes it; its error code is not compared: hvsim reports 0 for
 * faults Unicorn raises on segment loads, docs/architecture.md). */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t host_save[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint64_t ggdt[6] __attribute__((aligned(16)));
static uint64_t gidt[0x42] __attribute__((aligned(16)));
static uint32_t tss_a[26] __attribute__((aligned(128)));
static uint32_t tss_b[26] __attribute__((aligned(128)));

#define GSEL_CODE32 0x08
#define GSEL_DATA   0x10
#define GSEL_TSS_A  0x18   /* the guest's current task (busy) */
#define GSEL_TSS_B  0x20   /* the gate's target (available) */
#define GSEL_GATE   0x28   /* a task gate to TSS B in the GDT */
#define VEC_TASK    0x40
#define ICPT1_TASK_SWITCH 29
#define EXIT_TASK_SWITCH  0x07D

void g32_int(void);
extern char g32_int41[];
void g32_taskb(void);
void g32_nt(void);
extern char g32_iret[];
__asm__(".text\n"
        ".code32\n"
        "g32_int41: int $0x41\n vmmcall\n"
        "g32_int: int $0x40\n"
        " vmmcall\n"
        "1: jmp 1b\n"
        /* RFLAGS.NT = 1, then IRET: a return to the task in the back link. */
        "g32_nt: pushfl\n orl $0x4000, (%esp)\n popfl\n"
        "g32_iret: iretl\n"
        " vmmcall\n"
        /* The new task, if a machine switches without the intercept. */
        "g32_taskb: vmmcall\n"
        "2: jmp 2b\n"
        /* Far transfers: straight to TSS B, through the GDT task gate, to
         * a code segment, to the busy TSS A. */
        "g32_ljmp: ljmp $0x20, $0\n vmmcall\n"
        "g32_ljmp_mem: ljmp *g32_far_tss_b\n vmmcall\n"
        "g32_lcall: lcall $0x28, $0\n vmmcall\n"
        "g32_lcall_mem: lcall *g32_far_gate\n vmmcall\n"
        "g32_ljmp_code: ljmp $0x08, $g32_code_target\n"
        "g32_code_target: vmmcall\n"
        "g32_ljmp_busy: ljmp $0x18, $0\n vmmcall\n"
        ".code64\n"
        ".data\n.balign 8\n"
        "g32_far_tss_b: .long 0\n .word 0x20\n"
        ".balign 8\n"
        "g32_far_gate: .long 0\n .word 0x28\n"
        ".text\n");
extern char g32_ljmp[], g32_ljmp_mem[], g32_lcall[], g32_lcall_mem[], g32_ljmp_code[], g32_code_target[],
    g32_ljmp_busy[];

/* A 32-bit TSS descriptor (type 9 available, 0xB busy), limit 0x67. */
static uint64_t tss_desc(const void *tss, unsigned type)
{
    uint64_t base = (uintptr_t)tss;
    return 0x67 | (base & 0xFFFFFF) << 16 | (uint64_t)(0x80 | type) << 40 | (base >> 24) << 56;
}

static void vmcb_seg(unsigned off, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
    vmcb_wr16(vmcb, off, sel);
    vmcb_wr16(vmcb, off + 2, attr);
    vmcb_wr32(vmcb, off + 4, limit);
    vmcb_wr64(vmcb, off + 8, base);
}

/* The legacy-mode guest: flat 32-bit segments, CR0.PE without paging, TR
 * = TSS A, EFER.SVME only. */
static void guest_init(void)
{
    memset(vmcb, 0, sizeof vmcb);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMRUN, true);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    vmcb_wr32(vmcb, VMCB_ASID, 1);
    ggdt[0] = 0;
    ggdt[1] = 0x00CF9A000000FFFFull;
    ggdt[2] = 0x00CF92000000FFFFull;
    ggdt[3] = tss_desc(tss_a, 0xB);
    ggdt[4] = tss_desc(tss_b, 0x9);
    ggdt[5] = (uint64_t)GSEL_TSS_B << 16 | 0x8500ull << 32;   /* task gate, present, DPL 0 */
    /* Vector 0x40: a task gate (type 5, present, DPL 0) to TSS B. */
    gidt[VEC_TASK] = (uint64_t)GSEL_TSS_B << 16 | 0x8500ull << 32;
    memset(tss_b, 0, sizeof tss_b);
    tss_b[8] = (uint32_t)(uintptr_t)g32_taskb;                           /* EIP */
    tss_b[9] = 0x2;                                                      /* EFLAGS */
    tss_b[14] = (uint32_t)(uintptr_t)(guest_stack + sizeof guest_stack); /* ESP */
    tss_b[18] = GSEL_DATA;                                               /* ES */
    tss_b[19] = GSEL_CODE32;                                             /* CS */
    tss_b[20] = tss_b[21] = tss_b[22] = tss_b[23] = GSEL_DATA;           /* SS DS FS GS */
    vmcb_seg(VMCB_CS, GSEL_CODE32, 0xC9A, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_SS, GSEL_DATA, 0xC92, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_DS, GSEL_DATA, 0xC92, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_ES, GSEL_DATA, 0xC92, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_FS, GSEL_DATA, 0xC92, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_GS, GSEL_DATA, 0xC92, 0xFFFFFFFF, 0);
    vmcb_seg(VMCB_TR, GSEL_TSS_A, 0x8B, 0x67, (uintptr_t)tss_a);
    vmcb_wr32(vmcb, VMCB_GDTR + 4, sizeof ggdt - 1);
    vmcb_wr64(vmcb, VMCB_GDTR + 8, (uintptr_t)ggdt);
    vmcb_wr32(vmcb, VMCB_IDTR + 4, sizeof gidt - 1);
    vmcb_wr64(vmcb, VMCB_IDTR + 8, (uintptr_t)gidt);
    vmcb_wr64(vmcb, VMCB_EFER, EFER_SVME);
    vmcb_wr64(vmcb, VMCB_CR0, 0x11);   /* PE, ET */
    vmcb_wr64(vmcb, VMCB_DR6, 0xFFFF0FF0);
    vmcb_wr64(vmcb, VMCB_DR7, 0x400);
    vmcb_wr64(vmcb, VMCB_RFLAGS, 0x2);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)g32_int);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + sizeof guest_stack));
    vmcb_wr64(vmcb, VMCB_G_PAT, rdmsr(0x277));
}

/* A far JMP or CALL at `at` that starts a task switch to TSS B under the
 * TASK_SWITCH intercept: EXITINFO1 the TSS selector (through a gate: the
 * gate's), EXITINFO2 `info2` (bit 38 for JMP), the guest RIP at the
 * instruction (AMD APM Vol. 2, "Miscellaneous Intercepts": task switch).
 * QEMU 7.2 TCG switches to TSS B, whose code exits with VMMCALL. */
static void far_task_switch(const char *what, const char *at, uint64_t info2)
{
    const char *qemu = "qemu-tcg-no-task-switch-intercept";
    guest_init();
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)at);
    /* TR = TSS A in the guest (VMLOAD state, as for the IRET case), so a
     * machine that switches saves the old task there. */
    __asm__ volatile("vmsave" : : "a"((uintptr_t)host_save) : "memory");
    __asm__ volatile("vmload" : : "a"((uintptr_t)vmcb) : "memory");
    svm_vmrun(vmcb);
    __asm__ volatile("vmload" : : "a"((uintptr_t)host_save) : "memory");
    tap_eq_or_departure(EXIT_TASK_SWITCH, vmcb_rd64(vmcb, VMCB_EXITCODE), EXIT_VMMCALL, qemu, "%s: EXITCODE", what);
    tap_eq_or_departure(GSEL_TSS_B, vmcb_rd64(vmcb, VMCB_EXITINFO1), 0, qemu, "%s: EXITINFO1 is the TSS selector",
                        what);
    tap_eq_or_departure(info2, vmcb_rd64(vmcb, VMCB_EXITINFO2), 0, qemu, "%s: EXITINFO2", what);
    tap_eq_or_departure((uintptr_t)at, vmcb_rd64(vmcb, VMCB_RIP), (uintptr_t)g32_taskb, qemu,
                        "%s: guest RIP at the instruction", what);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    guest_init();
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    svm_vmrun(vmcb);
    /* QEMU 7.2 TCG has no task-switch intercept: it switches to TSS B,
     * whose code exits with VMMCALL (EXITINFO1 0, RIP there). */
    const char *qemu = "qemu-tcg-no-task-switch-intercept";
    tap_eq_or_departure(EXIT_TASK_SWITCH, vmcb_rd64(vmcb, VMCB_EXITCODE), EXIT_VMMCALL, qemu,
                        "INT 0x40 through a task gate under the TASK_SWITCH intercept: EXITCODE");
    tap_eq_or_departure(GSEL_TSS_B, vmcb_rd64(vmcb, VMCB_EXITINFO1), 0, qemu,
                        "task switch exit: EXITINFO1 is the gate's TSS selector");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO2), "task switch exit: EXITINFO2 (no error code, not IRET or JMP)");
    tap_eq_or_departure((uintptr_t)g32_int, vmcb_rd64(vmcb, VMCB_RIP), (uintptr_t)g32_taskb, qemu,
                        "task switch exit: guest RIP at the INT");
    /* The exit happens while INT 0x40 is delivered: EXITINTINFO records it
     * (vector 40H, type 4 software interrupt, valid). Bochs 2.7 records
     * vector 0, type 0; on QEMU the field is whatever the VMMCALL exit
     * left. */
    uint64_t intinfo = vmcb_rd64(vmcb, VMCB_EXITINTINFO);
    if (vmcb_rd64(vmcb, VMCB_EXITCODE) == EXIT_TASK_SWITCH)
        tap_eq_or_departure(0x80000440, intinfo, 0x80000000, "bochs-svm-exitintinfo-soft-int-no-vector",
                            "task switch exit: EXITINTINFO is the INT being delivered");
    else
        tap_eq_or_departure(0x80000440, intinfo, intinfo, qemu, "task switch exit: EXITINTINFO is the INT being delivered");

    /* IRET with NT = 1 returns to the back link's task (which must be
     * busy): the same intercept, EXITINFO2 bit 36. */
    guest_init();
    ggdt[4] = tss_desc(tss_b, 0xB);
    memset(tss_a, 0, sizeof tss_a);
    tss_a[0] = GSEL_TSS_B;   /* the back link */
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)g32_nt);
    /* VMRUN does not load TR ("VMRUN Instruction"; it is VMLOAD state):
     * the host keeps its own in VMSAVE's area, VMLOADs the guest's TSS A,
     * and gets its TR back after the exit. */
    __asm__ volatile("vmsave" : : "a"((uintptr_t)host_save) : "memory");
    __asm__ volatile("vmload" : : "a"((uintptr_t)vmcb) : "memory");
    svm_vmrun(vmcb);
    __asm__ volatile("vmload" : : "a"((uintptr_t)host_save) : "memory");
    tap_eq_or_departure(EXIT_TASK_SWITCH, vmcb_rd64(vmcb, VMCB_EXITCODE), EXIT_VMMCALL, qemu,
                        "IRET with NT under the TASK_SWITCH intercept: EXITCODE");
    tap_eq_or_departure(GSEL_TSS_B, vmcb_rd64(vmcb, VMCB_EXITINFO1), 0, qemu,
                        "IRET task switch exit: EXITINFO1 is the back link");
    tap_eq_or_departure(1ull << 36, vmcb_rd64(vmcb, VMCB_EXITINFO2), 0, qemu,
                        "IRET task switch exit: EXITINFO2 says IRET");
    tap_eq_or_departure((uintptr_t)g32_iret, vmcb_rd64(vmcb, VMCB_RIP), (uintptr_t)g32_taskb, qemu,
                        "IRET task switch exit: guest RIP at the IRET");

    far_task_switch("JMP ptr16:32 to TSS B", g32_ljmp, 1ull << 38);
    far_task_switch("JMP m16:32 to TSS B", g32_ljmp_mem, 1ull << 38);
    far_task_switch("CALL ptr16:32 through a task gate", g32_lcall, 0);
    far_task_switch("CALL m16:32 through a task gate", g32_lcall_mem, 0);

    /* Not task switches: a far JMP to a code segment runs on; a far JMP
     * to a busy TSS is #GP (SDM Vol. 3A, "Task Switching"; the faults
     * come before the intercept). */
    guest_init();
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)g32_ljmp_code);
    svm_vmrun(vmcb);
    tap_eq(EXIT_VMMCALL, vmcb_rd64(vmcb, VMCB_EXITCODE), "far JMP to a code segment: no intercept, VMMCALL");
    tap_check(vmcb_rd64(vmcb, VMCB_RIP) == (uintptr_t)g32_code_target, "far JMP to a code segment: it jumped");
    guest_init();
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 13);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)g32_ljmp_busy);
    svm_vmrun(vmcb);
    tap_eq(EXIT_EXCP_BASE + 13, vmcb_rd64(vmcb, VMCB_EXITCODE), "far JMP to a busy TSS: #GP, not a task switch");
    tap_check(vmcb_rd64(vmcb, VMCB_RIP) == (uintptr_t)g32_ljmp_busy, "far JMP to a busy TSS: guest RIP at the JMP");

    /* #NP through a task gate: the error code in EXITINFO2 (bit 44) and
     * in EXITINTINFO. */
    guest_init();
    gidt[0x41] = 0x00000E0000080000ull;        /* interrupt gate, not present */
    gidt[11] = gidt[VEC_TASK];                /* #NP: task gate to TSS B */
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_TASK_SWITCH, true);
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)g32_int41);
    __asm__ volatile("vmsave" : : "a"((uintptr_t)host_save) : "memory");
    __asm__ volatile("vmload" : : "a"((uintptr_t)vmcb) : "memory");
    svm_vmrun(vmcb);
    __asm__ volatile("vmload" : : "a"((uintptr_t)host_save) : "memory");
    gidt[11] = gidt[0x41] = 0;
    tap_eq_or_departure(EXIT_TASK_SWITCH, vmcb_rd64(vmcb, VMCB_EXITCODE), EXIT_VMMCALL, qemu,
                        "#NP through a task gate under the TASK_SWITCH intercept: EXITCODE");
    tap_eq_or_departure(GSEL_TSS_B, vmcb_rd64(vmcb, VMCB_EXITINFO1), 0, qemu,
                        "#NP task switch exit: EXITINFO1 is the gate's TSS selector");
    /* Bit 48 is the RF the old TSS would get: 1 for a fault (SDM Vol. 3B,
     * "Instruction-Breakpoint Exception Condition"). */
    tap_eq_or_departure(1ull << 48 | 1ull << 44 | (0x41 * 8 + 2), vmcb_rd64(vmcb, VMCB_EXITINFO2), 0, qemu,
                        "#NP task switch exit: EXITINFO2 has the error code (bit 44) and RF (bit 48)");
    tap_eq_or_departure((uintptr_t)g32_int41, vmcb_rd64(vmcb, VMCB_RIP), (uintptr_t)g32_taskb, qemu,
                        "#NP task switch exit: guest RIP at the INT");
    if (vmcb_rd64(vmcb, VMCB_EXITCODE) == EXIT_TASK_SWITCH)
        tap_eq(0x0000020A80000B0Bull, vmcb_rd64(vmcb, VMCB_EXITINTINFO),
               "#NP task switch exit: EXITINTINFO is the #NP with its error code");
    else
        tap_eq_or_departure(0x0000020A80000B0Bull, vmcb_rd64(vmcb, VMCB_EXITINTINFO),
                            vmcb_rd64(vmcb, VMCB_EXITINTINFO), qemu,
                            "#NP task switch exit: EXITINTINFO is the #NP with its error code");
    svm_stgi();
}
