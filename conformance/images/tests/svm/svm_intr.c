/* svm_intr: physical and virtual interrupts in an SVM guest, with the
 * 8259A PIC remapped to 0x20 and PIT counter 0 on IRQ0. Checked: under the
 * INTR intercept with V_INTR_MASKING = 1 and the host's IF = 1 at VMRUN,
 * IRQ0 is a #VMEXIT(INTR) whatever the guest's IF, and the request stays
 * pending in the PIC; after #VMEXIT, GIF = 0 holds it from the host (IF =
 * 1) until STGI. With V_INTR_MASKING = 0 the guest's IF = 0 masks it (no
 * exit) and IF = 1 lets it exit. Without the intercept it goes through the
 * guest IDT. A #GP raised while delivering it (IDT limit) records it in
 * EXITINTINFO as type INTR. A pending V_IRQ is taken as soon as the guest
 * can take it: the VINTR intercept exits after the guest's STI and the
 * instruction it shadows; without the intercept the virtual interrupt is
 * delivered at that point and V_IRQ is cleared; with IF = 0 nothing
 * happens. Every wait is on observed state (IRR, a counter).
 * AMD APM Vol. 2, "Global Interrupt Flag, STGI and CLGI Instructions",
 * "Interrupt Masking in EFLAGS", "Interrupt Intercepts", "Virtual
 * Interrupts", "#VMEXIT" (EXITINTINFO). */
#include "tests/svm/svm_lib.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0   0x40
#define PIT_CTRL  0x43
#define VEC_IRQ0  0x20
#define VEC_VIRQ  0x30
#define PERIOD    1193
#define SPIN_LIMIT 200000000u

#define EXIT_INTR  0x060
#define EXIT_VINTR 0x064
#define ICPT1_VINTR 4
#define V_IRQ          (1ull << 8)
#define V_PRIO(p)      ((uint64_t)(p) << 16)
#define V_INTR_MASKING (1ull << 24)
#define V_VECTOR(v)    ((uint64_t)(v) << 32)

static uint8_t hsave[4096] __attribute__((aligned(4096)));
static uint8_t vmcb[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

volatile unsigned intr_count, vintr_count;
static volatile unsigned intr_vector;

static void irq0_handler(struct rt_frame *f)
{
    intr_count++;
    intr_vector = (unsigned)f->vector;
    outb(PIC1_CMD, 0x20);
}

static void virq_handler(struct rt_frame *f) { (void)f; vintr_count++; }
static void spurious_handler(struct rt_frame *f) { (void)f; }

void guest_intr(void);
extern char g_spin0[], g_spin[], g_count[], g_irr[], g_sti[], g_sti_after[], g_vmmcall[], g_vcount[];
__asm__(".text\n"
        "guest_intr:\n"
        /* IF=0 entries under V_INTR_MASKING start here: STI; CLI leaves
         * IF=0 (STI's shadow covers the CLI). Bochs 2.7 re-evaluates
         * whether INTR is masked only when IF changes, and its VMRUN
         * after CLGI leaves INTR masked until then. */
        "g_spin0: sti\n  cli\n"
        "g_spin: jmp g_spin\n"
        "g_count: cmpl $0, intr_count(%rip)\n  je g_count\n  vmmcall\n"
        "g_irr: mov $0x0a, %al\n  out %al, $0x20\n"
        "1: in $0x20, %al\n  test $1, %al\n  jz 1b\n"
        "  mov $100000, %ecx\n2: dec %ecx\n  jnz 2b\n  vmmcall\n"
        "g_sti: sti\n  jmp g_sti_after\n"
        "g_sti_after: vmmcall\n"
        "g_vmmcall: vmmcall\n"
        "g_vcount: sti\n3: cmpl $0, vintr_count(%rip)\n  je 3b\n  vmmcall\n");

static uint8_t read_irr(void) { outb(PIC1_CMD, 0x0a); return inb(PIC1_CMD); }
static uint8_t read_isr(void) { outb(PIC1_CMD, 0x0b); return inb(PIC1_CMD); }

static void pic_setup(void)
{
    outb(PIC1_CMD, 0x11);  outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20); outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 0x04); outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01); outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xff); outb(PIC2_DATA, 0xff);
    outb(PIT_CTRL, 0x34);
    outb(PIT_CH0, (uint8_t)PERIOD);
    outb(PIT_CH0, (uint8_t)(PERIOD >> 8));
}

