/* The L1-hypervisor kit of the guest-level VMX images: VMX instruction
 * wrappers that report VMsucceed / VMfailInvalid / VMfailValid, the VMCS
 * encodings the images use, a VMCS filled from the capability MSRs for a
 * 64-bit guest that shares the host's address space, and the enter/exit
 * trampoline (VMLAUNCH/VMRESUME returns to the caller on the next VM exit).
 * Included by exactly one image source each (it defines the trampoline).
 * SDM Vol. 3C, chapters "Virtual Machine Control Structures", "VMX
 * Instruction Reference", appendix "Field Encoding in VMCS". */
#ifndef HVSIM_IMAGES_TESTS_VMX_VMX_H
#define HVSIM_IMAGES_TESTS_VMX_VMX_H

#include "rt/layout.h"
#include "rt/rt.h"

/* Instruction outcomes. */
enum { VM_SUCCEED = 0, VM_FAIL_INVALID = 1, VM_FAIL_VALID = 2, VM_EXITED = 3 };

/* Capability and control MSRs. */
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_PROCBASED2 0x48B
#define MSR_VMX_TRUE_PINBASED 0x48D
#define MSR_VMX_TRUE_PROCBASED 0x48E
#define MSR_VMX_TRUE_EXIT 0x48F
#define MSR_VMX_TRUE_ENTRY 0x490
#define CR4_VMXE (1ul << 13)
#define CR0_NE (1ul << 5)

/* VMCS encodings. */
enum {
    VMCS_VPID = 0x0000,
    GUEST_ES_SEL = 0x0800, GUEST_CS_SEL = 0x0802, GUEST_SS_SEL = 0x0804, GUEST_DS_SEL = 0x0806,
    GUEST_FS_SEL = 0x0808, GUEST_GS_SEL = 0x080A, GUEST_LDTR_SEL = 0x080C, GUEST_TR_SEL = 0x080E,
    HOST_ES_SEL = 0x0C00, HOST_CS_SEL = 0x0C02, HOST_SS_SEL = 0x0C04, HOST_DS_SEL = 0x0C06,
    HOST_FS_SEL = 0x0C08, HOST_GS_SEL = 0x0C0A, HOST_TR_SEL = 0x0C0C,
    IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
    EXIT_MSR_STORE_ADDR = 0x2006, EXIT_MSR_LOAD_ADDR = 0x2008, ENTRY_MSR_LOAD_ADDR = 0x200A,
    TSC_OFFSET = 0x2010, EPT_POINTER = 0x201A,
    GUEST_PHYSICAL_ADDRESS = 0x2400,
    VMCS_LINK_POINTER = 0x2800, GUEST_DEBUGCTL = 0x2802,
    PIN_CONTROLS = 0x4000, PROC_CONTROLS = 0x4002, EXCEPTION_BITMAP = 0x4004,
    PF_ERROR_MASK = 0x4006, PF_ERROR_MATCH = 0x4008, CR3_TARGET_COUNT = 0x400A,
    EXIT_CONTROLS = 0x400C, EXIT_MSR_STORE_COUNT = 0x400E, EXIT_MSR_LOAD_COUNT = 0x4010,
    ENTRY_CONTROLS = 0x4012, ENTRY_MSR_LOAD_COUNT = 0x4014, ENTRY_INTR_INFO = 0x4016,
    ENTRY_EXCEPTION_ERROR = 0x4018, ENTRY_INSN_LEN = 0x401A, PROC2_CONTROLS = 0x401E,
    VM_INSTRUCTION_ERROR = 0x4400, EXIT_REASON = 0x4402, EXIT_INTR_INFO = 0x4404,
    EXIT_INTR_ERROR = 0x4406, IDT_VECTORING_INFO = 0x4408, EXIT_INSN_LEN = 0x440C,
    EXIT_INSN_INFO = 0x440E,
    GUEST_ES_LIMIT = 0x4800, GUEST_ES_AR = 0x4814, GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812,
    GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY = 0x4826, GUEST_SYSENTER_CS = 0x482A,
    HOST_SYSENTER_CS = 0x4C00,
    CR0_MASK = 0x6000, CR4_MASK = 0x6002, CR0_SHADOW = 0x6004, CR4_SHADOW = 0x6006,
    CR3_TARGET0 = 0x6008,
    EXIT_QUALIFICATION = 0x6400, GUEST_LINEAR_ADDRESS = 0x640A,
    GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804, GUEST_ES_BASE = 0x6806,
    GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681A, GUEST_RSP = 0x681C,
    GUEST_RIP = 0x681E, GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG = 0x6822,
    GUEST_SYSENTER_ESP = 0x6824, GUEST_SYSENTER_EIP = 0x6826,
    HOST_CR0 = 0x6C00, HOST_CR3 = 0x6C02, HOST_CR4 = 0x6C04, HOST_FS_BASE = 0x6C06, HOST_GS_BASE = 0x6C08,
    HOST_TR_BASE = 0x6C0A, HOST_GDTR_BASE = 0x6C0C, HOST_IDTR_BASE = 0x6C0E,
    HOST_SYSENTER_ESP = 0x6C10, HOST_SYSENTER_EIP = 0x6C12, HOST_RSP = 0x6C14, HOST_RIP = 0x6C16,
};

