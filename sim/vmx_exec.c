/* The VMX instructions in the running machine (virt_ops.execute, [loop]):
 * Unicorn raises #UD for them; here their operands are decoded (Zydis),
 * register operands read from m->cpu and memory operands through the
 * current translation, the model (models/vmx/vmx_insn.h) decides, and the
 * outcome is applied: RFLAGS for VMsucceed / VMfail, the VMREAD and
 * VMPTRST destinations, #UD / #GP(0) / #PF through the guest IDT, the VM
 * entry, or the VM exit of an instruction executed in VMX non-root
 * operation (SDM Vol. 3C, "VMX Instruction Reference"; "Instructions That
 * Cause VM Exits Unconditionally"; "Information for VM Exits Due to
 * Instruction Execution"). */
#include <string.h>

#include "sim/vmx_internal.h"
/* After the headers whose enums name the same MSRs (caps.h, msr.h). */
#include "models/vmx/vmx_bits.h"

/* X(MNEMONIC): Zydis mnemonic, model instruction and exit reason share the name. */
#define VMX_INSTRUCTIONS(X) \
  X(VMXON) X(VMXOFF) X(VMCLEAR) X(VMPTRLD) X(VMPTRST) X(VMREAD) X(VMWRITE) \
  X(VMLAUNCH) X(VMRESUME) X(INVEPT) X(INVVPID) X(VMCALL) X(VMFUNC)

static bool which(ZydisMnemonic mn, enum vmx_insn *insn, unsigned *reason)
{
  switch (mn) {
#define X(name) case ZYDIS_MNEMONIC_##name: *insn = VMX_INSN_##name; *reason = VMX_EXIT_##name; return true;
    VMX_INSTRUCTIONS(X)
#undef X
  default: return false;
  }
}

int vmx_ext_gpr_number(ZydisRegister r)
{
  if (r == ZYDIS_REGISTER_NONE) return -1;
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15) return -1;
  return (int)(big - ZYDIS_REGISTER_RAX);
}

void vmx_ext_raise(struct machine *m, uint8_t vector, bool has_error, uint32_t error)
{
  struct pending_event ev = { .valid = true, .vector = vector, .has_error = has_error, .error = error };
  deliver_event(m, &ev);
}

/* ---- operands ------------------------------------------------------------- */

static unsigned opsize_bytes(const struct machine *m) { return cpu_in_64bit_mode(&m->cpu) ? 8 : 4; }

static uint64_t reg_value(struct machine *m, ZydisRegister r)
{
  int n = vmx_ext_gpr_number(r);
  uint64_t v = n < 0 ? 0 : m->cpu.gpr[n];
  return opsize_bytes(m) == 8 ? v : (v & 0xFFFFFFFFull);
}

static bool canonical(uint64_t la) { return (uint64_t)((int64_t)(la << 16) >> 16) == la; }

/* A memory operand's access failed: the architectural fault, at the
 * instruction. Non-canonical addresses raise #GP(0), or #SS(0) through SS
 * (SDM Vol. 3A, "Interrupt 12—Stack Fault Exception (#SS)"). */
static void operand_fault(struct machine *m, const ZydisDecodedOperand *op, bool noncanonical)
{
  if (noncanonical) {
    vmx_ext_raise(m, op->mem.segment == ZYDIS_REGISTER_SS ? VEC_SS : VEC_GP, true, 0);
    return;
  }
  if (!m->fault_pending) {
    machine_stop(m, STOP_INTERNAL, 125, "VMX instruction operand outside RAM at rip 0x%llx",
                 (unsigned long long)m->cpu.rip);
    return;
  }
  m->fault_pending = false;
  if (m->fault.kind != MMU_FAULT_PF) {
    machine_stop(m, STOP_INTERNAL, 125, "VMX instruction operand: %s translation fault in VMX root operation",
                 m->fault.reason ? m->fault.reason : "second-level");
    return;
  }
  vmx_ext_raise(m, VEC_PF, true, m->fault.error_code);
}