static bool wait_irr0(void)
{
    for (unsigned i = 0; i < SPIN_LIMIT; i++)
        if (read_irr() & 1) return true;
    return false;
}

/* STGI with IF=1: the host takes what GIF held; then IF=0 again. */
static bool stgi_takes_pending(void)
{
    unsigned before = intr_count;
    __asm__ volatile("sti\n\tstgi" ::: "memory");
    for (unsigned i = 0; i < SPIN_LIMIT && intr_count == before; i++) {}
    __asm__ volatile("cli" ::: "memory");
    return intr_count != before;
}

static uint64_t run_at(char *rip, uint64_t rflags, uint64_t vintr, bool intr_intercept)
{
    vmcb_wr64(vmcb, VMCB_RIP, (uintptr_t)rip);
    vmcb_wr64(vmcb, VMCB_RFLAGS, rflags);
    vmcb_wr64(vmcb, VMCB_RSP, (uintptr_t)(guest_stack + sizeof guest_stack));
    vmcb_wr64(vmcb, VMCB_VINTR, vintr);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_INTR, intr_intercept);
    vmcb_wr64(vmcb, VMCB_EXITINTINFO, 0);
    svm_vmrun(vmcb);
    return vmcb_rd64(vmcb, VMCB_EXITCODE);
}

static void physical_interrupts(void)
{
    outb(PIC1_DATA, 0xfe);
    intr_count = 0;

    /* V_INTR_MASKING, host IF = 1 at VMRUN (CLGI keeps it from the host
     * before), guest IF = 0. */
    __asm__ volatile("clgi\n\tsti" ::: "memory");
    uint64_t code = run_at(g_spin0, 0x2, V_INTR_MASKING, true);
    tap_eq(EXIT_INTR, code, "V_INTR_MASKING, host IF=1, guest IF=0: IRQ0 is #VMEXIT(INTR)");
    /* Before the guest's first instruction when IRQ0 was already pending
     * at VMRUN, else in its loop. */
    uint64_t rip = vmcb_rd64(vmcb, VMCB_RIP);
    tap_check(rip == (uintptr_t)g_spin0 || rip == (uintptr_t)g_spin, "#VMEXIT(INTR): guest RIP at an instruction boundary");
    tap_eq(0, vmcb_rd64(vmcb, VMCB_EXITINTINFO) >> 31, "#VMEXIT(INTR): EXITINTINFO not valid");
    tap_eq(1, read_irr() & 1, "the request stays pending in IRR");
    tap_eq(0, read_isr() & 1, "the PIC was not acknowledged");
    for (volatile unsigned i = 0; i < 100000; i++) {}
    tap_eq(0, intr_count, "after #VMEXIT, GIF=0 holds it from the host although IF=1");
    tap_check(stgi_takes_pending(), "STGI: the host takes it");
    tap_eq(VEC_IRQ0, intr_vector, "through the host IDT at vector 20H");

    /* V_INTR_MASKING = 0: the guest's IF masks physical interrupts. */
    code = run_at(g_irr, 0x2, 0, true);
    tap_eq(EXIT_VMMCALL, code, "V_INTR_MASKING=0, guest IF=0: no #VMEXIT(INTR), the guest's VMMCALL exits");
    tap_eq(1, read_irr() & 1, "IRQ0 is still pending");
    svm_stgi();
    code = run_at(g_spin, 0x202, 0, true);
    tap_eq(EXIT_INTR, code, "V_INTR_MASKING=0, guest IF=1: #VMEXIT(INTR)");
    tap_check(stgi_takes_pending(), "the host takes it after STGI");

    /* No INTR intercept: through the guest IDT. */
    intr_count = 0;
    code = run_at(g_count, 0x202, 0, false);
    tap_eq(EXIT_VMMCALL, code, "no INTR intercept, guest IF=1: the guest counted IRQ0, then VMMCALL");
    tap_check(intr_count >= 1, "IRQ0 went through the guest IDT");
    tap_eq(VEC_IRQ0, intr_vector, "at vector 20H");
    svm_stgi();

    /* #GP while delivering IRQ0 (vector 20H beyond the guest IDT limit). */
    tap_check(wait_irr0(), "IRQ0 pending before the next VMRUN");
    struct svm_dtr idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    vmcb_wr32(vmcb, VMCB_IDTR + 4, 0x1ff);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << 13);
    code = run_at(g_spin, 0x202, 0, false);
    tap_eq(EXIT_EXCP_BASE + 13, code, "delivering IRQ0 through a 32-gate IDT: #GP intercept");
    tap_eq_or_departure(0x20 * 8 + 3, vmcb_rd64(vmcb, VMCB_EXITINFO1), 0x20 * 16 + 2,
                        "qemu-tcg-idt-error-code-x16", "#GP while delivering IRQ0: error code names the IDT gate");
    /* Each oracle departs from the APM in its own way. */
    uint64_t intinfo = vmcb_rd64(vmcb, VMCB_EXITINTINFO);
    if (intinfo == 0x80000000)
        tap_eq_or_departure(0x80000020, intinfo, 0x80000000, "bochs-svm-exitintinfo-intr-no-vector",
                            "EXITINTINFO: vector 20H, type INTR, valid");
    else
        tap_eq_or_departure(0x80000020, intinfo, 0x80000320, "qemu-tcg-exitintinfo-intr-as-exception",
                            "EXITINTINFO: vector 20H, type INTR, valid");
    tap_eq(1, read_isr() & 1, "the delivery acknowledged the PIC");
    outb(PIC1_CMD, 0x20);
    vmcb_wr32(vmcb, VMCB_IDTR + 4, idtr.limit);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 0);
    svm_stgi();
    outb(PIC1_DATA, 0xff);
}

