/* hv's exit handlers run as ordinary host code (the hosted build): each
 * test boots hv on a modelled CPU, hands it one exit, checks what the
 * handler did, and checks the VMCS/VMCB still passes every VM-entry
 * (SDM Vol. 3C, "VM Entries") or VMRUN (APM Vol. 2, "Canonicalization and
 * Consistency Checks") check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "conformance/hv/hosted/hv_hosted.h"
#include "hv/hypercall.h"

/* Guest code at guest-physical 1 MiB: cpuid; vmmcall; hlt. Only its bytes
 * matter (the SVM backend decodes instruction lengths without NRIP). */
static const unsigned char code[] = {0x0f, 0xa2, 0x0f, 0x01, 0xd9, 0xf4};
#define GUEST_RIP 0x100000ull

/* VMX exit reasons and VMCS encodings used here (SDM Vol. 3C, "VMX Basic
 * Exit Reasons", "Field Encoding in VMCS"). */
#define VMX_EXIT_EXCEPTION 0
#define VMX_EXIT_CPUID 10
#define VMX_EXIT_VMCALL 18
#define VMX_EXIT_CR_ACCESS 28
#define VMX_EXIT_WBINVD 54
#define ENC_ENTRY_INTR_INFO 0x4016
#define ENC_ENTRY_EXCEPTION_ERROR 0x4018
#define ENC_ENTRY_INSTRUCTION_LEN 0x401a
#define ENC_GUEST_RIP 0x681e
#define ENC_GUEST_CR0 0x6800
#define ENC_GUEST_CR3 0x6802
#define ENC_CR4_READ_SHADOW 0x6006
/* SVM exit codes (APM Vol. 2, "SVM Intercept Exit Codes"). */
#define SVM_EXIT_PF 0x4e
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVLPG 0x79
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_VMMCALL 0x81

static uint64_t vmcb64(unsigned off)
{
    uint64_t v;
    memcpy(&v, (const unsigned char *)hvh_vmcb() + off, 8);
    return v;
}
static void vmcb_put64(unsigned off, uint64_t v)
{
    memcpy((unsigned char *)hvh_vmcb() + off, &v, 8);
}
#define VMCB_EVENTINJ 0x0a8
#define VMCB_RIP 0x578
#define VMCB_CR0 0x558

static struct hvh_exit exit_at(uint64_t reason)
{
    struct hvh_exit e;
    memset(&e, 0, sizeof(e));
    e.reason = reason;
    e.rip = GUEST_RIP;
    e.rsp = 0x80000;
    e.rflags = 2;
    return e;
}

/* #PF, hardware exception with error code (SDM Vol. 3C, "VM-Exit
 * Interruption-Information Field"), for a read of the not-present page
 * at 2 MiB (error code 0). */
#define PF_INTR_INFO (14u | 3u << 8 | 1u << 11 | 1u << 31)
static struct hvh_exit pf_exit_at_2m(void)
{
    struct hvh_exit e = exit_at(VMX_EXIT_EXCEPTION);
    e.intr_info = PF_INTR_INFO;
    e.qual = 0x200000;
    return e;
}

static void assert_entry_ok(void)
{
    char msg[400];
    bool ok = hvh_entry_ok(msg, sizeof(msg));
    if (!ok)
        fail_msg("entry checks fail after the handler: %s", msg);
}

static void hv_vmx_cpuid_exit_hides_vmx_and_advances_rip(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(VMX_EXIT_CPUID);
    e.insn_len = 2;
    e.gpr[0] = 1;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(v->g.r[1] & (1u << 5), 0);           /* ECX.VMX hidden */
    assert_int_not_equal(v->g.r[1] & (1u << 31), 0);      /* hypervisor bit */
    assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP + 2);
    assert_entry_ok();
}

/* One CPUID exit for (leaf, subleaf): EAX, EBX, ECX, EDX as the guest got them. */
static void guest_cpuid(struct hv_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    struct hvh_exit e = exit_at(VMX_EXIT_CPUID);
    e.insn_len = 2;
    e.gpr[0] = leaf;
    e.gpr[1] = sub;
    assert_int_equal(hvh_run(v, &e), 0);
    out[0] = (uint32_t)v->g.r[0];
    out[1] = (uint32_t)v->g.r[3];
    out[2] = (uint32_t)v->g.r[1];
    out[3] = (uint32_t)v->g.r[2];
}

