/* The VMX instructions in VMX root operation (see vmx_insn.h). Each
 * function follows the "Operation" pseudocode of its entry in the SDM Vol.
 * 3C "VMX Instruction Reference", in the same order of tests. */
#include "models/vmx/vmx_insn.h"

#include <string.h>

#include "models/vmx/vmx_bits.h"

#define RFLAGS_STATUS (RFLAGS_CF | (1ull << 2) | (1ull << 4) | (1ull << 6) | (1ull << 7) | (1ull << 11))
#define RFLAGS_ZF (1ull << 6)

void vmx_cpu_init(struct vmx_cpu *x, const struct vmx_caps *caps)
{
  memset(x, 0, sizeof *x);
  x->caps = caps;
  x->feature_control = caps->feature_control_reset;
  x->current_vmcs_ptr = VMX_INVALID_PTR;
  x->vmxon_ptr = VMX_INVALID_PTR;
}

void vmx_insn_apply_rflags(struct cpu_state *s, const struct vmx_insn_result *r)
{
  switch (r->outcome) {
  case VMX_INSN_SUCCEED: s->rflags &= ~RFLAGS_STATUS; return;
  case VMX_INSN_FAIL_INVALID: s->rflags = (s->rflags & ~RFLAGS_STATUS) | RFLAGS_CF; return;
  case VMX_INSN_FAIL_VALID: s->rflags = (s->rflags & ~RFLAGS_STATUS) | RFLAGS_ZF; return;
  case VMX_INSN_UD: case VMX_INSN_GP: case VMX_INSN_VMEXIT: case VMX_INSN_ENTERED: case VMX_INSN_ENTRY_FAILED:
  case VMX_INSN_DONE:
    return; /* no VMX status flags */
  }
}

static struct vmx_insn_result outcome(enum vmx_insn_outcome o) { return (struct vmx_insn_result){ .outcome = o }; }
static struct vmx_insn_result succeed(void) { return outcome(VMX_INSN_SUCCEED); }

/* VMfail(n): VMfailValid(n) with a current VMCS, else VMfailInvalid. */
static struct vmx_insn_result vmfail(struct vmx_cpu *x, unsigned error)
{
  if (x->current_vmcs_ptr == VMX_INVALID_PTR) return outcome(VMX_INSN_FAIL_INVALID);
  vmcs_set(&x->current, VMCSI_VM_INSTRUCTION_ERROR, error);
  struct vmx_insn_result r = outcome(VMX_INSN_FAIL_VALID);
  r.error = error;
  return r;
}

static bool compat_mode(const struct cpu_state *s)
{
  return (s->efer & EFER_LMA) && !(s->seg[SEG_CS].ar & SEG_AR_L);
}

/* The #UD / VM exit / #GP(0) prefix shared by the instructions other than
 * VMXON: true when `*r` holds the fault or exit. */
static bool prefix(const struct vmx_cpu *x, const struct cpu_state *s, bool reg_operand, struct vmx_insn_result *r)
{
  if (reg_operand || !x->vmx_operation || !(s->cr0 & CR0_PE) || (s->rflags & RFLAGS_VM) || compat_mode(s)) {
    *r = outcome(VMX_INSN_UD);
    return true;
  }
  if (x->non_root) {
    *r = outcome(VMX_INSN_VMEXIT);
    return true;
  }
  if (cpu_cpl(s) > 0) {
    *r = outcome(VMX_INSN_GP);
    return true;
  }
  return false;
}

static bool page_addr_ok(const struct vmx_cpu *x, uint64_t a)
{
  return (a & 0xFFF) == 0 && (a >> x->caps->maxphyaddr) == 0;
}

static bool read32(const struct vmx_mem_ops *m, uint64_t pa, uint32_t *v)
{
  uint8_t b[4];
  if (!m->read(m->ctx, pa, b, 4)) return false;
  *v = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
  return true;
}

