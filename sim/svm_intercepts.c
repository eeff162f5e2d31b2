/* Intercepts of a running SVM guest (AMD APM Vol. 2, "Secure Virtual
 * Machine"): which system instructions, port accesses, exceptions and
 * nested page faults end in #VMEXIT, and the exit information they carry.
 * The decisions are the model's (models/svm/svm_exits.h); this file reads
 * the instruction and the registers the machine has.
 *
 * "Instruction Intercepts": an instruction intercept is checked after the
 * instruction's simple exceptions (#UD for an invalid form, #GP for CPL)
 * and before its memory and operand-value exceptions, so an instruction
 * that would raise one of the former runs into it instead of exiting. */
#include "sim/irq.h"
#include "sim/svm_ext.h"

/* Registers as the caller sees them: Unicorn's inside a hook, m->cpu in
 * the run loop (where an I/O hook may already have changed Unicorn's). */
typedef uint64_t (*gpr_reader)(struct machine *m, enum gpr r);
static uint64_t gpr_hook(struct machine *m, enum gpr r) { return uc_bridge_gpr(m->bridge, r); }
static uint64_t gpr_loop(struct machine *m, enum gpr r) { return m->cpu.gpr[r]; }

static unsigned gpr_number(ZydisRegister r)
{
  return (unsigned)(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) - ZYDIS_REGISTER_RAX);
}

static bool is_reg_class(const ZydisDecodedOperand *op, ZydisRegisterClass c)
{
  return op->type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op->reg.value) == c;
}

static bool simple(struct svm_ext *x, enum svm_intercept i, struct svm_exit *e)
{
  if (!svm_ctl_intercepts(&x->vcpu.ctl, i)) return false;
  e->code = (uint64_t)svm_intercepts[i].exitcode;
  return true;
}

/* MOV to/from CRn and DRn: "Instruction Intercepts" (CR and DR read/write
 * intercepts, the CR0 selective write) with "Decode Assists". */
static bool mov_cr_dr(struct machine *m, struct svm_ext *x, struct insn *in, gpr_reader gpr, struct svm_exit *e)
{
  const ZydisDecodedOperand *dst = &in->op[0], *src = &in->op[1];
  bool cr = is_reg_class(dst, ZYDIS_REGCLASS_CONTROL) || is_reg_class(src, ZYDIS_REGCLASS_CONTROL);
  bool dr = is_reg_class(dst, ZYDIS_REGCLASS_DEBUG) || is_reg_class(src, ZYDIS_REGCLASS_DEBUG);
  if (!cr && !dr) return false;
  bool write = is_reg_class(dst, cr ? ZYDIS_REGCLASS_CONTROL : ZYDIS_REGCLASS_DEBUG);
  ZydisRegister special = write ? dst->reg.value : src->reg.value;
  unsigned g = gpr_number(write ? src->reg.value : dst->reg.value);
  const struct svm_vmcb_control *ctl = &x->vcpu.ctl;
  if (cr) {
    unsigned n = (unsigned)(special - ZYDIS_REGISTER_CR0);
    if (n == 1 || (n > 4 && n != 8)) return false;   /* #UD first */
    if (in->mode.cpl) return false;                   /* #GP first */
    enum svm_intercept i = (enum svm_intercept)((write ? SVM_INTERCEPT_CR0_WRITE : SVM_INTERCEPT_CR0_READ) + n);
    if (simple(x, i, e)) {
      e->info1 = svm_cr_exitinfo1(x->features, true, g);
      return true;
    }
    /* The selective CR0 write intercept: a MOV to CR0 that changes any
     * bit other than CR0.TS and CR0.MP. */
    if (write && n == 0 && svm_ctl_intercepts(ctl, SVM_INTERCEPT_CR0_SEL_WRITE)) {
      uint64_t v = gpr(m, (enum gpr)g);
      if (!in->mode.cs64) v &= 0xFFFFFFFFull;
      if ((v ^ m->cpu.cr0) & ~(uint64_t)(CR0_TS | CR0_MP)) {
        e->code = (uint64_t)SVM_EXIT_CR0_SEL_WRITE;
        e->info1 = svm_cr_exitinfo1(x->features, true, g);
        return true;
      }
    }
    return false;
  }
  unsigned n = (unsigned)(special - ZYDIS_REGISTER_DR0);
  if ((n == 4 || n == 5) && (m->cpu.cr4 & CR4_DE)) return false;   /* #UD first */
  if (in->mode.cpl) return false;
  enum svm_intercept i = (enum svm_intercept)((write ? SVM_INTERCEPT_DR0_WRITE : SVM_INTERCEPT_DR0_READ) + n);
  if (!simple(x, i, e)) return false;
  e->info1 = svm_dr_exitinfo1(x->features, g);
  return true;
}

/* CLTS and LMSW write CR0: the CR0 write intercept takes them (EXITINFO1
 * bit 63 clear: not a MOV); LMSW also falls under the selective write
 * intercept when it changes a bit other than TS and MP. */
