/* vmx_exits: conditional VM exits and what they record. A 64-bit guest
 * executes, in turn, MOV to/from CR3 (CR3-load exiting with a CR3-target
 * value, CR3-store exiting), MOV from CR8, MOV to CR0 against the CR0
 * guest/host mask and read shadow, CLTS, LMSW, MOV to DR7, RDMSR/WRMSR
 * against the MSR bitmaps, IN/OUT against the I/O bitmaps, INVLPG, RDTSC,
 * WBINVD, MONITOR, MWAIT (with the monitor armed and not: its
 * qualification), UD2 and a #PF against the exception bitmap with the #PF
 * error-code mask and match, VMREAD and VMPTRLD; the host prints each exit
 * reason, qualification, instruction length and information.
 * SDM Vol. 3C, "Instructions That Cause VM Exits Conditionally",
 * "Exceptions"; "Exit Qualification for Control-Register Accesses", "...
 * for MOV DR", "... for I/O Instructions", "... for INVLPG"; "Basic VM-Exit
 * Information" (MWAIT's qualification); "Information for VM Exits Due to
 * Vectored Events"; "Information for VM Exits Due to
 * Instruction Execution". */
#include "tests/vmx/vmx.h"

void guest_exits(void);
extern char g_cr3_load[], g_cr3_store[], g_cr8_store[], g_cr0[], g_clts[], g_lmsw[], g_movdr[], g_rdmsr[],
    g_rdmsr_out[], g_wrmsr[], g_in[], g_outw[], g_invlpg[], g_rdtsc[], g_rdtscp_ud[], g_rdtscp[], g_wbinvd[], g_xsetbv_ud[], g_xsetbv[], g_int3[], g_outsb[], g_cr8_load[], g_rdpmc[], g_monitor_setup[], g_monitor[],
    g_mwait[], g_ud2[], g_getsec[], g_xsaves[], g_xrstors[], g_xrstors_end[], g_pf[], g_pf_next[],
    g_pf2[], g_vmread[], g_vmptrld[], g_vmcall[], guest_data[];
