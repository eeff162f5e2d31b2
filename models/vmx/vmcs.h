/* The VMCS: field catalogue (expanded from vmcs_fields.def), the model's
 * storage of a VMCS, and the VMREAD/VMWRITE access rules.
 *
 * Storage. The model keeps the current VMCS's field values in a
 * `struct vmcs` (an array indexed by catalogue position: the processor's
 * VMCS cache) and writes it to / reads it from the VMCS region in guest
 * memory at VMCLEAR / VMPTRLD (vmcs_region_store / vmcs_region_load). The
 * region is then the only place the state of a non-current VMCS lives, as
 * on hardware: a snapshot of RAM plus the CPU is the whole machine, no side
 * table keyed by address grows with what a guest VMPTRLDs, and a region is
 * meaningful to tools (explain-vmcs, fuzzers). The region's layout is
 * private to the model except for its first 8 bytes, which the SDM fixes
 * ("Format of the VMCS Region"): bits 30:0 revision identifier, bit 31
 * shadow-VMCS indicator, then the 32-bit VMX-abort indicator. The model
 * puts its launch state at offset 8 and field values, 8 bytes each in
 * catalogue order, from offset 16. */
#ifndef HVSIM_MODELS_VMX_VMCS_H
#define HVSIM_MODELS_VMX_VMCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vmx/caps.h"

/* Encoding bits (SDM appendix "Field Encoding in VMCS"): bit 0 access type
 * (1 = high half of a 64-bit field), 9:1 index, 11:10 type, 12 reserved,
 * 14:13 width, 31:15 reserved. */
enum vmcs_width { VMCS_WIDTH_W16 = 0, VMCS_WIDTH_W64 = 1, VMCS_WIDTH_W32 = 2, VMCS_WIDTH_WNAT = 3 };
enum vmcs_type { VMCS_TYPE_CTRL = 0, VMCS_TYPE_EXIT = 1, VMCS_TYPE_GUEST = 2, VMCS_TYPE_HOST = 3 };
#define VMCS_ENC_HIGH(e)      ((e) & 1u)
#define VMCS_ENC_INDEX(e)     (((e) >> 1) & 0x1FFu)
#define VMCS_ENC_TYPE(e)      (((e) >> 10) & 3u)
#define VMCS_ENC_WIDTH(e)     (((e) >> 13) & 3u)
#define VMCS_ENC_RESERVED     0xFFFF9000u

