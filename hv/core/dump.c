/* What hv prints about its guest: the state dump of a clean stop, and the
 * statistics of the STATS hypercall and of the end of a run. */
#include "hv/core/hv.h"

static const char *const gpr_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

const char *hv_gpr_name(int n)
{
    return gpr_names[n & 15];
}

void hv_dump_guest(struct hv_vcpu *v)
{
    v->be->sync_guest(v);
    hv_printf("hv: guest rip 0x%lx rflags 0x%lx mode %s\n", v->rip, v->rflags,
              v->mode == HV_MEM_SHADOW ? "shadow" : "slat");
    for (int i = 0; i < 16; i += 4)
        hv_printf("hv:   %-3s 0x%016lx %-3s 0x%016lx %-3s 0x%016lx %-3s 0x%016lx\n",
                  gpr_names[i], v->g.r[i], gpr_names[i + 1], v->g.r[i + 1],
                  gpr_names[i + 2], v->g.r[i + 2], gpr_names[i + 3], v->g.r[i + 3]);
    hv_printf("hv:   cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx (as the guest sees them)\n",
              v->cr0, v->mode == HV_MEM_SHADOW ? v->cr3 : v->be->guest_cr3(v), v->cr4, v->efer);
}

void hv_print_stats(struct hv_vcpu *v)
{
    hv_printf("hv: stats: exits %lu hypercalls %lu #PF-injected %lu #GP-injected %lu "
              "shadow-fills %lu shadow-flushes %lu\n",
              v->exits, v->hypercalls, v->pf_injected, v->gp_injected, v->shadow_fills,
              v->shadow_flushes);
}