struct vmx_insn_result vmx_insn_precheck(const struct vmx_cpu *x, const struct cpu_state *s, enum vmx_insn insn)
{
  struct vmx_insn_result r = succeed();
  const struct vmx_caps *c = x->caps;
  switch (insn) {
  case VMX_INSN_VMXON:
    if (!(s->cr0 & CR0_PE) || !(s->cr4 & CR4_VMXE) || (s->rflags & RFLAGS_VM) || compat_mode(s))
      return outcome(VMX_INSN_UD);
    if (x->vmx_operation) return x->non_root ? outcome(VMX_INSN_VMEXIT) : cpu_cpl(s) > 0 ? outcome(VMX_INSN_GP) : r;
    if (cpu_cpl(s) > 0 || !vmx_cr_fixed_ok(c->cr0_fixed0, c->cr0_fixed1, s->cr0) ||
        !vmx_cr_fixed_ok(c->cr4_fixed0, c->cr4_fixed1, s->cr4) ||
        !vmx_feature_control_allows_vmxon(x->feature_control, x->in_smx))
      return outcome(VMX_INSN_GP);
    return r;
  case VMX_INSN_INVEPT:
    if (!vmx_has_feature(c, VMX_FEAT_EPT) || !(c->ept_vpid_cap & EPTCAP_INVEPT)) return outcome(VMX_INSN_UD);
    prefix(x, s, false, &r);
    return r;
  case VMX_INSN_INVVPID:
    if (!vmx_has_feature(c, VMX_FEAT_VPID) || !(c->ept_vpid_cap & EPTCAP_INVVPID)) return outcome(VMX_INSN_UD);
    prefix(x, s, false, &r);
    return r;
  case VMX_INSN_VMCALL:
    if (!x->vmx_operation) return outcome(VMX_INSN_UD);
    if (x->non_root) return outcome(VMX_INSN_VMEXIT);
    if ((s->rflags & RFLAGS_VM) || compat_mode(s)) return outcome(VMX_INSN_UD);
    return cpu_cpl(s) > 0 ? outcome(VMX_INSN_GP) : r;
  /* VMFUNC has register operands only; vmx_vmfunc_execute decides. */
  case VMX_INSN_VMFUNC: return x->non_root ? r : outcome(VMX_INSN_UD);
  case VMX_INSN_VMXOFF: case VMX_INSN_VMCLEAR: case VMX_INSN_VMPTRLD: case VMX_INSN_VMPTRST: case VMX_INSN_VMREAD:
  case VMX_INSN_VMWRITE: case VMX_INSN_VMLAUNCH: case VMX_INSN_VMRESUME:
    prefix(x, s, false, &r);
    return r;
  }
  return outcome(VMX_INSN_UD);
}

struct vmx_insn_result vmx_vmxon(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                 bool reg_operand, uint64_t addr)
{
  const struct vmx_caps *c = x->caps;
  if (reg_operand || !(s->cr0 & CR0_PE) || !(s->cr4 & CR4_VMXE) || (s->rflags & RFLAGS_VM) || compat_mode(s))
    return outcome(VMX_INSN_UD);
  if (x->vmx_operation) {
    if (x->non_root) return outcome(VMX_INSN_VMEXIT);
    if (cpu_cpl(s) > 0) return outcome(VMX_INSN_GP);
    return vmfail(x, VMXERR_VMXON_IN_ROOT);
  }
  /* A20M is not modelled (the machine never asserts it). */
  if (cpu_cpl(s) > 0 || !vmx_cr_fixed_ok(c->cr0_fixed0, c->cr0_fixed1, s->cr0) ||
      !vmx_cr_fixed_ok(c->cr4_fixed0, c->cr4_fixed1, s->cr4) ||
      !vmx_feature_control_allows_vmxon(x->feature_control, x->in_smx))
    return outcome(VMX_INSN_GP);
  uint32_t rev;
  if (!page_addr_ok(x, addr) || !read32(m, addr, &rev)) return outcome(VMX_INSN_FAIL_INVALID);
  if ((rev & 0x7FFFFFFFu) != BASIC_REVISION(c->basic) || (rev >> 31)) return outcome(VMX_INSN_FAIL_INVALID);
  x->vmx_operation = true;
  x->vmxon_ptr = addr;
  x->current_vmcs_ptr = VMX_INVALID_PTR;
  return succeed();
}

