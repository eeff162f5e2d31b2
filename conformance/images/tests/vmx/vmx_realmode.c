/* vmx_realmode: an unrestricted guest in real-address mode. With "enable
 * EPT" and "unrestricted guest", the guest starts with CR0.PE = PG = 0 at
 * 0000:8000 (identity EPT for the first GiB) and executes OUT, CPUID,
 * MOV to CR0 of a value with an owned bit changed, and HLT; the host
 * checks each exit's reason, qualification, length and the saved
 * real-mode state (RIP, CS selector and base, CR0), then a VM entry with
 * CR0.PE = 0 without "unrestricted guest" fails its controls-and-guest
 * checks.
 * SDM Vol. 3C, "Unrestricted Guests"; "Checks on Guest Control
 * Registers, Debug Registers, and MSRs"; "Checks on Guest Segment
 * Registers"; "Instructions That Cause VM Exits Conditionally". */
#include "tests/vmx/vmx.h"

static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));

#define GUEST_CODE 0x8000
#define PROC2_UNRESTRICTED (1u << 7)

/* 16-bit guest code, copied to GUEST_CODE. */
static const uint8_t guest_code[] = {
    0xB8, 0x34, 0x12,       /* 8000: mov $0x1234, %ax */
    0xE6, 0x80,             /* 8003: out %al, $0x80 */
    0x66, 0x31, 0xC0,       /* 8005: xor %eax, %eax */
    0x0F, 0xA2,             /* 8008: cpuid */
    0x0F, 0x20, 0xC0,       /* 800a: mov %cr0, %eax */
    0x66, 0x83, 0xC8, 0x08, /* 800d: or $8, %eax (TS) */
    0x0F, 0x22, 0xC0,       /* 8011: mov %eax, %cr0 */
    0xF4,                   /* 8014: hlt */
    0xEB, 0xFE,             /* 8015: jmp . */
};

static void expect(unsigned reason, uint64_t ip, uint64_t len, const char *what)
{
    tap_eq(reason, vmx_exit_reason(), "%s: exit reason", what);
    tap_eq(ip, vmread(GUEST_RIP), "%s: guest IP", what);
    tap_eq(len, vmread(EXIT_INSN_LEN), "%s: instruction length", what);
}

void test_main(void)
{
    ept_pml4[0] = (uintptr_t)ept_pdpt | 7;
    ept_pdpt[0] = (uintptr_t)ept_pd | 7;
    for (uint64_t i = 0; i < 512; i++) ept_pd[i] = (i << 21) | 7 | (6u << 3) | (1u << 7);
    memcpy((void *)GUEST_CODE, guest_code, sizeof guest_code);

    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs((void (*)(void))GUEST_CODE, PROC_HLT_EXITING | PROC_UNCOND_IO, PROC2_EPT | PROC2_UNRESTRICTED);
    vmwrite(EPT_POINTER, (uintptr_t)ept_pml4 | (3u << 3) | 6);
    vmwrite(ENTRY_CONTROLS, vmread(ENTRY_CONTROLS) & ~ENTRY_GUEST_64);
    vmwrite(GUEST_CR0, (read_cr0() & ~(CR0_PE | CR0_PG)) | CR0_NE);
    vmwrite(GUEST_CR4, CR4_VMXE);
    vmwrite(GUEST_CR3, 0);
    vmwrite(CR0_MASK, 1u << 3);            /* TS owned by the host */
    vmwrite(CR0_SHADOW, 0);
    for (unsigned i = 0; i < 6; i++) {     /* real-mode segments: selector 0, base 0, 64 KiB */
        vmwrite(GUEST_ES_SEL + 2 * i, 0);
        vmwrite(GUEST_ES_BASE + 2 * i, 0);
        vmwrite(GUEST_ES_LIMIT + 2 * i, 0xFFFF);
        vmwrite(GUEST_ES_AR + 2 * i, i == 1 ? 0x9B : 0x93);
    }
    vmwrite(GUEST_TR_SEL + 0, 0);
    vmwrite(GUEST_ES_BASE + 14, 0);        /* TR: busy 16/32-bit TSS at 0 */
    vmwrite(GUEST_ES_LIMIT + 14, 0xFFFF);
    vmwrite(GUEST_ES_AR + 14, 0x8B);
    vmwrite(GUEST_GDTR_BASE, 0);
    vmwrite(GUEST_GDTR_LIMIT, 0xFFFF);
    vmwrite(GUEST_IDTR_BASE, 0);
    vmwrite(GUEST_IDTR_LIMIT, 0x3FF);
    vmwrite(GUEST_RSP, 0x7000);
    vmwrite(GUEST_RIP, GUEST_CODE);

    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH of a real-mode guest");
    expect(30, 0x8003, 2, "OUT imm8 in real mode");
    tap_eq(0x00800040, vmread(EXIT_QUALIFICATION), "OUT: qualification");
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME");
    expect(10, 0x8008, 2, "CPUID in real mode");
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME");
    expect(28, 0x8011, 3, "MOV to CR0 setting the owned TS");
    tap_eq(0x000, vmread(EXIT_QUALIFICATION), "MOV to CR0 from EAX: qualification");
    tap_eq(0, vmread(GUEST_CR0) & (CR0_PE | CR0_PG), "the guest's CR0 has PE = PG = 0");
    tap_eq(VM_EXITED, vmx_skip_and_resume(), "VMRESUME");
    expect(12, 0x8014, 1, "HLT in real mode");
    tap_eq(0, vmread(GUEST_CS_SEL), "saved CS selector");
    tap_eq(0, vmread(GUEST_ES_BASE + 2), "saved CS base");
    tap_eq(0x7000, vmread(GUEST_RSP), "saved RSP unchanged");

    /* Without "unrestricted guest", CR0.PE = 0 breaks "Checks on Guest
     * Control Registers": a VM-entry failure (33). */
    vmwrite(PROC2_CONTROLS, vmread(PROC2_CONTROLS) & ~PROC2_UNRESTRICTED);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with CR0.PE = 0 and no unrestricted guest");
    tap_eq(0x80000021, vmread(EXIT_REASON), "VM-entry failure: exit reason 33 with bit 31");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
