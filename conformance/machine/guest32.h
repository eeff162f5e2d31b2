/* Tiny 32-bit guests written byte by byte for the whole-machine tests
 * (test_irq.c, test_nmi.c): a multiboot ELF32 with one segment at BASE
 * holding the header, a flat GDT (code 0x08, data 0x10), an IDT with one
 * interrupt gate to HANDLER, and code from CODE that loads them and sets a
 * stack; tests append instructions with EMIT and run it with run_guest. */
#ifndef HVSIM_CONFORMANCE_MACHINE_GUEST32_H
#define HVSIM_CONFORMANCE_MACHINE_GUEST32_H

#include <elf.h>
#undef PF_W   /* <elf.h>'s segment flag; sim/mmu/mmu.h names the #PF error-code bit so */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sim/loader.h"
#include "sim/machine.h"

#define BASE      0x100000u   /* the one segment: header, code, tables */
#define CODE      0x100010u
#define HANDLER   0x100100u
#define GDT       0x100800u
#define GDTR      0x100900u
#define IDTR      0x100910u
#define IDT       0x100a00u
#define STACK_TOP 0x180000u

struct guest {
  uint8_t file[0x2000];
  uint8_t *seg;               /* file bytes of the segment (vaddr BASE) */
  uint32_t at;                /* next code address */
};

static inline void put(struct guest *g, const uint8_t *b, size_t n)
{
  memcpy(g->seg + (g->at - BASE), b, n);
  g->at += (uint32_t)n;
}
#define EMIT(g, ...) put((g), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))
#define U32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)

/* The guest up to its first test instruction; `vector`'s IDT entry is an
 * interrupt gate to HANDLER (the IDT ends there). */
static inline void guest_start(struct guest *g, uint8_t vector)
{
  memset(g, 0, sizeof *g);
  Elf32_Ehdr *eh = (Elf32_Ehdr *)g->file;
  memcpy(eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = ELFCLASS32;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_type = ET_EXEC;
  eh->e_machine = EM_386;
  eh->e_entry = CODE;
  eh->e_phoff = sizeof *eh;
  eh->e_phentsize = sizeof(Elf32_Phdr);
  eh->e_phnum = 1;
  Elf32_Phdr *ph = (Elf32_Phdr *)(g->file + sizeof *eh);
  ph->p_type = PT_LOAD;
  ph->p_offset = 0x1000;
  ph->p_paddr = ph->p_vaddr = BASE;
  ph->p_filesz = ph->p_memsz = 0x1000;
  g->seg = g->file + 0x1000;
  uint32_t hdr[3] = {MULTIBOOT_HEADER_MAGIC, 0, (uint32_t)-MULTIBOOT_HEADER_MAGIC};
  memcpy(g->seg, hdr, sizeof hdr);
  const uint64_t gdt[3] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
  memcpy(g->seg + (GDT - BASE), gdt, sizeof gdt);
  const uint8_t gdtr[6] = {sizeof gdt - 1, 0, U32(GDT)};
  memcpy(g->seg + (GDTR - BASE), gdtr, sizeof gdtr);
  const uint8_t gate[8] = {(uint8_t)HANDLER, (uint8_t)(HANDLER >> 8), 0x08, 0, 0, 0x8e,
                           (uint8_t)(HANDLER >> 16), (uint8_t)(HANDLER >> 24)};
  memcpy(g->seg + (IDT - BASE) + 8 * vector, gate, sizeof gate);
  const uint16_t idt_limit = (uint16_t)(8 * vector + 7);
  const uint8_t idtr[6] = {(uint8_t)idt_limit, (uint8_t)(idt_limit >> 8), U32(IDT)};
  memcpy(g->seg + (IDTR - BASE), idtr, sizeof idtr);
  g->at = CODE;
  EMIT(g, 0x0f, 0x01, 0x15, U32(GDTR));     /* lgdt [GDTR] */
  EMIT(g, 0x0f, 0x01, 0x1d, U32(IDTR));     /* lidt [IDTR] */
  EMIT(g, 0xbc, U32(STACK_TOP));            /* mov esp, STACK_TOP */
}

/* Runs the guest with options `opt` (the guest's file as the image, 4 MiB
 * of RAM when it names no size) until it stops. */
static inline struct machine *run_guest_with(struct guest *g, struct machine_options opt)
{
  assert_non_null(opt.cpu);
  if (!opt.ram_size) opt.ram_size = 4u << 20;
  char err[256] = "";
  struct machine *m = machine_create(&opt, g->file, sizeof g->file, err, sizeof err);
  if (!m) fail_msg("machine_create: %s", err);
  machine_run(m);
  return m;
}

/* Runs the guest on the default Intel model until it stops. */
static inline struct machine *run_guest(struct guest *g, const char *name, uint64_t max_insns)
{
  struct machine_options opt = {.cpu = cpu_model_default(VENDOR_INTEL), .ram_size = 4u << 20,
                                .max_insns = max_insns, .image_name = name};
  char err[256] = "";
  struct machine *m = machine_create(&opt, g->file, sizeof g->file, err, sizeof err);
  if (!m) fail_msg("machine_create: %s", err);
  machine_run(m);
  return m;
}

/* The status the guest's isa-debug-exit gave (the run must have ended
 * there); destroys the machine. */
static inline int debug_exit_status(struct machine *m)
{
  assert_int_equal(m->stop, STOP_DEBUG_EXIT);
  int status = m->exit_status;
  machine_destroy(m);
  return status;
}

#endif