/* hv keeps each answer (hv/core/cpuid.c): answers whose (leaf, subleaf)
 * share a slot of its table must not be taken for one another. The hosted
 * platform answers leaves 2 and 12H with EBX = leaf, EDX = subleaf. */
static void hv_vmx_cpuid_answers_are_kept_per_leaf_and_subleaf(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    /* An empty slot holds no answer, not even for (0, 0): the hosted
     * processor's highest basic leaf is 0DH. */
    uint32_t got[4];
    guest_cpuid(v, 0, 0, got);
    assert_int_equal(got[0], 0xd);
    /* One slot: the leaf changes, then the subleaf, then both. */
    static const uint32_t questions[][2] = {{2, 0}, {0x12, 0}, {0x12, 16}};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++) {
            guest_cpuid(v, questions[i][0], questions[i][1], got);
            assert_int_equal(got[1], questions[i][0]);
            assert_int_equal(got[3], questions[i][1]);
        }
    }
    assert_entry_ok();
}

static void hv_vmx_cr4_vmxe_write_injects_gp(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(VMX_EXIT_CR_ACCESS);
    e.insn_len = 3;
    e.qual = 4 | (0u << 4) | (3u << 8);                   /* MOV to CR4 from RBX */
    e.gpr[3] = CR4_PAE | CR4_VMXE;
    assert_int_equal(hvh_run(v, &e), 0);
    /* #GP(0) injected: vector 13, hardware exception, error code, valid. */
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO), 13u | 3u << 8 | 1u << 11 | 1u << 31);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_EXCEPTION_ERROR), 0);
    assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP);  /* fault: RIP stays */
    assert_int_equal(hvh_vmcs(ENC_CR4_READ_SHADOW), CR4_PAE);
    assert_entry_ok();
}

static void hv_vmx_cr4_pge_write_updates_shadow_and_guest_cr4(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(VMX_EXIT_CR_ACCESS);
    e.insn_len = 3;
    e.qual = 4 | (3u << 8);
    e.gpr[3] = CR4_PAE | CR4_PGE;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(hvh_vmcs(ENC_CR4_READ_SHADOW), CR4_PAE | CR4_PGE);
    assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP + 3);
    assert_entry_ok();
}

/* Shadow mode: a #PF exit on a page the guest's boot tables map fills the
 * shadow and sets the accessed flag in the guest's PDE; one they do not
 * map is injected as #PF with CR2. */
static void hv_vmx_shadow_pf_fills_shadow_or_injects(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SHADOW, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = pf_exit_at_2m();                  /* read, not present */
    assert_int_equal(hvh_run(v, &e), 0);
    uint64_t *guest_pd = hvh_phys(v->ram_hpa + HV_GUEST_PD);
    assert_int_not_equal(guest_pd[1] & (1u << 5), 0);     /* accessed */
    assert_int_equal(v->shadow_fills, 1);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO) >> 31, 0);
    assert_entry_ok();

    e.qual = 0x40000000;                                  /* unmapped */
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO), PF_INTR_INFO);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_EXCEPTION_ERROR), 0);
    assert_int_equal(v->pending_cr2, 0x40000000);
    assert_entry_ok();
}

/* A #PF exit during the delivery of an external interrupt (IDT-vectoring
 * information valid): hv fills its shadow tables and delivers the
 * interrupt again at the next VM entry (SDM Vol. 3C, "Information for VM
 * Exits During Event Delivery"; "Reflecting Exceptions to Guest
 * Software"). */
static void hv_vmx_exit_during_delivery_delivers_the_event_again(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SHADOW, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = pf_exit_at_2m();
    e.idt_info = 0x20u | 1u << 31;                        /* external interrupt 20H */
    e.rflags = 0x202;                                     /* IF = 1: it was being delivered */
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(v->shadow_fills, 1);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO), 0x20u | 1u << 31);
    assert_entry_ok();
}

