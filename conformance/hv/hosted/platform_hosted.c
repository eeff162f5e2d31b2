/* hv/platform.h implemented over the models: a modelled CPU (CPUID, MSRs,
 * control registers) with the VMX model's VMCS and VM-entry checks or the
 * SVM model's VMRUN checks, memory from one host buffer, the console
 * captured in a string, and plat_exit returning to the harness. */
#include "conformance/hv/hosted/hv_hosted.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/svm/features.h"
#include "models/svm/vmrun_checks.h"
#include "models/vmx/caps.h"
#include "models/vmx/entry_checks.h"
#include "models/vmx/vmcs.h"

#define MEM_SIZE (16u << 20)
#define HOST_RIP_VALUE 0xffffffff80001000ull   /* any canonical address */
#define HOST_RSP_VALUE 0xffffffff80002000ull

static struct {
    enum hvh_vendor vendor;
    uint8_t *mem;
    uint64_t next_free;
    char console[1 << 16];
    size_t console_len;
    jmp_buf stop;
    uint64_t cr[5], efer, msr_fs, msr_gs, hsave;
    const struct vmx_caps *caps;
    const struct svm_features *svm;
    bool vmxon;
    struct vmcs vmcs;
    uint64_t vmcs_pa, vmcb_pa;
    const struct hvh_exit *exit;
} m;

static struct hv_vcpu vcpu;

/* ---- console, exit ---- */
void plat_putc(char c)
{
    if (m.console_len + 1 < sizeof(m.console))
        m.console[m.console_len++] = c;
    m.console[m.console_len] = 0;
}

void plat_exit(unsigned status)
{
    longjmp(m.stop, (int)status + 1);
}

const char *plat_cmdline(void)
{
    return "";
}

/* ---- memory ---- */
void *plat_phys(uint64_t pa)
{
    return pa < MEM_SIZE ? m.mem + pa : NULL;
}

static uint64_t bump(uint64_t bytes, uint64_t align)
{
    uint64_t pa = (m.next_free + align - 1) & ~(align - 1);
    if (pa + bytes > MEM_SIZE)
        return 0;
    m.next_free = pa + bytes;
    memset(m.mem + pa, 0, bytes);
    return pa;
}

uint64_t plat_alloc_pages(unsigned n) { return bump((uint64_t)n * 4096, 4096); }
uint64_t plat_guest_ram(uint64_t bytes) { return bump(bytes, 2u << 20); }
uint64_t plat_time(void) { return 0; }   /* deterministic */

/* ---- the modelled processor ---- */
void plat_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    memset(out, 0, 4 * sizeof(uint32_t));
    bool vmx = m.vendor == HVH_VMX;
    switch (leaf) {
    case 0:
        out[0] = 0xd;
        return;
    case 1:
        out[2] = vmx ? 1u << 5 : 0;   /* ECX.VMX */
        return;
    case 0x80000000u:
        out[0] = 0x8000000au;
        return;
    case 0x80000001u:
        out[2] = vmx ? 0 : 1u << 2;   /* ECX.SVM */
        return;
    case 0x80000008u:                 /* EAX: MAXPHYADDR, linear-address width */
        out[0] = (vmx ? m.caps->maxphyaddr : m.svm->maxphyaddr) | 48u << 8;
        return;
    case 0x8000000au:
        if (!vmx)
            svm_cpuid_8000000a(m.svm, out);
        return;
    }
    /* Any other leaf: an answer that names its question (EBX = leaf, EDX =
     * subleaf), so that tests can tell answers apart. */
    out[1] = leaf;
    out[3] = subleaf;
}

static uint64_t vmx_cap_msr(uint32_t msr, bool *known)
{
    const struct vmx_caps *c = m.caps;
    *known = true;
    switch (msr) {
    case 0x480: return c->basic;
    case 0x481: return c->pinbased;
    case 0x482: return c->procbased;
    case 0x483: return c->exit;
    case 0x484: return c->entry;
    case 0x485: return c->misc;
    case 0x486: return c->cr0_fixed0;
    case 0x487: return c->cr0_fixed1;
    case 0x488: return c->cr4_fixed0;
    case 0x489: return c->cr4_fixed1;
    case 0x48b: return c->procbased2;
    case 0x48c: return c->ept_vpid_cap;
    case 0x48d: return c->true_pinbased;
    case 0x48e: return c->true_procbased;
    case 0x48f: return c->true_exit;
    case 0x490: return c->true_entry;
    case 0x3a:  return c->feature_control_reset;
    }
    *known = false;
    return 0;
}

