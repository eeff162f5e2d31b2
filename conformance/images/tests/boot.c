/* boot: the multiboot handshake and the switch to long mode worked.
 * Multiboot Specification 0.6.96, "Machine state" and "Boot information
 * format"; SDM Vol. 3A, "Initializing IA-32e Mode". */
#include "rt/rt.h"

#define EFER_LMA (1ull << 10)

static uint32_t zero_in_bss;

struct mb_mmap_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));

/* True when a usable (type 1) region of the map holds [lo, hi). */
static bool mmap_covers(const struct mb_info *mbi, uint64_t lo, uint64_t hi)
{
    uintptr_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
    while (p < end) {
        const struct mb_mmap_entry *e = (const void *)p;
        if (e->type == 1 && e->base <= lo && e->base + e->length >= hi)
            return true;
        p += e->size + sizeof(e->size);
    }
    return false;
}

void test_main(void)
{
    tap_eq(MB_BOOT_MAGIC, rt_mb_magic, "EAX at entry holds the multiboot magic");
    const struct mb_info *mbi = (const void *)(uintptr_t)rt_mb_info;
    /* The loader chooses where; it must not overlap the image. */
    extern char __image_start[], __bss_end[];
    tap_check(rt_mb_info != 0 && (rt_mb_info + sizeof(struct mb_info) <= (uintptr_t)__image_start ||
                                  rt_mb_info >= (uintptr_t)__bss_end),
              "EBX points to an info structure outside the image");
    tap_eq(MB_INFO_MEM, mbi->flags & MB_INFO_MEM, "info flags: mem_lower/mem_upper valid");
    tap_check(mbi->mem_lower >= 256 && mbi->mem_lower <= 640, "mem_lower is 256..640 KiB");
    /* The runner gives every machine 64 MiB; firmware keeps a little at the top. */
    tap_check(mbi->mem_upper >= 60 * 1024 && mbi->mem_upper <= 63 * 1024, "mem_upper is 60..63 MiB");
    tap_eq(MB_INFO_MMAP, mbi->flags & MB_INFO_MMAP, "info flags: memory map valid");
    if (mbi->flags & MB_INFO_MMAP)
        tap_check(mmap_covers(mbi, 0x100000, 0x1000000), "memory map: 1-16 MiB is usable RAM");

    tap_eq(EFER_LMA, rdmsr(MSR_IA32_EFER) & EFER_LMA, "EFER.LMA: long mode active");
    tap_eq(CR0_PG | CR0_PE, read_cr0() & (CR0_PG | CR0_PE), "CR0.PG and CR0.PE set");
    tap_eq(CR4_PAE, read_cr4() & CR4_PAE, "CR4.PAE set");
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    tap_eq(0x18, cs, "CS is the 64-bit code selector");
    tap_eq(0, zero_in_bss, ".bss was cleared");
    tap_check((uintptr_t)&test_main >= 0x100000, "image runs at its load address (1 MiB)");

    /* The boot page tables identity-map RAM: a store at 48 MiB reads back. */
    volatile uint64_t *p48 = (volatile uint64_t *)(uintptr_t)0x3000000;
    *p48 = 0x123456789abcdef0ull;
    tap_eq(0x123456789abcdef0ull, *p48, "identity-mapped RAM at 48 MiB reads back a 64-bit store");
    tap_check(cpuid(0, 0).eax > 0, "CPUID leaf 0: maximum basic leaf > 0");
}