static bool mem_read(struct machine *m, struct insn *in, const ZydisDecodedOperand *op, void *buf, unsigned len)
{
  uint64_t la = insn_operand_linear(in, op);
  if (cpu_in_64bit_mode(&m->cpu) && (!canonical(la) || !canonical(la + len - 1))) {
    operand_fault(m, op, true);
    return false;
  }
  if (machine_read_linear(m, la, buf, len, false)) {
    debug_bp_model_access(m, la, len, false);   /* "Data Memory and I/O Breakpoint Exception Conditions" */
    return true;
  }
  operand_fault(m, op, false);
  return false;
}

static bool mem_write(struct machine *m, struct insn *in, const ZydisDecodedOperand *op, const void *buf, unsigned len)
{
  uint64_t la = insn_operand_linear(in, op);
  if (cpu_in_64bit_mode(&m->cpu) && (!canonical(la) || !canonical(la + len - 1))) {
    operand_fault(m, op, true);
    return false;
  }
  if (machine_write_linear(m, la, buf, len, false)) {
    debug_bp_model_access(m, la, len, true);
    return true;
  }
  operand_fault(m, op, false);
  return false;
}

/* The r/m operand's value (register or memory) of operand-size width. */
static bool rm_read(struct machine *m, struct insn *in, const ZydisDecodedOperand *op, uint64_t *v)
{
  if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
    *v = reg_value(m, op->reg.value);
    return true;
  }
  *v = 0;
  return mem_read(m, in, op, v, opsize_bytes(m));
}

/* VMREAD's destination: a register (64-bit, or 32-bit zero-extended) or
 * memory of operand size. False when the store faulted (delivered). */
static bool write_vmread_result(struct machine *m, struct insn *in, const ZydisDecodedOperand *dst, uint64_t value)
{
  if (dst->type != ZYDIS_OPERAND_TYPE_REGISTER) return mem_write(m, in, dst, &value, opsize_bytes(m));
  int n = vmx_ext_gpr_number(dst->reg.value);
  if (n >= 0) m->cpu.gpr[n] = value;
  return true;
}

/* ---- VM exits of VMX instructions in non-root operation ------------------ */

/* "Information for VM Exits Due to Instruction Execution": the
 * qualification holds the memory operand's displacement (sign-extended),
 * the instruction-information field its addressing form. */
struct vmx_insn_operands vmx_ext_operands(struct insn *in, const ZydisDecodedOperand *rm, uint64_t *qualification)
{
  struct vmx_insn_operands o = { .index = -1, .base = -1 };
  o.addr_size = in->zi.address_width == 16 ? 0 : in->zi.address_width == 32 ? 1 : 2;
  *qualification = 0;
  if (rm->type == ZYDIS_OPERAND_TYPE_REGISTER) {
    o.reg_form = true;
    o.reg1 = (unsigned)vmx_ext_gpr_number(rm->reg.value);
    return o;
  }
  o.scale = rm->mem.scale;
  o.segment = ZydisRegisterGetId(rm->mem.segment);
  o.index = vmx_ext_gpr_number(rm->mem.index);
  o.base = vmx_ext_gpr_number(rm->mem.base);
  if (rm->mem.disp.has_displacement) *qualification = (uint64_t)rm->mem.disp.value;
  return o;
}

uint32_t vmx_ext_insn_info(struct insn *in, const ZydisDecodedOperand *rm, int reg2, uint64_t *qualification)
{
  struct vmx_insn_operands o = vmx_ext_operands(in, rm, qualification);
  o.reg2 = reg2 < 0 ? 0 : (unsigned)reg2;
  return vmx_insn_info_encode(&o);
}