bool plat_rdmsr_safe(uint32_t msr, uint64_t *value)
{
    bool known = false;
    if (m.vendor == HVH_VMX) {
        *value = vmx_cap_msr(msr, &known);
        if (known)
            return true;
    }
    switch (msr) {
    case 0xc0000080u: *value = m.efer; return true;
    case 0xc0000100u: *value = m.msr_fs; return true;
    case 0xc0000101u: *value = m.msr_gs; return true;
    case 0x174: case 0x175: case 0x176: *value = 0; return true;
    case 0xc0010114u: *value = 0; return m.vendor == HVH_SVM;   /* VM_CR */
    case 0xc0010117u: *value = m.hsave; return m.vendor == HVH_SVM;
    }
    *value = 0;
    return false;
}

uint64_t plat_rdmsr(uint32_t msr)
{
    uint64_t v;
    plat_rdmsr_safe(msr, &v);
    return v;
}

void plat_wrmsr(uint32_t msr, uint64_t value)
{
    switch (msr) {
    case 0xc0000080u: m.efer = value; return;
    case 0xc0000100u: m.msr_fs = value; return;
    case 0xc0000101u: m.msr_gs = value; return;
    case 0xc0010117u: m.hsave = value; return;
    }
}

uint64_t plat_read_cr(int n) { return n >= 0 && n <= 4 ? m.cr[n] : 0; }
void plat_write_cr(int n, uint64_t value)
{
    if (n >= 0 && n <= 4)
        m.cr[n] = value;
}

void plat_host_state(struct plat_host_state *hs)
{
    memset(hs, 0, sizeof(*hs));
    hs->cs = 0x08;
    hs->ss = hs->ds = hs->es = 0x10;
    hs->tr = 0x20;
    hs->tr_base = 0xffffffff80003000ull;
    hs->gdtr_base = 0xffffffff80004000ull;
    hs->idtr_base = 0xffffffff80005000ull;
}

/* ---- VMX: the model's VMCS and checks ---- */
int plat_vmxon(uint64_t pa)
{
    if (!(m.cr[4] & CR4_VMXE) || m.vmxon || !plat_phys(pa))
        return 1;
    m.vmxon = true;
    return 0;
}

int plat_vmclear(uint64_t pa)
{
    if (!m.vmxon || !plat_phys(pa))
        return 1;
    if (pa == m.vmcs_pa)
        m.vmcs_pa = 0;
    return 0;
}

int plat_vmptrld(uint64_t pa)
{
    if (!m.vmxon || !plat_phys(pa))
        return 1;
    memset(&m.vmcs, 0, sizeof(m.vmcs));
    m.vmcs.revision = *(uint32_t *)plat_phys(pa);
    m.vmcs_pa = pa;
    return 0;
}

int plat_vmread(uint64_t field, uint64_t *value)
{
    if (!m.vmcs_pa)
        return 1;
    return vmcs_vmread(&m.vmcs, m.caps, field, 64, value) ? 2 : 0;
}

int plat_vmwrite(uint64_t field, uint64_t value)
{
    if (!m.vmcs_pa)
        return 1;
    int err = vmcs_vmwrite(&m.vmcs, m.caps, field, 64, value);
    if (err)
        vmcs_set(&m.vmcs, VMCSI_VM_INSTRUCTION_ERROR, (uint64_t)err);
    return err ? 2 : 0;
}

int plat_invept(uint64_t type, uint64_t eptp) { (void)type; (void)eptp; return m.vmxon ? 0 : 1; }
int plat_invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
    (void)type; (void)vpid; (void)linear;
    return m.vmxon ? 0 : 1;
}

static bool read_phys(void *ctx, uint64_t pa, void *buf, size_t len)
{
    (void)ctx;
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return false;
    memcpy(buf, m.mem + pa, len);
    return true;
}

static void set(enum vmcs_field f, uint64_t v) { vmcs_set(&m.vmcs, f, v); }

