/* vmx_crshadow: what a guest sees of CR0 and CR4 bits the host owns when
 * its accesses do not exit. The host owns CR0.MP and CR0.TS (guest CR0 has
 * TS = 1 and MP = 0, the read shadow MP = 1 and TS = 0) and CR4.PCE (guest
 * CR4 has PCE = 0, the shadow PCE = 1). The guest reads CR0 with MOV and
 * SMSW (register and memory) and CR4 with MOV: owned bits come from the
 * shadows. It then runs CLTS, MOV to CR0 and LMSW with the shadow's values
 * in the owned bits (none of them exits) and MOV to CR4 likewise: the
 * owned bits of the real registers keep their values.
 * SDM Vol. 3C, "Guest/Host Masks and Read Shadows for CR0 and CR4",
 * "Instructions That Cause VM Exits Conditionally" (CLTS, LMSW, MOV to CR0,
 * MOV to CR4), "Changes to Instruction Behavior in VMX Non-Root Operation"
 * (CLTS, LMSW, MOV from CR0/CR4, MOV to CR0/CR4, SMSW). */
#include "tests/vmx/vmx.h"

#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR4_PCE (1ull << 8)

void guest_crshadow(void);
extern volatile uint64_t sh_cr0, sh_smsw, sh_cr4;
extern volatile uint16_t sh_smsw_mem;
__asm__(".text\n"
        "guest_crshadow:\n"
        "  mov %cr0, %rax\n  mov %rax, sh_cr0(%rip)\n"
        "  smsw %rbx\n  mov %rbx, sh_smsw(%rip)\n"
        "  smsw sh_smsw_mem(%rip)\n"
        "  mov %cr4, %rax\n  mov %rax, sh_cr4(%rip)\n"
        "  clts\n"                                     /* TS owned, shadow TS = 0: no exit */
        "  mov %cr0, %rax\n  mov %rax, %cr0\n"         /* owned bits equal the shadow: no exit */
        "  lmsw %ax\n"                                 /* MP = 1, TS = 0 as in the shadow: no exit */
        "  mov %cr4, %rax\n  mov %rax, %cr4\n"         /* PCE = 1 as in the shadow: no exit */
        "  vmcall\n  ud2\n"
        ".data\n.balign 8\n.globl sh_cr0, sh_smsw, sh_cr4, sh_smsw_mem\n"
        "sh_cr0: .quad 0\nsh_smsw: .quad 0\nsh_cr4: .quad 0\nsh_smsw_mem: .word 0\n.text\n");

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_crshadow, 0, 0);
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    vmwrite(GUEST_CR0, (cr0 & ~CR0_MP) | CR0_TS);
    vmwrite(GUEST_CR4, cr4 & ~CR4_PCE);
    vmwrite(CR0_MASK, CR0_MP | CR0_TS);
    vmwrite(CR0_SHADOW, CR0_MP);
    vmwrite(CR4_MASK, CR4_PCE);
    vmwrite(CR4_SHADOW, CR4_PCE);

    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH");
    tap_eq(18, vmx_exit_reason(), "only the VMCALL exits");
    tap_eq(CR0_MP, sh_cr0 & (CR0_MP | CR0_TS), "MOV from CR0: MP and TS from the read shadow");
    tap_check((sh_cr0 & ~(CR0_MP | CR0_TS)) == (cr0 & ~(CR0_MP | CR0_TS)), "MOV from CR0: other bits are CR0's");
    tap_eq(CR0_MP, sh_smsw & (CR0_MP | CR0_TS), "SMSW to a register: MP and TS from the read shadow");
    tap_eq(CR0_MP, sh_smsw_mem & (CR0_MP | CR0_TS), "SMSW to memory: MP and TS from the read shadow");
    tap_eq(CR4_PCE, sh_cr4 & CR4_PCE, "MOV from CR4: PCE from the read shadow");
    tap_check((sh_cr4 & ~CR4_PCE) == (cr4 & ~CR4_PCE), "MOV from CR4: other bits are CR4's");
    tap_eq(CR0_TS, vmread(GUEST_CR0) & (CR0_MP | CR0_TS), "CLTS, MOV to CR0 and LMSW leave the owned MP and TS");
    tap_eq(0, vmread(GUEST_CR4) & CR4_PCE, "MOV to CR4 leaves the owned PCE");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
