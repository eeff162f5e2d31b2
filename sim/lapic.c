/* The local APIC registers the machine models and the outcome of every
 * other access (see lapic.h). */
#include "sim/lapic.h"

#include <stdio.h>

void lapic_reset(struct lapic *a, uint8_t id)
{
  *a = (struct lapic){ .id = id, .svr = 0xFF };
}

const char *lapic_reg_name(uint32_t offset)
{
  /* ISR, TMR and IRR are eight registers each, 10H apart. */
  if (offset >= LAPIC_ISR && offset < LAPIC_ISR + 0x80) offset = LAPIC_ISR;
  else if (offset >= LAPIC_TMR && offset < LAPIC_TMR + 0x80) offset = LAPIC_TMR;
  else if (offset >= LAPIC_IRR && offset < LAPIC_IRR + 0x80) offset = LAPIC_IRR;
  switch (offset) {
#define LAPIC_REG_CASE(name, off, text) case off: return text;
  LAPIC_REG_TABLE(LAPIC_REG_CASE)
#undef LAPIC_REG_CASE
  }
  return NULL;
}

/* The register's name, or "reserved", for messages. */
static const char *label(uint32_t offset)
{
  const char *reg = lapic_reg_name(offset & ~0xFu);
  return reg ? reg : "reserved";
}

/* "Local APIC Register Address Map": registers are 128 bits apart and
 * accessed as aligned 32-bit quantities; anything else is undefined. */
static bool aligned_dword(uint32_t offset, unsigned size) { return size == 4 && (offset & 0xF) == 0; }

enum lapic_result lapic_read(struct lapic *a, uint32_t offset, unsigned size, uint32_t *value, char *msg, size_t n)
{
  *value = 0;
  if (!aligned_dword(offset, size)) {
    snprintf(msg, n, "local APIC: %u-byte read at offset 0x%03x: only aligned 32-bit accesses are defined", size,
             offset);
    return LAPIC_UNMODELLED;
  }
  switch (offset) {
  case LAPIC_ID: *value = (uint32_t)a->id << 24; return LAPIC_OK;
  case LAPIC_VERSION: *value = LAPIC_VERSION_VALUE; return LAPIC_OK;
  case LAPIC_SVR: *value = a->svr; return LAPIC_OK;
  case LAPIC_ICR_LOW: *value = a->icr_low; return LAPIC_OK;
  case LAPIC_ICR_HIGH: *value = a->icr_high; return LAPIC_OK;
  }
  snprintf(msg, n, "local APIC: read of register 0x%03x (%s) is not modelled", offset, label(offset));
  return LAPIC_UNMODELLED;
}

/* "Issuing Interprocessor Interrupts" and "Interrupt Command Register
 * (ICR)": the IPI the write to ICR low sends. Modelled: delivery modes
 * NMI, SMI and INIT to this processor (the vector field is ignored for
 * all three) by physical destination: its own APIC ID or FFH, the xAPIC
 * broadcast. The xAPIC issues every IPI as edge triggered ("Valid
 * Combinations for the Pentium 4 and Intel Xeon Processors' Local xAPIC
 * Interrupt Command Register": with no shorthand a level trigger mode is
 * overridden), so the level and trigger-mode bits do not matter, except
 * for the one encoding that means something else elsewhere (below).
 *
 * Shorthands, by the same table: "self" and "all including self" are
 * valid only with fixed delivery; with NMI, SMI and INIT they are marked
 * invalid and the xAPIC table gives no outcome (the P6 table marks the
 * same rows "The behavior of the APIC is undefined"). Undefined: the run
 * stops, naming the combination. (Bochs 2.7 and QEMU 7.2 deliver an NMI
 * sent with "all including self" to the sender: declared,
 * hvsim-icr-nmi-all-including-self-stops.) */
