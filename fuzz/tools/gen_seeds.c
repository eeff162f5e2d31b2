/* fuzz_seedgen OUTDIR: writes the binary seed corpora of the harnesses
 * whose inputs are not text, so that the seeds follow the catalogues:
 *   OUTDIR/fuzz_entry_checks/seeds  VMCS and VMCB field records read from the
 *                                   text dumps of fuzz/fuzz_vmcs_dump/seeds
 *                                   and fuzz/fuzz_vmcb_dump/seeds (passed as
 *                                   SRCDIR), plus instruction records
 *   OUTDIR/fuzz_mmu_walk/seeds      page tables for every paging mode, with
 *                                   no SLAT, EPT and NPT, and accesses
 *   OUTDIR/fuzz_loader/seeds        multiboot images: ELF32, ELF64, a.out kludge
 * Usage: fuzz_seedgen SRCDIR OUTDIR (both usually the fuzz/ directory).
 *
 * fuzz_seedgen --dicts SRCDIR OUTDIR: writes the dictionaries of the
 * targets, each SRCDIR/<target>.dict plus what the catalogues give:
 * VMCS field names (fuzz_vmcs_dump), VMCB field names (fuzz_vmcb_dump),
 * VMCS encodings as 4-byte records and VMCB field offsets (fuzz_entry_checks). */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/svm/vmcb_dump.h"
#include "models/vmx/vmcs_dump.h"
#include "sim/cpu_state.h"
#include "sim/loader.h"

static const char *src, *out;

struct buf {
  uint8_t b[8192];
  size_t n;
};
static void put(struct buf *b, uint64_t v, unsigned bytes)
{
  for (unsigned i = 0; i < bytes; i++) b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

static void save(const char *target, const char *name, const struct buf *b)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/seeds/%s", out, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b->b, 1, b->n, f) != b->n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

/* ---- fuzz_entry_checks ------------------------------------------------------ */

static FILE *open_src(const char *rel)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", src, rel);
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(1);
  }
  return f;
}

/* An instruction record (run after the harness's own VMLAUNCH / VMRUN). */
static void insn(struct buf *b, uint8_t k, uint64_t a, uint64_t w)
{
  put(b, 2, 1);
  put(b, k, 1);
  put(b, a, 8);
  put(b, w, 8);
  put(b, 0, 4);
}

static void vmx_seed(const char *dump, const char *name, int model, bool extra)
{
  static struct vmcs_dump d;
  FILE *f = open_src(dump);
  const struct vmx_caps *caps = vmx_cpu_models[model];
  if (vmcs_dump_parse(f, dump, caps, &d, stderr)) exit(1);
  fclose(f);
  struct buf b = { .n = 0 };
  put(&b, (unsigned)model << 1 | (d.host_ia32e ? 8 : 0), 1);
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
    if (!d.present[i]) continue;
    put(&b, 0, 1);
    put(&b, vmcs_fields[i].encoding, 4);
    put(&b, d.v.val[i], 8);
  }
  if (extra) {
    insn(&b, 5, 0x4400, 0);      /* VMREAD VM_INSTRUCTION_ERROR */
    insn(&b, 8, 0, 0);           /* VMRESUME (not launched: VMfailValid 5) */
    insn(&b, 7, 0, 0);           /* VMLAUNCH: enters */
    insn(&b, 8, 0, 0);           /* VMRESUME of the launched VMCS: enters */
    insn(&b, 9, 1, 0x101e);      /* INVEPT single-context */
    insn(&b, 10, 1, 1);          /* INVVPID single-context */
    insn(&b, 2, 0xF000, 0);      /* VMCLEAR of the current VMCS */
  }
  save("fuzz_entry_checks", name, &b);
}

static void svm_seed(const char *dump, const char *name, int model)
{
  static struct svm_vmcb v;
  FILE *f = open_src(dump);
  if (svm_vmcb_parse(f, dump, &v, stderr)) exit(1);
  fclose(f);
  struct buf b = { .n = 0 };
  put(&b, 1 | (unsigned)model << 1, 1);
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    const struct svm_vmcb_field *fl = &svm_vmcb_fields[i];
    uint64_t val = svm_vmcb_field_read(&v, fl);
    if (!val) continue;
    put(&b, 0, 1);
    put(&b, fl->offset, 2);
    put(&b, fl->size == 8 ? 3 : fl->size == 4 ? 2 : fl->size == 2 ? 1 : 0, 1);
    put(&b, val, 8);
  }
  insn(&b, 8, 0x7B, 0x10);  /* #VMEXIT(IOIO) */
  insn(&b, 2, 0, 0);        /* VMSAVE */
  insn(&b, 3, 0, 0);        /* STGI */
  insn(&b, 9, 0, 0);        /* GIF-gated events */
  save("fuzz_entry_checks", name, &b);
}

