/* svm_exc: exception and INTn intercepts, and event injection. A guest
 * raises #UD, #DE, #GP (non-canonical access), #PF, #BP (INT3) and runs
 * INT 0x80 under the exception and INTn intercepts; the L1 hypervisor
 * checks EXITCODE, EXITINFO1 (error code), EXITINFO2 (#PF address), the
 * saved guest RIP (at a fault, after a trap, at INTn) and that an
 * intercepted #PF leaves the guest's CR2 alone. Then it injects events
 * (EVENTINJ) that the guest's own IDT delivers to a handler that exits
 * with VMMCALL, and reads the frame the delivery pushed.
 * AMD APM Vol. 2, "Exception Intercepts", "Instruction Intercepts" (INTn),
 * "Event Injection". */
#include "tests/svm/svm_lib.h"

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint64_t guest_idt[2 * 256] __attribute__((aligned(16)));

#define UNMAPPED_LA 0x40000000ul   /* beyond the runtime's identity-mapped GiB */

void guest_exc(void);
extern char g_ud[], g_de[], g_gp[], g_pf[], g_bp[], g_intn[], g_nop[], g_handler[];
__asm__(".text\n"
        "guest_exc:\n"
        "g_ud: ud2\n"
        "g_de: xor %ecx, %ecx\n div %ecx\n"
        "g_gp: movabs $0x8000000000000000, %rax\n mov (%rax), %al\n"
        "g_pf: movb 0x40000000, %al\n"
        "g_bp: int3\n"
        "nop\n"
        "g_intn: int $0x80\n"
        "g_nop: nop\n vmmcall\n"
        "g_handler: vmmcall\n"
        "1: jmp 1b\n");

static uint64_t run_at(uintptr_t rip)
{
    vmcb_wr64(vmcb, VMCB_RIP, rip);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void exception_intercepts(void)
{
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 0 | 1u << 3 | 1u << 6 | 1u << 13 | 1u << 14);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_INTN, true);

    tap_eq(EXIT_EXCP_BASE + 6, run_at((uintptr_t)g_ud), "UD2 under the #UD intercept: EXITCODE");
    tap_eq((uintptr_t)g_ud, vmcb_rd64(vmcb, VMCB_RIP), "#UD exit: guest RIP at UD2");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "#UD exit: EXITINFO1 (no error code)");

    tap_eq(EXIT_EXCP_BASE + 0, run_at((uintptr_t)g_de), "DIV by zero under the #DE intercept: EXITCODE");
    tap_eq((uintptr_t)g_de + 2, vmcb_rd64(vmcb, VMCB_RIP), "#DE exit: guest RIP at DIV");

    tap_eq(EXIT_EXCP_BASE + 13, run_at((uintptr_t)g_gp), "non-canonical load under the #GP intercept: EXITCODE");
    tap_eq((uintptr_t)g_gp + 10, vmcb_rd64(vmcb, VMCB_RIP), "#GP exit: guest RIP at the load");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "#GP exit: EXITINFO1 is the error code 0");

    vmcb_wr64(vmcb, VMCB_CR2, 0x1234000);
    tap_eq(EXIT_EXCP_BASE + 14, run_at((uintptr_t)g_pf), "load from an unmapped address under the #PF intercept: EXITCODE");
    tap_eq((uintptr_t)g_pf, vmcb_rd64(vmcb, VMCB_RIP), "#PF exit: guest RIP at the load");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINFO1), "#PF exit: EXITINFO1 is the error code (not present, read, supervisor)");
    tap_eq(UNMAPPED_LA, vmcb_rd64(vmcb, VMCB_EXITINFO2), "#PF exit: EXITINFO2 is the faulting address");
    /* Bochs 2.7 hands back CR2 = 0 in the VMCB here. */
    tap_eq_or_departure(0x1234000, vmcb_rd64(vmcb, VMCB_CR2), 0, "bochs-svm-pf-intercept-cr2",
                        "#PF exit: the guest's CR2 is not written");

    /* INT3 raises #BP, an exception: the #BP intercept, not INTn, takes it.
     * QEMU 7.2 TCG reports it as an INTn exit. */
    tap_eq_or_departure(EXIT_EXCP_BASE + 3, run_at((uintptr_t)g_bp), EXIT_SWINT, "qemu-tcg-int3-exits-as-intn",
                        "INT3 under the #BP and INTn intercepts: EXITCODE");
    /* #VMEXIT is fault-like even for a trap: RIP at INT3. */
    tap_eq((uintptr_t)g_bp, vmcb_rd64(vmcb, VMCB_RIP), "#BP exit: guest RIP at INT3");

    tap_eq(EXIT_SWINT, run_at((uintptr_t)g_intn), "INT 0x80 under the INTn intercept: EXITCODE");
    tap_eq((uintptr_t)g_intn, vmcb_rd64(vmcb, VMCB_RIP), "INTn exit: guest RIP at INT");

    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_INTN, false);
}