static bool clts_lmsw(struct machine *m, struct svm_ext *x, struct insn *in, gpr_reader gpr, struct svm_exit *e)
{
  if (in->mode.cpl) return false;
  if (simple(x, SVM_INTERCEPT_CR0_WRITE, e)) {
    e->info1 = svm_cr_exitinfo1(x->features, false, 0);
    return true;
  }
  if (in->zi.mnemonic != ZYDIS_MNEMONIC_LMSW || !svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_CR0_SEL_WRITE))
    return false;
  uint64_t src;
  if (in->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
    src = gpr(m, (enum gpr)gpr_number(in->op[0].reg.value)) & 0xF;
  } else {
    /* A source in memory that cannot be read faults before any intercept
     * ("Instruction Intercepts": memory exceptions come first). */
    uint16_t w;
    if (!machine_peek_linear(m, insn_operand_linear(in, &in->op[0]), &w, 2, false)) return false;
    src = w & 0xF;
  }
  uint64_t cr0 = m->cpu.cr0;
  uint64_t v = (cr0 & ~0xEull) | (src & 0xE) | ((cr0 | src) & CR0_PE);
  if (!((v ^ cr0) & ~(uint64_t)(CR0_TS | CR0_MP))) return false;
  e->code = (uint64_t)SVM_EXIT_CR0_SEL_WRITE;
  return true;
}

/* SGDT, SIDT, SLDT, STR, LGDT, LIDT, LLDT, LTR: the IDTR/GDTR/LDTR/TR
 * read and write intercepts. The simple exceptions come first: #UD for
 * LLDT/LTR/SLDT/STR outside protected mode (and in virtual-8086 mode),
 * #GP at CPL > 0 for the loads and, under CR4.UMIP, for the stores
 * (APM Vol. 2, "User-Mode Instruction Prevention"). */
static bool desc_table(struct machine *m, struct svm_ext *x, struct insn *in, struct svm_exit *e)
{
  enum svm_intercept i;
  bool store = true, ldt_tr = false;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_SIDT: i = SVM_INTERCEPT_IDTR_READ; break;
  case ZYDIS_MNEMONIC_SGDT: i = SVM_INTERCEPT_GDTR_READ; break;
  case ZYDIS_MNEMONIC_SLDT: i = SVM_INTERCEPT_LDTR_READ; ldt_tr = true; break;
  case ZYDIS_MNEMONIC_STR: i = SVM_INTERCEPT_TR_READ; ldt_tr = true; break;
  case ZYDIS_MNEMONIC_LIDT: i = SVM_INTERCEPT_IDTR_WRITE; store = false; break;
  case ZYDIS_MNEMONIC_LGDT: i = SVM_INTERCEPT_GDTR_WRITE; store = false; break;
  case ZYDIS_MNEMONIC_LLDT: i = SVM_INTERCEPT_LDTR_WRITE; store = false; ldt_tr = true; break;
  case ZYDIS_MNEMONIC_LTR: i = SVM_INTERCEPT_TR_WRITE; store = false; ldt_tr = true; break;
  default: return false;
  }
  uint64_t rflags = uc_bridge_rflags(m->bridge);
  if (ldt_tr && (!(m->cpu.cr0 & CR0_PE) || (rflags & RFLAGS_VM))) return false;
  if (in->mode.cpl && (!store || (m->cpu.cr4 & CR4_UMIP))) return false;
  return simple(x, i, e);
}

/* PUSHF, POPF and IRET in virtual-8086 mode with IOPL < 3 and CR4.VME = 0
 * raise #GP(0), a simple exception that comes before their intercepts. */
static bool v86_iopl_gp(struct machine *m)
{
  uint64_t rflags = uc_bridge_rflags(m->bridge);
  return (rflags & RFLAGS_VM) && RFLAGS_IOPL(rflags) < 3 && !(m->cpu.cr4 & CR4_VME);
}

/* IRET: the IRET intercept (74h); else, with RFLAGS.NT = 1 in legacy
 * protected mode, IRET returns to the task the current TSS's back link
 * names, a task switch the task-switch intercept takes ("Miscellaneous
 * Intercepts": EXITINFO2 bit 36). The back link (EXITINFO1) is read in the
 * run loop, by exit_for_insn (iret_back_link). */
static bool iret_exits(struct machine *m, struct svm_ext *x, struct svm_exit *e)
{
  if (v86_iopl_gp(m)) return false;
  if (simple(x, SVM_INTERCEPT_IRET, e)) return true;
  uint64_t rflags = uc_bridge_rflags(m->bridge);
  if (!(rflags & RFLAGS_NT) || (rflags & RFLAGS_VM) || !(m->cpu.cr0 & CR0_PE) || (m->cpu.efer & EFER_LMA))
    return false;
  if (!svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_TASK_SWITCH)) return false;
  *e = svm_task_switch_exit(0, SVM_TS_IRET, false, 0, (rflags & RFLAGS_RF) != 0);
  return true;
}

/* The TSS selector an IRET with NT returns to: the back link, the first
 * word of the current TSS. Unreadable, it is reported as 0 (the task
 * switch would fault on it; the exit comes first). */