static void virtual_interrupts(void)
{
    uint64_t pending = V_IRQ | V_PRIO(1) | V_VECTOR(VEC_VIRQ);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_VINTR, true);
    uint64_t code = run_at(g_sti, 0x2, pending, false);
    tap_eq(EXIT_VINTR, code, "V_IRQ, guest IF=0 then STI: #VMEXIT(VINTR)");
    tap_eq((uintptr_t)g_sti_after, vmcb_rd64(vmcb, VMCB_RIP), "#VMEXIT(VINTR) after the instruction STI shadows");
    svm_stgi();

    code = run_at(g_vmmcall, 0x2, pending, false);
    tap_eq(EXIT_VMMCALL, code, "V_IRQ, guest IF=0 throughout: no #VMEXIT(VINTR)");
    svm_stgi();

    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC1, ICPT1_VINTR, false);
    vintr_count = 0;
    code = run_at(g_vcount, 0x2, pending, false);
    tap_eq(EXIT_VMMCALL, code, "V_IRQ without the VINTR intercept: the guest's STI takes it, then VMMCALL");
    tap_eq(1, vintr_count, "the virtual interrupt went through the guest IDT once");
    tap_eq(0, (vmcb_rd64(vmcb, VMCB_VINTR) >> 8) & 1, "taking it cleared V_IRQ");
    svm_stgi();
}

void test_main(void)
{
    if (!svm_supported()) {
        tap_check(false, "CPUID 0x80000001 ECX.SVM");
        return;
    }
    rt_set_vector_hook(VEC_IRQ0, irq0_handler);
    rt_set_vector_hook(VEC_IRQ0 + 7, spurious_handler);
    rt_set_vector_hook(VEC_VIRQ, virq_handler);
    __asm__ volatile("cli");
    pic_setup();
    svm_enable(hsave);
    vmcb_init(vmcb, guest_intr, guest_stack + sizeof guest_stack);
    vmcb_intercept(vmcb, VMCB_INTERCEPT_VEC2, ICPT2_VMMCALL, true);
    physical_interrupts();
    virtual_interrupts();
}
