/* The SVM extension of the machine (sim/virt.h) over models/svm: the AMD
 * models' SVM MSRs (VM_CR, VM_HSAVE_PA, TSC_RATIO), EFER.SVME, CPUID
 * Fn8000_000A, and the operations table. The SVM instructions and the world
 * switches are in sim/svm_world.c, the intercepts in sim/svm_intercepts.c. */
#include <stdlib.h>
#include <string.h>

#include "models/svm/features.h"
#include "models/svm/svm_msrs.h"
#include "sim/irq.h"
#include "sim/svm_ext.h"

static enum virt_msr_result from_svm(enum svm_msr_result r)
{
  switch (r) {
  case SVM_MSR_OK: return VIRT_MSR_OK;
  case SVM_MSR_GP: return VIRT_MSR_GP;
  case SVM_MSR_NOT_SVM: return VIRT_MSR_NOT_MINE;
  }
  return VIRT_MSR_GP;
}

static enum virt_msr_result svm_ext_rdmsr(struct machine *m, uint32_t index, uint64_t *value)
{
  if (index == MSR_EFER) return VIRT_MSR_NOT_MINE;
  struct svm_ext *x = svm_ext_of(m);
  return from_svm(svm_rdmsr(x->features, &x->vcpu.msrs, index, value));
}

/* EFER keeps its long-mode rules in the machine (sim/msr.c); the SVM model
 * adds "Enabling SVM": SVME cannot be set while VM_CR.SVMDIS is 1. */
static enum virt_msr_result svm_ext_wrmsr(struct machine *m, uint32_t index, uint64_t value)
{
  struct svm_ext *x = svm_ext_of(m);
  if (index == MSR_EFER)
    return svm_efer_write_check(x->features, &x->vcpu.msrs, value) == SVM_MSR_GP ? VIRT_MSR_GP : VIRT_MSR_NOT_MINE;
  return from_svm(svm_wrmsr(x->features, &x->vcpu.msrs, m->cpu.efer, index, value));
}

/* CPUID Fn8000_000A from the SVM model (APM Vol. 3, "CPUID Fn8000_000A"). */
static void svm_ext_cpuid(struct machine *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
  (void)subleaf;
  if (leaf != 0x8000000a) return;
  svm_cpuid_8000000a(svm_ext_of(m)->features, out);
}

static void svm_ext_report(struct machine *m, FILE *out)
{
  struct svm_ext *x = svm_ext_of(m);
  fprintf(out, "svm: %llu VMRUN (%llu failed consistency checks)\n", (unsigned long long)x->vmruns,
          (unsigned long long)x->invalid_vmruns);
  for (unsigned i = 0; i < SVM_EXIT_COUNT; i++)
    if (x->exits[i])
      fprintf(out, "svm: #VMEXIT %-16s %llu\n", svm_exit_infos[i].name, (unsigned long long)x->exits[i]);
}

static void svm_ext_destroy(struct machine *m)
{
  free(m->virt_state);
  m->virt_state = NULL;
}

static const struct virt_ops svm_ops = {
  .name = "svm",
  .execute = svm_ext_execute,
  .insn_exits = svm_ext_insn_exits,
  .io_exits = svm_ext_io_exits,
  .exit_for_insn = svm_ext_exit_for_insn,
  .event_exits = svm_ext_event_exits,
  .shutdown = svm_ext_shutdown,
  .ferr_freeze = svm_ext_ferr_freeze,
  .interrupts_held = svm_ext_interrupts_held,
  .breakpoints_discarded = svm_ext_breakpoints_discarded,
  .interrupt_would_exit = svm_ext_interrupt_would_exit,
  .interrupt_exits = svm_ext_interrupt_exits,
  .window_wanted = svm_ext_window_wanted,
  .window_open = svm_ext_window_open,
  .slat_fault = svm_ext_slat_fault,
  .paging_context = svm_ext_paging_context,
  .rdmsr = svm_ext_rdmsr,
  .wrmsr = svm_ext_wrmsr,
  .cpuid = svm_ext_cpuid,
  .hook_classes = svm_ext_hook_classes,
  .iret = svm_ext_iret,
  .deadline = svm_ext_deadline,
  .report = svm_ext_report,
  .destroy = svm_ext_destroy,
};

static const struct irq_nmi_ops svm_nmi_ops = {
  .held = svm_ext_nmi_held,
  .exits = svm_ext_nmi_exits,
  .signal_held = svm_ext_signal_held,
  .signal_exits = svm_ext_signal_exits,
};

/* Physical memory as the SVM model sees it: the machine's RAM; anything
 * beyond it is unbacked. */
static bool ram_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
  struct machine *m = ctx;
  if (pa > m->ram_size || len > m->ram_size - pa) return false;
  memcpy(buf, m->ram + pa, len);
  return true;
}

static bool ram_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
  struct machine *m = ctx;
  if (pa > m->ram_size || len > m->ram_size - pa) return false;
  memcpy(m->ram + pa, buf, len);
  return true;
}

/* INVLPGA drops the ASID's translation in the model's tagged TLB; Unicorn's
 * untagged TLB is flushed when the run loop resumes. */
static void ram_invlpga(void *ctx, uint64_t va, uint32_t asid)
{
  struct machine *m = ctx;
  mmu_invlpga(&m->mmu, va, (uint16_t)asid);
  m->tlb_flush = true;
}

bool svm_ext_attach(struct machine *m, const char *model, char *err, size_t err_size)
{
  const struct svm_features *f = svm_features_by_name(model);
  if (!f) { snprintf(err, err_size, "CPU model %s: no SVM feature model \"%s\"", m->opt.cpu->name, model); return false; }
  struct svm_ext *x = calloc(1, sizeof *x);
  if (!x) { snprintf(err, err_size, "out of memory"); return false; }
  x->features = f;
  svm_vcpu_reset(&x->vcpu, &m->cpu, f);
  x->mem = (struct svm_machine){m, ram_read, ram_write, ram_invlpga};
  m->virt = &svm_ops;
  m->virt_state = x;
  irq_set_nmi_ops(m, &svm_nmi_ops);
  return true;
}
