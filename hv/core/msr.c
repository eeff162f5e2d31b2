/* RDMSR / WRMSR exits: the emulated MSRs of msrs.def; #GP(0) for every MSR
 * hv does not know. Pass-through MSRs never exit (the backends clear their
 * bitmap bits); if one does anyway, it is read or written on the guest's
 * behalf. */
#include "hv/core/hv.h"

enum msr_policy { PASS, EMUL };

static const struct {
    const char *name;
    uint32_t index;
    enum msr_policy policy;
} msr_table[] = {
#define HV_MSR(name, index, policy) {#name, index, policy},
#include "hv/core/msrs.def"
#undef HV_MSR
};
#define MSR_COUNT (sizeof(msr_table) / sizeof(msr_table[0]))

#define MSR_APIC_BASE 0x1bu
#define MSR_PAT       0x277u
#define MSR_EFER      0xc0000080u
/* xAPIC at its power-on address, enabled, bootstrap processor (SDM Vol. 3A,
 * "Local APIC Status and Location"). hv gives the guest no APIC writes. */
#define APIC_BASE_VALUE 0xfee00900ull

bool hv_msr_passthrough(uint32_t msr)
{
    for (unsigned i = 0; i < MSR_COUNT; i++)
        if (msr_table[i].index == msr)
            return msr_table[i].policy == PASS;
    return false;
}

void hv_msr_for_each_passthrough(void (*fn)(uint32_t msr, void *ctx), void *ctx)
{
    for (unsigned i = 0; i < MSR_COUNT; i++)
        if (msr_table[i].policy == PASS)
            fn(msr_table[i].index, ctx);
}

/* SDM Vol. 3A, "IA32_PAT MSR": each entry must name a memory type (0, 1, 4,
 * 5, 6 or 7); a reserved encoding makes WRMSR raise #GP(0). */
static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        unsigned type = (pat >> (8 * i)) & 0xff;
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

enum hv_next hv_handle_rdmsr(struct hv_vcpu *v)
{
    uint32_t msr = (uint32_t)hv_gpr(v, 1);
    uint64_t value;
    if (msr == MSR_EFER)
        value = v->efer;
    else if (msr == MSR_APIC_BASE)
        value = APIC_BASE_VALUE;
    else if (msr == MSR_PAT)
        value = v->pat;
    else if (hv_msr_passthrough(msr))
        value = plat_rdmsr(msr);
    else {
        hv_inject_gp(v);
        return HV_STAY;
    }
    hv_set_gpr(v, 0, (uint32_t)value);
    hv_set_gpr(v, 2, value >> 32);
    return HV_ADVANCE;
}

/* IA32_EFER writes (SDM Vol. 3A, "IA32_EFER MSR"; APM Vol. 2, "Extended
 * Feature Enable Register"): the guest may change SCE and NXE; LME must stay
 * set (hv runs the guest in long mode only), LMA is read-only, SVME is hv's. */
static enum hv_next write_efer(struct hv_vcpu *v, uint64_t value)
{
    uint64_t changeable = EFER_SCE | EFER_NXE;
    uint64_t fixed = EFER_LME | EFER_LMA;
    if ((value & ~(changeable | fixed)) || !(value & EFER_LME)) {
        hv_inject_gp(v);
        return HV_STAY;
    }
    uint64_t next = (value & changeable) | fixed;
    bool nx_changed = (next ^ v->efer) & EFER_NXE;
    v->efer = next;
    v->be->set_cr(v, HV_REG_EFER);
    if (nx_changed && v->mode == HV_MEM_SHADOW)
        hv_shadow_flush(v);
    return HV_ADVANCE;
}

enum hv_next hv_handle_wrmsr(struct hv_vcpu *v)
{
    uint32_t msr = (uint32_t)hv_gpr(v, 1);
    uint64_t value = (hv_gpr(v, 2) << 32) | (uint32_t)hv_gpr(v, 0);
    if (msr == MSR_EFER)
        return write_efer(v, value);
    if (msr == MSR_PAT && pat_valid(value)) {
        v->pat = value;
        return HV_ADVANCE;
    }
    if (msr != MSR_PAT && msr != MSR_APIC_BASE && hv_msr_passthrough(msr)) {
        plat_wrmsr(msr, value);
        return HV_ADVANCE;
    }
    hv_inject_gp(v);
    return HV_STAY;
}
