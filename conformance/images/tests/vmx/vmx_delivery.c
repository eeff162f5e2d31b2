/* vmx_delivery: VM exits during event delivery and the triple fault. The
 * guest's INT 90H meets a not-present IDT gate: the #NP it raises is in
 * the exception bitmap, and the exit records the INT 90H as IDT-vectoring
 * information (software interrupt, with its instruction length). Its UD2
 * is delivered through the IDT onto a stack page that EPT makes
 * read-only: an EPT violation whose IDT-vectoring information is the #UD.
 * Then, with an IDT of limit 0, its UD2 ends in a triple fault, which in
 * VMX non-root operation is a VM exit (reason 2) without IDT-vectoring
 * information.
 * SDM Vol. 3C, "Information for VM Exits That Occur During Event
 * Delivery", "Exceptions", "Triple Fault", "EPT Violations". */
#include "tests/vmx/vmx.h"

void guest_delivery(void);
extern char g_int[], g_ud[], g_tf_setup[], g_tf[];
__asm__(".text\n"
        "guest_delivery:\n"
        "g_int: int $0x90\n"
        "g_ud: ud2\n"
        "g_tf_setup: lidt zero_idtr(%rip)\n"
        "g_tf: ud2\n"
        "  hlt\n"
        ".data\n.balign 8\nzero_idtr: .word 0\n.quad 0\n.text\n");

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pt[512] __attribute__((aligned(4096)));

#define EPT_WB (6u << 3)

void test_main(void)
{
    uint64_t stack = (uintptr_t)vmx_guest_stack, region = stack >> 21;
    ept_pml4[0] = (uintptr_t)ept_pdpt | 7;
    ept_pdpt[0] = (uintptr_t)ept_pd | 7;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | 7 | EPT_WB | (1u << 7);
    for (uint64_t i = 0; i < 512; i++) ept_pt[i] = (region << 21) | (i << 12) | 7 | EPT_WB;
    ept_pd[region] = (uintptr_t)ept_pt | 7;
    uint64_t eptp = (uintptr_t)ept_pml4 | (3u << 3) | 6;

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_delivery, 0, PROC2_EPT);
    vmwrite(EPT_POINTER, eptp);
    vmwrite(EXCEPTION_BITMAP, 1u << 11);    /* #NP */
    rt_idt_set_present(0x90, false);

    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH");
    tap_eq(0, vmx_exit_reason(), "INT 90H through a not-present gate: #NP exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_int, "#NP exit: guest RIP is the INT");
    tap_eq(0x80000B0B, vmread(EXIT_INTR_INFO), "#NP exit: interruption information");
    tap_eq(0x90 * 8 + 2, vmread(EXIT_INTR_ERROR), "#NP exit: error code names the IDT gate");
    tap_eq(0x80000490, vmread(IDT_VECTORING_INFO), "#NP exit: IDT-vectoring information is the INT 90H");
    tap_eq(2, vmread(EXIT_INSN_LEN), "#NP exit: the INT's instruction length");

    /* The guest stack page read/execute only; #UD is not in the bitmap. */
    ept_pt[(stack >> 12) & 511] = stack | 5 | EPT_WB;
    tap_eq(VM_SUCCEED, invept(1, eptp), "INVEPT after making the stack read-only");
    vmwrite(GUEST_RIP, (uintptr_t)g_ud);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at UD2");
    tap_eq(48, vmx_exit_reason(), "#UD delivery onto a read-only stack: EPT violation");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_ud, "EPT violation: guest RIP is the UD2");
    tap_eq(0x80000306, vmread(IDT_VECTORING_INFO), "EPT violation: IDT-vectoring information is the #UD");
    tap_eq(0x1AA, vmread(EXIT_QUALIFICATION) & 0x1FF, "EPT violation: a data write to a read/execute page");

    ept_pt[(stack >> 12) & 511] = stack | 7 | EPT_WB;
    tap_eq(VM_SUCCEED, invept(1, eptp), "INVEPT after restoring the stack");
    vmwrite(GUEST_RIP, (uintptr_t)g_tf_setup);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at LIDT of a zero-limit IDT");
    tap_eq(2, vmx_exit_reason(), "#UD, #GP, #DF through an empty IDT: triple-fault exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_tf, "triple fault: guest RIP is the UD2");
    tap_eq(0, vmread(IDT_VECTORING_INFO) >> 31, "triple fault: no IDT-vectoring information");
    rt_idt_set_present(0x90, true);
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