static void entry_seeds(void)
{
  vmx_seed("fuzz_vmcs_dump/seeds/skylake_good.txt", "vmx_skylake_good", 0, true);
  vmx_seed("fuzz_vmcs_dump/seeds/skylake_good.txt", "vmx_nehalem_good", 1, false);
  vmx_seed("fuzz_vmcs_dump/seeds/skylake_bad_entry.txt", "vmx_skylake_bad", 0, false);
  svm_seed("fuzz_vmcb_dump/seeds/sample_vmcb_good.json", "svm_ryzen_good", 0);
  svm_seed("fuzz_vmcb_dump/seeds/sample_vmcb_good.json", "svm_epyc_good", 1);
  svm_seed("fuzz_vmcb_dump/seeds/sample_vmcb.txt", "svm_ryzen_bad", 0);
}

/* ---- fuzz_mmu_walk ------------------------------------------------------------
 * Guest tables from 0x1000, data at 0x8000, nested tables from 0x9000 (an
 * identity map of guest-physical 0-2 MiB through one 2 MiB page). */

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull
#define EPT_RWX 7ull
#define EPT_WB (6ull << 3)

static void wr(struct buf *b, uint64_t pa, uint64_t v)
{
  put(b, 0, 1);
  put(b, pa / 8, 2);
  put(b, v, 8);
}
static void touch(struct buf *b, uint64_t la, uint8_t k)
{
  put(b, 2, 1);
  put(b, la, 8);
  put(b, k, 1);
  put(b, 0, 1);
}

static void mmu_seed(unsigned mode, unsigned slat, bool tiny)
{
  struct buf b = { .n = 0 };
  uint8_t a = (uint8_t)(mode | slat << 3 | 0x20 | (tiny ? 0x80 : 0));
  uint8_t flags = (uint8_t)(1 | (mode >= 4 ? 2 : 0) | 4 | (mode >= 3 ? 8 : 0) | (2u << 6));
  put(&b, a, 1);
  put(&b, flags, 1);
  put(&b, 0x1000, 8);                                        /* CR3 */
  uint64_t nroot = 0x9000;
  put(&b, slat == 1 ? nroot | 6 | (3 << 3) | 0x40 : nroot, 8); /* EPTP (WB, 4 levels, A/D) / nCR3 */
  put(&b, 1, 2);                                             /* VPID / ASID */
  if (mode == 3 && slat == 1)
    for (int i = 0; i < 4; i++) put(&b, i == 0 ? 0x2000 | P : 0, 8); /* PDPTEs from the VMCS */
  uint64_t t = P | W | U, leaf = P | W | U;
  switch (mode) {
  case 1: case 2: /* 32-bit (4-byte entries, written in pairs): PD at 0x1000, 0x400000 -> PT 0x2000 -> 0x8000 */
    wr(&b, 0x1000, (0x2000 | t) << 32);                          /* PDE 1 */
    wr(&b, 0x2000, 0x8000 | leaf | (0x9000 | leaf) << 32);       /* PTEs 0 and 1 */
    if (mode == 2) wr(&b, 0x1008, PS | leaf);                    /* PDE 2: 4 MiB page at 0x800000 */
    break;
  case 3: /* PAE: PDPT 0x1000 -> PD 0x2000 -> PT 0x3000 */
    wr(&b, 0x1000, 0x2000 | P);
    wr(&b, 0x2000 + 2 * 8, 0x3000 | t);
    wr(&b, 0x2000 + 3 * 8, PS | leaf);                           /* 2 MiB page at 0x600000 */
    wr(&b, 0x3000, 0x8000 | leaf);
    break;
  case 4: case 5: { /* (PML5 0x1000 ->) PML4 -> PDPT -> PD -> PT */
    uint64_t at = 0x1000;
    if (mode == 5) { wr(&b, at, 0x2000 | t); at = 0x2000; }
    wr(&b, at, (at + 0x1000) | t);
    wr(&b, at + 0x1000, (at + 0x2000) | t);
    wr(&b, at + 0x1000 + 8, PS | leaf);                          /* 1 GiB page at 0x40000000 */
    wr(&b, at + 0x2000 + 2 * 8, (at + 0x3000) | t);
    wr(&b, at + 0x2000 + 3 * 8, PS | leaf | (1ull << 63));       /* 2 MiB, execute-disable */
    wr(&b, at + 0x3000, 0x8000 | leaf);
    wr(&b, at + 0x3000 + 8, 0x9000 | P);                         /* supervisor, read-only */
    break;
  }
  }
  if (slat) { /* nested identity map of 0-2 MiB */
    uint64_t nt = slat == 1 ? EPT_RWX : (P | W | U), nl = slat == 1 ? (EPT_RWX | EPT_WB | PS) : (P | W | U | PS);
    wr(&b, 0x9000, 0xA000 | nt);
    wr(&b, 0xA000, 0xB000 | nt);
    wr(&b, 0xB000, nl);
  }
  if (mode == 3 && slat == 0) put(&b, 9, 1);                    /* MOV CR3: load the PDPTEs */
  static const uint64_t las[] = { 0x400000, 0x400123, 0x401000, 0x600000, 0x800000, 0x40000000, 0x8000 };
  for (size_t i = 0; i < sizeof las / sizeof las[0]; i++) {
    touch(&b, las[i], 0);      /* read, CPL 0 */
    touch(&b, las[i], 1);      /* write */
    touch(&b, las[i], 2 | 8);  /* fetch, CPL 3 */
    touch(&b, las[i], 0);      /* again: from the TLB */
  }
  put(&b, 7, 1); put(&b, 0, 1); put(&b, 0x400000, 8); put(&b, 0, 2);  /* INVLPG */
  put(&b, 8, 1); put(&b, 2, 2); put(&b, 1, 2);                        /* switch tag */
  touch(&b, 0x400000, 1);
  char name[64];
  snprintf(name, sizeof name, "mode%u_%s%s", mode, slat == 0 ? "native" : slat == 1 ? "ept" : "npt", tiny ? "_tiny" : "");
  save("fuzz_mmu_walk", name, &b);
}

