/* vmx_mtf: the monitor trap flag. Where the CPU offers the control: one
 * guest instruction per VM entry, then an MTF VM exit (reason 37,
 * qualification 0) at the next instruction boundary; none after an
 * instruction that exits itself (CPUID); after a fault delivered through
 * the guest IDT the exit is at the handler's first instruction; after HLT
 * it is taken from the HLT activity state; VM entry that injects an event
 * with the control set exits after the delivery, before any guest
 * instruction; the injection of a pending MTF VM exit (type 7) exits at
 * once even with the control clear; a REP-prefixed string instruction exits
 * after each iteration, RIP past it after the last. Where the CPU does not offer it (Bochs
 * 2.7 and hvsim's skylake-x), VM entry with the control set fails with
 * VM-instruction error 7. hvsim runs the supported branch on a CPU whose
 * VMX capabilities offer the control (conformance/vmx/test_vmx_machine.c).
 * SDM Vol. 3C, "Monitor Trap Flag", "Event Injection", "Checks on
 * VM-Execution Control Fields". */
#include "tests/vmx/vmx.h"

#define PROC_MTF (1u << 27)
#define EXIT_MTF 37
#define EXIT_CPUID 10
#define EXIT_VMCALL 18
#define TYPE_HW_EXCEPTION 3u
#define TYPE_OTHER_EVENT 7u

void guest_nops(void);
extern char g_nop1[], g_nop2[], g_nop3[], g_cpuid[], g_after_cpuid[], g_ud[], g_ud_next[], g_hlt[], g_after_hlt[];
__asm__(".text\n"
        "guest_nops:\n"
        "g_nop1: nop\n"
        "g_nop2: nop\n"
        "g_nop3: vmcall\n"
        "g_cpuid: cpuid\n"
        "g_after_cpuid: nop\n  vmcall\n"
        "g_ud: ud2\n"
        "g_ud_next: vmcall\n"
        ".pushsection .extable, \"a\"\n.quad g_ud, g_ud_next\n.popsection\n"
        "g_hlt: hlt\n"
        "g_after_hlt: vmcall\n"
        "g_rep: rep stosb\n"
        "g_after_rep: vmcall\n");
extern char g_rep[], g_after_rep[];

/* The guest's RCX and RDI across exits for the REP string cases: the
 * host's C code clobbers them between an exit and the next entry, so
 * rep_run loads them from `rep_regs` before VMRESUME and stores them back
 * at the exit. Returns as vmx_run does (VM_EXITED = 3 after an exit). */
static volatile uint64_t rep_regs[2] __attribute__((used));   /* RCX, RDI */
int rep_run(void);
__asm__(".text\n"
        "rep_run:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov $0x6C14, %eax\n  vmwrite %rsp, %rax\n"
        "  lea rep_host_entry(%rip), %rdx\n  mov $0x6C16, %eax\n  vmwrite %rdx, %rax\n"
        "  mov rep_regs(%rip), %rcx\n  mov rep_regs+8(%rip), %rdi\n  xor %eax, %eax\n"
        "  vmresume\n"
        "  setc %al\n  setz %dl\n  movzbl %al, %eax\n  movzbl %dl, %edx\n"
        "  test %eax, %eax\n  jnz 1f\n  lea (%rdx,%rdx), %eax\n"
        "1: pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
        "rep_host_entry:\n"
        "  mov %rcx, rep_regs(%rip)\n  mov %rdi, rep_regs+8(%rip)\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  mov $3, %eax\n  ret\n");

static uint8_t rep_buf[8];
static void expect_mtf(const char *what, uint64_t rip);

/* "Monitor Trap Flag": a REP-prefixed string instruction that does not
 * fault exits "on the instruction boundary after that iteration": one
 * iteration per VM entry, RIP at the instruction while iterations remain,
 * after it once the last one ran (RCX = 0); with RCX = 0 the instruction
 * does nothing and the exit is after it. */
static void rep_string(void)
{
    vmwrite(GUEST_RIP, (uintptr_t)g_rep);
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(ENTRY_INTR_INFO, 0);
    rep_regs[0] = 2;
    rep_regs[1] = (uintptr_t)rep_buf;
    tap_eq(VM_EXITED, rep_run(), "VMRESUME at REP STOSB with RCX = 2");
    expect_mtf("after REP STOSB's first iteration", (uintptr_t)g_rep);
    tap_eq(1, rep_regs[0], "after the first iteration: RCX = 1");
    tap_check(rep_regs[1] == (uintptr_t)rep_buf + 1, "after the first iteration: RDI advanced by 1");
    tap_eq(VM_EXITED, rep_run(), "VMRESUME for the second iteration");
    expect_mtf("after REP STOSB's last iteration", (uintptr_t)g_after_rep);
    tap_eq(0, rep_regs[0], "after the last iteration: RCX = 0");
    tap_check(rep_regs[1] == (uintptr_t)rep_buf + 2, "after the last iteration: RDI advanced by 2");
    tap_eq(VM_EXITED, rep_run(), "VMRESUME at the VMCALL after REP STOSB");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "the VMCALL after REP STOSB exits");

    vmwrite(GUEST_RIP, (uintptr_t)g_rep);
    rep_regs[0] = 0;
    rep_regs[1] = (uintptr_t)rep_buf;
    tap_eq(VM_EXITED, rep_run(), "VMRESUME at REP STOSB with RCX = 0");
    expect_mtf("after REP STOSB with RCX = 0", (uintptr_t)g_after_rep);
    tap_check(rep_regs[1] == (uintptr_t)rep_buf, "REP STOSB with RCX = 0 stores nothing");
}