/* A 64-bit interrupt gate to g_handler in the guest's own IDT. */
static void guest_gate(unsigned vector, unsigned dpl)
{
    uint64_t off = (uintptr_t)g_handler;
    guest_idt[2 * vector] = (off & 0xFFFF) | ((uint64_t)RT_SEL_CODE64 << 16) | ((uint64_t)(0x8E | dpl << 5) << 40) |
                            ((off >> 16 & 0xFFFF) << 48);
    guest_idt[2 * vector + 1] = off >> 32;
}

static uint64_t guest_stack_word(unsigned i)
{
    return ((const uint64_t *)(uintptr_t)vmcb_rd64(vmcb, VMCB_RSP))[i];
}

static void event_injection(void)
{
    guest_gate(13, 0);
    guest_gate(0x80, 3);
    vmcb_wr32(vmcb, VMCB_IDTR + 4, sizeof guest_idt - 1);
    vmcb_wr64(vmcb, VMCB_IDTR + 8, (uintptr_t)guest_idt);

    /* #GP with error code 0x1234 (TYPE 3, EV): the handler runs at once. */
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, 13 | 3u << 8 | 1u << 11 | 1u << 31 | 0x1234ull << 32);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_nop), "injected #GP: the guest handler runs (VMMCALL exit)");
    tap_eq((uintptr_t)g_handler, vmcb_rd64(vmcb, VMCB_RIP), "injected #GP: guest RIP in the handler");
    tap_eq(0x1234, guest_stack_word(0), "injected #GP: error code pushed");
    tap_eq((uintptr_t)g_nop, guest_stack_word(1), "injected #GP: return RIP is the VMCB's RIP");
    tap_eq(RT_SEL_CODE64, guest_stack_word(2), "injected #GP: CS pushed");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EVENTINJ) >> 31 & 1, "#VMEXIT clears EVENTINJ.V");

    /* The same injection with the #GP intercept set. */
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 13);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, 13 | 3u << 8 | 1u << 11 | 1u << 31 | 0x1234ull << 32);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_nop), "injected #GP under the #GP intercept: delivered, not intercepted");
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);

    /* External interrupt vector 0x80 (TYPE 0): no error code. */
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, 0x80 | 0u << 8 | 1u << 31);
    tap_eq(EXIT_VMMCALL, run_at((uintptr_t)g_nop), "injected interrupt 0x80: the guest handler runs");
    tap_eq((uintptr_t)g_nop, guest_stack_word(0), "injected interrupt: return RIP is the VMCB's RIP");

    /* "Event Injection": the injected #GP's delivery reads its gate from an
     * IDT on a not-present page; the #PF that raises is intercepted, and
     * EXITINTINFO holds the injected event so the hypervisor can redo it. */
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)guest_stack + sizeof guest_stack);
    vmcb_wr64(vmcb, VMCB_IDTR + 8, UNMAPPED_LA);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 14);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, 13 | 3u << 8 | 1u << 11 | 1u << 31 | 0x1234ull << 32);
    tap_eq(EXIT_EXCP_BASE + 14, run_at((uintptr_t)g_nop), "injected #GP, IDT not present: #PF intercepted");
    tap_eq(UNMAPPED_LA + 13 * 16, vmcb_rd64(vmcb, VMCB_EXITINFO2), "#PF during injection: EXITINFO2 is the gate's address");
    tap_eq((uintptr_t)g_nop, vmcb_rd64(vmcb, VMCB_RIP), "#PF during injection: guest RIP is the VMCB's RIP");
    tap_eq(13 | 3u << 8 | 1u << 11 | 1u << 31 | 0x1234ull << 32, vmcb_rd64(vmcb, VMCB_EXITINTINFO),
           "#PF during injection: EXITINTINFO is the injected #GP");
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
    vmcb_wr64(vmcb, VMCB_IDTR + 8, (uintptr_t)guest_idt);
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    svm_enable(hsave);
    vmcb_init(vmcb, guest_exc, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    exception_intercepts();
    event_injection();
    svm_stgi();
}
