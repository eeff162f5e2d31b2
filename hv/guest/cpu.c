/* The guest's checks of CPUID, MSRs, port I/O, HLT, control registers and
 * hypercalls: what any guest of hv must observe, on every vendor and in both
 * memory modes. */
#include "hv/guest/guest.h"
#include "hv/hypercall.h"

#define MSR_APIC_BASE 0x1bu
#define MSR_PAT       0x277u
#define MSR_EFER      0xc0000080u
#define MSR_KGS_BASE  0xc0000102u
#define MSR_UNKNOWN   0x1337u          /* no processor implements it */

static void test_cpuid(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    check(r[2] & (1u << 31), "CPUID.1:ECX.hypervisor is set");
    check(!(r[2] & (1u << 5)), "CPUID.1:ECX.VMX is clear (no nested VMX)");
    cpuid(0x80000001u, 0, r);
    check(!(r[2] & (1u << 2)), "CPUID.80000001H:ECX.SVM is clear (no nested SVM)");
    cpuid(HV_CPUID_VENDOR, 0, r);
    char sig[13];
    for (int i = 0; i < 4; i++) {
        sig[i] = (char)(r[1] >> (8 * i));
        sig[4 + i] = (char)(r[2] >> (8 * i));
        sig[8 + i] = (char)(r[3] >> (8 * i));
    }
    sig[12] = 0;
    check(r[0] == HV_CPUID_MAX && sig[0] == 'H' && sig[5] == 'H' && sig[11] == 'v',
          "CPUID.40000000H: max leaf 0x%x, signature %s", r[0], sig);
    cpuid(HV_CPUID_FEATURES, 0, r);
    unsigned insns = r[0] & (HV_FEAT_VMCALL | HV_FEAT_VMMCALL);
    check(insns == HV_FEAT_VMCALL || insns == HV_FEAT_VMMCALL,
          "CPUID.40000001H names exactly one hypercall instruction");
}

static void test_msrs(void)
{
    wrmsr(MSR_KGS_BASE, 0x123456789000ull);
    check(rdmsr(MSR_KGS_BASE) == 0x123456789000ull, "IA32_KERNEL_GS_BASE (pass-through) reads back");
    uint64_t efer = rdmsr(MSR_EFER);
    check(efer == 0x500, "IA32_EFER reads 0x%lx (LME, LMA; SVME hidden)", efer);
    wrmsr(MSR_EFER, efer | (1u << 11));
    check(rdmsr(MSR_EFER) == 0xd00, "IA32_EFER.NXE can be set: 0x%lx", rdmsr(MSR_EFER));
    int v = PROBE("wrmsr", ::"c"(MSR_EFER), "a"(0x400), "d"(0) : "r11", "memory");
    check(v == 13, "clearing IA32_EFER.LME in long mode raises #GP: vector %d", v);
    check(rdmsr(MSR_APIC_BASE) == 0xfee00900ull, "IA32_APIC_BASE reads 0x%lx", rdmsr(MSR_APIC_BASE));
    check(rdmsr(MSR_PAT) == 0x0007040600070406ull, "IA32_PAT reads its power-on value");
    wrmsr(MSR_PAT, 0x0007040600070106ull);
    check(rdmsr(MSR_PAT) == 0x0007040600070106ull, "IA32_PAT write reads back");
    v = PROBE("wrmsr", ::"c"(MSR_PAT), "a"(0x02), "d"(0) : "r11", "memory");
    check(v == 13 && last_fault.error == 0, "IA32_PAT with reserved type 2 raises #GP(0): vector %d", v);
    v = PROBE("rdmsr", ::"c"(MSR_UNKNOWN) : "rax", "rdx", "r11", "memory");
    check(v == 13 && last_fault.error == 0, "RDMSR of an unknown MSR raises #GP(0): vector %d", v);
    v = PROBE("wrmsr", ::"c"(MSR_UNKNOWN), "a"(1), "d"(0) : "r11", "memory");
    check(v == 13, "WRMSR of an unknown MSR raises #GP(0): vector %d", v);
}

static void test_io_hlt(void)
{
    outb(0x3ff, 0x5a);
    check(inb(0x3ff) == 0x5a, "COM1 scratch register reads back 0x%x", inb(0x3ff));
    check((inb(0x3fd) & 0x60) == 0x60, "COM1 LSR: transmitter empty");
    __asm__ volatile("hlt");
    check(true, "HLT returns (no interrupt is pending, hv resumes the guest)");
}

static void test_hypercalls(void)
{
    static const char msg[] = "hello through the PRINT hypercall";
    check(hypercall(HC_PRINT, (uint64_t)msg, sizeof(msg) - 1) == 0, "PRINT hypercall succeeds");
    check(hypercall(HC_PRINT, 0x7fff0000000ull, 8) == HC_ERR_FAULT,
          "PRINT of unmapped memory returns HC_ERR_FAULT");
    check(hypercall(99, 0, 0) == HC_ERR_NOSYS, "unknown hypercall returns HC_ERR_NOSYS");
    uint64_t n = hypercall(HC_STATS, 0, 0);
    check(n == hypercalls_made, "STATS counts %lu hypercalls", n);
}

static void test_crs(void)
{
    uint64_t cr0 = READ_CR(0), cr4 = READ_CR(4);
    check(cr0 == 0x80010033, "CR0 reads 0x%lx (PG WP NE ET MP PE)", cr0);
    check(cr4 == 0x20, "CR4 reads 0x%lx (PAE; VMXE hidden)", cr4);
    WRITE_CR(4, cr4 | 0x80);
    check(READ_CR(4) == 0xa0, "CR4.PGE can be set: 0x%lx", READ_CR(4));
    WRITE_CR(4, cr4);
    int v = PROBE("mov %0, %%cr4", ::"r"(cr4 | (1u << 13)) : "r11", "memory");
    check(v == 13, "setting CR4.VMXE raises #GP: vector %d", v);
    v = PROBE("mov %0, %%cr0", ::"r"(cr0 | (1u << 29)) : "r11", "memory");
    check(v == 13, "CR0.NW without CR0.CD raises #GP: vector %d", v);
    WRITE_CR(0, cr0 | 8);
    check(READ_CR(0) == (cr0 | 8), "CR0.TS can be set");
    __asm__ volatile("clts");
    check(READ_CR(0) == cr0, "CLTS clears CR0.TS");
    v = PROBE("vmxon %0", ::"m"(cr0) : "r11", "memory");
    check(v == 6, "VMXON raises #UD: vector %d", v);
    v = PROBE("vmrun", ::"a"(0) : "r11", "memory");
    check(v == 6, "VMRUN raises #UD: vector %d", v);
}

void test_cpu(void)
{
    test_cpuid();
    test_msrs();
    test_io_hlt();
    test_hypercalls();
    test_crs();
}
