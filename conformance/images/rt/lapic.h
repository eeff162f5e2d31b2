/* The local APIC for the test images: mapping its register page (xAPIC
 * mode, at IA32_APIC_BASE) into the boot page tables and sending an NMI to
 * this processor through the ICR. SDM Vol. 3A, "Advanced Programmable
 * Interrupt Controller (APIC)": "Local APIC Status and Location",
 * "Local APIC Register Address Map", "Interrupt Command Register (ICR)".
 * 64-bit images only (rt/boot.S identity-maps the first GiB; the APIC page
 * is in the fourth). */
#ifndef HVSIM_IMAGES_RT_LAPIC_H
#define HVSIM_IMAGES_RT_LAPIC_H

#include "rt/rt.h"

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_BSP (1ull << 8)

#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_SVR 0x0F0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310

#define ICR_NMI (4u << 8)               /* delivery mode NMI, physical, no shorthand */
#define ICR_ALL_INCLUDING_SELF (2u << 18)

extern uint64_t rt_boot_pdpt[512];
static uint64_t lapic_pd[512] __attribute__((aligned(4096)));
static volatile uint32_t *lapic_page;

/* Maps the 2-MByte page that holds the APIC page (uncached, PCD|PWT), at
 * its physical address, and returns the APIC's physical base. */
static inline uint64_t lapic_map(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & ~0xFFFull & 0xFFFFFFFFFull;
    uint64_t gib = base >> 30, big = base & ~0x1FFFFFull;
    rt_boot_pdpt[gib] = (uintptr_t)lapic_pd | 0x3;
    lapic_pd[(base >> 21) & 511] = big | 0x83 | 0x18;
    write_cr3(read_cr3());
    lapic_page = (volatile uint32_t *)(uintptr_t)base;
    return base;
}

static inline uint32_t lapic_read(unsigned reg) { return lapic_page[reg / 4]; }
static inline void lapic_write(unsigned reg, uint32_t v) { lapic_page[reg / 4] = v; }

/* An NMI to this processor: destination = its own APIC ID, physical. */
static inline void lapic_self_nmi(void)
{
    lapic_write(APIC_ICR_HIGH, lapic_read(APIC_ID) & 0xFF000000u);
    lapic_write(APIC_ICR_LOW, ICR_NMI);
}

#endif