static void instruction_exit(struct machine *m, struct insn *in, unsigned reason)
{
  struct vmx_exit_info e = { .reason = reason, .insn_len = in->zi.length };
  const ZydisDecodedOperand *rm = NULL;
  int reg2 = -1;
  switch (reason) {
  case VMX_EXIT_VMREAD: rm = &in->op[0]; reg2 = vmx_ext_gpr_number(in->op[1].reg.value); break;
  case VMX_EXIT_VMWRITE: rm = &in->op[1]; reg2 = vmx_ext_gpr_number(in->op[0].reg.value); break;
  case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: rm = &in->op[1]; reg2 = vmx_ext_gpr_number(in->op[0].reg.value); break;
  case VMX_EXIT_VMXON: case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMPTRLD: case VMX_EXIT_VMPTRST: rm = &in->op[0]; break;
  default: break;   /* VMLAUNCH, VMRESUME, VMXOFF, VMCALL, VMFUNC: no operands */
  }
  if (rm) e.insn_info = vmx_ext_insn_info(in, rm, reg2, &e.qualification);
  vmx_ext_exit(m, &e);
}

/* ---- applying outcomes ----------------------------------------------------- */

static void apply(struct machine *m, struct insn *in, const struct vmx_insn_result *r, unsigned reason, bool resume)
{
  /* A VM entry that fails a check names it in the trace (ID and message). */
  if (r->entry && r->entry->id != VMX_ENTRY_OK)
    trace_event(&m->trace, m->insns, "vmentry-check", "VMX_ENTRY_%s: %s", vmx_checks[r->entry->id].name, r->entry->msg);
  switch (r->outcome) {
  case VMX_INSN_SUCCEED: case VMX_INSN_FAIL_INVALID: case VMX_INSN_FAIL_VALID:
    vmx_insn_apply_rflags(&m->cpu, r);
    m->cpu.rip = in->next_rip;
    return;
  case VMX_INSN_UD: vmx_ext_raise(m, VEC_UD, false, 0); return;
  case VMX_INSN_GP: vmx_ext_raise(m, VEC_GP, true, 0); return;
  case VMX_INSN_VMEXIT: instruction_exit(m, in, reason); return;
  case VMX_INSN_ENTERED: vmx_ext_enter(m, !resume); return;
  case VMX_INSN_ENTRY_FAILED: vmx_ext_entry_failed(m); return;
  case VMX_INSN_DONE:
    /* VMFUNC's EPTP switch: a new translation context from here on. */
    m->cpu.rip = in->next_rip;
    m->tlb_flush = true;
    return;
  }
  machine_stop(m, STOP_INTERNAL, 125, "VMX instruction at 0x%llx: unknown outcome %d", (unsigned long long)in->rip,
               (int)r->outcome);
}

/* VMREAD / VMWRITE of the shadow VMCS in non-root operation ("VMCS
 * Shadowing"): the same operand handling as in root operation, the model's
 * shadow functions, no VM exit. */
static void shadow_access(struct machine *m, struct insn *in, enum vmx_insn insn)
{
  struct vmx_ext *x = vmx_ext_of(m);
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  const ZydisDecodedOperand *op0 = &in->op[0], *op1 = &in->op[1];
  struct vmx_insn_result r;
  if (insn == VMX_INSN_VMWRITE) {
    uint64_t value = 0;
    if (cpu_cpl(&m->cpu) == 0 && !rm_read(m, in, op1, &value)) return;
    r = vmx_vmwrite_shadow(&x->cpu, &m->cpu, &mem, reg_value(m, op0->reg.value), value);
  } else {
    r = vmx_vmread_shadow(&x->cpu, &m->cpu, &mem, reg_value(m, op1->reg.value));
    if (r.outcome == VMX_INSN_SUCCEED && !write_vmread_result(m, in, op0, r.value)) return;
  }
  apply(m, in, &r, VMX_EXIT_VMREAD, false);
}

static void trace_vmx_insn(struct machine *m, const struct insn *in)
{
  trace_event(&m->trace, m->insns, "vmx", "%s rip=0x%llx", ZydisMnemonicGetString(in->zi.mnemonic),
              (unsigned long long)in->rip);
}

