/* insns: the system instructions a simulator must carry out itself
 * (CPUID, RDMSR/WRMSR, MOV CR, CLTS, LMSW, INVLPG, RDTSC, IN/OUT), with
 * their architectural checks, in ring 0 and ring 3.
 * SDM Vol. 2 (instruction pages: CPUID, RDMSR, WRMSR, "MOV—Move to/from
 * Control Registers", CLTS, LMSW, INVLPG, RDTSC, IN, OUT) and Vol. 3A,
 * "Control Registers", "Privileged Instructions". */
#include "rt/rt.h"

#define UNIMPLEMENTED_MSR 0x0000DEADu   /* in no architectural or model range */
#define CR0_TS (1ul << 3)
#define CR4_TSD (1ul << 2)
#define SCRATCH_PORT (COM1 + UART_SCR)

static void cpuid_checks(void)
{
    struct cpuid_regs r0 = cpuid(0, 0);
    /* The maximum leaf and vendor differ by CPU model: check, do not print. */
    tap_check(r0.eax >= 1, "CPUID leaf 0: maximum basic leaf >= 1");
    /* Features every x86-64 CPU model has (CPUID leaf 1 EDX): FPU, PSE, TSC,
     * MSR, PAE, CX8, PGE, CMOV. */
    uint32_t want1 = 1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 13 | 1u << 15;
    tap_eq(want1, cpuid(1, 0).edx & want1, "CPUID leaf 1 EDX: FPU PSE TSC MSR PAE CX8 PGE CMOV");
    tap_check(cpuid(0x80000000, 0).eax >= 0x80000001, "CPUID leaf 0x80000000: extended leaves present");
    uint32_t want_ext = 1u << 20 | 1u << 29; /* NX, LM */
    tap_eq(want_ext, cpuid(0x80000001, 0).edx & want_ext, "CPUID leaf 0x80000001 EDX: NX and LM");
}

static void msr_checks(void)
{
    uint64_t v = 0;
    tap_no_fault(probe_wrmsr(MSR_IA32_SYSENTER_CS, 0x1234), "WRMSR IA32_SYSENTER_CS");
    tap_no_fault(probe_rdmsr(MSR_IA32_SYSENTER_CS, &v), "RDMSR IA32_SYSENTER_CS");
    tap_eq(0x1234, v, "IA32_SYSENTER_CS round-trips");
    probe_wrmsr(MSR_IA32_KERNEL_GS_BASE, 0xffff800012345678ull);
    probe_rdmsr(MSR_IA32_KERNEL_GS_BASE, &v);
    tap_eq(0xffff800012345678ull, v, "IA32_KERNEL_GS_BASE round-trips");
    uint64_t efer = rdmsr(MSR_IA32_EFER);
    wrmsr(MSR_IA32_EFER, efer | EFER_NXE);
    tap_eq(EFER_NXE | EFER_LME, rdmsr(MSR_IA32_EFER) & (EFER_NXE | EFER_LME), "IA32_EFER.NXE set, LME kept");
    wrmsr(MSR_IA32_EFER, efer);

    /* SDM Vol. 2, RDMSR/WRMSR: "#GP(0) if the value in ECX specifies a
     * reserved or unimplemented MSR address". QEMU TCG ignores them. */
    int vec = probe_rdmsr(UNIMPLEMENTED_MSR, &v);
    tap_eq_or_departure(13, (uint64_t)vec, (uint64_t)-1, "qemu-tcg-unknown-msr-no-gp",
                        "RDMSR of an unimplemented MSR raises #GP");
    vec = probe_wrmsr(UNIMPLEMENTED_MSR, 1);
    tap_eq_or_departure(13, (uint64_t)vec, (uint64_t)-1, "qemu-tcg-unknown-msr-no-gp",
                        "WRMSR of an unimplemented MSR raises #GP");
}

/* The #GP checks of MOV to CR0/CR4 are in crchecks: QEMU fails them. */
static void cr_checks(void)
{
    unsigned long cr0 = read_cr0(), cr3 = read_cr3();

    tap_no_fault(probe_write_cr3(cr3), "MOV CR3 with its own value");
    tap_eq(cr3, read_cr3(), "CR3 round-trips"); /* the image's own page tables */
    write_cr0(cr0 ^ CR0_WP);
    tap_eq((cr0 ^ CR0_WP) & CR0_WP, read_cr0() & CR0_WP, "CR0.WP toggles and reads back");
    write_cr0(cr0);
    /* CR0.CD/NW differ by firmware: compare, do not print. */
    tap_check(read_cr0() == cr0, "CR0 round-trips");

    unsigned long cr8;
    __asm__ volatile("mov %1, %%cr8; mov %%cr8, %0" : "=r"(cr8) : "r"(5ul));
    tap_eq(5, cr8, "CR8 (TPR) round-trips");
    __asm__ volatile("mov %0, %%cr8" : : "r"(0ul));

    write_cr0(cr0 | CR0_TS);
    __asm__ volatile("clts");
    tap_eq(0, read_cr0() & CR0_TS, "CLTS clears CR0.TS");
    uint16_t msw = (uint16_t)(cr0 & ~CR0_PE & 0xffff);
    __asm__ volatile("lmsw %0" : : "r"(msw));
    tap_eq(CR0_PE, read_cr0() & CR0_PE, "LMSW cannot clear CR0.PE");
    uint16_t smsw;
    __asm__ volatile("smsw %0" : "=r"(smsw));
    tap_check((cr0 & 0xffff) == smsw, "SMSW returns CR0[15:0]");
}

