/* vmx_sti_movss: the blocking by STI and by MOV SS a VM exit saves in the
 * interruptibility state when the exit comes on the instruction after
 * them. Each case enters a short guest sequence with the RFLAGS.IF it
 * names and reads the state the exit saved:
 *  - STI found IF = 0, then CPUID / HLT (HLT exiting) / UD2 (#UD in the
 *    exception bitmap) exits at once: blocking by STI (bit 0);
 *  - STI found IF = 0, then FWAIT raises a pending x87 #MF that exits
 *    (#MF in the exception bitmap): none (the SDM's exception for #MF);
 *  - STI found IF = 1 (entered with IF = 1, or STI STI): none;
 *  - CLI; STI with IF = 1 on entry: STI found IF = 0, so bit 0;
 *  - MOV SS then CPUID: blocking by MOV SS (bit 1);
 *  - one instruction between them and the exit: none;
 *  - an entry that loads blocking by STI: saved again when the first guest
 *    instruction exits, gone after one instruction (CPUID after a NOP, or
 *    at the target of a SYSCALL).
 * Bochs 2.7 saves no blocking at an exception's exit (declared:
 * bochs-vmx-sti-blocking-lost-at-exception-exit).
 * Then the host's own MOV SS before VMRESUME: VMfailValid with error 26.
 * SDM Vol. 3C, "Saving Non-Register State", "Interruptibility State"
 * (Table "Format of Interruptibility State"), "Architectural State Before
 * a VM Exit", "VM-Instruction Error Numbers"; SDM Vol. 2B, "STI—Set
 * Interrupt Flag", "MOV—Move" (loading SS). */
#include "rt/pic_pit.h"
#include "tests/sti_movss.h"
#include "tests/vmx/vmx.h"

#define RFLAGS_IF 0x200u
#define PROC_HLT (1u << 7)
#define EXIT_EXCEPTION_NMI 0
#define EXIT_CPUID 10
#define EXIT_HLT 12
#define BLOCK_STI 1u
#define BLOCK_MOV_SS 2u

extern char g_sti_fwait[];
__asm__(".text\n"
        /* 1/0 with the zero-divide exception unmasked leaves an x87 error
         * pending; FWAIT (waiting) raises it as #MF (CR0.NE = 1). */
        "g_sti_fwait: fninit\n  fldcw x87_cw_unmask_ze(%rip)\n  fldz\n  fld1\n  fdivp\n  sti\n  fwait\n  ud2\n"
        ".data\nx87_cw_unmask_ze: .word 0x37b\n.text\n");

/* VMRESUME right after the host's own MOV SS: vmx_run's status protocol;
 * a VM entry it should not make lands in vmx_host_entry (VM_EXITED). */
int vmresume_after_mov_ss(void);
__asm__(".text\n"
        "vmresume_after_mov_ss:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov $0x6C14, %eax\n  vmwrite %rsp, %rax\n"
        "  lea vmx_host_entry(%rip), %rdx\n  mov $0x6C16, %eax\n  vmwrite %rdx, %rax\n"
        "  mov %ss, %eax\n  mov %eax, %ss\n"
        "  vmresume\n"
        "  setc %al\n  setz %dl\n  movzbl %al, %eax\n  movzbl %dl, %edx\n"
        "  test %eax, %eax\n  jnz 1f\n  lea (%rdx,%rdx), %eax\n"
        "1: pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n");

static int launched;

/* Enters the guest at `rip` with `rflags` and `blocking` loaded; returns
 * the interruptibility state the exit saved, after checking the exit. */
static unsigned run_case(char *rip, uint64_t rflags, unsigned blocking, unsigned reason, const char *what)
{
    vmwrite(GUEST_RIP, (uintptr_t)rip);
    vmwrite(GUEST_RFLAGS, rflags);
    vmwrite(GUEST_INTERRUPTIBILITY, blocking);
    vmwrite(GUEST_ACTIVITY, 0);
    int st = vmx_run(launched);
    launched = 1;
    tap_check(st == VM_EXITED && vmx_exit_reason() == reason, "%s: exit reason %u (status %d, reason %u)", what,
              reason, st, st == VM_EXITED ? vmx_exit_reason() : 0);
    return (unsigned)vmread(GUEST_INTERRUPTIBILITY) & 3u;
}

