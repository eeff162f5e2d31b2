/* The VMCB field table, and the compile-time proof that struct svm_vmcb
 * places every field where the catalogue (vmcb_fields.def, taken from AMD
 * APM Vol. 2 appendix "Layout of VMCB") says. */
#include "models/svm/vmcb.h"

#include <string.h>

/* One assert per field: offset and width of the struct member equal the
 * catalogue's. */
#define SVM_VMCB_FIELD(id, name, member, offset, size)                              \
  _Static_assert(offsetof(struct svm_vmcb, member) == (offset), "VMCB offset of " name); \
  _Static_assert(sizeof(((struct svm_vmcb *)0)->member) == (size), "VMCB size of " name);
#include "models/svm/vmcb_fields.def"
#undef SVM_VMCB_FIELD

/* Reserved areas sit between the fields named above; their starts are fixed
 * too so a mistyped array length is caught next to the field it shifts. */
_Static_assert(offsetof(struct svm_vmcb, control.reserved_018) == 0x018, "reserved 0x018");
_Static_assert(offsetof(struct svm_vmcb, control.reserved_110) == 0x110, "reserved 0x110");
_Static_assert(offsetof(struct svm_vmcb, control.reserved_host) == 0x3E0, "reserved 0x3E0");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_4a0) == 0x4A0, "reserved 0x4A0");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_4d8) == 0x4D8, "reserved 0x4D8");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_580) == 0x580, "reserved 0x580");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_648) == 0x648, "reserved 0x648");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_698) == 0x698, "reserved 0x698");
_Static_assert(offsetof(struct svm_vmcb, save.reserved_6e8) == 0x6E8, "reserved 0x6E8");
_Static_assert(offsetof(struct svm_vmcb, control.insn_bytes) == 0x0D1, "instruction bytes");

const struct svm_vmcb_field svm_vmcb_fields[SVM_FIELD_COUNT] = {
#define SVM_VMCB_FIELD(id, name, member, offset, size) [SVM_FIELD_##id] = {name, offset, size},
#include "models/svm/vmcb_fields.def"
#undef SVM_VMCB_FIELD
};

const struct svm_vmcb_field *svm_vmcb_field_by_name(const char *name)
{
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++)
    if (strcmp(svm_vmcb_fields[i].name, name) == 0) return &svm_vmcb_fields[i];
  return NULL;
}

/* The VMCB is little-endian in memory; assemble byte by byte so the model
 * does not depend on the host's byte order. */
uint64_t svm_vmcb_field_read(const struct svm_vmcb *v, const struct svm_vmcb_field *f)
{
  const uint8_t *p = (const uint8_t *)v + f->offset;
  uint64_t value = 0;
  for (unsigned i = 0; i < f->size; i++) value |= (uint64_t)p[i] << (8 * i);
  return value;
}

void svm_vmcb_field_write(struct svm_vmcb *v, const struct svm_vmcb_field *f, uint64_t value)
{
  uint8_t *p = (uint8_t *)v + f->offset;
  for (unsigned i = 0; i < f->size; i++) p[i] = (uint8_t)(value >> (8 * i));
}