struct vmx_insn_result vmx_vmxoff(struct vmx_cpu *x, const struct cpu_state *s)
{
  struct vmx_insn_result r;
  if (prefix(x, s, false, &r)) return r;
  /* Dual-monitor treatment of SMIs (error 23) is not modelled. */
  x->vmx_operation = false;
  x->vmxon_ptr = VMX_INVALID_PTR;
  return succeed();
}

/* Writes the current VMCS back to its region (the processor's cache flush). */
static bool flush_current(struct vmx_cpu *x, const struct vmx_mem_ops *m)
{
  static uint8_t region[VMCS_REGION_BYTES];
  if (x->current_vmcs_ptr == VMX_INVALID_PTR) return true;
  vmcs_region_store(&x->current, region, sizeof region);
  return m->write(m->ctx, x->current_vmcs_ptr, region, sizeof region);
}

struct vmx_insn_result vmx_vmclear(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t addr)
{
  struct vmx_insn_result r;
  if (prefix(x, s, reg_operand, &r)) return r;
  if (!page_addr_ok(x, addr)) return vmfail(x, VMXERR_VMCLEAR_INVALID_ADDR);
  if (addr == x->vmxon_ptr) return vmfail(x, VMXERR_VMCLEAR_VMXON_PTR);
  if (addr == x->current_vmcs_ptr) {
    x->current.launched = false;
    flush_current(x, m);
    x->current_vmcs_ptr = VMX_INVALID_PTR;
    return succeed();
  }
  /* A VMCS not current on this processor: its data is already in its
   * region; set the launch state there. */
  static const uint8_t clear[4] = { 0 };
  m->write(m->ctx, addr + VMCS_REGION_LAUNCH_OFFSET, clear, sizeof clear);
  return succeed();
}

struct vmx_insn_result vmx_vmptrld(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t addr)
{
  struct vmx_insn_result r;
  if (prefix(x, s, reg_operand, &r)) return r;
  if (!page_addr_ok(x, addr)) return vmfail(x, VMXERR_VMPTRLD_INVALID_ADDR);
  if (addr == x->vmxon_ptr) return vmfail(x, VMXERR_VMPTRLD_VMXON_PTR);
  uint32_t rev;
  bool shadow_ok = vmx_has_feature(x->caps, VMX_FEAT_VMCS_SHADOWING);
  if (!read32(m, addr, &rev) || (rev & 0x7FFFFFFFu) != BASIC_REVISION(x->caps->basic) || ((rev >> 31) && !shadow_ok))
    return vmfail(x, VMXERR_VMPTRLD_BAD_REVISION);
  if (addr == x->current_vmcs_ptr) return succeed();
  static uint8_t region[VMCS_REGION_BYTES];
  flush_current(x, m);
  if (!m->read(m->ctx, addr, region, sizeof region)) return vmfail(x, VMXERR_VMPTRLD_INVALID_ADDR);
  vmcs_region_load(&x->current, region, sizeof region);
  x->current_vmcs_ptr = addr;
  return succeed();
}

struct vmx_insn_result vmx_vmptrst(struct vmx_cpu *x, const struct cpu_state *s, bool reg_operand)
{
  struct vmx_insn_result r;
  if (prefix(x, s, reg_operand, &r)) return r;
  r = succeed();
  r.value = x->current_vmcs_ptr;
  return r;
}

static unsigned opsize(const struct cpu_state *s) { return cpu_in_64bit_mode(s) ? 64 : 32; }

