/* The local APIC of the machine's one processor, as far as the machine
 * models it: the xAPIC MMIO registers software reads to identify it (ID,
 * Version), the spurious-interrupt vector register, and the Interrupt
 * Command Register sending an NMI, SMI or INIT to the processor itself —
 * the one source of these signals real software uses on a single
 * processor. Pure logic: the machine (sim/irq.c) maps the page and raises
 * the signal.
 *
 * SDM Vol. 3A, "Advanced Programmable Interrupt Controller (APIC)":
 * "Local APIC Register Address Map", "Local APIC ID", "Local APIC Version
 * Register", "Spurious-Interrupt Vector Register (SVR)", "Interrupt
 * Command Register (ICR)", "Issuing Interprocessor Interrupts".
 *
 * Everything else has a stated outcome, never a silent fake: a read or
 * write of a register the model lacks (TPR, EOI, IRR, LVT, timer, ...), an
 * access that is not an aligned 32-bit access, a write that sets reserved
 * or unmodelled bits, and an IPI other than an NMI, SMI or INIT to this
 * processor (fixed, lowest-priority, SIPI; combinations the SDM calls
 * invalid; logical destinations; other APIC IDs, which no processor
 * accepts and the unmodelled ESR would record) give LAPIC_UNMODELLED with a message naming the register or
 * mode: the machine stops the run with it. */
#ifndef HVSIM_SIM_LAPIC_H
#define HVSIM_SIM_LAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IA32_APIC_BASE (SDM Vol. 3A, "Local APIC Status and Location"): bit 11
 * is the APIC global enable; bits 12 and up the page's base. */
#define LAPIC_BASE_ENABLE (1ull << 11)

/* Register offsets in the 4 KiB page ("Local APIC Register Address Map"). */
#define LAPIC_REG_TABLE(X)              \
  X(ID, 0x020, "Local APIC ID")         \
  X(VERSION, 0x030, "Local APIC Version") \
  X(TPR, 0x080, "Task Priority")        \
  X(APR, 0x090, "Arbitration Priority") \
  X(PPR, 0x0A0, "Processor Priority")   \
  X(EOI, 0x0B0, "EOI")                  \
  X(RRD, 0x0C0, "Remote Read")          \
  X(LDR, 0x0D0, "Logical Destination")  \
  X(DFR, 0x0E0, "Destination Format")   \
  X(SVR, 0x0F0, "Spurious Interrupt Vector") \
  X(ISR, 0x100, "In-Service (ISR)")     \
  X(TMR, 0x180, "Trigger Mode (TMR)")   \
  X(IRR, 0x200, "Interrupt Request (IRR)") \
  X(ESR, 0x280, "Error Status")         \
  X(LVT_CMCI, 0x2F0, "LVT CMCI")        \
  X(ICR_LOW, 0x300, "Interrupt Command (ICR) bits 0-31") \
  X(ICR_HIGH, 0x310, "Interrupt Command (ICR) bits 32-63") \
  X(LVT_TIMER, 0x320, "LVT Timer")      \
  X(LVT_THERMAL, 0x330, "LVT Thermal Sensor") \
  X(LVT_PERF, 0x340, "LVT Performance Monitoring Counters") \
  X(LVT_LINT0, 0x350, "LVT LINT0")      \
  X(LVT_LINT1, 0x360, "LVT LINT1")      \
  X(LVT_ERROR, 0x370, "LVT Error")      \
  X(TIMER_ICR, 0x380, "Initial Count (timer)") \
  X(TIMER_CCR, 0x390, "Current Count (timer)") \
  X(TIMER_DCR, 0x3E0, "Divide Configuration (timer)")

enum lapic_reg {
#define LAPIC_REG_ENUM(name, off, text) LAPIC_##name = off,
  LAPIC_REG_TABLE(LAPIC_REG_ENUM)
#undef LAPIC_REG_ENUM
};

/* The Version register: version 14H (an integrated xAPIC) and Max LVT
 * Entry 5 (six LVT entries: timer, thermal, performance counters, LINT0,
 * LINT1, error), what Bochs 2.7 and QEMU 7.2 both report. */
#define LAPIC_VERSION_VALUE 0x00050014u

/* ICR fields ("Interrupt Command Register (ICR)"). */
#define LAPIC_ICR_VECTOR(v) ((v) & 0xFFu)
#define LAPIC_ICR_DELIVERY_MODE(v) (((v) >> 8) & 7u)
#define LAPIC_ICR_DEST_LOGICAL (1u << 11)
#define LAPIC_ICR_DELIVERY_STATUS (1u << 12)
#define LAPIC_ICR_LEVEL (1u << 14)
#define LAPIC_ICR_TRIGGER (1u << 15)
#define LAPIC_ICR_SHORTHAND(v) (((v) >> 18) & 3u)
#define LAPIC_ICR_LOW_DEFINED 0x000CDFFFu   /* every defined bit, delivery status included */
#define LAPIC_ICR_HIGH_DEFINED 0xFF000000u  /* the destination field */
#define LAPIC_SVR_MODELLED 0x1FFu           /* vector and APIC software enable */

enum lapic_delivery_mode { LAPIC_DM_FIXED = 0, LAPIC_DM_LOWEST = 1, LAPIC_DM_SMI = 2, LAPIC_DM_NMI = 4,
                           LAPIC_DM_INIT = 5, LAPIC_DM_STARTUP = 6 };
enum lapic_shorthand { LAPIC_SH_NONE = 0, LAPIC_SH_SELF = 1, LAPIC_SH_ALL_INCL_SELF = 2,
                       LAPIC_SH_ALL_EXCL_SELF = 3 };

struct lapic {
  uint8_t id;          /* the Local APIC ID (bits 31:24 of the register) */
  uint32_t svr;        /* bits 8:0 */
  uint32_t icr_low;    /* delivery status always 0: delivery is immediate */
  uint32_t icr_high;   /* bits 31:24 */
};

enum lapic_result {
  LAPIC_OK,
  LAPIC_SEND_NMI,      /* a write to ICR low sent an NMI to this processor */
  LAPIC_SEND_SMI,      /* ... an SMI */
  LAPIC_SEND_INIT,     /* ... an INIT */
  LAPIC_UNMODELLED,    /* the access has no modelled outcome: see the message */
};

/* The state after reset ("Local APIC State After Power-Up or Reset"):
 * SVR = 000000FFH (software disabled), ICR = 0. */
void lapic_reset(struct lapic *a, uint8_t id);

/* The register's name for messages ("Local APIC Register Address Map"),
 * or NULL for an offset that names no register (reserved). */
const char *lapic_reg_name(uint32_t offset);

/* A read or write of `size` bytes at `offset` (0-4095) in the APIC page.
 * The xAPIC's registers are read and written only as aligned 32-bit
 * accesses ("Local APIC Register Address Map": other accesses have
 * undefined results). On LAPIC_UNMODELLED `msg` says what was accessed. */
enum lapic_result lapic_read(struct lapic *a, uint32_t offset, unsigned size, uint32_t *value, char *msg,
                             size_t msg_size);
enum lapic_result lapic_write(struct lapic *a, uint32_t offset, unsigned size, uint32_t value, char *msg,
                              size_t msg_size);

#endif