/* Control bits. */
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_RDTSC_EXITING (1u << 12)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_UNCOND_IO (1u << 24)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_SECONDARY (1u << 31)
#define PROC2_EPT (1u << 1)
#define PROC2_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define EXIT_HOST_64 (1u << 9)
#define ENTRY_GUEST_64 (1u << 9)

/* ---- instructions ---- */

#define VMX_STATUS(cf, zf) ((cf) ? VM_FAIL_INVALID : (zf) ? VM_FAIL_VALID : VM_SUCCEED)

static inline int vmxon(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmxoff(void)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxoff\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmclear(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmptrld(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmptrst(uint64_t *pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrst %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf), "=m"(*pa) : : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmread_status(uint64_t enc, uint64_t *value)
{
    uint8_t cf, zf;
    __asm__ volatile("vmread %3, %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf), "=r"(*value) : "r"(enc) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmwrite_status(uint64_t enc, uint64_t value)
{
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %3, %2\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "r"(enc), "rm"(value) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int invept(uint64_t type, uint64_t eptp)
{
    uint64_t desc[2] = {eptp, 0};
    uint8_t cf, zf;
    __asm__ volatile("invept %2, %3\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "m"(desc), "r"(type) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

static inline int invvpid(uint64_t type, uint64_t vpid, uint64_t addr)
{
    uint64_t desc[2] = {vpid, addr};
    uint8_t cf, zf;
    __asm__ volatile("invvpid %2, %3\n\tsetc %0\n\tsetz %1" : "=qm"(cf), "=qm"(zf) : "m"(desc), "r"(type) : "cc", "memory");
    return VMX_STATUS(cf, zf);
}

/* VMREAD/VMWRITE of fields the image knows exist: a failure is reported. */
static inline uint64_t vmread(uint64_t enc)
{
    uint64_t v = 0;
    int st = vmread_status(enc, &v);
    if (st != VM_SUCCEED)
        tap_check(false, "VMREAD 0x%llx (status %d)", (unsigned long long)enc, st);
    return v;
}

static inline void vmwrite(uint64_t enc, uint64_t value)
{
    int st = vmwrite_status(enc, value);
    if (st != VM_SUCCEED)
        tap_check(false, "VMWRITE 0x%llx = 0x%llx (status %d, error %llu)", (unsigned long long)enc,
                  (unsigned long long)value, st, (unsigned long long)(st == VM_FAIL_VALID ? vmread(VM_INSTRUCTION_ERROR) : 0));
}

/* ---- entering the guest ---- */

/* vmx_run(resume): VMLAUNCH (0) or VMRESUME (1). Returns VM_EXITED when
 * the guest ran until a VM exit (or a VM entry failed and continued at
 * HOST_RIP), VM_FAIL_INVALID / VM_FAIL_VALID when the instruction failed.
 * HOST_RSP/HOST_RIP are set here: the exit lands in vmx_host_entry with
 * the stack as vmx_run left it, which pops the callee-saved registers. */
int vmx_run(int resume);
__asm__(
    ".text\n"
    ".globl vmx_run\n"
    "vmx_run:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov $0x6C14, %eax\n  vmwrite %rsp, %rax\n"          /* HOST_RSP */
    "  lea vmx_host_entry(%rip), %rdx\n  mov $0x6C16, %eax\n  vmwrite %rdx, %rax\n" /* HOST_RIP */
    "  test %edi, %edi\n  jnz 1f\n"
    "  vmlaunch\n  jmp 2f\n"
    "1: vmresume\n"
    "2: setc %al\n  setz %dl\n  movzbl %al, %eax\n  movzbl %dl, %edx\n"
    "  test %eax, %eax\n  jnz 3f\n  lea (%rdx,%rdx), %eax\n" /* ZF: 2, CF: 1 */
    "3: pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
    "vmx_host_entry:\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  mov $3, %eax\n  ret\n");

/* ---- setup ---- */

static uint8_t vmx_vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmx_vmcs_region[4096] __attribute__((aligned(4096)));
static uint8_t vmx_guest_stack[4096] __attribute__((aligned(4096)));

static inline uint32_t vmx_revision(void) { return (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7FFFFFFFu; }

/* A control value the CPU accepts: the allowed-0 settings forced on, the
 * bits outside allowed-1 dropped ("VMX Capability Reporting Facility";
 * the TRUE_ MSRs when IA32_VMX_BASIC bit 55 is set). */
static inline uint32_t vmx_adjust(uint32_t msr, uint32_t true_msr, uint32_t want)
{
    uint64_t cap = rdmsr((rdmsr(MSR_VMX_BASIC) >> 55) & 1 ? true_msr : msr);
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static inline uint64_t tr_base(void)
{
    extern uint64_t rt_gdt[];
    uint64_t lo = rt_gdt[RT_GDT_TSS_INDEX], hi = rt_gdt[RT_GDT_TSS_INDEX + 1];
    return ((lo >> 16) & 0xFFFFFF) | (((lo >> 56) & 0xFF) << 24) | (hi << 32);
}

/* VMXON with the revision from IA32_VMX_BASIC, after enabling CR4.VMXE
 * and CR0.NE (a fixed-1 bit of CR0 in VMX operation). */
static inline int vmx_enable(void)
{
    write_cr0(read_cr0() | CR0_NE);
    write_cr4(read_cr4() | CR4_VMXE);
    *(uint32_t *)vmx_vmxon_region = vmx_revision();
    return vmxon((uintptr_t)vmx_vmxon_region);
}

/* Clears, loads and fills the VMCS: host state is the current CPU state
 * with HOST_RIP/RSP set by vmx_run; the guest is 64-bit, shares the
 * host's segments, paging and IDT, and starts at `guest_rip` on its own
 * stack. `proc` and `proc2` are the wanted processor-based controls. */
static inline void vmx_setup_vmcs(void (*guest_rip)(void), uint32_t proc, uint32_t proc2)
{
    *(uint32_t *)vmx_vmcs_region = vmx_revision();
    vmclear((uintptr_t)vmx_vmcs_region);
    vmptrld((uintptr_t)vmx_vmcs_region);

    if (proc2) proc |= PROC_SECONDARY;
    vmwrite(PIN_CONTROLS, vmx_adjust(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, 0));
    vmwrite(PROC_CONTROLS, vmx_adjust(MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED, proc));
    if (proc & PROC_SECONDARY) vmwrite(PROC2_CONTROLS, vmx_adjust(MSR_VMX_PROCBASED2, MSR_VMX_PROCBASED2, proc2));
    vmwrite(EXIT_CONTROLS, vmx_adjust(MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT, EXIT_HOST_64));
    vmwrite(ENTRY_CONTROLS, vmx_adjust(MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY, ENTRY_GUEST_64));
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_LINK_POINTER, ~0ull);

    struct dtr gdt, idt;
    __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(gdt), "=m"(idt));
    uint16_t cs, ss, ds, es, fs, gs, tr;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2\n\tmov %%es, %3\n\tmov %%fs, %4\n\tmov %%gs, %5\n\tstr %6"
                     : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs), "=r"(tr));

    vmwrite(HOST_CR0, read_cr0());
    vmwrite(HOST_CR3, read_cr3());
    vmwrite(HOST_CR4, read_cr4());
    vmwrite(HOST_CS_SEL, cs);
    vmwrite(HOST_SS_SEL, ss);
    vmwrite(HOST_DS_SEL, ds);
    vmwrite(HOST_ES_SEL, es);
    vmwrite(HOST_FS_SEL, fs);
    vmwrite(HOST_GS_SEL, gs);
    vmwrite(HOST_TR_SEL, tr);
    vmwrite(HOST_FS_BASE, 0);
    vmwrite(HOST_GS_BASE, 0);
    vmwrite(HOST_TR_BASE, tr_base());
    vmwrite(HOST_GDTR_BASE, gdt.base);
    vmwrite(HOST_IDTR_BASE, idt.base);
    vmwrite(HOST_SYSENTER_CS, 0);
    vmwrite(HOST_SYSENTER_ESP, 0);
    vmwrite(HOST_SYSENTER_EIP, 0);

    vmwrite(GUEST_CR0, read_cr0());
    vmwrite(GUEST_CR3, read_cr3());
    vmwrite(GUEST_CR4, read_cr4());
    vmwrite(GUEST_DR7, 0x400);
    const uint16_t sels[8] = {es, cs, ss, ds, fs, gs, 0, tr};
    for (unsigned i = 0; i < 8; i++) {
        uint32_t ar = i == 1 ? 0xA09B : 0xC093;   /* 64-bit code / flat data, accessed */
        uint64_t base = 0, limit = 0xFFFFFFFF;
        if (i == 6) ar = 0x10000;                 /* LDTR unusable */
        if (i == 7) ar = 0x8B, base = tr_base(), limit = 0x67;   /* busy 64-bit TSS */
        if (i != 6 && i != 7 && sels[i] == 0) ar = 0x10000;
        vmwrite(GUEST_ES_SEL + 2 * i, sels[i]);
        vmwrite(GUEST_ES_BASE + 2 * i, base);
        vmwrite(GUEST_ES_LIMIT + 2 * i, limit);
        vmwrite(GUEST_ES_AR + 2 * i, ar);
    }
    vmwrite(GUEST_GDTR_BASE, gdt.base);
    vmwrite(GUEST_GDTR_LIMIT, gdt.limit);
    vmwrite(GUEST_IDTR_BASE, idt.base);
    vmwrite(GUEST_IDTR_LIMIT, idt.limit);
    vmwrite(GUEST_RSP, (uintptr_t)(vmx_guest_stack + sizeof vmx_guest_stack));
    vmwrite(GUEST_RIP, (uintptr_t)guest_rip);
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    vmwrite(GUEST_ACTIVITY, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(GUEST_SYSENTER_CS, 0);
    vmwrite(GUEST_SYSENTER_ESP, 0);
    vmwrite(GUEST_SYSENTER_EIP, 0);
}

/* The basic exit reason of the last VM exit. */
static inline unsigned vmx_exit_reason(void) { return (unsigned)(vmread(EXIT_REASON) & 0xFFFF); }

/* Continues the guest after the instruction that exited. */
static inline int vmx_skip_and_resume(void)
{
    vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_INSN_LEN));
    return vmx_run(1);
}

#endif
