/* fuzz_loader: the multiboot loader (sim/loader.c) on arbitrary images.
 * RAM is exactly the loader's minimum (2 MiB), heap-allocated once at its
 * exact size so AddressSanitizer sees any access past it (reused, to keep
 * page faults out of every run), and filled with a pattern first. Properties:
 *  - no crash, no sanitizer report;
 *  - a failure leaves one non-empty line of error text (RAM may hold part
 *    of the image: a boot that fails to load never runs);
 *  - a success loads inside RAM, outside the multiboot information area,
 *    with the entry point inside the loaded range, writes the information
 *    structure (flags, the command line, the boot loader name), and leaves
 *    RAM outside [load_start, load_end) and the information area as it
 *    was. */
#include <string.h>

#include "fuzz/fuzz_input.h"
#include "sim/loader.h"

#define RAM_SIZE (2u << 20)
#define FILL 0xA5
#define CMDLINE "console=fuzz"

static uint8_t *ram, *pattern;

static bool untouched(const uint8_t *r, uint64_t from, uint64_t to)
{
  return from >= to || memcmp(r + from, pattern + from, to - from) == 0;
}

static uint32_t rd32(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!ram) {
    ram = malloc(RAM_SIZE);
    pattern = malloc(RAM_SIZE);
    FUZZ_CHECK(ram && pattern, "out of memory");
    memset(pattern, FILL, RAM_SIZE);
  }
  memcpy(ram, pattern, RAM_SIZE);
  struct boot_info bi;
  char err[256];
  memset(err, 0, sizeof err);
  int rc = multiboot_load(ram, RAM_SIZE, data, size, CMDLINE, &bi, err, sizeof err);
  if (rc != 0) {
    FUZZ_CHECK(rc == -1, "return value %d", rc);
    FUZZ_CHECK(err[0] != 0 && strchr(err, '\n') == NULL, "error text '%s'", err);
    return 0;
  }
  FUZZ_CHECK(bi.load_start < bi.load_end && bi.load_end <= RAM_SIZE, "loaded range 0x%llx-0x%llx",
             (unsigned long long)bi.load_start, (unsigned long long)bi.load_end);
  FUZZ_CHECK(bi.entry >= bi.load_start && bi.entry < bi.load_end, "entry 0x%x outside 0x%llx-0x%llx", bi.entry,
             (unsigned long long)bi.load_start, (unsigned long long)bi.load_end);
  FUZZ_CHECK(bi.load_end <= MULTIBOOT_INFO_ADDR || bi.load_start >= MULTIBOOT_INFO_END,
             "image 0x%llx-0x%llx overlaps the information area", (unsigned long long)bi.load_start,
             (unsigned long long)bi.load_end);
  FUZZ_CHECK(bi.mbi == MULTIBOOT_INFO_ADDR, "information structure at 0x%x", bi.mbi);
  const uint8_t *mbi = ram + bi.mbi;
  uint32_t cmd = rd32(mbi + 16), name = rd32(mbi + 64);
  FUZZ_CHECK(cmd >= MULTIBOOT_INFO_ADDR && cmd < MULTIBOOT_INFO_END - sizeof CMDLINE &&
                 memcmp(ram + cmd, CMDLINE, sizeof CMDLINE) == 0,
             "command line not at 0x%x", cmd);
  FUZZ_CHECK(name >= MULTIBOOT_INFO_ADDR && name < MULTIBOOT_INFO_END - 6 && memcmp(ram + name, "hvsim", 6) == 0,
             "boot loader name not at 0x%x", name);
  /* Nothing written outside the image and the information area. */
  uint64_t lo = bi.load_start < MULTIBOOT_INFO_ADDR ? bi.load_start : MULTIBOOT_INFO_ADDR;
  uint64_t hi = bi.load_end > MULTIBOOT_INFO_END ? bi.load_end : MULTIBOOT_INFO_END;
  FUZZ_CHECK(untouched(ram, 0, lo) && untouched(ram, hi, RAM_SIZE), "RAM changed outside 0x%llx-0x%llx",
             (unsigned long long)lo, (unsigned long long)hi);
  if (bi.load_start > MULTIBOOT_INFO_END)
    FUZZ_CHECK(untouched(ram, MULTIBOOT_INFO_END, bi.load_start), "RAM changed between the information area and the image");
  if (bi.load_end < MULTIBOOT_INFO_ADDR)
    FUZZ_CHECK(untouched(ram, bi.load_end, MULTIBOOT_INFO_ADDR), "RAM changed between the image and the information area");
  return 0;
}