static uint16_t iret_back_link(struct machine *m)
{
  uint16_t sel = 0;
  if (!machine_peek_linear(m, m->cpu.seg[SEG_TR].base, &sel, sizeof sel, true)) sel = 0;
  return sel;
}

/* Does the system instruction `in` exit in the current guest? Fills the
 * exit code and EXITINFO1 (NRIP and EXITINFO2 are the caller's). */
static bool classify(struct machine *m, struct insn *in, gpr_reader gpr, struct svm_exit *e)
{
  struct svm_ext *x = svm_ext_of(m);
  *e = (struct svm_exit){0};
  unsigned cpl = in->mode.cpl;
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_CPUID: return simple(x, SVM_INTERCEPT_CPUID, e);
  case ZYDIS_MNEMONIC_HLT: return !cpl && simple(x, SVM_INTERCEPT_HLT, e);
  case ZYDIS_MNEMONIC_INVD: return !cpl && simple(x, SVM_INTERCEPT_INVD, e);
  case ZYDIS_MNEMONIC_WBINVD: return !cpl && simple(x, SVM_INTERCEPT_WBINVD, e);
  case ZYDIS_MNEMONIC_INVPCID:
    /* #UD without CPUID Fn0000_0007 EBX[INVPCID] and #GP at CPL > 0 come
     * first (simple exceptions, "Instruction Intercepts"). */
    if (cpl || !cpu_model_has(m->opt.cpu, 7, CPUID_EBX, CPUID7_EBX_INVPCID)) return false;
    return simple(x, SVM_INTERCEPT_INVPCID, e);
  case ZYDIS_MNEMONIC_INVLPG:
    if (cpl || !simple(x, SVM_INTERCEPT_INVLPG, e)) return false;
    e->info1 = svm_decode_assist_value(x->features, insn_operand_linear(in, &in->op[0]));
    return true;
  case ZYDIS_MNEMONIC_RDTSC:
    if ((m->cpu.cr4 & CR4_TSD) && cpl) return false;
    return simple(x, SVM_INTERCEPT_RDTSC, e);
  case ZYDIS_MNEMONIC_RDTSCP:
    if (!cpu_model_has(m->opt.cpu, 0x80000001, CPUID_EDX, CPUIDX1_EDX_RDTSCP)) return false;
    if ((m->cpu.cr4 & CR4_TSD) && cpl) return false;
    return simple(x, SVM_INTERCEPT_RDTSCP, e);
  case ZYDIS_MNEMONIC_RDPMC:
    if (cpl && !(m->cpu.cr4 & CR4_PCE)) return false;
    return simple(x, SVM_INTERCEPT_RDPMC, e);
  case ZYDIS_MNEMONIC_MONITOR: return !cpl && simple(x, SVM_INTERCEPT_MONITOR, e);
  case ZYDIS_MNEMONIC_MWAIT:
    /* "Instruction Intercepts": MWAIT has two intercepts, unconditional
     * (exit 8Bh) and "if the monitor hardware is armed" (8Ch). The APM
     * orders neither before the other; when both apply the armed one is
     * reported, as Bochs 2.7 does (QEMU 7.2 has no armed monitor and
     * reports 8Bh). #UD at CPL > 0 comes first; the #GP for ECX after. */
    if (cpl) return false;
    if (sysinsn_monitor_armed(m) && simple(x, SVM_INTERCEPT_MWAIT_ARMED, e)) return true;
    return simple(x, SVM_INTERCEPT_MWAIT, e);
  case ZYDIS_MNEMONIC_XSETBV:
    if (!(m->cpu.cr4 & CR4_OSXSAVE) || cpl) return false;
    return simple(x, SVM_INTERCEPT_XSETBV, e);
  case ZYDIS_MNEMONIC_RDMSR:
  case ZYDIS_MNEMONIC_WRMSR: {
    if (cpl) return false;
    bool write = in->zi.mnemonic == ZYDIS_MNEMONIC_WRMSR;
    uint32_t msr = (uint32_t)gpr(m, GPR_RCX);
    if (!svm_msr_intercepted(&x->vcpu.ctl, &x->mem, msr, write)) return false;
    e->code = (uint64_t)SVM_EXIT_MSR;
    e->info1 = write ? 1 : 0;   /* "MSR Intercepts": 0 RDMSR, 1 WRMSR */
    return true;
  }
  case ZYDIS_MNEMONIC_MOV: return mov_cr_dr(m, x, in, gpr, e);
  case ZYDIS_MNEMONIC_CLTS:
  case ZYDIS_MNEMONIC_LMSW: return clts_lmsw(m, x, in, gpr, e);
  case ZYDIS_MNEMONIC_SMSW:
    /* SMSW reads CR0: the CR0 read intercept takes it (EXITINFO1 bit 63
     * clear: not a MOV), after UMIP's #GP at CPL > 0. */
    if (cpl && (m->cpu.cr4 & CR4_UMIP)) return false;
    if (!simple(x, SVM_INTERCEPT_CR0_READ, e)) return false;
    e->info1 = svm_cr_exitinfo1(x->features, false, 0);
    return true;
  case ZYDIS_MNEMONIC_PAUSE: {
    /* Asked in the hook and again by exit_for_insn: the filter counter
     * changes only through svm_ext_insn_exits. */
    struct svm_pause_filter filter = x->pause_filter;
    if (!svm_pause_exits(x->features, &x->vcpu.ctl, &filter, m->insns)) return false;
    e->code = (uint64_t)SVM_EXIT_PAUSE;
    return true;
  }
  case ZYDIS_MNEMONIC_INT1: return simple(x, SVM_INTERCEPT_ICEBP, e);
  case ZYDIS_MNEMONIC_RSM:
    /* RSM outside SMM is #UD, a simple exception that comes before the
     * intercept; the machine has no SMM. (QEMU 7.2 TCG checks the
     * intercept first; Bochs 2.7 raises #UD, as here.) */
    return false;
  case ZYDIS_MNEMONIC_RDPRU:
    /* RDPRU's #UD (no RDPRU on the model; CR4.TSD at CPL > 0) comes
     * before its intercept. */
    if (!cpu_model_has(m->opt.cpu, 0x80000008, CPUID_EBX, CPUIDX8_EBX_RDPRU)) return false;
    if ((m->cpu.cr4 & CR4_TSD) && cpl) return false;
    return simple(x, SVM_INTERCEPT_RDPRU, e);
  case ZYDIS_MNEMONIC_PUSHF:
  case ZYDIS_MNEMONIC_PUSHFD:
  case ZYDIS_MNEMONIC_PUSHFQ:
    return !v86_iopl_gp(m) && simple(x, SVM_INTERCEPT_PUSHF, e);
  case ZYDIS_MNEMONIC_POPF:
  case ZYDIS_MNEMONIC_POPFD:
  case ZYDIS_MNEMONIC_POPFQ:
    return !v86_iopl_gp(m) && simple(x, SVM_INTERCEPT_POPF, e);
  case ZYDIS_MNEMONIC_IRET:
  case ZYDIS_MNEMONIC_IRETD:
  case ZYDIS_MNEMONIC_IRETQ:
    return iret_exits(m, x, e);
  case ZYDIS_MNEMONIC_JMP:
  case ZYDIS_MNEMONIC_CALL: {
    /* A far JMP or CALL to a TSS or task gate is a task switch: under
     * the task-switch intercept ("Miscellaneous Intercepts") EXITINFO1 is
     * the TSS selector, EXITINFO2 bit 38 for JMP (none for CALL), bit 48
     * RF. */
    uint16_t tss;
    if (!svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_TASK_SWITCH) || !insn_far_task_switch(in, &tss)) return false;
    bool jmp = in->zi.mnemonic == ZYDIS_MNEMONIC_JMP;
    *e = svm_task_switch_exit(tss, jmp ? SVM_TS_JMP : SVM_TS_CALL_OR_GATE, false, 0,
                              (uc_bridge_rflags(m->bridge) & RFLAGS_RF) != 0);
    return true;
  }
  case ZYDIS_MNEMONIC_SKINIT:
    /* Its #UD and its #GP at CPL > 0 are simple exceptions that come
     * before the intercept ("Instruction Intercepts"), as VMRUN's,
     * VMLOAD's, VMSAVE's, STGI's, CLGI's and INVLPGA's do in
     * models/svm/svm_insn.c (privileged_faults, then the intercept). */
    if (sysinsn_skinit_fault(m, in)) return false;
    return simple(x, SVM_INTERCEPT_SKINIT, e);
  case ZYDIS_MNEMONIC_RDRAND:
  case ZYDIS_MNEMONIC_RDSEED:
    return false;   /* no intercept exists for them */
  default:
    return desc_table(m, x, in, e);
  }
}

