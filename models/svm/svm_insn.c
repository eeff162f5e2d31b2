/* The SVM instructions and #VMEXIT (see svm_insn.h). Host state goes to
 * the VM_HSAVE_PA page in the VMCB state-save layout — the APM leaves the
 * HSAVE format to the implementation; QEMU uses the same layout. */
#include "models/svm/svm_insn.h"

#include <stddef.h>
#include <string.h>

#include "models/svm/svm_catalog.h"
#include "models/svm/svm_exits.h"

void svm_vcpu_reset(struct svm_vcpu *v, struct cpu_state *cpu, const struct svm_features *f)
{
  memset(v, 0, sizeof *v);
  v->cpu = cpu;
  v->features = f;
  v->gif = true;  /* GIF is 1 after reset (APM "Global Interrupt Flag") */
  svm_msrs_reset(&v->msrs);
}

static struct svm_result done(void) { return (struct svm_result){.outcome = SVM_DONE}; }
static struct svm_result fault(uint8_t vec) { return (struct svm_result){.outcome = SVM_FAULT, .vector = vec}; }
static struct svm_result mem_error(void) { return (struct svm_result){.outcome = SVM_MEMORY_ERROR}; }

/* Segment conversion: VMCB attrib (12 bits) <-> cpu_state's access rights
 * (VMCS layout: bits 15:12 of the AR are attrib 11:8). */
static void seg_to_vmcb(const struct segment *s, struct svm_vmcb_seg *o)
{
  o->selector = s->selector;
  o->attrib = (uint16_t)((s->ar & 0xFFu) | ((s->ar >> 4) & 0xF00u));
  o->limit = s->limit;
  o->base = s->base;
}

/* VMRUN and VMLOAD canonicalize (sign-extend) the bases they load. */
static uint64_t canonical(const struct svm_features *f, uint64_t a)
{
  unsigned shift = 64 - f->maxlinaddr;
  return (uint64_t)((int64_t)(a << shift) >> shift);
}

static void seg_from_vmcb(const struct svm_features *f, const struct svm_vmcb_seg *i, struct segment *s)
{
  s->selector = i->selector;
  s->ar = (i->attrib & 0xFFu) | ((uint32_t)(i->attrib & 0xF00u) << 4);
  s->limit = i->limit;
  s->base = canonical(f, i->base);
}

/* #UD when SVM is off or outside protected mode (real and virtual-8086
 * mode), #GP(0) when CPL != 0 (AMD APM Vol. 3, VMRUN, VMLOAD, VMSAVE,
 * STGI, CLGI, INVLPGA "Exceptions"). */
static bool privileged_faults(const struct svm_vcpu *v, struct svm_result *r)
{
  const struct cpu_state *c = v->cpu;
  if (!(c->efer & EFER_SVME) || !(c->cr0 & CR0_PE) || (c->rflags & RFLAGS_VM)) {
    *r = fault(SVM_VEC_UD);
    return true;
  }
  if (cpu_cpl(c) != 0) {
    *r = fault(SVM_VEC_GP);
    return true;
  }
  return false;
}

/* In guest mode an instruction whose intercept is set exits after the
 * simple exceptions and before operand checks (AMD APM Vol. 2,
 * "Instruction Intercepts"). */
static bool intercepted(struct svm_vcpu *v, const struct svm_machine *m, enum svm_intercept i,
                        uint64_t next_rip, struct svm_result *r)
{
  if (!v->in_guest) return false;
  uint32_t w;
  memcpy(&w, (const uint8_t *)&v->ctl + 4 * svm_intercepts[i].word, sizeof w);
  if (!((w >> svm_intercepts[i].bit) & 1u)) return false;
  *r = svm_vmexit(v, m, (uint64_t)svm_intercepts[i].exitcode, 0, 0, next_rip);
  return true;
}

/* rAX as the physical address of a VMCB: EAX outside 64-bit mode; 4 KiB
 * aligned and below 2^MAXPHYADDR, else #GP(0). */
static bool rax_vmcb_pa(const struct svm_vcpu *v, uint64_t *pa, struct svm_result *r)
{
  uint64_t rax = v->cpu->gpr[GPR_RAX];
  if (!cpu_in_64bit_mode(v->cpu)) rax &= 0xFFFFFFFFu;
  if ((rax & 0xFFFu) || (rax & svm_pa_mbz_mask(v->features))) {
    *r = fault(SVM_VEC_GP);
    return false;
  }
  *pa = rax;
  return true;
}

