/* The multiboot loader against the Multiboot Specification 0.6.96 and
 * against malformed images: every bad image gets an error, never a crash. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/loader.h"

#define RAM_SIZE (4u << 20)

struct image { uint8_t bytes[8192]; size_t size; };

/* A minimal 32-bit ELF: one PT_LOAD at 1 MiB holding a multiboot header and
 * 16 bytes of code, plus 4 KiB of bss. */
static void make_elf32(struct image *img, uint32_t paddr, uint32_t entry)
{
  memset(img, 0, sizeof *img);
  Elf32_Ehdr *eh = (Elf32_Ehdr *)img->bytes;
  memcpy(eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = ELFCLASS32;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_type = ET_EXEC;
  eh->e_machine = EM_386;
  eh->e_entry = entry;
  eh->e_phoff = sizeof *eh;
  eh->e_phentsize = sizeof(Elf32_Phdr);
  eh->e_phnum = 1;
  Elf32_Phdr *ph = (Elf32_Phdr *)(img->bytes + sizeof *eh);
  ph->p_type = PT_LOAD;
  ph->p_offset = 0x100;
  ph->p_paddr = ph->p_vaddr = paddr;
  ph->p_filesz = 0x20;
  ph->p_memsz = 0x1000;
  uint32_t hdr[3] = {MULTIBOOT_HEADER_MAGIC, 0, (uint32_t)-MULTIBOOT_HEADER_MAGIC};
  memcpy(img->bytes + 0x100, hdr, sizeof hdr);
  memset(img->bytes + 0x10c, 0x90, 0x14);
  img->size = 0x120;
}

static int load(struct image *img, uint8_t *ram, struct boot_info *bi, char *err)
{
  return multiboot_load(ram, RAM_SIZE, img->bytes, img->size, "img.elf slat", bi, err, 256);
}

static void loader_elf32_loads_at_paddr_and_writes_info(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  uint8_t *ram = calloc(1, RAM_SIZE);
  struct boot_info bi;
  char err[256];
  assert_int_equal(load(&img, ram, &bi, err), 0);
  assert_int_equal(bi.entry, 0x10010c);
  assert_memory_equal(ram + 0x100000, img.bytes + 0x100, 0x20);
  uint32_t flags, mem_upper, cmdline;
  memcpy(&flags, ram + bi.mbi, 4);
  memcpy(&mem_upper, ram + bi.mbi + 8, 4);
  memcpy(&cmdline, ram + bi.mbi + 16, 4);
  assert_int_equal(flags & 0x245, 0x245);          /* mem, cmdline, mmap, loader name */
  assert_int_equal(mem_upper, (RAM_SIZE - 0x100000) / 1024);
  assert_string_equal((char *)ram + cmdline, "img.elf slat");
  free(ram);
}

static void expect_error(struct image *img, const char *needle)
{
  uint8_t *ram = calloc(1, RAM_SIZE);
  struct boot_info bi;
  char err[256] = "";
  assert_int_equal(load(img, ram, &bi, err), -1);
  if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
  free(ram);
}

static void loader_empty_image_is_rejected(void **state)
{
  struct image img = {.size = 0};
  expect_error(&img, "empty");
}

static void loader_no_multiboot_header_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  memset(img.bytes + 0x100, 0, 12);
  expect_error(&img, "no multiboot header");
}

static void loader_bad_checksum_is_not_a_header(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  img.bytes[0x108] ^= 1;
  expect_error(&img, "no multiboot header");
}

static void loader_truncated_segment_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  img.size = 0x110;   /* the segment's file bytes run past the end */
  expect_error(&img, "beyond the end of the file");
}

static void loader_segment_outside_ram_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, RAM_SIZE - 0x800, RAM_SIZE - 0x800 + 0x10c);
  expect_error(&img, "outside RAM");
}

static void loader_entry_outside_image_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x300000);
  expect_error(&img, "entry point");
}

static void loader_program_headers_past_end_are_rejected(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  ((Elf32_Ehdr *)img.bytes)->e_phoff = 0x7fffffff;
  expect_error(&img, "program headers");
}

static void loader_overlap_with_info_area_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, MULTIBOOT_INFO_ADDR, MULTIBOOT_INFO_ADDR + 0x10c);
  expect_error(&img, "multiboot information");
}

static void loader_non_x86_machine_is_rejected(void **state)
{
  struct image img;
  make_elf32(&img, 0x100000, 0x10010c);
  ((Elf32_Ehdr *)img.bytes)->e_machine = EM_ARM;
  expect_error(&img, "not x86");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(loader_elf32_loads_at_paddr_and_writes_info),
    cmocka_unit_test(loader_empty_image_is_rejected),
    cmocka_unit_test(loader_no_multiboot_header_is_rejected),
    cmocka_unit_test(loader_bad_checksum_is_not_a_header),
    cmocka_unit_test(loader_truncated_segment_is_rejected),
    cmocka_unit_test(loader_segment_outside_ram_is_rejected),
    cmocka_unit_test(loader_entry_outside_image_is_rejected),
    cmocka_unit_test(loader_program_headers_past_end_are_rejected),
    cmocka_unit_test(loader_overlap_with_info_area_is_rejected),
    cmocka_unit_test(loader_non_x86_machine_is_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