bool svm_ext_insn_exits(struct machine *m, struct insn *in)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!x->vcpu.in_guest) return false;
  struct svm_exit e;
  if (classify(m, in, gpr_hook, &e)) return true;
  /* "Pause Intercept Filtering": a PAUSE that does not exit counts down
   * the filter — the one state this hook changes, since it is the PAUSE
   * executing (the machine runs it as a NOP next). */
  if (in->zi.mnemonic == ZYDIS_MNEMONIC_PAUSE) svm_pause_exits(x->features, &x->vcpu.ctl, &x->pause_filter, m->insns);
  return false;
}

bool svm_ext_io_exits(struct machine *m, uint16_t port, unsigned size, bool is_in)
{
  (void)is_in;
  struct svm_ext *x = svm_ext_of(m);
  return x->vcpu.in_guest && svm_io_intercepted(&x->vcpu.ctl, &x->mem, port, size);
}

/* The IOIO exit of IN, OUT, INS or OUTS ("I/O Intercepts"): EXITINFO1
 * describes the access, EXITINFO2 is the next RIP. */
static bool ioio_exit(struct machine *m, struct insn *in, struct svm_exit *e)
{
  struct svm_ioio io = {.addr_bits = in->zi.address_width};
  switch (in->zi.mnemonic) {
  case ZYDIS_MNEMONIC_IN: io.in = true; io.size = in->op[0].size / 8; break;
  case ZYDIS_MNEMONIC_OUT: io.size = in->op[1].size / 8; break;
  case ZYDIS_MNEMONIC_INSB: io.in = io.string = true; io.size = 1; break;
  case ZYDIS_MNEMONIC_INSW: io.in = io.string = true; io.size = 2; break;
  case ZYDIS_MNEMONIC_INSD: io.in = io.string = true; io.size = 4; break;
  case ZYDIS_MNEMONIC_OUTSB: io.string = true; io.size = 1; break;
  case ZYDIS_MNEMONIC_OUTSW: io.string = true; io.size = 2; break;
  case ZYDIS_MNEMONIC_OUTSD: io.string = true; io.size = 4; break;
  default: return false;
  }
  /* The port: an immediate operand, else DX. */
  io.port = (uint16_t)m->cpu.gpr[GPR_RDX];
  for (unsigned i = 0; i < in->zi.operand_count; i++) {
    const ZydisDecodedOperand *op = &in->op[i];
    if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) io.port = (uint16_t)op->imm.value.u;
    /* The effective segment of the memory operand (ES for INS). */
    if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) io.seg = (unsigned)(op->mem.segment - ZYDIS_REGISTER_ES);
  }
  io.rep = (in->zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) != 0;
  *e = (struct svm_exit){.code = (uint64_t)SVM_EXIT_IOIO,
                         .info1 = svm_ioio_exitinfo1(svm_ext_of(m)->features, &io),
                         .info2 = in->next_rip,
                         .nrip = in->next_rip,
                         .has_nrip = true};
  return true;
}

