/* Alignment checking: see align_check.h. */
#include "sim/align_check.h"

#include "sim/exceptions.h"
#include "sim/machine.h"
#include "sim/uc_bridge.h"

static bool far_pointer_load(const ZydisDecodedInstruction *zi)
{
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
  case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS:
    return true;
  case ZYDIS_MNEMONIC_JMP: case ZYDIS_MNEMONIC_CALL:
    return zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
  default:
    return false;
  }
}

unsigned align_required(const struct insn *in, const ZydisDecodedOperand *op)
{
  if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM) return 1;
  const ZydisDecodedInstruction *zi = &in->zi;
  switch (zi->mnemonic) {
  /* Delivery through the IDT pushes on a CPL-0 stack: "memory references
   * that default to privilege level 0 ... do not generate alignment-check
   * exceptions". */
  case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_INT1: case ZYDIS_MNEMONIC_INT3: case ZYDIS_MNEMONIC_INTO:
    return 1;
  /* "GDTR, IDTR, LDTR, or Task Register Contents": 4. */
  case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT:
    return 4;
  /* "FSTENV/FLDENV Save Area", "FSAVE/FRSTOR Save Area": 4 or 2,
   * depending on operand size. */
  case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FLDENV: case ZYDIS_MNEMONIC_FNSAVE: case ZYDIS_MNEMONIC_FRSTOR:
    return zi->operand_width == 16 ? 2 : 4;
  default:
    break;
  }
  /* Far pointers: 32-bit 2, 48-bit 4 (and 80-bit 8), the offset's size. */
  if (far_pointer_load(zi) && op->size > 16) return (unsigned)(op->size - 16) / 8;
  switch (op->size) {
  case 16: return 2;
  case 32: return 4;
  case 64: return 8;
  case 80: return 8;   /* double extended-precision floating point */
  default: return 1;   /* bytes; 128 bits and more: see align_check.h */
  }
}

bool align_check_insn(struct machine *m)
{
  struct insn in;
  if (!insn_decode(m, m->cpu.rip, &in)) return false;   /* Unicorn raises the fetch's fault */
  for (unsigned i = 0; i < in.zi.operand_count; i++) {
    const ZydisDecodedOperand *op = &in.op[i];
    unsigned align = align_required(&in, op);
    if (align == 1 || !(insn_operand_linear(&in, op) & (align - 1))) continue;
    deliver_event(m, &(struct pending_event){.valid = true, .vector = VEC_AC, .has_error = true, .error = 0});
    return true;
  }
  return false;
}
