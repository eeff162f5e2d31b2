/* Prints a libFuzzer/AFL dictionary of every VMCS field encoding (full and
 * HIGH), as the 4-byte little-endian values a VMREAD/VMWRITE operand holds
 * and as the names the explain-vmcs dump format accepts. Generated from
 * the field catalogue at build time. */
#include <stdio.h>

#include "models/vmx/vmcs.h"

static void entry(const char *name, const char *suffix, unsigned enc)
{
  printf("vmcs_%s%s=\"\\x%02x\\x%02x\\x00\\x00\"\n", name, suffix, enc & 0xFF, (enc >> 8) & 0xFF);
  printf("name_%s%s=\"%s%s\"\n", name, suffix, name, suffix);
}

int main(void)
{
  printf("# VMCS field encodings (generated from models/vmx/vmcs_fields.def)\n");
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
    entry(vmcs_fields[i].name, "", vmcs_fields[i].encoding);
    if (vmcs_fields[i].width == VMCS_WIDTH_W64) entry(vmcs_fields[i].name, "_HIGH", vmcs_fields[i].encoding | 1);
  }
  return 0;
}