struct vmx_insn_result vmx_vmread(struct vmx_cpu *x, const struct cpu_state *s, uint64_t encoding)
{
  struct vmx_insn_result r;
  if (prefix(x, s, false, &r)) return r;
  if (x->current_vmcs_ptr == VMX_INVALID_PTR) return outcome(VMX_INSN_FAIL_INVALID);
  uint64_t value = 0;
  unsigned err = vmcs_vmread(&x->current, x->caps, encoding & (opsize(s) == 64 ? ~0ull : 0xFFFFFFFFull),
                             opsize(s), &value);
  if (err) return vmfail(x, err);
  r = succeed();
  r.value = value;
  return r;
}

struct vmx_insn_result vmx_vmwrite(struct vmx_cpu *x, const struct cpu_state *s, uint64_t encoding, uint64_t value)
{
  struct vmx_insn_result r;
  if (prefix(x, s, false, &r)) return r;
  if (x->current_vmcs_ptr == VMX_INVALID_PTR) return outcome(VMX_INSN_FAIL_INVALID);
  uint64_t mask = opsize(s) == 64 ? ~0ull : 0xFFFFFFFFull;
  unsigned err = vmcs_vmwrite(&x->current, x->caps, encoding & mask, opsize(s), value & mask);
  if (err) return vmfail(x, err);
  return succeed();
}

struct vmx_insn_result vmx_vmlaunch(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                    bool resume)
{
  struct vmx_insn_result r;
  if (prefix(x, s, false, &r)) return r;
  if (x->current_vmcs_ptr == VMX_INVALID_PTR) return outcome(VMX_INSN_FAIL_INVALID);
  if (s->movss_blocking) return vmfail(x, VMXERR_ENTRY_MOV_SS_BLOCKING);
  if (!resume && x->current.launched) return vmfail(x, VMXERR_VMLAUNCH_NOT_CLEAR);
  if (resume && !x->current.launched) return vmfail(x, VMXERR_VMRESUME_NOT_LAUNCHED);

  struct vmx_entry_env env = { .caps = x->caps, .host_ia32e = cpu_long_mode_active(s), .read_phys = m->read,
                               .wrmsr_ok = m->wrmsr_ok, .ctx = m->ctx };
  struct vmx_entry_result *e = &x->last_entry;
  if (vmx_entry_check_memo(&x->current, &env, e)) {
    x->current.launched = true;
    r = outcome(VMX_INSN_ENTERED);
    r.entry = e;
    return r;
  }
  if (e->vm_instruction_error) {
    r = vmfail(x, e->vm_instruction_error);
    r.entry = e;
    return r;
  }
  vmcs_set(&x->current, VMCSI_VM_EXIT_REASON, e->exit_reason);
  vmcs_set(&x->current, VMCSI_EXIT_QUALIFICATION, e->exit_qual);
  r = outcome(VMX_INSN_ENTRY_FAILED);
  r.entry = e;
  return r;
}

bool vmx_eptp_valid(const struct vmx_caps *caps, uint64_t eptp)
{
  uint64_t cap = caps->ept_vpid_cap;
  unsigned mt = eptp & 7, walk = (eptp >> 3) & 7;
  uint64_t rsvd = (0x1Full << 7) | ~((1ull << caps->maxphyaddr) - 1);
  return ((mt == 0 && (cap & EPTCAP_MEMTYPE_UC)) || (mt == 6 && (cap & EPTCAP_MEMTYPE_WB))) &&
         ((walk == 3 && (cap & EPTCAP_WALK_4)) || (walk == 4 && (cap & EPTCAP_WALK_5))) &&
         (!(eptp & BIT64(6)) || (cap & EPTCAP_AD)) && !(eptp & rsvd);
}

struct vmx_insn_result vmx_invept(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                  bool reg_operand, uint64_t type, const uint64_t desc[2])
{
  struct vmx_insn_result r;
  if (!vmx_has_feature(x->caps, VMX_FEAT_EPT) || !(x->caps->ept_vpid_cap & EPTCAP_INVEPT))
    return outcome(VMX_INSN_UD);
  if (prefix(x, s, reg_operand, &r)) return r;
  if (type > 2 || type == 0 || !(x->caps->ept_vpid_cap >> (24 + type) & 1))
    return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  /* The EPTP must be one a VM entry with "enable EPT" would accept. */
  if (type == 1 && !vmx_eptp_valid(x->caps, desc[0])) return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  if (m->invalidate) m->invalidate(m->ctx, VMX_INSN_INVEPT, type, desc[0] & ~0xFFFull, 0);
  return succeed();
}