__asm__(".text\n"
        "guest_exits:\n"
        "  mov %cr3, %rax\n"
        "  mov %rax, %cr3\n"                 /* CR3-target value 0 matches: no exit */
        "  mov %rax, %rcx\n  xor $0x1000, %rcx\n"
        "g_cr3_load: mov %rcx, %cr3\n"
        "g_cr3_store: mov %cr3, %rdx\n"
        "g_cr8_store: mov %cr8, %rax\n"
        "  mov %cr0, %rbx\n  or $8, %rbx\n"
        "g_cr0: mov %rbx, %cr0\n"
        "g_clts: clts\n"
        "  mov $1, %ecx\n"
        "g_lmsw: lmsw %cx\n"
        "  mov $0x400, %edx\n"
        "g_movdr: mov %rdx, %dr7\n"
        "  mov $0x174, %ecx\n"
        "g_rdmsr: rdmsr\n"
        "  mov $0x10, %ecx\n  rdmsr\n"       /* TSC: bitmap bit clear, no exit */
        "  mov $0x40000000, %ecx\n"
        "g_rdmsr_out: rdmsr\n"
        "  mov $0xC0000100, %ecx\n  xor %eax, %eax\n  xor %edx, %edx\n"
        "g_wrmsr: wrmsr\n"
        "g_in: inb $0x71, %al\n"
        "  mov $0x7F, %dx\n"
        "g_outw: outw %ax, (%dx)\n"
        "  lea guest_data(%rip), %rsi\n"
        "g_invlpg: invlpg (%rsi)\n"
        "g_rdtsc: rdtsc\n"
        "g_rdtscp_ud: rdtscp\n"             /* "enable RDTSCP" 0: #UD */
        "g_rdtscp: rdtscp\n"
        "g_wbinvd: wbinvd\n"
        "g_xsetbv_ud: xsetbv\n"             /* CR4.OSXSAVE = 0: #UD, before the exit */
        "  mov %cr4, %rax\n  or $0x40000, %rax\n  mov %rax, %cr4\n"
        "  xor %ecx, %ecx\n  mov $1, %eax\n  xor %edx, %edx\n"
        "g_xsetbv: xsetbv\n"
        "g_int3: int3\n"
        "  mov $0x80, %dx\n  lea guest_data(%rip), %rsi\n"
        "g_outsb: outsb\n"
        "  xor %eax, %eax\n"
        "g_cr8_load: mov %rax, %cr8\n"
        "  xor %ecx, %ecx\n"
        "g_rdpmc: rdpmc\n"
        "g_monitor_setup: lea guest_data(%rip), %rax\n  xor %ecx, %ecx\n  xor %edx, %edx\n"
        "g_monitor: monitor\n"
        "  xor %eax, %eax\n  xor %ecx, %ecx\n"
        "g_mwait: mwait\n"
        "g_ud2: ud2\n"
        "g_getsec: getsec\n"                 /* CR4.SMXE = 0: #UD */
        "g_xsaves: xsaves64 guest_xsave(%rip)\n"   /* "enable XSAVES/XRSTORS" 0: #UD */
        "g_xrstors: xrstors64 guest_xsave(%rip)\n"
        "g_xrstors_end:\n"
        "  mov $0x40000000, %r8\n"
        "g_pf: mov (%r8), %al\n"
        "g_pf_next: mov $0x40000000, %r8\n"    /* GPRs are not kept across the exit */
        "g_pf2: mov (%r8), %al\n"            /* not matched: delivered to the guest IDT */
        "g_pf2_next:\n"
        ".pushsection .extable, \"a\"\n.quad g_pf2, g_pf2_next\n.popsection\n"
        "g_vmread: vmread %rax, %rbx\n"
        "g_vmptrld: vmptrld 8(%rax)\n"
        "g_vmcall: vmcall\n"
        "  ud2\n"
        ".data\n.balign 8\nguest_data: .quad 0\n.balign 64\nguest_xsave: .fill 1024\n.text\n");

static uint8_t io_bitmap_a[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_b[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));

static void set_bit(uint8_t *map, unsigned bit) { map[bit / 8] |= (uint8_t)(1u << (bit % 8)); }

/* The exit the guest's instruction at `at` must have caused. */
static void expect(unsigned reason, const char *what, const char *at)
{
    tap_eq(reason, vmx_exit_reason(), "%s: exit reason", what);
    tap_check(vmread(GUEST_RIP) == (uintptr_t)at, "%s: guest RIP is the instruction", what);
}

static void expect_insn(unsigned reason, const char *what, const char *at, uint64_t len)
{
    expect(reason, what, at);
    tap_eq(len, vmread(EXIT_INSN_LEN), "%s: VM-exit instruction length", what);
}

static void resume(const char *what)
{
    if (vmx_skip_and_resume() != VM_EXITED) tap_check(false, "VMRESUME after %s", what);
}