/* VMLAUNCH/VMRESUME: launch state (SDM Vol. 3C, "VMLAUNCH/VMRESUME"), the
 * model's VM-entry checks, then the scripted exit as the processor would
 * record it ("Recording VM-Exit Information"). */
int plat_vmx_run(struct plat_gprs *g, bool launched)
{
    if (!m.vmcs_pa)
        return 1;
    if (launched != m.vmcs.launched) {
        set(VMCSI_VM_INSTRUCTION_ERROR, launched ? 5 : 4);
        return 2;
    }
    vmcs_set(&m.vmcs, VMCSI_HOST_RSP, HOST_RSP_VALUE);
    vmcs_set(&m.vmcs, VMCSI_HOST_RIP, HOST_RIP_VALUE);
    struct vmx_entry_env env = {m.caps, true, read_phys, NULL, NULL};
    struct vmx_entry_result r;
    if (!vmx_entry_check(&m.vmcs, &env, &r)) {
        if (r.vm_instruction_error) {
            set(VMCSI_VM_INSTRUCTION_ERROR, r.vm_instruction_error);
            return 2;
        }
        set(VMCSI_VM_EXIT_REASON, r.exit_reason);
        set(VMCSI_EXIT_QUALIFICATION, r.exit_qual);
        return 0;
    }
    m.vmcs.launched = true;
    const struct hvh_exit *e = m.exit;
    set(VMCSI_VM_EXIT_REASON, e->reason);
    set(VMCSI_EXIT_QUALIFICATION, e->qual);
    set(VMCSI_VM_EXIT_INSTRUCTION_LEN, e->insn_len);
    set(VMCSI_VM_EXIT_INTR_INFO, e->intr_info);
    set(VMCSI_VM_EXIT_INTR_ERROR_CODE, e->intr_error);
    set(VMCSI_IDT_VECTORING_INFO, e->idt_info);
    set(VMCSI_IDT_VECTORING_ERROR_CODE, e->idt_error);
    set(VMCSI_GUEST_RIP, e->rip);
    set(VMCSI_GUEST_RSP, e->rsp);
    set(VMCSI_GUEST_RFLAGS, e->rflags);
    /* "the valid bit ... is cleared on every VM exit" (VM-entry
     * interruption-information field). */
    set(VMCSI_VM_ENTRY_INTR_INFO, vmcs_get(&m.vmcs, VMCSI_VM_ENTRY_INTR_INFO) & ~(1ull << 31));
    memcpy(g->r, e->gpr, sizeof(g->r));
    return 0;
}

/* ---- SVM: the model's VMRUN checks ---- */
void plat_svm_run(uint64_t vmcb_pa, struct plat_gprs *g, bool vmload)
{
    (void)vmload;   /* the hosted exit carries no FS/GS/TR/LDTR/MSR state */
    struct svm_vmcb *c = plat_phys(vmcb_pa);
    m.vmcb_pa = vmcb_pa;
    struct svm_check_failure f;
    if (svm_vmrun_consistency(c, m.svm, &f) != SVM_CHECK_NONE)
        return;   /* EXITCODE is VMEXIT_INVALID */
    const struct hvh_exit *e = m.exit;
    c->control.exitcode = e->reason;
    c->control.exitinfo1 = e->qual;
    c->control.exitinfo2 = e->info2;
    c->control.exitintinfo = e->exitintinfo;
    c->control.nrip = e->nrip;
    c->control.eventinj &= ~(1ull << 31);
    c->save.rip = e->rip;
    c->save.rsp = e->rsp;
    c->save.rax = e->gpr[0];
    c->save.rflags = e->rflags;
    memcpy(g->r, e->gpr, sizeof(g->r));
}