struct vmx_insn_result vmx_invvpid(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                   bool reg_operand, uint64_t type, const uint64_t desc[2])
{
  struct vmx_insn_result r;
  if (!vmx_has_feature(x->caps, VMX_FEAT_VPID) || !(x->caps->ept_vpid_cap & EPTCAP_INVVPID))
    return outcome(VMX_INSN_UD);
  if (prefix(x, s, reg_operand, &r)) return r;
  if (type > 3 || !(x->caps->ept_vpid_cap >> (40 + type) & 1)) return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  if (desc[0] >> 16) return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  uint64_t vpid = desc[0] & 0xFFFF, addr = desc[1];
  unsigned lb = x->caps->linear_bits;
  bool canonical = (uint64_t)((int64_t)(addr << (64 - lb)) >> (64 - lb)) == addr;
  if (type == 0 && (vpid == 0 || !canonical)) return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  if ((type == 1 || type == 3) && vpid == 0) return vmfail(x, VMXERR_INVALID_INVEPT_INVVPID_OPERAND);
  if (m->invalidate) m->invalidate(m->ctx, VMX_INSN_INVVPID, type, vpid, addr);
  return succeed();
}

struct vmx_insn_result vmx_vmcall(struct vmx_cpu *x, const struct cpu_state *s)
{
  if (!x->vmx_operation) return outcome(VMX_INSN_UD);
  if (x->non_root) return outcome(VMX_INSN_VMEXIT);
  if ((s->rflags & RFLAGS_VM) || compat_mode(s)) return outcome(VMX_INSN_UD);
  if (cpu_cpl(s) > 0) return outcome(VMX_INSN_GP);
  /* Dual-monitor treatment is never active in the model: VMCALL in VMX
   * root operation fails with error 1. */
  return vmfail(x, VMXERR_VMCALL_IN_ROOT);
}

struct vmx_insn_result vmx_vmfunc(struct vmx_cpu *x, const struct cpu_state *s)
{
  /* Outside non-root operation VMFUNC is #UD; inside, the VM-function
   * model (EPTP switching) decides, which belongs to the exit model. */
  if (!x->non_root) return outcome(VMX_INSN_UD);
  return outcome(VMX_INSN_VMEXIT);
}

/* "VM Functions": "If 'enable VM functions' is 0, VMFUNC causes #UD. ...
 * If EAX is greater than 63 or bit EAX of the VM-function controls is 0,
 * VMFUNC causes a VM exit." "EPTP Switching": "If ECX >= 512, a VM exit
 * occurs. The entry at EPTP-list address + 8 * ECX is read; if it is not
 * a valid EPTP, a VM exit occurs; otherwise the EPTP field is loaded
 * (and, with 'EPT-violation #VE', the EPTP index)." */
struct vmx_insn_result vmx_vmfunc_execute(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                          uint32_t eax, uint32_t ecx)
{
  struct vmx_insn_result r = vmx_vmfunc(x, s);
  if (r.outcome != VMX_INSN_VMEXIT) return r;
  struct vmcs *v = &x->current;
  uint32_t proc = (uint32_t)vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL);
  uint32_t proc2 = (proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_get(v, VMCSI_SECONDARY_VM_EXEC_CONTROL) : 0;
  if (!(proc2 & PROC2_ENABLE_VMFUNC)) return outcome(VMX_INSN_UD);
  uint64_t functions = vmcs_get(v, VMCSI_VM_FUNCTION_CONTROL);
  if (eax > 63 || !((functions >> eax) & 1)) return outcome(VMX_INSN_VMEXIT);
  if (eax != 0 || ecx >= 512) return outcome(VMX_INSN_VMEXIT);   /* EPTP switching is the only function */
  uint8_t b[8];
  if (!m->read(m->ctx, vmcs_get(v, VMCSI_EPTP_LIST_ADDRESS) + 8ull * ecx, b, sizeof b)) return outcome(VMX_INSN_VMEXIT);
  uint64_t eptp = 0;
  for (int i = 7; i >= 0; i--) eptp = (eptp << 8) | b[i];
  if (!vmx_eptp_valid(x->caps, eptp)) return outcome(VMX_INSN_VMEXIT);
  vmcs_set(v, VMCSI_EPT_POINTER, eptp);
  if (proc2 & PROC2_EPT_VIOLATION_VE) vmcs_set(v, VMCSI_EPTP_INDEX, ecx);
  return outcome(VMX_INSN_DONE);
}