void svm_ext_exit_for_insn(struct machine *m, struct insn *in)
{
  struct svm_exit e;
  if (ioio_exit(m, in, &e)) {
    svm_ext_vmexit(m, &e);
    return;
  }
  if (!classify(m, in, gpr_loop, &e)) {
    machine_stop(m, STOP_INTERNAL, 125, "svm: %s at 0x%llx was announced as intercepted but no intercept applies",
                 ZydisMnemonicGetString(in->zi.mnemonic), (unsigned long long)in->rip);
    return;
  }
  if (e.code == (uint64_t)SVM_EXIT_TASK_SWITCH) {
    /* A task switch: fault-like, no NRIP ("Next RIP"). */
    bool iret = in->zi.mnemonic != ZYDIS_MNEMONIC_JMP && in->zi.mnemonic != ZYDIS_MNEMONIC_CALL;
    if (iret) e.info1 = iret_back_link(m);
    trace_event(&m->trace, m->insns, "task-switch", "%s tss=0x%x intercepted",
                iret ? "iret" : ZydisMnemonicGetString(in->zi.mnemonic), (unsigned)e.info1);
    svm_ext_vmexit(m, &e);
    return;
  }
  e.nrip = in->next_rip;
  e.has_nrip = true;
  svm_ext_vmexit(m, &e);
}

/* The conditionally hooked instructions this guest intercepts (sim/virt.h
 * hook_classes): IRET under the IRET or the task-switch intercept (IRET
 * with NT), PUSHF and POPF under theirs, far JMP and CALL under the
 * task-switch intercept. */
unsigned svm_ext_hook_classes(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  /* IRET ends blocking by NMI, in the host and in the guest. */
  unsigned nmi = m->cpu.nmi_blocking ? HOOK_CLASS_IRET : 0;
  if (!x->vcpu.in_guest) return nmi;
  const struct svm_vmcb_control *c = &x->vcpu.ctl;
  unsigned k = nmi;
  if (svm_ctl_intercepts(c, SVM_INTERCEPT_IRET) || svm_ctl_intercepts(c, SVM_INTERCEPT_TASK_SWITCH))
    k |= HOOK_CLASS_IRET;
  if (svm_ctl_intercepts(c, SVM_INTERCEPT_PUSHF) || svm_ctl_intercepts(c, SVM_INTERCEPT_POPF))
    k |= HOOK_CLASS_PUSHF_POPF;
  /* Far JMP and CALL can start a task switch only in protected mode
   * outside long mode. */
  if (svm_ctl_intercepts(c, SVM_INTERCEPT_TASK_SWITCH) && (m->cpu.cr0 & CR0_PE) && !(m->cpu.efer & EFER_LMA))
    k |= HOOK_CLASS_FAR_BRANCH;
  return k;
}

/* "Decode Assists": the guest's instruction bytes at CS:RIP for a data
 * #NPF or #PF, read as the guest would fetch them (through its paging and
 * the nested page tables, at its CPL). Reading leaves the fault being
 * reported untouched. A fetch fault with the I/D bit clear (a #PF without
 * EFER.NXE or CR4.SMEP) is recognised by the first byte failing to read,
 * which gives no bytes either. */
static bool fetch_byte(void *ctx, uint64_t la, uint8_t *byte)
{
  return machine_peek_linear(ctx, la, byte, 1, false);
}

