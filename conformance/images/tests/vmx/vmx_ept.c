/* vmx_ept: a guest behind EPT and VPID. The host identity-maps the first
 * GiB of guest-physical memory with 2-MByte EPT pages, except one 4-KByte
 * page that is read/execute only and one whose entry is write-only (a
 * misconfiguration). The guest's write to the first is an EPT violation
 * (qualification, guest-physical and guest-linear addresses); the host
 * makes the page writable, invalidates with INVEPT and resumes at the same
 * instruction, which now completes; the guest's read of the second is an
 * EPT misconfiguration. Then the guest switches with VMFUNC (EPTP
 * switching) to a second EPT hierarchy from the EPTP list, where that page
 * is readable, without an exit; a switch to an invalid list entry exits.
 * INVEPT and INVVPID with an invalid type or VPID fail with VM-instruction
 * error 28.
 * SDM Vol. 3C, chapter "VMX Support for Address Translation": "EPT
 * Translation Mechanism", "EPT Misconfigurations", "EPT Violations",
 * "Invalidating Cached Translation Information"; "Exit Qualification for
 * EPT Violations"; "INVEPT", "INVVPID". */
#include "tests/vmx/vmx.h"

void guest_ept(void);
extern char g_write[], g_misconfig[], g_switch[], g_vmfunc_bad[], g_vmcall[];
__asm__(".text\n"
        "guest_ept:\n"
        "  lea ro_page(%rip), %rdi\n"
        "g_write: movb $1, (%rdi)\n"
        "g_write2: movb $2, 1(%rdi)\n"
        "  lea bad_page(%rip), %rsi\n"
        "g_misconfig: mov (%rsi), %al\n"
        "g_switch: xor %eax, %eax\n  mov $1, %ecx\n"
        "  vmfunc\n"                          /* EPTP list entry 1 */
        "  lea bad_page(%rip), %rsi\n  mov (%rsi), %al\n"
        "  lea ro_page(%rip), %rdi\n  mov %al, 2(%rdi)\n"
        "  xor %eax, %eax\n  mov $2, %ecx\n"
        "g_vmfunc_bad: vmfunc\n"             /* entry 2 is not a valid EPTP */
        "g_vmcall: vmcall\n"
        "  ud2\n");

uint8_t ro_page[4096] __attribute__((aligned(4096)));
uint8_t bad_page[4096] __attribute__((aligned(4096)));
static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pt[512] __attribute__((aligned(4096)));
/* The second hierarchy (EPTP switching): the same, with bad_page readable. */
static uint64_t ept2_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept2_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept2_pd[512] __attribute__((aligned(4096)));
static uint64_t ept2_pt[512] __attribute__((aligned(4096)));
static uint64_t eptp_list[512] __attribute__((aligned(4096)));
#define EPTP_LIST_ADDRESS 0x2024
#define VM_FUNCTION_CONTROL 0x2018
#define PROC2_VMFUNC (1u << 13)

#define EPT_R 1u
#define EPT_W 2u
#define EPT_X 4u
#define EPT_RWX 7u
#define EPT_WB (6u << 3)
#define EPT_LARGE (1u << 7)