/* ---- VMCS shadowing ------------------------------------------------------- */

bool vmx_shadow_access(const struct vmx_cpu *x, const struct vmx_mem_ops *m, uint64_t encoding, bool write)
{
  if (!x->non_root) return false;
  const struct vmcs *v = &x->current;
  uint32_t proc = (uint32_t)vmcs_get(v, VMCSI_CPU_BASED_VM_EXEC_CONTROL);
  uint32_t proc2 = (proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_get(v, VMCSI_SECONDARY_VM_EXEC_CONTROL) : 0;
  if (!(proc2 & PROC2_VMCS_SHADOWING) || (encoding >> 15)) return false;
  uint64_t bitmap = vmcs_get(v, write ? VMCSI_VMWRITE_BITMAP : VMCSI_VMREAD_BITMAP);
  uint8_t byte;
  if (!m->read(m->ctx, bitmap + (encoding >> 3), &byte, 1)) return false;
  return !((byte >> (encoding & 7)) & 1);
}

/* The shadow VMCS lives only in its region (it is never current while the
 * guest runs); each access loads and, for VMWRITE, stores it. */
static uint8_t shadow_region[VMCS_REGION_BYTES];
static struct vmcs shadow;

static bool shadow_prefix(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                          struct vmx_insn_result *r, uint64_t *link)
{
  if (cpu_cpl(s) > 0) {
    *r = outcome(VMX_INSN_GP);
    return true;
  }
  *link = vmcs_get(&x->current, VMCSI_VMCS_LINK_POINTER);
  if (*link == VMX_INVALID_PTR || !m->read(m->ctx, *link, shadow_region, sizeof shadow_region)) {
    *r = outcome(VMX_INSN_FAIL_INVALID);
    return true;
  }
  vmcs_region_load(&shadow, shadow_region, sizeof shadow_region);
  return false;
}

struct vmx_insn_result vmx_vmread_shadow(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                         uint64_t encoding)
{
  struct vmx_insn_result r;
  uint64_t link, value = 0;
  if (shadow_prefix(x, s, m, &r, &link)) return r;
  unsigned err = vmcs_vmread(&shadow, x->caps, encoding & (opsize(s) == 64 ? ~0ull : 0xFFFFFFFFull), opsize(s), &value);
  if (err) return vmfail(x, err);
  r = succeed();
  r.value = value;
  return r;
}

struct vmx_insn_result vmx_vmwrite_shadow(struct vmx_cpu *x, const struct cpu_state *s, const struct vmx_mem_ops *m,
                                          uint64_t encoding, uint64_t value)
{
  struct vmx_insn_result r;
  uint64_t link;
  if (shadow_prefix(x, s, m, &r, &link)) return r;
  uint64_t mask = opsize(s) == 64 ? ~0ull : 0xFFFFFFFFull;
  unsigned err = vmcs_vmwrite(&shadow, x->caps, encoding & mask, opsize(s), value & mask);
  if (err) return vmfail(x, err);
  vmcs_region_store(&shadow, shadow_region, sizeof shadow_region);
  m->write(m->ctx, link, shadow_region, sizeof shadow_region);
  return succeed();
}