static void misc_checks(void)
{
    static volatile uint8_t page[4096] __attribute__((aligned(4096)));
    page[0] = 1;
    invlpg(page);
    tap_eq(1, page[0], "INVLPG of a mapped page, then a read");
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("invlpg (%0)") : : "r"(0x8000000000000000ull) : "memory");
    tap_no_fault(rt_fault_vector(), "INVLPG of a non-canonical address is a no-op");

    uint64_t t0 = rdtsc();
    for (volatile int i = 0; i < 1000; i++)
        ;
    uint64_t t1 = rdtsc();
    tap_check(t1 > t0, "RDTSC increased over a 1000-iteration loop");

    outb(SCRATCH_PORT, 0xa5);
    tap_eq(0xa5, inb(SCRATCH_PORT), "OUT/IN: UART scratch register round-trips 0xa5");
    outb(SCRATCH_PORT, 0x5a);
    tap_eq(0x5a, inb(SCRATCH_PORT), "OUT/IN: UART scratch register round-trips 0x5a");
}

/* Ring 3: privileged instructions fault, unprivileged ones run. */
static struct { int rdmsr, mov_cr, in, hlt, rdtsc_tsd, rdtsc; uint32_t cpuid_max, after_in; } user;

static int user_rdtsc(void)
{
    uint32_t lo, hi;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("rdtsc") : "=a"(lo), "=d"(hi) : : "memory");
    return rt_fault_vector();
}

static void user_code(void)
{
    uint64_t v;
    user.rdmsr = probe_rdmsr(MSR_IA32_SYSENTER_CS, &v);
    user.mov_cr = probe_write_cr3(0);
    rt_fault_clear();
    /* The INC shares the faulting IN's translation block: it must run once,
     * after the #GP handler resumes, not also before the fault. */
    uint32_t after = 0;
    __asm__ volatile(RT_PROBE("inb %%dx, %%al") "incl %[n]\n"
                     : "=a"(v), [n] "+r"(after) : "d"(SCRATCH_PORT) : "memory");
    user.in = rt_fault_vector();
    user.after_in = after;
    rt_fault_clear();
    __asm__ volatile(RT_PROBE("hlt") ::: "memory");
    user.hlt = rt_fault_vector();
    user.rdtsc_tsd = user_rdtsc();
    user.cpuid_max = cpuid(0, 0).eax; /* a fault here would end the run */
}

static void user_code_no_tsd(void) { user.rdtsc = user_rdtsc(); }

static void user_mode_checks(void)
{
    write_cr4(read_cr4() | CR4_TSD);
    rt_user_call(user_code);
    write_cr4(read_cr4() & ~CR4_TSD);
    rt_user_call(user_code_no_tsd);
    tap_eq(13, (uint64_t)user.rdmsr, "RDMSR at CPL 3 raises #GP");
    tap_eq(13, (uint64_t)user.mov_cr, "MOV CR3 at CPL 3 raises #GP");
    tap_eq(13, (uint64_t)user.in, "IN at CPL 3 with IOPL 0 and no I/O bitmap raises #GP");
    tap_eq(1, user.after_in, "the instruction after a faulting IN runs once");
    tap_eq(13, (uint64_t)user.hlt, "HLT at CPL 3 raises #GP");
    tap_eq(13, (uint64_t)user.rdtsc_tsd, "RDTSC at CPL 3 with CR4.TSD=1 raises #GP");
    tap_no_fault(user.rdtsc, "RDTSC at CPL 3 with CR4.TSD=0");
    tap_check(cpuid(0, 0).eax == user.cpuid_max, "CPUID at CPL 3 gives the same maximum leaf");
}

/* Code written at run time must be carried out like any other: a
 * simulator that finds system instructions by decoding code must decode
 * it again when its bytes change, including a change to a prefix byte only
 * (hvsim compares a code page with its copy at every fetch fill and
 * decodes the page's blocks anew when any byte differs). */
static uint8_t code_page[4096] __attribute__((aligned(4096)));

static struct cpuid_regs call_code(unsigned offset)
{
    struct cpuid_regs r;
    asm volatile("call *%%rsi"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "S"(code_page + offset), "a"(0), "c"(0)
                 : "memory");
    return r;
}

static bool same_cpuid(struct cpuid_regs a, struct cpuid_regs b)
{
    return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

static void written_code_checks(void)
{
    struct cpuid_regs leaf0 = cpuid(0, 0);
    memset(code_page, 0x90, sizeof code_page);   /* NOPs */
    code_page[4095] = 0xc3;                      /* RET */
    call_code(2000);                             /* runs: nothing to intercept yet */
    static const uint8_t cpuid_ret[] = {0x90, 0x0f, 0xa2, 0xc3};   /* NOP; CPUID; RET */
    memcpy(code_page + 2047, cpuid_ret, sizeof cpuid_ret);
    tap_check(same_cpuid(leaf0, call_code(2047)), "CPUID written into executed code answers as the CPU model");
    code_page[2047] = 0x48;                      /* REX.W CPUID: only the prefix byte changed */
    tap_check(same_cpuid(leaf0, call_code(2047)), "CPUID whose prefix byte was written later answers as the CPU model");
    /* 0F 1F 00 (NOP r/m) becomes 0F A2 (CPUID): only the bytes after the
     * 0F change, in the next 64-byte block. */
    static const uint8_t nop_ret[] = {0x0f, 0x1f, 0x00, 0xc3};
    memcpy(code_page + 2111, nop_ret, sizeof nop_ret);
    call_code(2111);
    code_page[2112] = 0xa2;
    code_page[2113] = 0xc3;
    tap_check(same_cpuid(leaf0, call_code(2111)), "CPUID made by writing the byte after 0F answers as the CPU model");
}

void test_main(void)
{
    cpuid_checks();
    written_code_checks();
    msr_checks();
    cr_checks();
    misc_checks();
    user_mode_checks();
}