void test_main(void)
{
    /* No interrupt reaches a guest that runs with IF = 1. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs((void (*)(void))g_cpuid, PROC_HLT, 0);
    vmwrite(EXCEPTION_BITMAP, 1u << 6 | 1u << 16);

    tap_eq(BLOCK_STI, run_case(g_sti_cpuid, 0x2, 0, EXIT_CPUID, "STI (IF=0); CPUID"),
           "STI with IF=0, CPUID exits: blocking by STI saved");
    tap_eq(0, run_case(g_sti_cpuid, 0x2 | RFLAGS_IF, 0, EXIT_CPUID, "STI (IF=1); CPUID"),
           "STI with IF=1 already, CPUID exits: no blocking");
    tap_eq(BLOCK_STI, run_case(g_sti_hlt, 0x2, 0, EXIT_HLT, "STI (IF=0); HLT"),
           "STI; HLT with HLT exiting: blocking by STI saved");
    /* Only an exit during event delivery, or one #MF causes, finds no
     * blocking ("Architectural State Before a VM Exit"); Bochs 2.7 saves
     * none for any exception exit. */
    tap_eq_or_departure(BLOCK_STI, run_case(g_sti_ud2, 0x2, 0, EXIT_EXCEPTION_NMI, "STI (IF=0); UD2"), 0,
                        "bochs-vmx-sti-blocking-lost-at-exception-exit",
                        "STI; UD2 with #UD in the exception bitmap: blocking by STI saved");
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "STI; UD2: the exit is the #UD");
    tap_eq(0, run_case(g_sti_fwait, 0x2, 0, EXIT_EXCEPTION_NMI, "STI (IF=0); FWAIT with #MF pending"),
           "STI; FWAIT whose #MF exits: no blocking (#MF is the exception)");
    tap_eq(0x80000310, vmread(EXIT_INTR_INFO), "STI; FWAIT: the exit is the #MF");
    __asm__ volatile("fninit");
    tap_eq(0, run_case(g_sti_sti_cpuid, 0x2, 0, EXIT_CPUID, "STI; STI (IF=0); CPUID"),
           "the second STI found IF=1: no blocking at the CPUID after it");
    tap_eq(BLOCK_STI, run_case(g_cli_sti_cpuid, 0x2 | RFLAGS_IF, 0, EXIT_CPUID, "CLI; STI (IF=1); CPUID"),
           "CLI then STI: STI found IF=0, blocking by STI saved");
    tap_eq(BLOCK_MOV_SS, run_case(g_movss_cpuid, 0x2, 0, EXIT_CPUID, "MOV SS; CPUID"),
           "MOV SS then CPUID exits: blocking by MOV SS saved");
    tap_eq(BLOCK_MOV_SS, run_case(g_movss_cpuid, 0x2 | RFLAGS_IF, 0, EXIT_CPUID, "MOV SS (IF=1); CPUID"),
           "MOV SS blocks whatever IF is");
    tap_eq(0, run_case(g_sti_nop_cpuid, 0x2, 0, EXIT_CPUID, "STI; NOP; CPUID"),
           "one instruction between STI and the exit: no blocking");
    tap_eq(BLOCK_STI, run_case(g_cpuid, 0x2 | RFLAGS_IF, BLOCK_STI, EXIT_CPUID, "entry blocking by STI; CPUID"),
           "blocking by STI loaded by VM entry, the first guest instruction exits: saved again");
    tap_eq(0, run_case(g_nop_cpuid, 0x2 | RFLAGS_IF, BLOCK_STI, EXIT_CPUID, "entry blocking by STI; NOP; CPUID"),
           "blocking by STI loaded by VM entry lasts one instruction");
    sti_movss_syscall_to_cpuid();
    tap_eq(0, run_case(g_syscall, 0x2 | RFLAGS_IF, BLOCK_STI, EXIT_CPUID, "entry blocking by STI; SYSCALL; CPUID"),
           "blocking by STI loaded by VM entry ends with a SYSCALL");
    tap_eq(BLOCK_MOV_SS, run_case(g_cpuid, 0x2, BLOCK_MOV_SS, EXIT_CPUID, "entry blocking by MOV SS; CPUID"),
           "blocking by MOV SS loaded by VM entry, the first guest instruction exits: saved again");

    vmwrite(GUEST_RIP, (uintptr_t)g_cpuid);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    tap_eq(VM_FAIL_VALID, vmresume_after_mov_ss(), "VMRESUME right after MOV SS fails");
    tap_eq(26, vmread(VM_INSTRUCTION_ERROR), "VM-instruction error 26: VM entry with events blocked by MOV SS");
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME without MOV SS before it enters");
    tap_eq(0, (unsigned)vmread(GUEST_INTERRUPTIBILITY) & 3u, "CPUID first: no blocking");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
