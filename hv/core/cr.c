/* Control-register exits: MOV to/from CR0, CR3, CR4 and CLTS, with the
 * architectural checks of MOV to CR (SDM Vol. 2B, "MOV—Move to/from Control
 * Registers"; SDM Vol. 3A, "Control Registers"; APM Vol. 2, "Control
 * Registers"). hv runs its guest in long mode with paging only, so leaving
 * it (clearing CR0.PG / CR0.PE / CR4.PAE) raises #GP(0) as the SDM requires
 * for CR4.PAE and is otherwise reported as unsupported. */
#include "hv/core/hv.h"

/* Bits the guest may change in CR0 and CR4; the others keep hv's values. */
#define CR0_GUEST_CHANGEABLE (CR0_MP | CR0_EM | CR0_TS | CR0_WP | CR0_AM | CR0_NW | CR0_CD)
#define CR4_GUEST_CHANGEABLE (CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | \
                              CR4_OSXMMEXCPT)

static enum hv_next write_cr0(struct hv_vcpu *v, uint64_t val)
{
    /* MOV to CR0: #GP(0) for bits 63:32 set, or NW=1 with CD=0. */
    if ((val >> 32) || ((val & CR0_NW) && !(val & CR0_CD))) {
        hv_inject_gp(v);
        return HV_STAY;
    }
    uint64_t fixed_mask = ~CR0_GUEST_CHANGEABLE & 0xffffffffull & ~(1ull << 4); /* ET reads 1 */
    if ((val & fixed_mask) != (v->cr0 & fixed_mask)) {
        if (!(val & CR0_PG) || !(val & CR0_PE))
            hv_stop(v, "guest leaves long mode (MOV CR0 0x%lx): not supported by hv", val);
        hv_inject_gp(v);   /* reserved CR0 bits set */
        return HV_STAY;
    }
    uint64_t next = (val & CR0_GUEST_CHANGEABLE) | (v->cr0 & ~CR0_GUEST_CHANGEABLE);
    bool wp_changed = (next ^ v->cr0) & CR0_WP;
    v->cr0 = next;
    v->be->set_cr(v, 0);
    if (wp_changed && v->mode == HV_MEM_SHADOW)
        hv_shadow_flush(v);
    return HV_ADVANCE;
}

static enum hv_next write_cr4(struct hv_vcpu *v, uint64_t val)
{
    /* MOV to CR4: #GP(0) for reserved or unsupported bits (here: what CPUID
     * does not advertise to the guest, VMXE among them) and for clearing
     * PAE in IA-32e mode. */
    if ((val & ~(CR4_GUEST_CHANGEABLE | CR4_PAE)) || !(val & CR4_PAE)) {
        hv_inject_gp(v);
        return HV_STAY;
    }
    /* SDM Vol. 3A, "Invalidation of TLBs and Paging-Structure Caches":
     * changing CR4.PGE (or PSE/PAE) invalidates all TLB entries. */
    bool flush = (val ^ v->cr4) & (CR4_PGE | CR4_PSE);
    v->cr4 = val;
    v->be->set_cr(v, 4);
    if (flush && v->mode == HV_MEM_SHADOW)
        hv_shadow_flush(v);
    return HV_ADVANCE;
}

/* MOV to CR3 (shadow mode; with SLAT the guest loads CR3 itself, unless
 * the processor forces CR3-load exiting): bits at or above MAXPHYADDR are
 * reserved and raise #GP(0), in both modes; bit 63 (PCID no-flush) too,
 * as hv does not offer CR4.PCIDE (SDM Vol. 2B, "MOV—Move to/from Control
 * Registers"). With SLAT the value goes to the VMCS/VMCB, whose checks
 * reject such bits ("Checks on Guest Control Registers, Debug Registers,
 * and MSRs"). Shadow mode: the new tables take effect through fresh
 * shadow tables. */
static enum hv_next write_cr3(struct hv_vcpu *v, uint64_t val)
{
    if (val >> v->maxphyaddr) {
        hv_inject_gp(v);
        return HV_STAY;
    }
    if (v->mode != HV_MEM_SHADOW) {
        v->cr3 = val;
        v->be->set_cr(v, 3);
        return HV_ADVANCE;
    }
    v->cr3 = val;
    hv_shadow_flush(v);
    return HV_ADVANCE;
}

enum hv_next hv_write_cr(struct hv_vcpu *v, int cr, uint64_t val)
{
    switch (cr) {
    case 0: return write_cr0(v, val);
    case 3: return write_cr3(v, val);
    case 4: return write_cr4(v, val);
    }
    hv_stop(v, "unexpected MOV to CR%d", cr);
}

enum hv_next hv_handle_mov_to_cr(struct hv_vcpu *v, int cr, int gpr)
{
    return hv_write_cr(v, cr, hv_gpr(v, gpr));
}

/* LMSW loads CR0 bits 3:0 but cannot clear PE (SDM Vol. 2A, "LMSW—Load
 * Machine Status Word"). */
enum hv_next hv_handle_lmsw(struct hv_vcpu *v, uint16_t msw)
{
    return hv_write_cr(v, 0, (v->cr0 & ~0xeull) | (msw & 0xf) | (v->cr0 & CR0_PE));
}

void hv_handle_mov_from_cr(struct hv_vcpu *v, int cr, int gpr)
{
    switch (cr) {
    case 0: hv_set_gpr(v, gpr, v->cr0); return;
    case 3: hv_set_gpr(v, gpr, hv_current_cr3(v)); return;
    case 4: hv_set_gpr(v, gpr, v->cr4); return;
    }
    hv_stop(v, "unexpected MOV from CR%d", cr);
}

void hv_handle_clts(struct hv_vcpu *v)
{
    v->cr0 &= ~CR0_TS;
    v->be->set_cr(v, 0);
}