void test_main(void)
{
    /* MONITOR arms the monitor only on write-back memory ("MONITOR—Set Up
     * Monitor Address": "only write-back memory will correctly trigger
     * the monitoring hardware"; Bochs checks the memory type): caching
     * enabled (the BIOS leaves CR0.CD and NW set; the guest's CR0 is a
     * copy) and MTRRs on with write-back as the default type. */
    write_cr0(read_cr0() & ~((1ull << 30) | (1ull << 29)));
    wrmsr(0x2FF, 0x806);
    tap_eq(VM_SUCCEED, vmx_enable(), "VMXON");
    uint32_t proc = PROC_CR3_LOAD_EXITING | (1u << 19) /* CR8-load exiting */ | (1u << 20) /* CR8-store */ |
                    PROC_MOV_DR_EXITING | PROC_USE_MSR_BITMAPS | PROC_USE_IO_BITMAPS | PROC_INVLPG_EXITING |
                    PROC_RDTSC_EXITING | (1u << 11) /* RDPMC */ | (1u << 10) /* MWAIT */ | (1u << 29) /* MONITOR */;
    vmx_setup_vmcs(guest_exits, proc, PROC2_WBINVD_EXITING);
    vmwrite(CR3_TARGET0, read_cr3());
    vmwrite(CR3_TARGET_COUNT, 1);
    vmwrite(CR0_MASK, 1u << 3);            /* TS owned by the host */
    vmwrite(CR0_SHADOW, 0);
    set_bit(msr_bitmap, 0x174);                        /* read SYSENTER_CS */
    set_bit(msr_bitmap + 3072, 0x100);                 /* write IA32_FS_BASE */
    vmwrite(MSR_BITMAP, (uintptr_t)msr_bitmap);
    set_bit(io_bitmap_a, 0x71);
    set_bit(io_bitmap_a, 0x80);
    vmwrite(IO_BITMAP_A, (uintptr_t)io_bitmap_a);
    vmwrite(IO_BITMAP_B, (uintptr_t)io_bitmap_b);
    vmwrite(EXCEPTION_BITMAP, (1u << 3) | (1u << 6) | (1u << 14));
    vmwrite(PF_ERROR_MASK, 0);
    vmwrite(PF_ERROR_MATCH, 0);

    tap_eq(VM_EXITED, vmx_run(0), "VMLAUNCH");
    expect_insn(28, "MOV to CR3 (not a CR3-target value)", g_cr3_load, 3);
    tap_eq(0x103, vmread(EXIT_QUALIFICATION), "MOV to CR3 from RCX: qualification");
    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) | PROC_CR3_STORE_EXITING);
    resume("MOV to CR3");
    expect_insn(28, "MOV from CR3", g_cr3_store, 3);
    tap_eq(0x213, vmread(EXIT_QUALIFICATION), "MOV from CR3 to RDX: qualification");
    resume("MOV from CR3");
    expect_insn(28, "MOV from CR8", g_cr8_store, 4);
    tap_eq(0x18, vmread(EXIT_QUALIFICATION), "MOV from CR8 to RAX: qualification");
    resume("MOV from CR8");
    expect_insn(28, "MOV to CR0 changing an owned bit", g_cr0, 3);
    tap_eq(0x300, vmread(EXIT_QUALIFICATION), "MOV to CR0 from RBX: qualification");
    vmwrite(CR0_SHADOW, 1u << 3);
    resume("MOV to CR0");
    expect_insn(28, "CLTS with TS owned and shadowed as 1", g_clts, 2);
    tap_eq(0x20, vmread(EXIT_QUALIFICATION), "CLTS: qualification");
    resume("CLTS");
    expect_insn(28, "LMSW clearing the owned TS", g_lmsw, 3);
    tap_eq(0x10030, vmread(EXIT_QUALIFICATION), "LMSW from CX = 1: qualification");
    resume("LMSW");
    expect_insn(29, "MOV to DR7", g_movdr, 3);
    tap_eq(0x207, vmread(EXIT_QUALIFICATION), "MOV to DR7 from RDX: qualification");
    resume("MOV DR");
    expect_insn(31, "RDMSR of a read-bitmap MSR", g_rdmsr, 2);
    resume("RDMSR");
    expect_insn(31, "RDMSR outside the bitmap ranges", g_rdmsr_out, 2);
    resume("RDMSR");
    expect_insn(32, "WRMSR of a write-bitmap MSR", g_wrmsr, 2);
    resume("WRMSR");
    expect_insn(30, "IN from a bitmap port", g_in, 2);
    tap_eq(0x00710048, vmread(EXIT_QUALIFICATION), "IN AL, 71H: qualification");
    resume("IN");
    expect_insn(30, "OUT of 2 bytes reaching a bitmap port", g_outw, 2);
    tap_eq(0x007F0001, vmread(EXIT_QUALIFICATION), "OUT DX=7FH, AX: qualification");
    resume("OUT");
    expect_insn(14, "INVLPG", g_invlpg, 3);
    tap_check(vmread(EXIT_QUALIFICATION) == (uintptr_t)guest_data, "INVLPG: qualification is the linear address");
    resume("INVLPG");
    expect_insn(16, "RDTSC", g_rdtsc, 2);
    resume("RDTSC");
    /* "Changes to Instruction Behavior in VMX Non-Root Operation": without
     * "enable RDTSCP" RDTSCP is #UD (here an exception exit); with it and
     * "RDTSC exiting", an RDTSCP exit. */
    expect(0, "RDTSCP without enable RDTSCP", g_rdtscp_ud);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "RDTSCP without enable RDTSCP: #UD");
    vmwrite(PROC2_CONTROLS, vmread(PROC2_CONTROLS) | (1u << 3));
    vmwrite(GUEST_RIP, (uintptr_t)g_rdtscp);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after RDTSCP #UD");
    expect_insn(51, "RDTSCP with enable RDTSCP and RDTSC exiting", g_rdtscp, 3);
    resume("RDTSCP");
    expect_insn(54, "WBINVD", g_wbinvd, 2);
    resume("WBINVD");
    /* "Relative Priority of Faults and VM Exits": XSETBV's #UD (CR4.OSXSAVE
     * clear) comes first, and #UD is in the exception bitmap. */
    expect(0, "XSETBV with CR4.OSXSAVE clear", g_xsetbv_ud);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "XSETBV with CR4.OSXSAVE clear: #UD, not an XSETBV exit");
    vmwrite(GUEST_RIP, (uintptr_t)g_xsetbv_ud + 3);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after XSETBV #UD");
    expect_insn(55, "XSETBV", g_xsetbv, 3);
    resume("XSETBV");
    expect_insn(0, "INT3 in the exception bitmap", g_int3, 1);
    tap_eq(0x80000603, vmread(EXIT_INTR_INFO), "INT3: software exception 3");
    resume("INT3");
    expect_insn(30, "OUTSB to a bitmap port", g_outsb, 1);
    tap_eq(0x00800010, vmread(EXIT_QUALIFICATION), "OUTSB to DX=80H: qualification (string)");
    tap_check(vmread(GUEST_LINEAR_ADDRESS) == (uintptr_t)guest_data, "OUTSB: guest-linear address of the source");
    /* IA32_VMX_BASIC bit 54: address size 9:7 (64-bit) and segment 17:15 (DS). */
    tap_eq(0x18100, vmread(EXIT_INSN_INFO) & 0x38380, "OUTSB: instruction information");
    resume("OUTSB");
    expect_insn(28, "MOV to CR8", g_cr8_load, 4);
    tap_eq(0x8, vmread(EXIT_QUALIFICATION), "MOV to CR8 from RAX: qualification");
    resume("MOV to CR8");
    expect_insn(15, "RDPMC", g_rdpmc, 2);
    resume("RDPMC");
    expect_insn(39, "MONITOR", g_monitor, 3);
    resume("MONITOR");
    /* "Basic VM-Exit Information": MWAIT's exit qualification is 1 when
     * the address-range monitoring hardware is armed, else 0. The MONITOR
     * above exited instead of arming it; run again without MONITOR
     * exiting, it arms it before the MWAIT. */
    expect_insn(36, "MWAIT", g_mwait, 3);
    tap_eq(0, vmread(EXIT_QUALIFICATION), "MWAIT with the monitor not armed: qualification");
    vmwrite(PROC_CONTROLS, vmread(PROC_CONTROLS) & ~(1u << 29));
    vmwrite(GUEST_RIP, (uintptr_t)g_monitor_setup);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME at MONITOR");
    expect_insn(36, "MWAIT after MONITOR armed the monitor", g_mwait, 3);
    tap_eq(1, vmread(EXIT_QUALIFICATION), "MWAIT with the monitor armed: qualification");
    /* "Clearing Address-Range Monitoring" (chapter "VM Entries"): the
     * host's own MONITOR arms it, the VM entry clears it. */
    __asm__ volatile("monitor" : : "a"(guest_data), "c"(0), "d"(0) : "memory");
    vmwrite(GUEST_RIP, (uintptr_t)g_mwait);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME at MWAIT");
    expect_insn(36, "MWAIT after the host's MONITOR", g_mwait, 3);
    tap_eq(0, vmread(EXIT_QUALIFICATION), "MWAIT after the host's MONITOR and a VM entry: qualification");
    resume("MWAIT");
    expect(0, "UD2 in the exception bitmap", g_ud2);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "UD2: exit interruption information");
    vmwrite(GUEST_RIP, (uintptr_t)g_ud2 + 2);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after UD2");
    /* GETSEC with CR4.SMXE = 0 raises #UD ("GETSEC—GetSec Leaf Functions";
     * "Relative Priority of Faults and VM Exits": before exit 11), and
     * XSAVES / XRSTORS with "enable XSAVES/XRSTORS" 0 raise #UD ("Changes
     * to Instruction Behavior in VMX Non-Root Operation"). */
    expect(0, "GETSEC with CR4.SMXE clear", g_getsec);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "GETSEC with CR4.SMXE clear: #UD, not a GETSEC exit");
    vmwrite(GUEST_RIP, (uintptr_t)g_xsaves);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after GETSEC");
    expect(0, "XSAVES without enable XSAVES/XRSTORS", g_xsaves);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "XSAVES without enable XSAVES/XRSTORS: #UD");
    vmwrite(GUEST_RIP, (uintptr_t)g_xrstors);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after XSAVES");
    expect(0, "XRSTORS without enable XSAVES/XRSTORS", g_xrstors);
    tap_eq(0x80000306, vmread(EXIT_INTR_INFO), "XRSTORS without enable XSAVES/XRSTORS: #UD");
    vmwrite(GUEST_RIP, (uintptr_t)g_xrstors_end);
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after XRSTORS");
    expect(0, "#PF matching the error-code mask and match", g_pf);
    tap_eq(0x80000B0E, vmread(EXIT_INTR_INFO), "#PF: exit interruption information");
    tap_eq(0, vmread(EXIT_INTR_ERROR), "#PF: error code (not present, read, supervisor)");
    tap_eq(0x40000000, vmread(EXIT_QUALIFICATION), "#PF: qualification is the faulting address");
    /* A not-present fault (P = 0) no longer matches (mask P, match P):
     * with bit 14 set it is delivered through the guest IDT instead. */
    vmwrite(PF_ERROR_MASK, 1);
    vmwrite(PF_ERROR_MATCH, 1);
    vmwrite(GUEST_RIP, (uintptr_t)g_pf_next);
    rt_fault_clear();
    if (vmx_run(1) != VM_EXITED) tap_check(false, "VMRESUME after #PF");
    tap_eq(14, (uint64_t)rt_fault_vector(), "#PF not matching: delivered to the guest");
    tap_check(rt_fault.site == (uintptr_t)g_pf2, "#PF not matching: at the guest instruction");
    expect_insn(23, "VMREAD in the guest", g_vmread, 3);
    /* Register form: reg1 (6:3) = RBX, register bit 10, reg2 (31:28) = RAX. */
    tap_eq(0x00000418, vmread(EXIT_INSN_INFO) & 0xF0000478, "VMREAD: instruction information");
    resume("VMREAD");
    expect_insn(21, "VMPTRLD in the guest", g_vmptrld, 4);
    tap_eq(8, vmread(EXIT_QUALIFICATION), "VMPTRLD: qualification is the displacement");
    /* 64-bit address size, memory, DS, no index, base RAX. */
    tap_eq(0x00418100, vmread(EXIT_INSN_INFO) & 0x0FC38780, "VMPTRLD: instruction information");
    resume("VMPTRLD");
    expect_insn(18, "VMCALL", g_vmcall, 3);
    tap_eq(VM_SUCCEED, vmxoff(), "VMXOFF");
}