static void add_insn_bytes(struct machine *m, struct svm_exit *e)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!svm_exit_has_insn_bytes(x->features, e->code, e->info1)) return;
  bool long64 = cpu_in_64bit_mode(&m->cpu);
  uint64_t la = (long64 ? 0 : m->cpu.seg[SEG_CS].base) + m->cpu.rip;
  svm_fetch_insn_bytes(e, fetch_byte, m, la, long64);
}

/* Exceptions and INT n in the guest ("Exception Intercepts", "Instruction
 * Intercepts" for INTn). INT3 and INTO raise #BP and #OF and go through the
 * exception intercepts; INT n is an instruction intercept (EXITINFO1 its
 * vector under decode assists). Either way the #VMEXIT is fault-like: the
 * guest RIP saved is the instruction's, NRIP the next one ("Next RIP"). */
/* "Event Injection" and "#VMEXIT": an intercepted exception or #NPF raised
 * while an event was being delivered (an injected one included) records
 * that event in EXITINTINFO, so the hypervisor can deliver it again. */
static uint64_t event_intinfo(const struct pending_event *d, bool m_nmi)
{
  /* An interrupt acknowledged from the PIC is INTR whatever its vector;
   * the machine delivers an NMI as an external event too (sim/irq.c). */
  enum svm_event_type type = d->external && m_nmi                  ? SVM_EVENT_NMI
                             : d->external                           ? SVM_EVENT_INTR
                             : d->software && d->insn_len != 1     ? SVM_EVENT_SOFT_INT
                             : d->vector == VEC_NMI && !d->software ? SVM_EVENT_NMI
                             : d->vector < 32                       ? SVM_EVENT_EXCEPTION
                                                                    : SVM_EVENT_INTR;
  return svm_event_encode(d->vector, type, d->has_error, d->error);
}

/* Is `d` the NMI the machine is delivering (sim/irq.c)? */
static bool nmi_delivering(const struct machine *m, const struct pending_event *d)
{
  return d->external && d->vector == VEC_NMI && irq_nmi_delivering((struct machine *)m);
}

static uint64_t delivering_intinfo(const struct machine *m)
{
  return m->delivering ? event_intinfo(m->delivering, nmi_delivering(m, m->delivering)) : 0;
}

/* An event delivered through a task gate in legacy protected mode is a
 * task switch; under the task-switch intercept ("Miscellaneous
 * Intercepts") it is #VMEXIT(TASK_SWITCH) with the gate's TSS selector,
 * the error code the event would push, and EXITINTINFO = the event (the
 * exit happens while delivering it). The checks that come first (the IDT
 * gate's, the new TSS's) are the machine's (exception_task_gate); when one
 * fails, the delivery raises its fault instead. */
static bool task_gate_exits(struct machine *m, const struct pending_event *ev)
{
  struct svm_ext *x = svm_ext_of(m);
  uint16_t tss;
  if (!svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_TASK_SWITCH) || !exception_task_gate(m, ev, &tss)) return false;
  /* Bit 48: the RF the old TSS would get, 1 for a fault-class exception
   * (SDM Vol. 3B, "Instruction-Breakpoint Exception Condition"). */
  bool rf = exception_is_fault(ev) || (m->cpu.rflags & RFLAGS_RF);
  struct svm_exit e = svm_task_switch_exit(tss, SVM_TS_CALL_OR_GATE, ev->has_error, ev->error, rf);
  e.intinfo = event_intinfo(ev, nmi_delivering(m, ev));
  trace_event(&m->trace, m->insns, "task-switch", "vector=%u tss=0x%x intercepted", ev->vector, (unsigned)tss);
  /* Fault-like: the guest RIP is the instruction that raised the event
   * (INT n, INT3, INTO: the instruction itself). */
  if (ev->software) m->cpu.rip -= ev->insn_len;
  svm_ext_vmexit(m, &e);
  return true;
}