/* A #PF exit during the delivery of INT 80H (a software interrupt, type
 * 4): the event is delivered again with the VM-entry instruction length
 * the exit recorded, so that the pushed return address is after the INT
 * instruction (SDM Vol. 3C, "VM-Entry Controls for Event Injection";
 * "Information for VM Exits During Event Delivery"). Found by
 * fuzz_hv_exits; nehalem (no zero-length injection) then failed VM entry,
 * skylake-x entered with a return address at the INT itself. */
static void hv_vmx_softint_redelivered_with_instruction_length(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SHADOW, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = pf_exit_at_2m();
    e.idt_info = 0x80u | 4u << 8 | 1u << 31;             /* INT 80H */
    e.insn_len = 2;                                       /* CD 80 */
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO), 0x80u | 4u << 8 | 1u << 31);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INSTRUCTION_LEN), 2);
    assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP);
    assert_entry_ok();
    /* nehalem cannot inject with length 0 (IA32_VMX_MISC bit 30 clear):
     * without the length, the entry would fail its checks. */
    v = hvh_boot_cpu("nehalem", HV_MEM_SHADOW, code, sizeof(code));
    assert_non_null(v);
    e.idt_info = 0x80u | 4u << 8 | 1u << 31;
    e.insn_len = 3;                                       /* e.g. CD 80 with a prefix */
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(hvh_vmcs(ENC_ENTRY_INSTRUCTION_LEN), 3);
    assert_entry_ok();
}

/* MOV to CR3 with a bit at or above MAXPHYADDR (40 on the hosted
 * skylake-x) raises #GP(0) (SDM Vol. 2B, "MOV—Move to/from Control
 * Registers"), in SLAT mode as in shadow mode; a valid value is loaded.
 * Found by fuzz_hv_exits: in SLAT mode hv put the value into GUEST_CR3,
 * which then failed VM entry ("Checks on Guest Control Registers, Debug
 * Registers, and MSRs"). */
static void hv_vmx_cr3_write_beyond_maxphyaddr_injects_gp(void **state)
{
    (void)state;
    static const enum hv_mem_mode modes[] = {HV_MEM_SLAT, HV_MEM_SHADOW};
    for (int i = 0; i < 2; i++) {
        struct hv_vcpu *v = hvh_boot(HVH_VMX, modes[i], code, sizeof(code));
        assert_non_null(v);
        uint64_t cr3 = hvh_vmcs(ENC_GUEST_CR3);
        struct hvh_exit e = exit_at(VMX_EXIT_CR_ACCESS);
        e.insn_len = 3;
        e.qual = 3 | (3u << 8);                           /* MOV to CR3 from RBX */
        e.gpr[3] = 1ull << 40 | HV_GUEST_PML4;
        assert_int_equal(hvh_run(v, &e), 0);
        assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO), 13u | 3u << 8 | 1u << 11 | 1u << 31);
        assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP);
        assert_int_equal(hvh_vmcs(ENC_GUEST_CR3), cr3);
        assert_entry_ok();
        e.gpr[3] = (1ull << 40) - 0x1000;                 /* the highest valid page */
        assert_int_equal(hvh_run(v, &e), 0);
        assert_int_equal(hvh_vmcs(ENC_ENTRY_INTR_INFO) >> 31, 0);
        assert_int_equal(hvh_vmcs(ENC_GUEST_RIP), GUEST_RIP + 3);
        if (modes[i] == HV_MEM_SLAT)
            assert_int_equal(hvh_vmcs(ENC_GUEST_CR3), (1ull << 40) - 0x1000);
        else
            assert_int_equal(v->cr3, (1ull << 40) - 0x1000);
        assert_entry_ok();
    }
}

/* A #PF exit in SLAT mode, where hv does not intercept #PF (no processor
 * delivers it): hv stops and says so, on both vendors. Found by
 * fuzz_hv_exits: hv filled "shadow tables" rooted at host-physical page 0,
 * following whatever page 0 held. */
