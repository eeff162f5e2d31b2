/* Loading a multiboot (version 1) image, the kind QEMU's -kernel takes. */
#ifndef HVSIM_SIM_LOADER_H
#define HVSIM_SIM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* Where the loader puts the multiboot information structure, its command
 * line and memory map: conventional memory, below the EBDA. */
#define MULTIBOOT_INFO_ADDR 0x9000u
#define MULTIBOOT_INFO_END  0x9fc00u

struct boot_info {
  uint32_t entry;              /* 32-bit protected-mode entry point */
  uint32_t mbi;                /* physical address of the information structure */
  uint64_t load_start, load_end;
};

/* Loads IMAGE into RAM and writes the multiboot information. Returns 0, or -1
 * with one line in `err` (missing header, malformed ELF, outside RAM...). */
int multiboot_load(uint8_t *ram, uint64_t ram_size, const uint8_t *image, size_t image_size,
                   const char *cmdline, struct boot_info *out, char *err, size_t err_size);

#endif
