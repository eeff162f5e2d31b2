/* vmx_desc: PAUSE exiting and descriptor-table exiting. A
 * 64-bit guest with "PAUSE exiting" and "descriptor-table exiting" runs
 * PAUSE, SGDT, SIDT, LGDT, LIDT (exit 46) and SLDT, STR, LLDT, LTR (exit
 * 47); the host prints each exit's reason, instruction length,
 * qualification (the displacement) and the defined bits of the
 * instruction information. With both controls clear the same
 * instructions run in the guest without exiting.
 * SDM Vol. 3C, "Instructions That Cause VM Exits Conditionally" (PAUSE,
 * LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR), "Exit Qualification for
 * VM Exits Due to Instruction Execution" (the displacement), "Format of
 * the VM-Exit Instruction-Information Field as Used for LIDT, LGDT, SIDT,
 * or SGDT" and "... as Used for LLDT, LTR, SLDT, and STR". */
#include "tests/vmx/vmx.h"

#define PROC_PAUSE_EXITING (1u << 30)
#define PROC2_DESC_TABLE_EXITING (1u << 2)

/* Instruction-information bits each form defines ("undefined" ones left
 * out): memory with base and index, memory with a base only (scaling and
 * index undefined), register (only reg1, bit 10 and the identity). */
#define INFO_MEM_FULL 0x3FFF8783u
#define INFO_MEM_BASE 0x3FC38780u
#define INFO_REG 0x30000478u

void guest_desc(void);
void guest_native(void);
extern char g_pause[], g_sgdt[], g_sidt[], g_lgdt[], g_lidt[], g_sldt[], g_str[], g_lldt[], g_ltr[];
extern uint8_t desc_buf[];
__asm__(".text\n"
        "guest_desc:\n"
        "  lea desc_buf(%rip), %rsi\n  xor %ecx, %ecx\n  xor %edx, %edx\n"
        "g_pause: pause\n"
        "g_sgdt: sgdt 8(%rsi)\n"
        "g_sidt: sidt (%rsi,%rcx,4)\n"
        "g_lgdt: lgdt 8(%rsi)\n"
        "g_lidt: lidt (%rsi)\n"
        "g_sldt: sldt %eax\n"
        "g_str: str 2(%rsi)\n"
        "g_lldt: lldt %cx\n"
        "g_ltr: ltr %dx\n"
        "  vmcall\n  ud2\n"
        "guest_native:\n"
        "  lea desc_buf(%rip), %rsi\n"
        "  pause\n  sgdt 16(%rsi)\n  sidt 32(%rsi)\n  str 48(%rsi)\n  sldt 50(%rsi)\n"
        "  vmcall\n  ud2\n"
        ".data\n.balign 16\n.globl desc_buf\ndesc_buf: .fill 64, 1, 0xEE\n.text\n");

static void expect(unsigned reason, const char *what, const char *at, uint64_t len)
{
    tap_eq(reason, vmx_exit_reason(), "%s: exit reason", what);
    tap_check(vmread(GUEST_RIP) == (uintptr_t)at, "%s: guest RIP is the instruction", what);
    tap_eq(len, vmread(EXIT_INSN_LEN), "%s: VM-exit instruction length", what);
}

static void expect_desc(unsigned reason, const char *what, const char *at, uint64_t len, uint64_t qual,
                        uint32_t info_mask, uint32_t info)
{
    expect(reason, what, at, len);
    tap_eq(qual, vmread(EXIT_QUALIFICATION), "%s: qualification is the displacement", what);
    tap_eq(info, vmread(EXIT_INSN_INFO) & info_mask, "%s: instruction information", what);
    if (vmx_skip_and_resume() != VM_EXITED) tap_check(false, "VMRESUME after %s", what);
}

void test_main(void)
{
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    vmx_setup_vmcs(guest_desc, PROC_PAUSE_EXITING, PROC2_DESC_TABLE_EXITING);
    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH");
    expect(40, "PAUSE", g_pause, 2);
    if (vmx_skip_and_resume() != VM_EXITED) tap_check(false, "VMRESUME after PAUSE");
    /* 64-bit address size (2 << 7), DS (3 << 15), base RSI (6 << 23). */
    expect_desc(46, "SGDT 8(%rsi)", g_sgdt, 4, 8, INFO_MEM_BASE, 0x03418100 | 0u << 28);
    /* Scaling 4 (2), index RCX (1 << 18). */
    expect_desc(46, "SIDT (%rsi,%rcx,4)", g_sidt, 4, 0, INFO_MEM_FULL, 0x03058102 | 1u << 28);
    expect_desc(46, "LGDT 8(%rsi)", g_lgdt, 4, 8, INFO_MEM_BASE, 0x03418100 | 2u << 28);
    expect_desc(46, "LIDT (%rsi)", g_lidt, 3, 0, INFO_MEM_BASE, 0x03418100 | 3u << 28);
    /* Register form: reg1 in 6:3, bit 10. */
    expect_desc(47, "SLDT %eax", g_sldt, 3, 0, INFO_REG, 0x400 | 0u << 28);
    expect_desc(47, "STR 2(%rsi)", g_str, 4, 2, INFO_MEM_BASE, 0x03418100 | 1u << 28);
    expect_desc(47, "LLDT %cx", g_lldt, 3, 0, INFO_REG, 1u << 3 | 0x400 | 2u << 28);
    expect_desc(47, "LTR %dx", g_ltr, 3, 0, INFO_REG, 2u << 3 | 0x400 | 3u << 28);
    tap_eq(18, vmx_exit_reason(), "then VMCALL: the exiting instructions did not execute");
    tap_eq(0xEEEE, *(volatile uint16_t *)(desc_buf + 8), "SGDT that exited stored nothing");

    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) & ~PROC_PAUSE_EXITING);
    vmwrite(PROC2_CONTROLS, vmread(PROC2_CONTROLS) & ~PROC2_DESC_TABLE_EXITING);
    vmwrite(GUEST_RIP, (uintptr_t)guest_native);
    tap_eq(VM_EXITED, vmx_run(1), "VMRESUME with both controls clear");
    tap_eq(18, vmx_exit_reason(), "PAUSE, SGDT, SIDT, STR, SLDT run without exiting");
    struct dtr gdt, idt;
    __builtin_memcpy(&gdt, desc_buf + 16, sizeof gdt);
    __builtin_memcpy(&idt, desc_buf + 32, sizeof idt);
    tap_check(gdt.base == vmread(GUEST_GDTR_BASE) && gdt.limit == vmread(GUEST_GDTR_LIMIT),
              "SGDT in the guest stores the guest GDTR");
    tap_check(idt.base == vmread(GUEST_IDTR_BASE) && idt.limit == vmread(GUEST_IDTR_LIMIT),
              "SIDT in the guest stores the guest IDTR");
    tap_check(*(volatile uint16_t *)(desc_buf + 48) == vmread(GUEST_TR_SEL), "STR in the guest stores the TR selector");
    tap_eq(0, *(volatile uint16_t *)(desc_buf + 50), "SLDT in the guest stores the null LDT selector");
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