/* ---- fuzz_loader -------------------------------------------------------------- */

static void mb_header(struct buf *b, uint32_t flags)
{
  put(b, MULTIBOOT_HEADER_MAGIC, 4);
  put(b, flags, 4);
  put(b, (uint32_t)-(MULTIBOOT_HEADER_MAGIC + flags), 4);
}

static void loader_seeds(void)
{
  static const uint8_t code[] = { 0xfa, 0xf4, 0xeb, 0xfd }; /* cli; hlt; jmp $-1 */
  /* ELF32: header, one PT_LOAD of the whole file at 1 MiB plus 4 KiB bss. */
  struct buf b = { .n = 0 };
  Elf32_Ehdr e32 = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT, .e_entry = 0x100000 + 96,
                     .e_phoff = sizeof e32, .e_ehsize = sizeof e32, .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 1 };
  memcpy(e32.e_ident, ELFMAG, SELFMAG);
  e32.e_ident[EI_CLASS] = ELFCLASS32;
  e32.e_ident[EI_DATA] = ELFDATA2LSB;
  e32.e_ident[EI_VERSION] = EV_CURRENT;
  memcpy(b.b, &e32, sizeof e32);
  Elf32_Phdr p32 = { .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0x100000, .p_paddr = 0x100000, .p_filesz = 100,
                     .p_memsz = 100 + 4096, .p_flags = PF_R | PF_X, .p_align = 4096 };
  memcpy(b.b + sizeof e32, &p32, sizeof p32);
  b.n = sizeof e32 + sizeof p32; /* 84 */
  mb_header(&b, 3);
  memcpy(b.b + b.n, code, sizeof code);
  b.n += sizeof code;
  save("fuzz_loader", "elf32", &b);

  b.n = 0;
  memset(b.b, 0, sizeof b.b);
  Elf64_Ehdr e64 = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT, .e_entry = 0 /* set below */,
                     .e_phoff = sizeof e64, .e_ehsize = sizeof e64, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
  memcpy(e64.e_ident, ELFMAG, SELFMAG);
  e64.e_ident[EI_CLASS] = ELFCLASS64;
  e64.e_ident[EI_DATA] = ELFDATA2LSB;
  e64.e_ident[EI_VERSION] = EV_CURRENT;
  memcpy(b.b, &e64, sizeof e64);
  Elf64_Phdr p64[2] = {
    { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = 0x180000, .p_paddr = 0x180000,
      .p_align = 4096 }, /* sizes set below */
    { .p_type = PT_NOTE, .p_offset = 0, .p_filesz = 4 },
  };
  memcpy(b.b + sizeof e64, p64, sizeof p64);
  b.n = sizeof e64 + sizeof p64; /* the multiboot header follows the program headers */
  mb_header(&b, 0);
  memcpy(b.b + b.n, code, sizeof code);
  b.n += sizeof code;
  /* The entry is the code; the segment is the whole file plus some bss. */
  Elf64_Ehdr *eh = (Elf64_Ehdr *)b.b;
  eh->e_entry = 0x180000 + (b.n - sizeof code);
  ((Elf64_Phdr *)(b.b + sizeof e64))[0].p_filesz = b.n;
  ((Elf64_Phdr *)(b.b + sizeof e64))[0].p_memsz = b.n + 0x100;
  save("fuzz_loader", "elf64", &b);

  /* a.out kludge: header at offset 0 with the address fields. */
  b.n = 0;
  memset(b.b, 0, sizeof b.b);
  mb_header(&b, 1u << 16);
  put(&b, 0x100000, 4);        /* header_addr */
  put(&b, 0x100000, 4);        /* load_addr */
  put(&b, 0, 4);               /* load_end_addr: the whole file */
  put(&b, 0x102000, 4);        /* bss_end_addr */
  put(&b, 0x100020, 4);        /* entry_addr */
  memcpy(b.b + b.n, code, sizeof code);
  b.n += sizeof code;
  save("fuzz_loader", "aout_kludge", &b);

  /* Not multiboot at all, and a header with a bad checksum. */
  b.n = 0;
  put(&b, 0x464c457f, 4);
  save("fuzz_loader", "no_header", &b);
  b.n = 0;
  put(&b, MULTIBOOT_HEADER_MAGIC, 4);
  put(&b, 0, 4);
  put(&b, 0, 4);
  save("fuzz_loader", "bad_checksum", &b);
}