/* ---- the harness ---- */
static struct hv_vcpu *boot(enum hvh_vendor vendor, const struct vmx_caps *caps,
                            const struct svm_features *svm, enum hv_mem_mode mode,
                            const void *code, size_t len)
{
    /* The memory is kept from one machine to the next (a fuzzer boots
     * thousands): every allocation zeroes what it hands out (bump), and
     * page 0, which is never allocated, is filled again for the harnesses
     * that check hv never writes there. */
    uint8_t *mem = m.mem ? m.mem : calloc(1, MEM_SIZE);
    memset(&m, 0, sizeof(m));
    memset(&vcpu, 0, sizeof(vcpu));
    m.vendor = vendor;
    m.mem = mem;
    if (!m.mem)
        return NULL;
    memset(m.mem, HVH_PAGE0_FILL, 0x1000);
    m.next_free = 0x1000;
    m.caps = caps;
    m.svm = svm;
    m.cr[0] = CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
    m.cr[3] = 0x1000;
    m.cr[4] = CR4_PAE;
    m.efer = EFER_LME | EFER_LMA | EFER_SCE;
    const struct hv_backend *be = vendor == HVH_VMX ? &hv_vmx_backend : &hv_svm_backend;
    if (!be->probe())
        return NULL;
    if (setjmp(m.stop))
        return NULL;
    return hv_vcpu_init(&vcpu, be, mode, code, len) ? &vcpu : NULL;
}

struct hv_vcpu *hvh_boot(enum hvh_vendor vendor, enum hv_mem_mode mode, const void *code,
                         size_t len)
{
    return boot(vendor, &vmx_caps_skylake_x, &svm_features_epyc_qemu, mode, code, len);
}

struct hv_vcpu *hvh_boot_cpu(const char *cpu, enum hv_mem_mode mode, const void *code,
                             size_t len)
{
    for (const struct vmx_caps *const *c = vmx_cpu_models; *c; c++)
        if (!strcmp((*c)->name, cpu))
            return boot(HVH_VMX, *c, &svm_features_epyc_qemu, mode, code, len);
    const struct svm_features *f = svm_features_by_name(cpu);
    return f ? boot(HVH_SVM, &vmx_caps_skylake_x, f, mode, code, len) : NULL;
}

int hvh_run(struct hv_vcpu *v, const struct hvh_exit *e)
{
    m.exit = e;
    int stopped = setjmp(m.stop);
    if (stopped)
        return stopped;
    v->be->run(v);
    return 0;
}

bool hvh_entry_ok(char *msg, size_t msg_len)
{
    msg[0] = 0;
    if (m.vendor == HVH_VMX) {
        struct vmx_entry_env env = {m.caps, true, read_phys, NULL, NULL};
        struct vmx_entry_result r;
        if (vmx_entry_check(&m.vmcs, &env, &r))
            return true;
        snprintf(msg, msg_len, "%s: %s", vmx_checks[r.id].name, r.msg);
        return false;
    }
    struct svm_check_failure f;
    if (!m.vmcb_pa) {
        snprintf(msg, msg_len, "no VMRUN yet");
        return false;
    }
    if (svm_vmrun_check_first(hvh_vmcb(), m.svm, &f) == SVM_CHECK_NONE)
        return true;
    snprintf(msg, msg_len, "%s: %s", svm_check_info(f.id)->id, f.message);
    return false;
}

const char *hvh_console(void) { return m.console; }

uint64_t hvh_vmcs(uint32_t encoding)
{
    int f = vmcs_field_by_encoding(encoding);
    return f < 0 ? ~0ull : vmcs_get(&m.vmcs, (enum vmcs_field)f);
}

void hvh_vmcs_write(uint32_t encoding, uint64_t value)
{
    int f = vmcs_field_by_encoding(encoding);
    if (f >= 0)
        vmcs_set(&m.vmcs, (enum vmcs_field)f, value);
}

uint64_t hvh_cr2(void) { return m.cr[2]; }

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t hvh_state_digest(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (m.vendor == HVH_VMX) {
        h = fnv(h, m.vmcs.val, sizeof(m.vmcs.val));
        h = fnv(h, &m.vmcs.launched, sizeof(m.vmcs.launched));
    } else if (m.vmcb_pa) {
        h = fnv(h, plat_phys(m.vmcb_pa), 4096);
    }
    h = fnv(h, m.cr, sizeof(m.cr));
    h = fnv(h, &m.efer, sizeof(m.efer));
    h = fnv(h, &m.msr_fs, sizeof(m.msr_fs));
    return fnv(h, &m.msr_gs, sizeof(m.msr_gs));
}
void *hvh_phys(uint64_t pa) { return plat_phys(pa); }
void *hvh_vmcb(void) { return m.vmcb_pa ? plat_phys(m.vmcb_pa) : NULL; }
