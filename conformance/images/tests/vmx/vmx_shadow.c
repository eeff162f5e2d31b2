/* vmx_shadow: VMCS shadowing. The host prepares a shadow VMCS (revision
 * with bit 31 set) whose GUEST_RSP is 1111H, links it from the VMCS and
 * enables "VMCS shadowing" with a VMREAD bitmap in which only GUEST_RIP
 * is set. The guest's VMREAD and VMWRITE of GUEST_RSP then access the
 * shadow VMCS without a VM exit, its VMREAD of an unsupported field fails
 * with VMfailValid (error 12 recorded in the current VMCS), and its VMREAD
 * of GUEST_RIP exits.
 * SDM Vol. 3C, "VMCS Shadowing", "VMREAD-Bitmap and VMWRITE-Bitmap
 * Addresses", "VMREAD", "VMWRITE", "VMPTRLD" (shadow-VMCS indicator). */
#include "tests/vmx/vmx.h"

#define PROC2_SHADOWING (1u << 14)
#define VMREAD_BITMAP 0x2026
#define VMWRITE_BITMAP 0x2028

void guest_shadow(void);
extern char g_vmread_exit[];
extern volatile uint64_t shadow_seen;
extern volatile uint8_t shadow_zf;
__asm__(".text\n"
        "guest_shadow:\n"
        "  mov $0x681C, %eax\n  vmread %rax, %rbx\n  mov %rbx, shadow_seen(%rip)\n"   /* GUEST_RSP */
        "  mov $0x2222, %ecx\n  vmwrite %rcx, %rax\n"
        "  mov $0x7FFE, %eax\n  vmread %rax, %rbx\n  setz shadow_zf(%rip)\n"         /* no such field */
        "  mov $0x681E, %eax\n"                                                         /* GUEST_RIP */
        "g_vmread_exit: vmread %rax, %rbx\n"
        "  vmcall\n  ud2\n"
        ".data\n.balign 8\n.globl shadow_seen, shadow_zf\nshadow_seen: .quad 0\nshadow_zf: .byte 0\n.text\n");

static uint8_t shadow_vmcs[4096] __attribute__((aligned(4096)));
static uint8_t vmread_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t vmwrite_bitmap[4096] __attribute__((aligned(4096)));

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    uint64_t shadow = (uintptr_t)shadow_vmcs, main_vmcs = (uintptr_t)vmx_vmcs_region;
    *(uint32_t *)shadow_vmcs = vmx_revision() | (1u << 31);
    tap_eq(VM_SUCCEED, vmclear(shadow), "VMCLEAR of the shadow VMCS");
    tap_eq(VM_SUCCEED, vmptrld(shadow), "VMPTRLD of a shadow VMCS (shadowing supported)");
    tap_eq(VM_SUCCEED, vmwrite_status(GUEST_RSP, 0x1111), "VMWRITE into the shadow VMCS");
    tap_eq(VM_SUCCEED, vmclear(shadow), "VMCLEAR of the shadow VMCS");

    vmx_setup_vmcs(guest_shadow, 0, PROC2_SHADOWING);
    vmwrite(VMCS_LINK_POINTER, shadow);
    vmread_bitmap[GUEST_RIP >> 3] |= (uint8_t)(1u << (GUEST_RIP & 7));
    vmwrite(VMREAD_BITMAP, (uintptr_t)vmread_bitmap);
    vmwrite(VMWRITE_BITMAP, (uintptr_t)vmwrite_bitmap);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH with VMCS shadowing");
    tap_eq(23, vmx_exit_reason(), "the guest's VMREAD of GUEST_RIP (bitmap bit set) exits");
    tap_check(vmread(GUEST_RIP) == (uintptr_t)g_vmread_exit, "VMREAD exit: guest RIP");
    tap_eq(0x1111, shadow_seen, "the guest's VMREAD of GUEST_RSP read the shadow VMCS without an exit");
    tap_eq(1, shadow_zf, "the guest's VMREAD of an unsupported field: VMfailValid (ZF)");
    tap_eq(12, vmread(VM_INSTRUCTION_ERROR), "its error is recorded in the current VMCS");
    tap_check(vmread(GUEST_RSP) != 0x2222, "the guest's VMWRITE did not touch the current VMCS");

    tap_eq(VM_SUCCEED, vmptrld(shadow), "VMPTRLD of the shadow VMCS");
    tap_eq(0x2222, vmread(GUEST_RSP), "the guest's VMWRITE of GUEST_RSP went to the shadow VMCS");
    tap_eq(VM_SUCCEED, vmptrld(main_vmcs), "VMPTRLD of the VMCS again");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