/* ---- Dictionaries ---------------------------------------------------------- */

static FILE *dict_begin(const char *target)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.dict", out, target);
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s.dict", src, target);
  FILE *in = fopen(path, "r");
  if (in) { /* the hand-written part: the syntax */
    char line[512];
    while (fgets(line, sizeof line, in)) fputs(line, f);
    fclose(in);
  }
  fprintf(f, "# Generated from the catalogues by fuzz_seedgen --dicts\n");
  return f;
}

static void dict_end(FILE *f)
{
  if (fclose(f) != 0) {
    perror("dictionary");
    exit(1);
  }
}

static void dicts(void)
{
  FILE *f = dict_begin("fuzz_vmcs_dump");
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) fprintf(f, "\"%s\"\n", vmcs_fields[i].name);
  dict_end(f);
  f = dict_begin("fuzz_vmcb_dump");
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) fprintf(f, "\"%s\"\n", svm_vmcb_fields[i].name);
  dict_end(f);
  f = dict_begin("fuzz_entry_checks");
  for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
    unsigned e = vmcs_fields[i].encoding;
    fprintf(f, "vmcs_%s=\"\\x00\\x%02x\\x%02x\\x00\\x00\"\n", vmcs_fields[i].name, e & 0xFF, (e >> 8) & 0xFF);
  }
  for (unsigned i = 0; i < SVM_FIELD_COUNT; i++) {
    const struct svm_vmcb_field *fl = &svm_vmcb_fields[i];
    unsigned sz = fl->size == 8 ? 3 : fl->size == 4 ? 2 : fl->size == 2 ? 1 : 0;
    fprintf(f, "vmcb_%s=\"\\x00\\x%02x\\x%02x\\x%02x\"\n", fl->name, fl->offset & 0xFF, fl->offset >> 8, sz);
  }
  dict_end(f);
}

int main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "--dicts") == 0) {
    src = argv[2];
    out = argv[3];
    dicts();
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: fuzz_seedgen SRCDIR OUTDIR | fuzz_seedgen --dicts SRCDIR OUTDIR\n");
    return 2;
  }
  src = argv[1];
  out = argv[2];
  entry_seeds();
  for (unsigned mode = 0; mode <= 5; mode++)
    for (unsigned slat = 0; slat <= 2; slat++) mmu_seed(mode, slat, false);
  mmu_seed(4, 0, true);
  mmu_seed(3, 1, true);
  mmu_seed(5, 2, true);
  loader_seeds();
  return 0;
}