/* The handler the IDT gives `vector` (a 64-bit gate: offset 15:0, 31:16,
 * 63:32). */
static uint64_t idt_handler(unsigned vector)
{
    struct dtr idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    const uint32_t *g = (const uint32_t *)(idt.base + 16 * vector);
    return (g[0] & 0xFFFF) | (g[1] & 0xFFFF0000u) | ((uint64_t)g[2] << 32);
}

static int enter_at(const void *rip, uint32_t info, int resume)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_ACTIVITY, 0);
    vmwrite(ENTRY_INTR_INFO, info);
    return vmx_run(resume);
}

static void expect_mtf(const char *what, uint64_t rip)
{
    tap_eq(EXIT_MTF, vmx_exit_reason(), "%s: MTF VM exit (37)", what);
    tap_eq(0, vmread(EXIT_QUALIFICATION), "%s: qualification 0", what);
    tap_check(vmread(GUEST_RIP) == rip, "%s: at the expected instruction boundary", what);
}

static void unsupported(uint32_t proc)
{
    vmwrite(PROC_CONTROLS, proc | PROC_MTF);
    tap_eq(VM_FAIL_VALID, enter_at(g_nop1, 0, 0), "VMLAUNCH with the unsupported monitor trap flag fails");
    tap_eq(7, vmread(VM_INSTRUCTION_ERROR), "VM-instruction error 7 (invalid control field)");
}

/* Sets the accessed bit of the code segment's descriptor, as the
 * processor does when it loads the descriptor ("Segment Descriptors", SDM
 * Vol. 3A): the guest's IDT delivery reloads CS from it, and a VM exit in
 * the handler saves its access rights, which the next VM entry checks (CS
 * must be accessed). The runtime's GDT leaves the bit clear. */
static void code_descriptor_accessed(void)
{
    extern uint64_t rt_gdt[];
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    rt_gdt[cs >> 3] |= 1ull << 40;
}

void test_main(void)
{
    code_descriptor_accessed();
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_nops, 0, 0);
    uint32_t proc = (uint32_t)vmread(PROC_CONTROLS);
    uint64_t cap = rdmsr((rdmsr(MSR_VMX_BASIC) >> 55) & 1 ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    if (!((cap >> 32) & PROC_MTF)) {
        tap_note("the monitor trap flag is not supported");
        unsupported(proc);
        tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
        return;
    }
    tap_note("the monitor trap flag is supported");
    vmwrite(PROC_CONTROLS, proc | PROC_MTF);

    tap_eq(VM_EXITED, enter_at(g_nop1, 0, 0), "VMLAUNCH with the monitor trap flag");
    expect_mtf("after the first NOP", (uintptr_t)g_nop2);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME");
    expect_mtf("after the second NOP", (uintptr_t)g_nop3);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at VMCALL");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "an instruction that exits gives its own exit, no MTF exit");

    tap_eq(VM_EXITED, enter_at(g_cpuid, 0, 1), "VMRESUME at CPUID");
    tap_eq(EXIT_CPUID, vmx_exit_reason(), "CPUID exits (10) instead of the MTF exit");
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME after CPUID");
    expect_mtf("the NOP after CPUID", (uintptr_t)g_after_cpuid + 1);

    uint64_t ud_handler = idt_handler(6);
    tap_eq(VM_EXITED, enter_at(g_ud, 0, 1), "VMRESUME at UD2 (not in the exception bitmap)");
    expect_mtf("after delivering UD2's #UD", ud_handler);
    tap_eq(0, vmread(IDT_VECTORING_INFO) >> 31, "the delivery completed: no IDT-vectoring information");

    tap_eq(VM_EXITED, enter_at(g_hlt, 0, 1), "VMRESUME at HLT with IF=0");
    expect_mtf("after HLT", (uintptr_t)g_after_hlt);
    tap_eq(1, vmread(GUEST_ACTIVITY), "the MTF exit is from the HLT activity state");

    uint32_t ud = (1u << 31) | (TYPE_HW_EXCEPTION << 8) | 6;
    tap_eq(VM_EXITED, enter_at(g_nop1, ud, 1), "VMRESUME injecting #UD with the monitor trap flag");
    expect_mtf("after the injected #UD's delivery", ud_handler);

    rep_string();

    vmwrite(PROC_CONTROLS, proc);
    uint32_t pending_mtf = (1u << 31) | (TYPE_OTHER_EVENT << 8);
    tap_eq(VM_EXITED, enter_at(g_nop1, pending_mtf, 1), "VMRESUME injecting a pending MTF VM exit, control clear");
    expect_mtf("the injected pending MTF exit, before any instruction", (uintptr_t)g_nop1);
    tap_eq(VM_EXITED, enter_at(g_nop1, 0, 1), "VMRESUME with the control clear");
    tap_eq(EXIT_VMCALL, vmx_exit_reason(), "without the monitor trap flag the guest runs to its VMCALL");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