/* VMREAD and VMWRITE between registers in VMX root operation, in 64-bit
 * mode at CPL 0 with a current VMCS: none of their #UD, #GP or VM-exit
 * conditions can hold (SDM Vol. 3C, "VMREAD", "VMWRITE"), so the field
 * alone decides between VMsucceed and VMfailValid. The ones that succeed
 * are carried out here on the live registers, the same way as in
 * vmx_ext_execute (untraced): a hypervisor runs a handful per exit.
 * Anything else, a VMfail included, goes through vmx_ext_execute. */
bool vmx_ext_execute_in_hook(struct machine *m, const struct insn *in)
{
  enum vmx_insn insn;
  unsigned reason;
  if (!which(in->zi.mnemonic, &insn, &reason) || (insn != VMX_INSN_VMREAD && insn != VMX_INSN_VMWRITE)) return false;
  struct vmx_ext *x = vmx_ext_of(m);
  if (!x->cpu.vmx_operation || x->cpu.non_root || x->cpu.current_vmcs_ptr == VMX_INVALID_PTR) return false;
  if (in->mode.cpl != 0 || !in->mode.cs64) return false;
  const ZydisDecodedOperand *op0 = &in->op[0], *op1 = &in->op[1];
  if (op0->type != ZYDIS_OPERAND_TYPE_REGISTER || op1->type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  int a = vmx_ext_gpr_number(op0->reg.value), b = vmx_ext_gpr_number(op1->reg.value);
  if (a < 0 || b < 0) return false;
  struct uc_bridge *br = m->bridge;
  if (insn == VMX_INSN_VMREAD) {
    uint64_t value = 0;
    if (vmcs_vmread(&x->cpu.current, x->cpu.caps, uc_bridge_gpr(br, (enum gpr)b), 64, &value) != VMXERR_NONE)
      return false;
    uc_bridge_set_gpr(br, (enum gpr)a, value);
  } else {
    if (vmcs_vmwrite(&x->cpu.current, x->cpu.caps, uc_bridge_gpr(br, (enum gpr)a), 64,
                     uc_bridge_gpr(br, (enum gpr)b)) != VMXERR_NONE)
      return false;
  }
  /* VMsucceed's flags, by the model's rule. */
  struct cpu_state flags;
  flags.rflags = uc_bridge_rflags(br);
  vmx_insn_apply_rflags(&flags, &(struct vmx_insn_result){.outcome = VMX_INSN_SUCCEED});
  uc_bridge_set_rflags(br, flags.rflags);
  uc_bridge_redirect(br, in->next_rip);
  return true;
}

bool vmx_ext_execute(struct machine *m, struct insn *in)
{
  enum vmx_insn insn;
  unsigned reason;
  if (!which(in->zi.mnemonic, &insn, &reason)) return false;
  /* Unicorn raises the #UD of a VMX instruction that follows a stepped
   * instruction in the same translation block before its instruction
   * count ends the run: a #DB held for blocking by MOV SS is due first,
   * before this instruction. */
  if (vmx_ext_deliver_held_dbg(m)) return true;
  struct vmx_ext *x = vmx_ext_of(m);
  struct cpu_state *s = &m->cpu;
  struct vmx_mem_ops mem = vmx_ext_mem(m);
  const ZydisDecodedOperand *op0 = &in->op[0], *op1 = &in->op[1];
  struct vmx_insn_result r = vmx_insn_precheck(&x->cpu, s, insn);
  /* A VMREAD or VMWRITE that succeeds moves one value, like a MOV:
   * hypervisors run a dozen per exit, and the trace leaves them out (as it
   * does RDMSRs that do not fault); what they change shows in the next VM
   * entry or exit. A VMLAUNCH or VMRESUME that gets past its own checks is
   * traced by the entry ("vmentry", or "vmentry-failed" with
   * "vmentry-check"). */
  bool traced_by_outcome = insn == VMX_INSN_VMREAD || insn == VMX_INSN_VMWRITE || insn == VMX_INSN_VMLAUNCH ||
                           insn == VMX_INSN_VMRESUME;
  if (!traced_by_outcome || r.outcome != VMX_INSN_SUCCEED) trace_vmx_insn(m, in);
  if (r.outcome == VMX_INSN_VMEXIT && (insn == VMX_INSN_VMREAD || insn == VMX_INSN_VMWRITE) &&
      vmx_shadow_access(&x->cpu, &mem, reg_value(m, (insn == VMX_INSN_VMREAD ? op1 : op0)->reg.value),
                        insn == VMX_INSN_VMWRITE)) {
    shadow_access(m, in, insn);
    return true;
  }
  if (r.outcome != VMX_INSN_SUCCEED) {
    apply(m, in, &r, reason, false);
    return true;
  }
  uint64_t a = 0, b = 0, desc[2] = { 0, 0 };
  switch (insn) {
  case VMX_INSN_VMXON:
    if (!x->cpu.vmx_operation && !mem_read(m, in, op0, &a, 8)) return true;
    r = vmx_vmxon(&x->cpu, s, &mem, false, a);
    break;
  case VMX_INSN_VMXOFF: r = vmx_vmxoff(&x->cpu, s); break;
  case VMX_INSN_VMCLEAR:
    if (!mem_read(m, in, op0, &a, 8)) return true;
    r = vmx_vmclear(&x->cpu, s, &mem, false, a);
    break;
  case VMX_INSN_VMPTRLD:
    if (!mem_read(m, in, op0, &a, 8)) return true;
    r = vmx_vmptrld(&x->cpu, s, &mem, false, a);
    break;
  case VMX_INSN_VMPTRST:
    r = vmx_vmptrst(&x->cpu, s, false);
    if (r.outcome == VMX_INSN_SUCCEED && !mem_write(m, in, op0, &r.value, 8)) return true;
    break;
  case VMX_INSN_VMREAD:
    r = vmx_vmread(&x->cpu, s, reg_value(m, op1->reg.value));
    if (r.outcome != VMX_INSN_SUCCEED) trace_vmx_insn(m, in);
    if (r.outcome == VMX_INSN_SUCCEED && !write_vmread_result(m, in, op0, r.value)) return true;
    break;
  case VMX_INSN_VMWRITE:
    if (!rm_read(m, in, op1, &b)) return true;
    r = vmx_vmwrite(&x->cpu, s, reg_value(m, op0->reg.value), b);
    if (r.outcome != VMX_INSN_SUCCEED) trace_vmx_insn(m, in);
    break;
  case VMX_INSN_VMLAUNCH: case VMX_INSN_VMRESUME:
    irq_shadow_sync(m);   /* VMfailValid(26) after MOV SS / POP SS */
    r = vmx_vmlaunch(&x->cpu, s, &mem, insn == VMX_INSN_VMRESUME);
    if (r.outcome == VMX_INSN_FAIL_VALID || r.outcome == VMX_INSN_FAIL_INVALID) trace_vmx_insn(m, in);
    break;
  case VMX_INSN_INVEPT: case VMX_INSN_INVVPID:
    if (!mem_read(m, in, op1, desc, 16)) return true;
    a = reg_value(m, op0->reg.value);
    r = insn == VMX_INSN_INVEPT ? vmx_invept(&x->cpu, s, &mem, false, a, desc)
                                : vmx_invvpid(&x->cpu, s, &mem, false, a, desc);
    break;
  case VMX_INSN_VMCALL: r = vmx_vmcall(&x->cpu, s); break;
  case VMX_INSN_VMFUNC:
    r = vmx_vmfunc_execute(&x->cpu, s, &mem, (uint32_t)s->gpr[GPR_RAX], (uint32_t)s->gpr[GPR_RCX]);
    break;
  }
  apply(m, in, &r, reason, insn == VMX_INSN_VMRESUME);
  return true;
}