void test_main(void)
{
    uint64_t ro = (uintptr_t)ro_page, bad = (uintptr_t)bad_page;
    /* 1 GiB identity with 2-MByte pages; the 2 MBytes holding the two
     * special pages go through a page table. */
    ept_pml4[0] = (uintptr_t)ept_pdpt | EPT_RWX;
    ept_pdpt[0] = (uintptr_t)ept_pd | EPT_RWX;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | EPT_RWX | EPT_WB | EPT_LARGE;
    uint64_t region = ro >> 21;
    tap_check(bad >> 21 == region, "both special pages in one 2-MByte region");
    for (uint64_t i = 0; i < 512; i++) ept_pt[i] = (region << 21) | (i << 12) | EPT_RWX | EPT_WB;
    ept_pd[region] = (uintptr_t)ept_pt | EPT_RWX;
    ept_pt[(ro >> 12) & 511] = ro | EPT_R | EPT_X | EPT_WB;
    ept_pt[(bad >> 12) & 511] = bad | EPT_W | EPT_WB;     /* write-only: misconfigured */
    uint64_t eptp = (uintptr_t)ept_pml4 | (3u << 3) | 6;  /* 4-level walk, WB */

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    for (unsigned i = 0; i < 512; i++) ept2_pd[i] = ept_pd[i], ept2_pt[i] = ept_pt[i];
    ept2_pml4[0] = (uintptr_t)ept2_pdpt | EPT_RWX;
    ept2_pdpt[0] = (uintptr_t)ept2_pd | EPT_RWX;
    ept2_pd[region] = (uintptr_t)ept2_pt | EPT_RWX;
    ept2_pt[(bad >> 12) & 511] = bad | EPT_RWX | EPT_WB;
    ept2_pt[(ro >> 12) & 511] = ro | EPT_RWX | EPT_WB;
    uint64_t eptp2 = (uintptr_t)ept2_pml4 | (3u << 3) | 6;
    eptp_list[0] = eptp;
    eptp_list[1] = eptp2;
    eptp_list[2] = 0;                                      /* memory type UC with walk length 1: invalid */
    bad_page[0] = 0x77;

    vmx_setup_vmcs(guest_ept, 0, PROC2_EPT | PROC2_VPID | PROC2_VMFUNC);
    vmwrite(VM_FUNCTION_CONTROL, 1);                       /* EPTP switching */
    vmwrite(EPTP_LIST_ADDRESS, (uintptr_t)eptp_list);
    vmwrite(EPT_POINTER, eptp);
    vmwrite(VMCS_VPID, 1);
    tap_eq(VM_SUCCEED, invept(2, 0), "INVEPT all-context");
    tap_eq(VM_FAIL_VALID, invept(3, eptp), "INVEPT with type 3: VMfailValid");
    tap_eq(28, vmread(VM_INSTRUCTION_ERROR), "INVEPT with type 3: VM-instruction error");
    tap_eq(VM_SUCCEED, invvpid(1, 1, 0), "INVVPID single-context of VPID 1");
    tap_eq(VM_FAIL_VALID, invvpid(1, 0, 0), "INVVPID single-context of VPID 0: VMfailValid");
    tap_eq(28, vmread(VM_INSTRUCTION_ERROR), "INVVPID of VPID 0: VM-instruction error");

    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH with EPT and VPID");
    tap_eq(48, vmx_exit_reason(), "write to a read/execute page: EPT violation");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_write, "EPT violation: guest RIP is the write");
    /* Data write (bit 1); the entry allows read (3) and execute (5); the
     * guest-linear address is valid (7) and the access was the final
     * translation (8). */
    tap_eq(0x1AA, vmread(EXIT_QUALIFICATION) & 0x1FF, "EPT violation: qualification");
    tap_check(vmread(GUEST_PHYSICAL_ADDRESS) == ro, "EPT violation: guest-physical address");
    tap_check(vmread(GUEST_LINEAR_ADDRESS) == ro, "EPT violation: guest-linear address");
    tap_eq(0, ro_page[0], "the write did not happen");

    ept_pt[(ro >> 12) & 511] = ro | EPT_RWX | EPT_WB;
    tap_eq(VM_SUCCEED, invept(1, eptp), "INVEPT single-context");
    /* Back to the LEA before the write: the guest's RDI did not survive
     * the host's code. */
    vmwrite(GUEST_RIP, (uintptr_t)guest_ept);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME at the write");
    tap_eq(1, ro_page[0], "the write completed after the EPT change");
    tap_eq(2, ro_page[1], "and the next one");
    tap_eq(49, vmx_exit_reason(), "read through a write-only entry: EPT misconfiguration");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_misconfig, "EPT misconfiguration: guest RIP is the read");
    tap_check(vmread(GUEST_PHYSICAL_ADDRESS) == bad, "EPT misconfiguration: guest-physical address");
    vmwrite(GUEST_RIP, (uintptr_t)g_switch);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME past the read");
    tap_eq(59, vmx_exit_reason(), "VMFUNC with an invalid EPTP-list entry: VM exit");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_vmfunc_bad, "VMFUNC exit: guest RIP is the second VMFUNC");
    tap_eq(3, vmread(EXIT_INSN_LEN), "VMFUNC exit: instruction length");
    tap_check(vmread(EPT_POINTER) == eptp2, "the first VMFUNC switched EPT_POINTER to list entry 1");
    tap_eq(0x77, ro_page[2], "through the second EPT the guest read the page");
    vmwrite(GUEST_RIP, (uintptr_t)g_vmcall);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME past VMFUNC");
    tap_eq(18, vmx_exit_reason(), "VMCALL");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
