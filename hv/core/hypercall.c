/* Hypercalls (ABI in hv/hypercall.h), HLT, and the core's exception
 * injection helpers. */
#include "hv/core/hv.h"
#include "hv/hypercall.h"

static const char *const hypercall_names[] = {
#define HC_NAME(name, nr, what) [nr] = #name,
    HV_HYPERCALLS(HC_NAME)
#undef HC_NAME
};

void hv_handle_hypercall(struct hv_vcpu *v)
{
    uint64_t nr = hv_gpr(v, 0), a0 = hv_gpr(v, 7), a1 = hv_gpr(v, 6);
    v->hypercalls++;
    switch (nr) {
    case HC_PRINT: {
        char buf[HC_PRINT_MAX];
        if (a1 > sizeof(buf) || !hv_read_gva(v, a0, buf, a1)) {
            hv_set_gpr(v, 0, HC_ERR_FAULT);
            return;
        }
        hv_guest_line(buf, a1);
        hv_set_gpr(v, 0, 0);
        return;
    }
    case HC_EXIT:
        v->done = true;
        v->exit_status = a0;
        hv_set_gpr(v, 0, 0);
        return;
    case HC_STATS:
        hv_print_stats(v);
        hv_set_gpr(v, 0, v->hypercalls);
        return;
    case HC_CMDLINE: {
        size_t n = 0;
        while (v->guest_cmdline[n])
            n++;
        if (a1 < n + 1 || !hv_write_gva(v, a0, v->guest_cmdline, n + 1)) {
            hv_set_gpr(v, 0, HC_ERR_FAULT);
            return;
        }
        hv_set_gpr(v, 0, n);
        return;
    }
    case HC_NOP:
        hv_set_gpr(v, 0, 0);
        return;
    }
    hv_set_gpr(v, 0, HC_ERR_NOSYS);
}

const char *hv_hypercall_name(uint64_t nr)
{
    if (nr < sizeof(hypercall_names) / sizeof(hypercall_names[0]) && hypercall_names[nr])
        return hypercall_names[nr];
    return "unknown";
}

/* HLT with nothing to wait for (hv gives its guest no interrupts): the
 * instruction completes and the guest continues; counted in the stats. */
void hv_handle_hlt(struct hv_vcpu *v)
{
    (void)v;
}

void hv_inject_gp(struct hv_vcpu *v)
{
    v->gp_injected++;
    v->be->inject(v, VEC_GP, true, 0);
}

/* SDM Vol. 3A, "Interrupt 14—Page-Fault Exception (#PF)": CR2 receives the
 * linear address; the backend sets the guest's CR2 before the next entry. */
void hv_inject_pf(struct hv_vcpu *v, uint64_t gva, uint32_t error)
{
    v->pf_injected++;
    v->pending_cr2 = gva;
    v->be->inject(v, VEC_PF, true, error);
}