bool svm_ext_event_exits(struct machine *m, const struct pending_event *ev)
{
  struct svm_ext *x = svm_ext_of(m);
  /* The injected event itself is not subject to the exception intercepts;
   * the faults its delivery raises are. */
  if (!x->vcpu.in_guest) return false;
  /* An external interrupt or NMI reaches here only when it goes through a
   * task gate (sim/exceptions.c); so does an injected event, whose
   * delivery is still a task switch under the intercept. */
  if (ev->external || (x->injecting && !m->delivering)) return task_gate_exits(m, ev);
  const struct svm_vmcb_control *ctl = &x->vcpu.ctl;
  if (ev->software && ev->insn_len == 2) {
    if (!svm_ctl_intercepts(ctl, SVM_INTERCEPT_INTN)) return task_gate_exits(m, ev);
    uint64_t next = m->cpu.rip;
    m->cpu.rip -= ev->insn_len;
    svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_SWINT,
                                         .info1 = svm_decode_assist_value(x->features, ev->vector),
                                         .nrip = next, .has_nrip = true});
    return true;
  }
  /* "Exception Intercepts", #DB: "a vector 1 exception generated by the
   * single byte INT1 instruction (also known as ICEBP) does not trigger
   * the #DB intercept"; its own ICEBP intercept was consulted before the
   * instruction (sim/intercept.c). */
  if (ev->software && ev->privileged) return task_gate_exits(m, ev);
  if (ev->vector > 31 || !svm_ctl_intercepts(ctl, (enum svm_intercept)(SVM_INTERCEPT_EXCP_DE + ev->vector)))
    return task_gate_exits(m, ev);
  struct svm_exit e = svm_exception_exit(ev->vector, ev->has_error, ev->error, m->fault.cr2);
  e.intinfo = delivering_intinfo(m);
  add_insn_bytes(m, &e);
  if (ev->software) {
    /* #VMEXIT is fault-like: the saved RIP is the INT3/INTO itself, NRIP
     * the instruction after it. */
    e.nrip = m->cpu.rip;
    e.has_nrip = true;
    m->cpu.rip -= ev->insn_len;
  } else if (ev->vector == VEC_BR) {
    /* "Next RIP": NRIP is saved for "exceptions caused by the INT3, INTO,
     * and BOUND instructions". #BR is a fault that only BOUND raises: RIP
     * is at the BOUND, NRIP after it. */
    struct insn in;
    if (insn_decode(m, m->cpu.rip, &in)) {
      e.nrip = in.next_rip;
      e.has_nrip = true;
    }
  }
  svm_ext_vmexit(m, &e);
  return true;
}

/* "Miscellaneous Intercepts": under the SHUTDOWN intercept a shutdown in
 * the guest (a triple fault) is a #VMEXIT instead. */
bool svm_ext_shutdown(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!x->vcpu.in_guest || !svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_SHUTDOWN)) return false;
  trace_event(&m->trace, m->insns, "shutdown", "intercepted");
  svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_SHUTDOWN});
  return true;
}

/* The FERR_FREEZE intercept (AMD APM Vol. 2, "VMCB Layout, Control Area":
 * "Intercept processor 'freezing' during legacy FERR handling"): the
 * guest's RIP stays at the waiting x87 instruction the processor would
 * freeze before; EXITINFO1/2 are 0 (sim/fpu_except.h). */
bool svm_ext_ferr_freeze(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!x->vcpu.in_guest || !svm_ctl_intercepts(&x->vcpu.ctl, SVM_INTERCEPT_FERR_FREEZE)) return false;
  svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_FERR_FREEZE});
  return true;
}

/* "Nested Page Faults (#NPF)": EXITINFO1 the error code with bits 32/33
 * (final translation / guest page table), EXITINFO2 the guest-physical
 * address; the guest's RIP stays at the faulting instruction. */
void svm_ext_slat_fault(struct machine *m, const struct mmu_fault *f, uint64_t la)
{
  struct svm_ext *x = svm_ext_of(m);
  if (!x->vcpu.in_guest || f->kind != MMU_FAULT_NPF) {
    machine_stop(m, STOP_INTERNAL, 125, "svm: a second-level fault (kind %d) at linear 0x%llx outside an NPT guest",
                 (int)f->kind, (unsigned long long)la);
    return;
  }
  trace_event(&m->trace, m->insns, "npf", "la=0x%llx gpa=0x%llx error=0x%llx", (unsigned long long)la,
              (unsigned long long)f->exitinfo2, (unsigned long long)f->exitinfo1);
  struct svm_exit e = {.code = (uint64_t)SVM_EXIT_NPF, .info1 = f->exitinfo1, .info2 = f->exitinfo2,
                       .intinfo = delivering_intinfo(m)};
  add_insn_bytes(m, &e);
  svm_ext_vmexit(m, &e);
}

/* ---- physical interrupts ------------------------------------------------ */

/* What the PIC's request does now, with the guest's IF as given
 * (svm_physical_interrupt: GIF, V_INTR_MASKING and the host's IF, the INTR
 * intercept). */
static enum svm_intr_action intr_action(struct machine *m, bool guest_if)
{
  struct svm_ext *x = svm_ext_of(m);
  return svm_physical_interrupt(x->vcpu.gif, x->vcpu.in_guest, &x->vcpu.ctl, guest_if, x->host_if);
}

/* "Global Interrupt Flag, STGI and CLGI Instructions": GIF = 0 holds
 * physical interrupts pending; so does the host's IF = 0 under
 * V_INTR_MASKING ("Interrupt Masking in EFLAGS"). Independent of the
 * current RFLAGS.IF, so the hook may ask. */
bool svm_ext_interrupts_held(struct machine *m) { return intr_action(m, true) == SVM_INTR_HELD; }

bool svm_ext_interrupt_would_exit(struct machine *m) { return intr_action(m, false) == SVM_INTR_VMEXIT; }

/* The same section's table of the GIF's effect: with GIF = 0 a "Debug
 * exception or trap, due to breakpoint register match" is "Ignored and
 * discarded". */
bool svm_ext_breakpoints_discarded(struct machine *m) { return !svm_ext_of(m)->vcpu.gif; }