static enum lapic_result send_ipi(struct lapic *a, uint32_t low, char *msg, size_t n)
{
  static const char *const modes[8] = {"fixed", "lowest priority", "SMI", "reserved (3)", "NMI", "INIT",
                                       "start-up", "reserved (7)"};
  static const char *const shorthands[4] = {"no shorthand", "self", "all including self", "all excluding self"};
  unsigned mode = LAPIC_ICR_DELIVERY_MODE(low), sh = LAPIC_ICR_SHORTHAND(low);
  enum lapic_result sent = mode == LAPIC_DM_NMI ? LAPIC_SEND_NMI : mode == LAPIC_DM_SMI ? LAPIC_SEND_SMI
                         : mode == LAPIC_DM_INIT ? LAPIC_SEND_INIT : LAPIC_UNMODELLED;
  if (sent == LAPIC_UNMODELLED) {
    snprintf(msg, n, "local APIC: ICR write 0x%08x: IPI delivery mode %s is not modelled (only NMI, SMI, INIT)",
             low, modes[mode]);
    return LAPIC_UNMODELLED;
  }
  /* "Level" and "Trigger Mode": level 0 with trigger mode level is the P6
   * APIC's INIT level de-assert, which the xAPIC does not support (it
   * always issues level 1, so this would be an INIT); Bochs 2.7 and QEMU
   * 7.2 drop it. No outcome is agreed on: stop. */
  if (mode == LAPIC_DM_INIT && !(low & LAPIC_ICR_LEVEL) && (low & LAPIC_ICR_TRIGGER)) {
    snprintf(msg, n, "local APIC: ICR write 0x%08x: INIT level de-assert (level 0, trigger mode level) is not "
             "modelled (not supported by the xAPIC in the SDM; Bochs and QEMU ignore it)", low);
    return LAPIC_UNMODELLED;
  }
  if (sh != LAPIC_SH_NONE) {
    bool invalid = sh == LAPIC_SH_SELF || sh == LAPIC_SH_ALL_INCL_SELF;
    snprintf(msg, n, "local APIC: ICR write 0x%08x: %s with destination shorthand \"%s\" is not modelled%s", low,
             modes[mode], shorthands[sh],
             invalid ? " (not a valid combination in the SDM, which gives it no outcome)" : " (no other processor)");
    return LAPIC_UNMODELLED;
  }
  if (low & LAPIC_ICR_DEST_LOGICAL) {
    snprintf(msg, n, "local APIC: ICR write 0x%08x: logical destination mode is not modelled (no LDR/DFR)", low);
    return LAPIC_UNMODELLED;
  }
  unsigned dest = a->icr_high >> 24;
  if (dest == a->id || dest == 0xFF) return sent;
  snprintf(msg, n, "local APIC: ICR write 0x%08x: %s to APIC ID %u, but the only processor is APIC ID %u "
           "(the send-accept error in ESR is not modelled)", low, modes[mode], dest, a->id);
  return LAPIC_UNMODELLED;
}

static enum lapic_result bad_write(char *msg, size_t n, uint32_t offset, uint32_t value, const char *why)
{
  snprintf(msg, n, "local APIC: write of 0x%08x to register 0x%03x (%s) is not modelled: %s", value, offset,
           label(offset), why);
  return LAPIC_UNMODELLED;
}

enum lapic_result lapic_write(struct lapic *a, uint32_t offset, unsigned size, uint32_t value, char *msg, size_t n)
{
  if (!aligned_dword(offset, size)) {
    snprintf(msg, n, "local APIC: %u-byte write of 0x%x at offset 0x%03x: only aligned 32-bit accesses are defined",
             size, value, offset);
    return LAPIC_UNMODELLED;
  }
  switch (offset) {
  case LAPIC_SVR:
    /* Bit 9 (focus processor checking) and bit 12 (EOI-broadcast
     * suppression, which this version does not offer) are not modelled. */
    if (value & ~LAPIC_SVR_MODELLED)
      return bad_write(msg, n, offset, value, "only bits 8:0 are modelled");
    a->svr = value;
    return LAPIC_OK;
  case LAPIC_ICR_HIGH:
    if (value & ~LAPIC_ICR_HIGH_DEFINED)
      return bad_write(msg, n, offset, value, "bits 23:0 are reserved");
    a->icr_high = value;
    return LAPIC_OK;
  case LAPIC_ICR_LOW:
    if (value & ~LAPIC_ICR_LOW_DEFINED)
      return bad_write(msg, n, offset, value, "it sets reserved bits");
    /* Delivery status is read-only; the model delivers at once, so it
     * always reads 0 (idle). */
    a->icr_low = value & ~LAPIC_ICR_DELIVERY_STATUS;
    return send_ipi(a, a->icr_low, msg, n);
  }
  return bad_write(msg, n, offset, value, "the register is not modelled");
}