/* Encodings: VMCS_<NAME> = encoding, VMCS_<NAME>_HIGH for 64-bit fields. */
enum vmcs_encoding {
#define VMCS_FIELD(n, e, w, t, f) VMCS_##n = e,
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD
#define VMCS_FIELD(n, e, w, t, f)
#define VMCS_FIELD64(n, e, t, f) VMCS_##n##_HIGH = (e) | 1,
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Catalogue positions: VMCSI_<NAME>, 0 .. VMCS_FIELD_COUNT-1. */
enum vmcs_field {
#define VMCS_FIELD(n, e, w, t, f) VMCSI_##n,
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD
  VMCS_FIELD_COUNT
};

struct vmcs_field_info {
  const char *name;          /* catalogue name, e.g. "GUEST_CR0" */
  uint32_t encoding;         /* full (low) encoding */
  enum vmcs_width width;
  enum vmcs_type type;
  enum vmx_feature feature;
};
extern const struct vmcs_field_info vmcs_fields[VMCS_FIELD_COUNT];

/* Catalogue position of an encoding's field (HIGH encodings map to their
 * 64-bit field); -1 when no field has that encoding. */
int vmcs_field_by_encoding(uint32_t encoding);
/* Catalogue position of a name ("GUEST_CR0", or "GUEST_CR0_HIGH" which also
 * sets *high); -1 when unknown. */
int vmcs_field_by_name(const char *name, bool *high);
/* Does the field exist on this CPU model? */
bool vmcs_field_supported(const struct vmx_caps *caps, enum vmcs_field f);
/* Bits a field holds: 16, 32 or 64 (natural width is 64 on the modelled
 * 64-bit CPUs). */
unsigned vmcs_width_bits(enum vmcs_width w);

#define VMCS_FIELD_WORDS ((VMCS_FIELD_COUNT + 63) / 64)
/* The groups of VM-entry checks (entry_checks.c: controls, host state,
 * guest registers, guest segments, guest non-register state, MSR loading). */
#define VMCS_CHECK_GROUPS 6

/* What the VM-entry checks remember of a VMCS between entries
 * (vmx_entry_check_memo, entry_checks.h). It travels with the values it
 * describes; all zero = nothing known. */
struct vmcs_check_memo {
  /* One bit per field whose value changed since the checks last ran with
   * the memo. Every store goes through vmcs_set, so none is missed. */
  uint64_t changed[VMCS_FIELD_WORDS];
  const struct vmx_caps *caps;   /* the model and host mode it holds for */
  bool host_ia32e;
  uint8_t passed;                /* bit per group: passed, reading no memory */
  uint64_t inputs[VMCS_CHECK_GROUPS][VMCS_FIELD_WORDS];  /* the fields it read */
};

/* The current VMCS as the processor caches it. */
struct vmcs {
  uint32_t revision;         /* bits 30:0 revision id, bit 31 shadow-VMCS indicator */
  uint32_t abort;            /* VMX-abort indicator */
  bool launched;             /* launch state: false = clear */
  uint64_t val[VMCS_FIELD_COUNT];
  struct vmcs_check_memo memo;
};

static inline uint64_t vmcs_get(const struct vmcs *v, enum vmcs_field f) { return v->val[f]; }
/* Stores a value truncated to the field's width, noting a change (inline:
 * a VM exit saves some fifty fields). */
static inline void vmcs_set(struct vmcs *v, enum vmcs_field f, uint64_t value)
{
  switch (vmcs_fields[f].width) {
  case VMCS_WIDTH_W16: value &= 0xFFFFu; break;
  case VMCS_WIDTH_W32: value &= 0xFFFFFFFFu; break;
  case VMCS_WIDTH_W64: case VMCS_WIDTH_WNAT: break;
  }
  v->memo.changed[f / 64] |= (uint64_t)(v->val[f] != value) << (f % 64);
  v->val[f] = value;
}

/* VMREAD / VMWRITE of one encoding (SDM Vol. 3C "VMREAD", "VMWRITE").
 * `encoding` is the full register operand (bits 63:32 nonzero in 64-bit
 * mode = unsupported field); `opsize` the operand size, 32 or 64.
 * Return the VM-instruction error: VMXERR_NONE, VMXERR_UNSUPPORTED_FIELD
 * (12) or VMXERR_VMWRITE_READ_ONLY (13; VM-exit information fields are
 * read-only unless IA32_VMX_MISC bit 29).
 * Width rules: a HIGH encoding accesses bits 63:32 of a 64-bit field as a
 * 32-bit value; a field shorter than the operand is zero-extended on read
 * and the operand's high bits ignored on write; a field longer than the
 * operand is read truncated and written with its high bits cleared. */
int vmcs_vmread(const struct vmcs *v, const struct vmx_caps *caps,
                uint64_t encoding, unsigned opsize, uint64_t *out);
int vmcs_vmwrite(struct vmcs *v, const struct vmx_caps *caps,
                 uint64_t encoding, unsigned opsize, uint64_t value);

/* Region layout (see the top of this file). */
#define VMCS_REGION_LAUNCH_OFFSET 8
#define VMCS_REGION_FIELDS_OFFSET 16
#define VMCS_REGION_BYTES (VMCS_REGION_FIELDS_OFFSET + 8 * VMCS_FIELD_COUNT)
/* Both return false when `size` cannot hold the model's layout. */
bool vmcs_region_store(const struct vmcs *v, uint8_t *region, size_t size);
bool vmcs_region_load(struct vmcs *v, const uint8_t *region, size_t size);

#endif
