/* Multiboot version 1 loader (Multiboot Specification 0.6.96). ELF images,
 * 32- or 64-bit, are loaded by their program headers at their physical
 * addresses; other images need the header's address fields (the "a.out
 * kludge", flag bit 16). Every offset and size read from the file is checked
 * before use: a malformed image gets an error, never a crash. */
#include "sim/loader.h"

#include <elf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MB_FLAG_MEM      (1u << 0)
#define MB_FLAG_CMDLINE  (1u << 2)
#define MB_FLAG_MMAP     (1u << 6)
#define MB_FLAG_LOADER   (1u << 9)
#define MB_HDR_ADDRESSES (1u << 16)
#define MB_HDR_SEARCH    8192

static int fail(char *err, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
  return -1;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The header: 4-byte aligned within the first 8192 bytes, with
 * magic + flags + checksum summing to zero. */
static const uint8_t *find_header(const uint8_t *img, size_t size)
{
  size_t limit = size < MB_HDR_SEARCH ? size : MB_HDR_SEARCH;
  for (size_t off = 0; off + 12 <= limit; off += 4) {
    const uint8_t *h = img + off;
    if (rd32(h) == MULTIBOOT_HEADER_MAGIC && (uint32_t)(rd32(h) + rd32(h + 4) + rd32(h + 8)) == 0)
      return h;
  }
  return NULL;
}

static bool fits(uint64_t addr, uint64_t len, uint64_t limit)
{
  return addr <= limit && len <= limit - addr;
}

struct segment_load { uint64_t paddr, filesz, memsz, offset; };

static int load_segment(uint8_t *ram, uint64_t ram_size, const uint8_t *img, size_t size,
                        const struct segment_load *s, struct boot_info *bi, char *err, size_t n)
{
  if (s->filesz > s->memsz) return fail(err, n, "ELF segment has file size larger than memory size");
  if (!fits(s->offset, s->filesz, size)) return fail(err, n, "ELF segment lies beyond the end of the file (truncated image?)");
  if (!fits(s->paddr, s->memsz, ram_size))
    return fail(err, n, "image loads at 0x%llx-0x%llx, outside RAM (0-0x%llx); use --mem",
                (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz),
                (unsigned long long)ram_size);
  if (s->paddr < MULTIBOOT_INFO_END && s->paddr + s->memsz > MULTIBOOT_INFO_ADDR)
    return fail(err, n, "image loads at 0x%llx, over the multiboot information area (0x%x-0x%x)",
                (unsigned long long)s->paddr, MULTIBOOT_INFO_ADDR, MULTIBOOT_INFO_END);
  memcpy(ram + s->paddr, img + s->offset, s->filesz);
  memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
  if (s->memsz) {
    if (s->paddr < bi->load_start) bi->load_start = s->paddr;
    if (s->paddr + s->memsz > bi->load_end) bi->load_end = s->paddr + s->memsz;
  }
  return 0;
}

static int load_elf(uint8_t *ram, uint64_t ram_size, const uint8_t *img, size_t size,
                    struct boot_info *bi, char *err, size_t n)
{
  bool is64 = img[EI_CLASS] == ELFCLASS64;
  if (img[EI_CLASS] != ELFCLASS32 && !is64) return fail(err, n, "ELF class %u is neither 32- nor 64-bit", img[EI_CLASS]);
  if (img[EI_DATA] != ELFDATA2LSB) return fail(err, n, "ELF image is not little-endian");
  size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (size < ehsize) return fail(err, n, "ELF header truncated");

  uint64_t phoff, entry;
  unsigned phnum, phentsize, machine;
  if (is64) {
    Elf64_Ehdr eh; memcpy(&eh, img, sizeof eh);
    phoff = eh.e_phoff; phnum = eh.e_phnum; phentsize = eh.e_phentsize; entry = eh.e_entry; machine = eh.e_machine;
  } else {
    Elf32_Ehdr eh; memcpy(&eh, img, sizeof eh);
    phoff = eh.e_phoff; phnum = eh.e_phnum; phentsize = eh.e_phentsize; entry = eh.e_entry; machine = eh.e_machine;
  }
  if (machine != EM_386 && machine != EM_X86_64) return fail(err, n, "ELF machine %u is not x86", machine);
  size_t want = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  if (phnum == 0) return fail(err, n, "ELF image has no program headers");
  if (phentsize < want) return fail(err, n, "ELF program header size %u too small", phentsize);
  if (!fits(phoff, (uint64_t)phnum * phentsize, size)) return fail(err, n, "ELF program headers lie beyond the end of the file");
  if (entry > 0xffffffffu) return fail(err, n, "ELF entry 0x%llx is above 4 GiB; multiboot enters in 32-bit mode", (unsigned long long)entry);

  unsigned loaded = 0;
  for (unsigned i = 0; i < phnum; i++) {
    const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
    struct segment_load s;
    uint32_t type;
    if (is64) {
      Elf64_Phdr p; memcpy(&p, ph, sizeof p);
      type = p.p_type; s = (struct segment_load){p.p_paddr, p.p_filesz, p.p_memsz, p.p_offset};
    } else {
      Elf32_Phdr p; memcpy(&p, ph, sizeof p);
      type = p.p_type; s = (struct segment_load){p.p_paddr, p.p_filesz, p.p_memsz, p.p_offset};
    }
    if (type != PT_LOAD) continue;
    if (load_segment(ram, ram_size, img, size, &s, bi, err, n)) return -1;
    loaded++;
  }
  if (!loaded) return fail(err, n, "ELF image has no loadable segment");
  bi->entry = (uint32_t)entry;
  return 0;
}

/* The a.out kludge: header_addr, load_addr, load_end_addr, bss_end_addr,
 * entry_addr follow the checksum. */
static int load_addressed(uint8_t *ram, uint64_t ram_size, const uint8_t *img, size_t size,
                          const uint8_t *hdr, struct boot_info *bi, char *err, size_t n)
{
  if ((size_t)(hdr - img) + 32 > size) return fail(err, n, "multiboot header truncated");
  uint32_t header_addr = rd32(hdr + 12), load_addr = rd32(hdr + 16);
  uint32_t load_end = rd32(hdr + 20), bss_end = rd32(hdr + 24), entry = rd32(hdr + 28);
  uint64_t hdr_off = (uint64_t)(hdr - img);
  if (header_addr < load_addr || header_addr - load_addr > hdr_off)
    return fail(err, n, "multiboot header addresses are inconsistent");
  uint64_t file_off = hdr_off - (header_addr - load_addr);
  uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : size - file_off;
  if (load_end && load_end < load_addr) return fail(err, n, "multiboot load_end_addr below load_addr");
  uint64_t memsz = bss_end ? (uint64_t)bss_end - load_addr : filesz;
  if (bss_end && bss_end < load_addr + filesz) return fail(err, n, "multiboot bss_end_addr below load_end_addr");
  struct segment_load s = {load_addr, filesz, memsz, file_off};
  if (load_segment(ram, ram_size, img, size, &s, bi, err, n)) return -1;
  bi->entry = entry;
  return 0;
}

/* The information structure (spec section "Boot information format"), then
 * the command line, the boot loader name and the memory map after it. */
static void write_info(uint8_t *ram, uint64_t ram_size, const char *cmdline, struct boot_info *bi)
{
  uint8_t *mbi = ram + MULTIBOOT_INFO_ADDR;
  memset(mbi, 0, MULTIBOOT_INFO_END - MULTIBOOT_INFO_ADDR);
  uint32_t at = MULTIBOOT_INFO_ADDR + 128;

  uint32_t cmd_addr = at;
  size_t len = strnlen(cmdline, 2047);
  memcpy(ram + at, cmdline, len);
  ram[at + len] = 0;
  at += (uint32_t)len + 1;

  uint32_t name_addr = at;
  memcpy(ram + at, "hvsim", 6);
  at = (at + 6 + 7) & ~7u;

  /* Memory map: conventional memory, the EBDA/BIOS hole, and RAM above
   * 1 MiB; each entry is size(4) base(8) length(8) type(4). */
  uint32_t mmap_addr = at;
  const struct { uint64_t base, len; uint32_t type; } map[] = {
    {0, 0x9fc00, 1},
    {0x9fc00, 0x400, 2},
    {0xf0000, 0x10000, 2},
    {0x100000, ram_size - 0x100000, 1},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    wr32(ram + at, 20);
    wr64(ram + at + 4, map[i].base);
    wr64(ram + at + 12, map[i].len);
    wr32(ram + at + 20, map[i].type);
    at += 24;
  }

  wr32(mbi + 0, MB_FLAG_MEM | MB_FLAG_CMDLINE | MB_FLAG_MMAP | MB_FLAG_LOADER);
  wr32(mbi + 4, 639);                                         /* mem_lower, KiB */
  wr32(mbi + 8, (uint32_t)((ram_size - 0x100000) / 1024));   /* mem_upper, KiB */
  wr32(mbi + 16, cmd_addr);
  wr32(mbi + 44, at - mmap_addr);                             /* mmap_length */
  wr32(mbi + 48, mmap_addr);
  wr32(mbi + 64, name_addr);
  bi->mbi = MULTIBOOT_INFO_ADDR;
}

int multiboot_load(uint8_t *ram, uint64_t ram_size, const uint8_t *image, size_t image_size,
                   const char *cmdline, struct boot_info *bi, char *err, size_t n)
{
  *bi = (struct boot_info){.load_start = UINT64_MAX};
  if (ram_size < 2 * 1024 * 1024) return fail(err, n, "RAM must be at least 2 MiB");
  if (image_size == 0) return fail(err, n, "image is empty");
  const uint8_t *hdr = find_header(image, image_size);
  if (!hdr) return fail(err, n, "no multiboot header in the first %d bytes (not a multiboot image)", MB_HDR_SEARCH);
  uint32_t flags = rd32(hdr + 4);

  bool is_elf = image_size >= EI_NIDENT && memcmp(image, ELFMAG, SELFMAG) == 0;
  int rc;
  if (is_elf && !(flags & MB_HDR_ADDRESSES))
    rc = load_elf(ram, ram_size, image, image_size, bi, err, n);
  else if (flags & MB_HDR_ADDRESSES)
    rc = load_addressed(ram, ram_size, image, image_size, hdr, bi, err, n);
  else
    rc = fail(err, n, "not an ELF image and its multiboot header has no address fields");
  if (rc) return rc;
  if (bi->entry < bi->load_start || bi->entry >= bi->load_end)
    return fail(err, n, "entry point 0x%x is outside the loaded image", bi->entry);
  write_info(ram, ram_size, cmdline ? cmdline : "", bi);
  return 0;
}
