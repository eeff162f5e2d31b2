/* The VMCS field catalogue expanded into tables, and the VMREAD/VMWRITE
 * access rules (SDM Vol. 3C, "VMREAD", "VMWRITE", appendix "Field Encoding
 * in VMCS"). */
#include "models/vmx/vmcs.h"

#include <string.h>

#include "models/vmx/vmx_bits.h"

/* Each declared encoding agrees with its declared width and type, has
 * access type "full" and no reserved bit set. */
#define VMCS_FIELD(n, e, w, t, f)                                              \
  _Static_assert(VMCS_ENC_WIDTH(e) == VMCS_WIDTH_##w, #n ": width bits 14:13"); \
  _Static_assert(VMCS_ENC_TYPE(e) == VMCS_TYPE_##t, #n ": type bits 11:10");     \
  _Static_assert(((e) & (VMCS_ENC_RESERVED | 1u)) == 0, #n ": reserved/high bits");
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD

/* The region layout fits the smallest region any modelled CPU reports. */
_Static_assert(VMCS_REGION_BYTES <= 4096, "VMCS fields do not fit a 4 KiB region");

const struct vmcs_field_info vmcs_fields[VMCS_FIELD_COUNT] = {
#define VMCS_FIELD(n, e, w, t, f) \
  [VMCSI_##n] = { #n, e, VMCS_WIDTH_##w, VMCS_TYPE_##t, VMX_FEAT_##f },
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* A switch over the catalogue: VMREAD and VMWRITE look a field up on every
 * execution, and a hypervisor runs a dozen of them per exit. */
static int field_by_full_encoding(uint32_t full)
{
  switch (full) {
#define VMCS_FIELD(n, e, w, t, f) case e: return VMCSI_##n;
#include "models/vmx/vmcs_fields.def"
#undef VMCS_FIELD
  default: return -1;   /* not in the catalogue */
  }
}

int vmcs_field_by_encoding(uint32_t encoding)
{
  int i = field_by_full_encoding(encoding & ~1u);
  /* Only 64-bit fields have a HIGH encoding. */
  if (i < 0 || (VMCS_ENC_HIGH(encoding) && vmcs_fields[i].width != VMCS_WIDTH_W64)) return -1;
  return i;
}

int vmcs_field_by_name(const char *name, bool *high)
{
  size_t len = strlen(name);
  bool is_high = len > 5 && strcmp(name + len - 5, "_HIGH") == 0;
  if (high) *high = false;
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
    if (strcmp(vmcs_fields[i].name, name) == 0) return i;
    if (is_high && vmcs_fields[i].width == VMCS_WIDTH_W64 &&
        strlen(vmcs_fields[i].name) == len - 5 &&
        strncmp(vmcs_fields[i].name, name, len - 5) == 0) {
      if (high) *high = true;
      return i;
    }
  }
  return -1;
}

bool vmcs_field_supported(const struct vmx_caps *caps, enum vmcs_field f)
{
  return vmx_has_feature(caps, vmcs_fields[f].feature);
}

unsigned vmcs_width_bits(enum vmcs_width w)
{
  switch (w) {
  case VMCS_WIDTH_W16: return 16;
  case VMCS_WIDTH_W32: return 32;
  case VMCS_WIDTH_W64: return 64;
  case VMCS_WIDTH_WNAT: return 64;
  }
  return 64; /* unreachable: the enum has four values */
}

static uint64_t width_mask(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

/* The field an encoding operand names on this model, or -1 (error 12):
 * bits 63:32 of the operand must be 0, the encoding must be in the
 * catalogue and the field must exist on the model. */
static int lookup(const struct vmx_caps *caps, uint64_t encoding)
{
  if (encoding >> 32) return -1;
  int f = vmcs_field_by_encoding((uint32_t)encoding);
  if (f < 0 || !vmcs_field_supported(caps, f)) return -1;
  return f;
}

int vmcs_vmread(const struct vmcs *v, const struct vmx_caps *caps,
                uint64_t encoding, unsigned opsize, uint64_t *out)
{
  int f = lookup(caps, encoding);
  if (f < 0) return VMXERR_UNSUPPORTED_FIELD;
  uint64_t value = v->val[f];
  if (VMCS_ENC_HIGH(encoding)) value >>= 32;
  *out = value & width_mask(opsize);
  return VMXERR_NONE;
}

int vmcs_vmwrite(struct vmcs *v, const struct vmx_caps *caps,
                 uint64_t encoding, unsigned opsize, uint64_t value)
{
  int f = lookup(caps, encoding);
  if (f < 0) return VMXERR_UNSUPPORTED_FIELD;
  if (vmcs_fields[f].type == VMCS_TYPE_EXIT && !(caps->misc & MISC_VMWRITE_ANY_FIELD))
    return VMXERR_VMWRITE_READ_ONLY;
  value &= width_mask(opsize);
  if (VMCS_ENC_HIGH(encoding)) {
    vmcs_set(v, f, (v->val[f] & 0xFFFFFFFFull) | ((value & 0xFFFFFFFFull) << 32));
    return VMXERR_NONE;
  }
  vmcs_set(v, f, value);
  return VMXERR_NONE;
}

static void put32(uint8_t *p, uint32_t x) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i)); }
static void put64(uint8_t *p, uint64_t x) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(x >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t x = 0; for (int i = 3; i >= 0; i--) x = (x << 8) | p[i]; return x; }
static uint64_t get64(const uint8_t *p) { uint64_t x = 0; for (int i = 7; i >= 0; i--) x = (x << 8) | p[i]; return x; }

bool vmcs_region_store(const struct vmcs *v, uint8_t *region, size_t size)
{
  if (size < VMCS_REGION_BYTES) return false;
  put32(region, v->revision);
  put32(region + 4, v->abort);
  put32(region + VMCS_REGION_LAUNCH_OFFSET, v->launched ? 1 : 0);
  put32(region + VMCS_REGION_LAUNCH_OFFSET + 4, 0);
  for (int i = 0; i < VMCS_FIELD_COUNT; i++)
    put64(region + VMCS_REGION_FIELDS_OFFSET + 8 * i, v->val[i]);
  return true;
}

bool vmcs_region_load(struct vmcs *v, const uint8_t *region, size_t size)
{
  if (size < VMCS_REGION_BYTES) return false;
  v->revision = get32(region);
  v->abort = get32(region + 4);
  v->launched = get32(region + VMCS_REGION_LAUNCH_OFFSET) == 1;
  for (int i = 0; i < VMCS_FIELD_COUNT; i++)
    vmcs_set(v, i, get64(region + VMCS_REGION_FIELDS_OFFSET + 8 * i));
  return true;
}