static void hv_slat_pf_exit_stops(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = pf_exit_at_2m();
    assert_int_equal(hvh_run(v, &e), 1 + 3);
    assert_non_null(strstr(hvh_console(), "hv: STOP: #PF exit at 0x200000 (error code 0x0) in SLAT mode"));
    v = hvh_boot(HVH_SVM, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    e = exit_at(SVM_EXIT_PF);
    e.qual = 2;                                           /* error code: write */
    e.info2 = 0x200000;
    assert_int_equal(hvh_run(v, &e), 1 + 3);
    assert_non_null(strstr(hvh_console(), "hv: STOP: #PF exit at 0x200000 (error code 0x2) in SLAT mode"));
    unsigned char *page0 = hvh_phys(0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(page0[i], HVH_PAGE0_FILL);
}

/* INVLPG through FS (address unknown to hv's decoder) exiting in SLAT mode
 * on a processor without decode assists: it completes and leaves memory
 * alone; hv has no shadow tables to drop. Found by fuzz_hv_exits: hv
 * "flushed" shadow tables and wrote a new root into host-physical page 0. */
static void hv_svm_invlpg_fs_in_slat_mode_touches_no_shadow(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_SVM, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    memcpy(hvh_phys(v->ram_hpa + GUEST_RIP), "\x64\x0f\x01\x38", 4);   /* invlpg fs:[rax] */
    struct hvh_exit e = exit_at(SVM_EXIT_INVLPG);
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(vmcb64(VMCB_RIP), GUEST_RIP + 4);
    assert_entry_ok();
    unsigned char *page0 = hvh_phys(0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(page0[i], HVH_PAGE0_FILL);
}

/* Does hv's shadow (4-level, 4 KiB leaves) map gva? */
static bool shadow_maps(struct hv_vcpu *v, uint64_t gva)
{
    uint64_t table = v->shadow_root;
    for (int level = 4; level >= 1; level--) {
        const uint64_t *t = hvh_phys(table);
        uint64_t e = t[(gva >> (12 + 9 * (level - 1))) & 511];
        if (!(e & 1))
            return false;
        table = e & 0x000ffffffffff000ull;
    }
    return true;
}

/* INVLPG [EAX] (67H: 32-bit addressing) decoded by hv (SVM without decode
 * assists) invalidates the page at the 32-bit effective address, not at
 * RAX (SDM Vol. 1, "Operand Size and Address Size in 64-Bit Mode").
 * Suspected from hv's decoder, confirmed by fuzz_hv_exits' INVLPG property:
 * hv dropped 100200000H's shadow entry and left 200000H's, a stale
 * translation. */
static void hv_svm_shadow_invlpg_addr32_drops_the_truncated_page(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_SVM, HV_MEM_SHADOW, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(0x4e);                    /* #PF: read, not present */
    e.info2 = 0x200000;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_true(shadow_maps(v, 0x200000));
    memcpy(hvh_phys(v->ram_hpa + GUEST_RIP), "\x67\x0f\x01\x38", 4);   /* invlpg [eax] */
    e = exit_at(SVM_EXIT_INVLPG);
    e.gpr[0] = 0x100200000ull;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_false(shadow_maps(v, 0x200000));
    assert_int_equal(vmcb64(VMCB_RIP), GUEST_RIP + 4);
    assert_entry_ok();
}

static void hv_vmx_unexpected_exit_stops_with_exit_information(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(VMX_EXIT_WBINVD);
    int r = hvh_run(v, &e);
    assert_int_equal(r, 1 + 3);
    assert_non_null(strstr(hvh_console(), "unexpected VM exit 54 (WBINVD)"));
    assert_non_null(strstr(hvh_console(), "hv: vmx: exit reason 54"));
    /* The register dump: names left-justified in a 3-character field. */
    assert_non_null(strstr(hvh_console(), "hv:   r8  0x"));
    assert_non_null(strstr(hvh_console(), " rax 0x"));
    assert_non_null(strstr(hvh_console(), "FAIL"));
}

/* hv's exit path stops on a failed VM entry (exit reason bit 31) and on a
 * reason beyond its table, each with its own message. */
static void hv_vmx_failed_entry_and_unknown_reason_stop(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(33u | 1u << 31);     /* invalid guest state */
    assert_int_equal(hvh_run(v, &e), 1 + 3);
    assert_non_null(strstr(hvh_console(), "VM entry failed: exit reason 33"));
    v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    e = exit_at(70);
    assert_int_equal(hvh_run(v, &e), 1 + 3);
    assert_non_null(strstr(hvh_console(), "unexpected VM exit 70"));
}

/* The entry checks are live: a VMCS the handler left broken is reported. */
static void hv_vmx_entry_check_detects_broken_guest_cr0(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_VMX, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(VMX_EXIT_VMCALL);
    e.insn_len = 3;
    e.gpr[0] = HC_STATS;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_entry_ok();
    hvh_vmcs_write(ENC_GUEST_CR0, hvh_vmcs(ENC_GUEST_CR0) & ~CR0_PE);   /* PG without PE */
    char msg[400];
    assert_false(hvh_entry_ok(msg, sizeof(msg)));
}

static void hv_svm_cpuid_exit_hides_svm_and_decodes_length(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_SVM, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(SVM_EXIT_CPUID);
    e.gpr[0] = 0x80000001u;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_int_equal(v->g.r[1] & (1u << 2), 0);           /* ECX.SVM hidden */
    assert_int_equal(vmcb64(VMCB_RIP), GUEST_RIP + 2);    /* no NRIP: decoded */
    assert_entry_ok();
}

static void hv_svm_unknown_msr_injects_gp(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_SVM, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(SVM_EXIT_MSR);
    e.qual = 0;                                           /* RDMSR */
    e.gpr[1] = 0x1337;
    assert_int_equal(hvh_run(v, &e), 0);
    /* EVENTINJ: vector 13, type 3 (exception), EV, V, error code 0. */
    assert_int_equal(vmcb64(VMCB_EVENTINJ), 13u | 3u << 8 | 1u << 11 | 1ull << 31);
    assert_int_equal(vmcb64(VMCB_RIP), GUEST_RIP);
    assert_entry_ok();
}

static void hv_svm_exit_hypercall_ends_the_run(void **state)
{
    (void)state;
    struct hv_vcpu *v = hvh_boot(HVH_SVM, HV_MEM_SLAT, code, sizeof(code));
    assert_non_null(v);
    struct hvh_exit e = exit_at(SVM_EXIT_VMMCALL);
    e.rip = GUEST_RIP + 2;
    e.gpr[0] = HC_EXIT;
    e.gpr[7] = 7;
    assert_int_equal(hvh_run(v, &e), 0);
    assert_true(v->done);
    assert_int_equal(v->exit_status, 7);
    assert_int_equal(vmcb64(VMCB_RIP), GUEST_RIP + 5);
    assert_entry_ok();
    /* Negative: CR0.NW without CR0.CD fails VMRUN's checks. */
    vmcb_put64(VMCB_CR0, vmcb64(VMCB_CR0) | CR0_NW);
    char msg[400];
    assert_false(hvh_entry_ok(msg, sizeof(msg)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hv_vmx_cpuid_exit_hides_vmx_and_advances_rip),
        cmocka_unit_test(hv_vmx_cpuid_answers_are_kept_per_leaf_and_subleaf),
        cmocka_unit_test(hv_vmx_cr4_vmxe_write_injects_gp),
        cmocka_unit_test(hv_vmx_cr4_pge_write_updates_shadow_and_guest_cr4),
        cmocka_unit_test(hv_vmx_shadow_pf_fills_shadow_or_injects),
        cmocka_unit_test(hv_vmx_exit_during_delivery_delivers_the_event_again),
        cmocka_unit_test(hv_vmx_softint_redelivered_with_instruction_length),
        cmocka_unit_test(hv_vmx_cr3_write_beyond_maxphyaddr_injects_gp),
        cmocka_unit_test(hv_slat_pf_exit_stops),
        cmocka_unit_test(hv_svm_invlpg_fs_in_slat_mode_touches_no_shadow),
        cmocka_unit_test(hv_svm_shadow_invlpg_addr32_drops_the_truncated_page),
        cmocka_unit_test(hv_vmx_unexpected_exit_stops_with_exit_information),
        cmocka_unit_test(hv_vmx_failed_entry_and_unknown_reason_stop),
        cmocka_unit_test(hv_vmx_entry_check_detects_broken_guest_cr0),
        cmocka_unit_test(hv_svm_cpuid_exit_hides_svm_and_decodes_length),
        cmocka_unit_test(hv_svm_unknown_msr_injects_gp),
        cmocka_unit_test(hv_svm_exit_hypercall_ends_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