static bool write_field(const struct svm_machine *m, uint64_t pa, const struct svm_vmcb *img, enum svm_vmcb_field_id id)
{
  const struct svm_vmcb_field *f = &svm_vmcb_fields[id];
  return m->write(m->ctx, pa + f->offset, (const uint8_t *)img + f->offset, f->size);
}

/* The host state VMRUN saves (AMD APM Vol. 2, "VMRUN Instruction"). */
static const enum svm_vmcb_field_id host_fields[] = {
  SVM_FIELD_ES_SELECTOR, SVM_FIELD_ES_ATTRIB, SVM_FIELD_ES_LIMIT, SVM_FIELD_ES_BASE,
  SVM_FIELD_CS_SELECTOR, SVM_FIELD_CS_ATTRIB, SVM_FIELD_CS_LIMIT, SVM_FIELD_CS_BASE,
  SVM_FIELD_SS_SELECTOR, SVM_FIELD_SS_ATTRIB, SVM_FIELD_SS_LIMIT, SVM_FIELD_SS_BASE,
  SVM_FIELD_DS_SELECTOR, SVM_FIELD_DS_ATTRIB, SVM_FIELD_DS_LIMIT, SVM_FIELD_DS_BASE,
  SVM_FIELD_GDTR_LIMIT, SVM_FIELD_GDTR_BASE, SVM_FIELD_IDTR_LIMIT, SVM_FIELD_IDTR_BASE,
  SVM_FIELD_EFER, SVM_FIELD_CR0, SVM_FIELD_CR3, SVM_FIELD_CR4,
  SVM_FIELD_RFLAGS, SVM_FIELD_RIP, SVM_FIELD_RSP, SVM_FIELD_RAX,
};

/* The state VMLOAD and VMSAVE move, and nothing else (AMD APM Vol. 3,
 * "VMLOAD", "VMSAVE"): FS, GS, TR, LDTR with hidden state, KernelGsBase,
 * STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP. */
/* In offset order: read_span takes the first and the last, and
 * write_fields joins neighbours. */
static const enum svm_vmcb_field_id vmload_fields[] = {
  SVM_FIELD_FS_SELECTOR, SVM_FIELD_FS_ATTRIB, SVM_FIELD_FS_LIMIT, SVM_FIELD_FS_BASE,
  SVM_FIELD_GS_SELECTOR, SVM_FIELD_GS_ATTRIB, SVM_FIELD_GS_LIMIT, SVM_FIELD_GS_BASE,
  SVM_FIELD_LDTR_SELECTOR, SVM_FIELD_LDTR_ATTRIB, SVM_FIELD_LDTR_LIMIT, SVM_FIELD_LDTR_BASE,
  SVM_FIELD_TR_SELECTOR, SVM_FIELD_TR_ATTRIB, SVM_FIELD_TR_LIMIT, SVM_FIELD_TR_BASE,
  SVM_FIELD_STAR, SVM_FIELD_LSTAR, SVM_FIELD_CSTAR, SVM_FIELD_SFMASK, SVM_FIELD_KERNEL_GS_BASE,
  SVM_FIELD_SYSENTER_CS, SVM_FIELD_SYSENTER_ESP, SVM_FIELD_SYSENTER_EIP,
};

/* Reads the bytes from the first to the last field of `ids` (one copy
 * instead of one per field, and not the whole VMCB). The lists above start
 * with their lowest offset and end with their highest. */
static bool read_span(const struct svm_machine *m, uint64_t pa, struct svm_vmcb *img,
                      const enum svm_vmcb_field_id *ids, size_t n)
{
  const struct svm_vmcb_field *first = &svm_vmcb_fields[ids[0]], *last = &svm_vmcb_fields[ids[n - 1]];
  uint32_t lo = first->offset, hi = last->offset + last->size;
  return m->read(m->ctx, pa + lo, (uint8_t *)img + lo, hi - lo);
}