/* "Interrupt Intercepts": #VMEXIT(INTR) without acknowledging the
 * interrupt controller; the request stays pending for the host, which
 * takes it once it sets GIF (and IF). */
bool svm_ext_interrupt_exits(struct machine *m)
{
  if (intr_action(m, (m->cpu.rflags & RFLAGS_IF) != 0) != SVM_INTR_VMEXIT) return false;
  svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_INTR});
  return true;
}

/* ---- NMIs (sim/irq.h) ------------------------------------------------------ */

static enum svm_intr_action nmi_action(struct machine *m)
{
  struct svm_ext *x = svm_ext_of(m);
  return svm_nmi(x->vcpu.gif, x->vcpu.in_guest, &x->vcpu.ctl, m->cpu.nmi_blocking);
}

bool svm_ext_nmi_held(struct machine *m) { return nmi_action(m) == SVM_INTR_HELD; }

/* "Interrupt Intercepts", NMI: #VMEXIT(NMI) with EXITINFO1/2 = 0 and the
 * guest RIP of the next instruction; the NMI is not consumed: GIF = 0
 * after the #VMEXIT holds it for the host (STGI). */
bool svm_ext_nmi_exits(struct machine *m)
{
  if (nmi_action(m) != SVM_INTR_VMEXIT) return false;
  svm_ext_vmexit(m, &(struct svm_exit){.code = (uint64_t)SVM_EXIT_NMI});
  return true;
}

/* "NMI handling": IRET (one that was not intercepted) ends blocking by
 * NMI; a pending NMI may be due right after it. */
void svm_ext_iret(struct machine *m, struct insn *in)
{
  if (!m->cpu.nmi_blocking) return;
  m->cpu.nmi_blocking = false;
  trace_event(&m->trace, m->insns, "iret", "nmi-unblocked rip=0x%llx", (unsigned long long)in->rip);
  irq_rearm(m);
}

uint64_t svm_ext_deadline(struct machine *m) { return irq_nmi_deadline(m); }

/* ---- SMI and INIT (sim/irq.h) ------------------------------------------------ */

/* "Security Exception (#SX)" (VEC_SX, sim/exceptions.h): error code 1
 * for an INIT redirected by VM_CR.R_INIT. */
#define SVM_SX_INIT_REDIRECTION 1u

static enum svm_signal svm_signal_of(enum irq_signal s) { return s == IRQ_SIGNAL_SMI ? SVM_SIGNAL_SMI : SVM_SIGNAL_INIT; }

static enum svm_intr_action signal_action(struct machine *m, enum irq_signal s)
{
  struct svm_ext *x = svm_ext_of(m);
  return svm_signal(x->vcpu.gif, x->vcpu.in_guest, &x->vcpu.ctl, svm_signal_of(s));
}

bool svm_ext_signal_held(struct machine *m, enum irq_signal s) { return signal_action(m, s) == SVM_INTR_HELD; }

/* "Interrupt Intercepts", SMI and INIT: #VMEXIT(SMI) / #VMEXIT(INIT) with
 * EXITINFO1/2 = 0 and the guest RIP of the next instruction; the signal
 * is not consumed: GIF = 0 after the #VMEXIT holds it for the host. Without
 * the intercept, or in the host with GIF = 1, the processor would enter
 * SMM or perform the INIT reset: the machine stops (sim/irq.c). */
bool svm_ext_signal_exits(struct machine *m, enum irq_signal s, char *why, size_t n)
{
  struct svm_ext *x = svm_ext_of(m);
  switch (signal_action(m, s)) {
  case SVM_INTR_VMEXIT: {
    struct svm_exit e = svm_signal_exit(svm_signal_of(s));
    svm_ext_vmexit(m, &e);
    return true;
  }
  case SVM_INTR_DELIVER:
    if (s == IRQ_SIGNAL_INIT && (x->vcpu.msrs.vm_cr & VM_CR_R_INIT)) {
      /* "VM_CR MSR", R_INIT, and "Security Exception (#SX)": with INIT
       * redirection the INIT the processor would act on becomes #SX
       * (vector 30) with error code 1, delivered through the current IDT
       * like any exception — in the guest, subject to the #SX exception
       * intercept (an INIT intercept, checked above, comes first). */
      irq_signal_consume(m, s);
      trace_event(&m->trace, m->insns, "signal", "INIT redirected to #SX (VM_CR.R_INIT)");
      deliver_event(m, &(struct pending_event){.valid = true, .vector = VEC_SX, .has_error = true,
                                               .error = SVM_SX_INIT_REDIRECTION});
      return true;
    }
    if (x->vcpu.in_guest) snprintf(why, n, "in the SVM guest without the %s intercept", irq_signal_name(s));
    else snprintf(why, n, "outside SVM guest mode with GIF = 1");
    return false;
  case SVM_INTR_HELD:
    snprintf(why, n, "held by GIF = 0, yet asked to act on it");
    return false;
  }
  snprintf(why, n, "unexpected SVM signal action");
  return false;
}