/* Writes fields `ids` (in offset order), adjacent ones in one write. */
static bool write_fields(const struct svm_machine *m, uint64_t pa, const struct svm_vmcb *img,
                         const enum svm_vmcb_field_id *ids, size_t n)
{
  for (size_t i = 0; i < n;) {
    uint32_t lo = svm_vmcb_fields[ids[i]].offset, hi = lo + svm_vmcb_fields[ids[i]].size;
    for (i++; i < n && svm_vmcb_fields[ids[i]].offset == hi; i++) hi += svm_vmcb_fields[ids[i]].size;
    if (!m->write(m->ctx, pa + lo, (const uint8_t *)img + lo, hi - lo)) return false;
  }
  return true;
}

static bool write_span(const struct svm_machine *m, uint64_t pa, const struct svm_vmcb *img,
                       const enum svm_vmcb_field_id *ids, size_t n)
{
  const struct svm_vmcb_field *first = &svm_vmcb_fields[ids[0]], *last = &svm_vmcb_fields[ids[n - 1]];
  uint32_t lo = first->offset, hi = last->offset + last->size;
  return m->write(m->ctx, pa + lo, (const uint8_t *)img + lo, hi - lo);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What #VMEXIT writes to the VMCB (AMD APM Vol. 2, "#VMEXIT") lies in two
 * spans: the control area's exit fields, from the interrupt shadow to the
 * fetched instruction bytes, and the state-save area from ES to G_PAT.
 * Only they are read and written back: the rest of the VMCB is left as it
 * is in memory. */
#define EXIT_CONTROL_LO 0x068u
#define EXIT_CONTROL_HI ((uint32_t)(offsetof(struct svm_vmcb, control.insn_bytes) + sizeof(((struct svm_vmcb *)0)->control.insn_bytes)))
#define EXIT_SAVE_LO 0x400u
#define EXIT_SAVE_HI 0x670u
_Static_assert(EXIT_CONTROL_LO == offsetof(struct svm_vmcb, control.interrupt_shadow), "exit span starts at the interrupt shadow");
_Static_assert(EXIT_SAVE_LO == offsetof(struct svm_vmcb, save.es), "exit span starts at ES");
_Static_assert(EXIT_SAVE_HI == offsetof(struct svm_vmcb, save.g_pat) + 8, "exit span ends after G_PAT");

static bool exit_spans_move(const struct svm_machine *m, uint64_t pa, struct svm_vmcb *img, bool write)
{
  static const uint32_t spans[][2] = {{EXIT_CONTROL_LO, EXIT_CONTROL_HI}, {EXIT_SAVE_LO, EXIT_SAVE_HI}};
  for (unsigned i = 0; i < COUNT(spans); i++) {
    uint8_t *p = (uint8_t *)img + spans[i][0];
    uint32_t len = spans[i][1] - spans[i][0];
    if (!(write ? m->write(m->ctx, pa + spans[i][0], p, len) : m->read(m->ctx, pa + spans[i][0], p, len)))
      return false;
  }
  return true;
}

/* Host or guest registers into a VMCB image (the VMRUN/#VMEXIT set). */
static void state_to_vmcb(const struct cpu_state *c, struct svm_vmcb *img)
{
  seg_to_vmcb(&c->seg[SEG_ES], &img->save.es);
  seg_to_vmcb(&c->seg[SEG_CS], &img->save.cs);
  seg_to_vmcb(&c->seg[SEG_SS], &img->save.ss);
  seg_to_vmcb(&c->seg[SEG_DS], &img->save.ds);
  img->save.gdtr.base = c->gdtr.base;
  img->save.gdtr.limit = c->gdtr.limit;
  img->save.idtr.base = c->idtr.base;
  img->save.idtr.limit = c->idtr.limit;
  img->save.efer = c->efer;
  img->save.cr0 = c->cr0;
  img->save.cr2 = c->cr2;
  img->save.cr3 = c->cr3;
  img->save.cr4 = c->cr4;
  img->save.dr6 = c->dr[6];
  img->save.dr7 = c->dr[7];
  img->save.rflags = c->rflags;
  img->save.rip = c->rip;
  img->save.rsp = c->gpr[GPR_RSP];
  img->save.rax = c->gpr[GPR_RAX];
  img->save.cpl = (uint8_t)cpu_cpl(c);
}

static void load_common(const struct svm_features *f, struct cpu_state *c, const struct svm_vmcb *img)
{
  seg_from_vmcb(f, &img->save.es, &c->seg[SEG_ES]);
  seg_from_vmcb(f, &img->save.cs, &c->seg[SEG_CS]);
  seg_from_vmcb(f, &img->save.ss, &c->seg[SEG_SS]);
  seg_from_vmcb(f, &img->save.ds, &c->seg[SEG_DS]);
  c->gdtr.base = canonical(f, img->save.gdtr.base);
  c->gdtr.limit = img->save.gdtr.limit;
  c->idtr.base = canonical(f, img->save.idtr.base);
  c->idtr.limit = img->save.idtr.limit;
  c->rflags = img->save.rflags | RFLAGS_FIXED1;
  c->rip = img->save.rip;
  c->gpr[GPR_RSP] = img->save.rsp;
  c->gpr[GPR_RAX] = img->save.rax;
}

struct svm_result svm_vmrun(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  uint64_t pa;
  if (privileged_faults(v, &r)) return r;
  if (intercepted(v, m, SVM_INTERCEPT_VMRUN, next_rip, &r)) return r;
  if (!rax_vmcb_pa(v, &pa, &r)) return r;

  struct svm_vmcb img, host;
  if (!m->read(m->ctx, pa, &img, SVM_VMCB_USED_BYTES)) return mem_error();

  /* Save the host, resuming after VMRUN. */
  struct cpu_state *c = v->cpu;
  memset(&host, 0, SVM_VMCB_USED_BYTES);
  state_to_vmcb(c, &host);
  host.save.rip = next_rip;
  /* The host save area's format is the implementation's: one span. */
  if (!write_span(m, v->msrs.vm_hsave_pa, &host, host_fields, COUNT(host_fields))) return mem_error();

  enum svm_check_id check = svm_vmrun_check_first(&img, v->features, NULL);
  if (check != SVM_CHECK_NONE) {
    /* #VMEXIT(VMEXIT_INVALID): the host never left; it resumes after VMRUN
     * with GIF = 0, as after every #VMEXIT. */
    img.control.exitcode = (uint64_t)(int64_t)SVM_EXIT_INVALID;
    if (!write_field(m, pa, &img, SVM_FIELD_EXITCODE)) return mem_error();
    c->rip = next_rip;
    v->gif = false;
    return (struct svm_result){.outcome = SVM_VMEXITED, .exitcode = img.control.exitcode, .check = check};
  }

  /* Load the guest (AMD APM Vol. 2, "VMRUN Instruction"). */
  v->ctl = img.control;
  v->vmcb_pa = pa;
  load_common(v->features, c, &img);
  c->efer = img.save.efer & ~EFER_LMA;
  if ((img.save.efer & EFER_LME) && (img.save.cr0 & CR0_PG)) c->efer |= EFER_LMA;
  c->cr0 = img.save.cr0;
  c->cr2 = img.save.cr2;
  c->cr3 = img.save.cr3;
  c->cr4 = img.save.cr4;
  c->dr[6] = img.save.dr6;
  c->dr[7] = img.save.dr7;
  v->host_pat = c->pat;
  if (svm_has(v->features, SVM_FEAT_NP) && (img.control.np_control & SVM_NP_ENABLE)) c->pat = img.save.g_pat;
  /* CPL comes from the VMCB: 0 in real mode, 3 in virtual-8086 mode; the
   * model keeps it in SS.DPL and CS.DPL. */
  unsigned cpl = !(c->cr0 & CR0_PE) ? 0 : (c->rflags & RFLAGS_VM) ? 3 : img.save.cpl & 3u;
  c->seg[SEG_CS].ar = (c->seg[SEG_CS].ar & ~0x60u) | (cpl << 5);
  c->seg[SEG_SS].ar = (c->seg[SEG_SS].ar & ~0x60u) | (cpl << 5);
  c->sti_blocking = img.control.interrupt_shadow & 1u;
  v->in_guest = true;
  v->gif = true;
  return done();
}

struct svm_result svm_vmexit(struct svm_vcpu *v, const struct svm_machine *m, uint64_t exitcode,
                             uint64_t exitinfo1, uint64_t exitinfo2, uint64_t next_rip)
{
  const struct svm_exit e = {.code = exitcode, .info1 = exitinfo1, .info2 = exitinfo2,
                             .nrip = next_rip, .has_nrip = true};
  return svm_vmexit_ex(v, m, &e);
}

struct svm_result svm_vmexit_ex(struct svm_vcpu *v, const struct svm_machine *m, const struct svm_exit *e)
{
  if (!v->in_guest) return (struct svm_result){.outcome = SVM_NOT_IN_GUEST};
  struct svm_vmcb img, host;
  struct cpu_state *c = v->cpu;
  if (!exit_spans_move(m, v->vmcb_pa, &img, false)) return mem_error();
  if (!read_span(m, v->msrs.vm_hsave_pa, &host, host_fields, COUNT(host_fields))) return mem_error();

  /* Guest state and exit information to the VMCB (AMD APM Vol. 2,
   * "#VMEXIT"); NRIP as "Next RIP" says: the next instruction for the
   * exits that save it, zero for the others. */
  bool nested_paging = svm_has(v->features, SVM_FEAT_NP) && (v->ctl.np_control & SVM_NP_ENABLE);
  state_to_vmcb(c, &img);
  if (nested_paging) img.save.g_pat = c->pat;
  img.control.interrupt_shadow = (c->sti_blocking || c->movss_blocking) ? 1u : 0u;
  img.control.exitcode = e->code;
  img.control.exitinfo1 = e->info1;
  img.control.exitinfo2 = e->info2;
  img.control.exitintinfo = e->intinfo;
  img.control.eventinj &= ~SVM_EVENT_V;
  if (svm_has(v->features, SVM_FEAT_NRIP_SAVE)) img.control.nrip = e->has_nrip ? e->nrip : 0;
  /* "Decode Assists": the number of bytes fetched is written on every
   * #VMEXIT ("all other intercepts clear bits 7:0"), the bytes themselves
   * only when there are some. */
  if (svm_has(v->features, SVM_FEAT_DECODE_ASSISTS)) {
    unsigned n = e->insn_len <= sizeof img.control.insn_bytes ? e->insn_len : sizeof img.control.insn_bytes;
    img.control.insn_len = (uint8_t)n;
    memcpy(img.control.insn_bytes, e->insn_bytes, n);
  }
  if (!exit_spans_move(m, v->vmcb_pa, &img, true)) return mem_error();

  /* Host state back; CR0.PE forced, DR7 reset, CPL 0, GIF cleared. */
  load_common(v->features, c, &host);
  c->efer = host.save.efer;
  c->cr0 = host.save.cr0 | CR0_PE;
  c->cr3 = host.save.cr3;
  c->cr4 = host.save.cr4;
  c->dr[7] = 0x400;
  if (nested_paging) c->pat = v->host_pat;
  c->seg[SEG_CS].ar &= ~0x60u;
  c->seg[SEG_SS].ar &= ~0x60u;
  c->sti_blocking = c->movss_blocking = false;
  v->in_guest = false;
  v->gif = false;
  return (struct svm_result){.outcome = SVM_VMEXITED, .exitcode = e->code};
}

struct svm_result svm_vmload(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  uint64_t pa;
  if (privileged_faults(v, &r)) return r;
  if (intercepted(v, m, SVM_INTERCEPT_VMLOAD, next_rip, &r)) return r;
  if (!rax_vmcb_pa(v, &pa, &r)) return r;
  struct svm_vmcb img;
  if (!read_span(m, pa, &img, vmload_fields, COUNT(vmload_fields))) return mem_error();
  struct cpu_state *c = v->cpu;
  seg_from_vmcb(v->features, &img.save.fs, &c->seg[SEG_FS]);
  seg_from_vmcb(v->features, &img.save.gs, &c->seg[SEG_GS]);
  seg_from_vmcb(v->features, &img.save.tr, &c->seg[SEG_TR]);
  seg_from_vmcb(v->features, &img.save.ldtr, &c->seg[SEG_LDTR]);
  c->kernel_gs_base = img.save.kernel_gs_base;
  c->star = img.save.star;
  c->lstar = img.save.lstar;
  c->cstar = img.save.cstar;
  c->sfmask = img.save.sfmask;
  c->sysenter_cs = img.save.sysenter_cs;
  c->sysenter_esp = img.save.sysenter_esp;
  c->sysenter_eip = img.save.sysenter_eip;
  c->rip = next_rip;
  return done();
}

struct svm_result svm_vmsave(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  uint64_t pa;
  if (privileged_faults(v, &r)) return r;
  if (intercepted(v, m, SVM_INTERCEPT_VMSAVE, next_rip, &r)) return r;
  if (!rax_vmcb_pa(v, &pa, &r)) return r;
  struct svm_vmcb img;   /* only the fields below are set, and written */
  const struct cpu_state *c = v->cpu;
  seg_to_vmcb(&c->seg[SEG_FS], &img.save.fs);
  seg_to_vmcb(&c->seg[SEG_GS], &img.save.gs);
  seg_to_vmcb(&c->seg[SEG_TR], &img.save.tr);
  seg_to_vmcb(&c->seg[SEG_LDTR], &img.save.ldtr);
  img.save.kernel_gs_base = c->kernel_gs_base;
  img.save.star = c->star;
  img.save.lstar = c->lstar;
  img.save.cstar = c->cstar;
  img.save.sfmask = c->sfmask;
  img.save.sysenter_cs = c->sysenter_cs;
  img.save.sysenter_esp = c->sysenter_esp;
  img.save.sysenter_eip = c->sysenter_eip;
  if (!write_fields(m, pa, &img, vmload_fields, COUNT(vmload_fields))) return mem_error();
  v->cpu->rip = next_rip;
  return done();
}

static struct svm_result set_gif(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip,
                                 enum svm_intercept which, bool value)
{
  struct svm_result r;
  if (privileged_faults(v, &r)) return r;
  if (intercepted(v, m, which, next_rip, &r)) return r;
  v->gif = value;
  v->cpu->rip = next_rip;
  return done();
}

struct svm_result svm_stgi(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  return set_gif(v, m, next_rip, SVM_INTERCEPT_STGI, true);
}

struct svm_result svm_clgi(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  return set_gif(v, m, next_rip, SVM_INTERCEPT_CLGI, false);
}

/* VMMCALL exits when intercepted and is #UD otherwise, at any CPL (AMD APM
 * Vol. 3, "VMMCALL"). */
struct svm_result svm_vmmcall(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  if (intercepted(v, m, SVM_INTERCEPT_VMMCALL, next_rip, &r)) return r;
  return fault(SVM_VEC_UD);
}

/* INVLPGA: invalidate the translation of rAX (virtual address) for the ASID
 * in ECX (AMD APM Vol. 3, "INVLPGA"). Intercepted, it reports the address
 * in EXITINFO1 on CPUs with decode assists (AMD APM Vol. 2, "Decode
 * Assists", as for INVLPG). */
struct svm_result svm_invlpga(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  if (privileged_faults(v, &r)) return r;
  uint64_t va = v->cpu->gpr[GPR_RAX];
  if (!cpu_in_64bit_mode(v->cpu)) va &= 0xFFFFFFFFu;
  if (v->in_guest && svm_ctl_intercepts(&v->ctl, SVM_INTERCEPT_INVLPGA)) {
    uint64_t info1 = svm_has(v->features, SVM_FEAT_DECODE_ASSISTS) ? va : 0;
    return svm_vmexit(v, m, (uint64_t)SVM_EXIT_INVLPGA, info1, 0, next_rip);
  }
  m->invlpga(m->ctx, va, (uint32_t)v->cpu->gpr[GPR_RCX]);
  v->cpu->rip = next_rip;
  return done();
}

/* SKINIT (secure init and jump) is not modelled: neither CPU model offers
 * it, so it is #UD — except that a guest's SKINIT with the SKINIT intercept
 * set exits to the hypervisor, which is what the hypervisor relies on. */
struct svm_result svm_skinit(struct svm_vcpu *v, const struct svm_machine *m, uint64_t next_rip)
{
  struct svm_result r;
  if (intercepted(v, m, SVM_INTERCEPT_SKINIT, next_rip, &r)) return r;
  return fault(SVM_VEC_UD);
}

bool svm_event_allowed_by_gif(const struct svm_vcpu *v, enum svm_event e)
{
  if (v->gif) return true;
  switch (e) {
  case SVM_EV_INTR: return false;
  case SVM_EV_NMI: return false;
  case SVM_EV_SMI: return false;
  case SVM_EV_INIT: return false;
  case SVM_EV_VINTR: return false;
  }
  return false;  /* unknown event kinds are held too */
}
