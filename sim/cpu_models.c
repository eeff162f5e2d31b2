/* The CPU models hvsim offers (`hvsim cpus`). CPUID values follow the
 * processors they are named after, less what Unicorn's TCG cannot execute
 * (AVX, AVX-512, FMA, F16C): advertising an extension the engine would
 * answer with #UD would make guests fail for the simulator's sake. */
#include "sim/cpu_model.h"

#include <string.h>

#define STR4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Intel: Skylake-X class (family 6, model 0x55), as Bochs's corei7_skylake_x. */
static const struct cpuid_entry skylake_x_cpuid[] = {
  {0x0, 0, false, 0xd, STR4('G', 'e', 'n', 'u'), STR4('n', 't', 'e', 'l'), STR4('i', 'n', 'e', 'I')},
  /* EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT
   * PSE36 CLFSH MMX FXSR SSE SSE2. ECX: SSE3 PCLMUL MONITOR VMX SSSE3 CX16
   * PCID SSE4.1 SSE4.2 MOVBE POPCNT AES XSAVE RDRAND. */
  {0x1, 0, false, 0x00050654, 0x00010800, 0x46da222b, 0x078bfbff},
  {0x6, 0, false, 0x00000004, 0, 0, 0},
  /* EBX: FSGSBASE BMI1 SMEP BMI2 ERMS INVPCID RDSEED ADX SMAP CLFLUSHOPT.
   * ECX: UMIP PKU. */
  {0x7, 0, true, 0, 0x009c0789, 0x0000000c, 0},
  {0xd, 0, true, 0x3, 0x240, 0x240, 0},
  {0xd, 1, true, 0x1, 0, 0, 0},
  {0x80000000, 0, false, 0x80000008, 0, 0, 0},
  /* ECX: LAHF LZCNT PREFETCHW. EDX: SYSCALL NX PDPE1GB RDTSCP LM. */
  {0x80000001, 0, false, 0, 0, 0x00000121, 0x2c100800},
  {0x80000002, 0, false, STR4('h', 'v', 's', 'i'), STR4('m', ' ', 'S', 'k'), STR4('y', 'l', 'a', 'k'), STR4('e', '-', 'X', ' ')},
  {0x80000003, 0, false, STR4('c', 'l', 'a', 's'), STR4('s', ' ', 'I', 'n'), STR4('t', 'e', 'l', ' '), STR4('C', 'P', 'U', 0)},
  {0x80000004, 0, false, 0, 0, 0, 0},
  {0x80000006, 0, false, 0, 0, 0x01006040, 0},
  {0x80000008, 0, false, 0x00003028, 0, 0, 0},
};

/* AMD: Zen class (family 17h), as Bochs's ryzen. */
static const struct cpuid_entry zen_cpuid[] = {
  {0x0, 0, false, 0xd, STR4('A', 'u', 't', 'h'), STR4('c', 'A', 'M', 'D'), STR4('e', 'n', 't', 'i')},
  /* ECX: SSE3 PCLMUL MONITOR SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES
   * XSAVE RDRAND. EDX as Intel, with HTT clear. */
  {0x1, 0, false, 0x00800f11, 0x00010800, 0x46d8220b, 0x078bfbff},
  /* EBX: FSGSBASE BMI1 SMEP BMI2 RDSEED ADX SMAP CLFLUSHOPT. */
  {0x7, 0, true, 0, 0x009c0189, 0, 0},
  {0xd, 0, true, 0x3, 0x240, 0x240, 0},
  {0xd, 1, true, 0x1, 0, 0, 0},
  {0x80000000, 0, false, 0x8000001f, STR4('A', 'u', 't', 'h'), STR4('c', 'A', 'M', 'D'), STR4('e', 'n', 't', 'i')},
  /* ECX: LAHF SVM ABM SSE4A MISALIGNSSE PREFETCHW. EDX: SYSCALL NX MMXEXT
   * FFXSR PDPE1GB RDTSCP LM. */
  {0x80000001, 0, false, 0x00800f11, 0, 0x000001e5, 0x2e500800},
  {0x80000002, 0, false, STR4('h', 'v', 's', 'i'), STR4('m', ' ', 'Z', 'e'), STR4('n', ' ', 'c', 'l'), STR4('a', 's', 's', ' ')},
  {0x80000003, 0, false, STR4('A', 'M', 'D', ' '), STR4('C', 'P', 'U', 0), 0, 0},
  {0x80000004, 0, false, 0, 0, 0, 0},
  {0x80000008, 0, false, 0x00003028, 0, 0, 0},
  /* SVM revision 1, 0x8000 ASIDs, NPT and NRIP save; the SVM model refines. */
  {0x8000000a, 0, false, 0x1, 0x8000, 0, 0x00000009},
};

/* AMD: Zen 2 class (family 17h, model 31h): zen plus RDPRU (Fn8000_0008
 * EBX bit 4); its SVM model (models/svm/features_zen2.c) adds decode
 * assists and VMCB clean bits, which no oracle offers. */
static const struct cpuid_entry zen2_cpuid[] = {
  {0x0, 0, false, 0xd, STR4('A', 'u', 't', 'h'), STR4('c', 'A', 'M', 'D'), STR4('e', 'n', 't', 'i')},
  {0x1, 0, false, 0x00830f10, 0x00010800, 0x46d8220b, 0x078bfbff},
  {0x7, 0, true, 0, 0x009c0189, 0, 0},
  {0xd, 0, true, 0x3, 0x240, 0x240, 0},
  {0xd, 1, true, 0x1, 0, 0, 0},
  {0x80000000, 0, false, 0x8000001f, STR4('A', 'u', 't', 'h'), STR4('c', 'A', 'M', 'D'), STR4('e', 'n', 't', 'i')},
  {0x80000001, 0, false, 0x00830f10, 0, 0x000001e5, 0x2e500800},
  {0x80000002, 0, false, STR4('h', 'v', 's', 'i'), STR4('m', ' ', 'Z', 'e'), STR4('n', ' ', '2', ' '), STR4('c', 'l', 'a', 's')},
  {0x80000003, 0, false, STR4('s', ' ', 'A', 'M'), STR4('D', ' ', 'C', 'P'), STR4('U', 0, 0, 0), 0},
  {0x80000004, 0, false, 0, 0, 0, 0},
  /* EBX bit 4: RDPRU (CPUIDX8_EBX_RDPRU, sim/sysinsn.h). */
  {0x80000008, 0, false, 0x00003028, 0x00000010, 0, 0},
  {0x8000000a, 0, false, 0x1, 0x8000, 0, 0x000004ef},
};

static const struct cpu_model skylake_x = {
  .name = "skylake-x", .vendor = VENDOR_INTEL,
  .description = "Intel Skylake-X class, VMX with EPT and VPID",
  .cpuid = skylake_x_cpuid, .cpuid_count = sizeof skylake_x_cpuid / sizeof skylake_x_cpuid[0],
  .maxphyaddr = 40, .linear_bits = 48, .virt_model = "skylake-x",
  /* Fewer banks than the processor's 20; no IA32_MCG_CTL, as on it. */
  .mca_banks = 4, .mcg_ctl_p = false,
};

static const struct cpu_model zen = {
  .name = "zen", .vendor = VENDOR_AMD,
  .description = "AMD Zen class, SVM with NPT",
  .cpuid = zen_cpuid, .cpuid_count = sizeof zen_cpuid / sizeof zen_cpuid[0],
  .maxphyaddr = 40, .linear_bits = 48, .virt_model = "ryzen",
  /* Fewer banks than the processor's 23; MCG_CTL present, as on it. */
  .mca_banks = 4, .mcg_ctl_p = true,
};

static const struct cpu_model zen2 = {
  .name = "zen2", .vendor = VENDOR_AMD,
  .description = "AMD Zen 2 class, SVM with NPT and decode assists, RDPRU",
  .cpuid = zen2_cpuid, .cpuid_count = sizeof zen2_cpuid / sizeof zen2_cpuid[0],
  .maxphyaddr = 40, .linear_bits = 48, .virt_model = "zen2",
  .mca_banks = 4, .mcg_ctl_p = true,
};

const struct cpu_model *const cpu_models[] = {&skylake_x, &zen, &zen2};
const size_t cpu_model_count = sizeof cpu_models / sizeof cpu_models[0];

const struct cpu_model *cpu_model_find(const char *name)
{
  for (size_t i = 0; i < cpu_model_count; i++)
    if (strcmp(cpu_models[i]->name, name) == 0) return cpu_models[i];
  return NULL;
}

const struct cpu_model *cpu_model_default(enum cpu_vendor v)
{
  for (size_t i = 0; i < cpu_model_count; i++)
    if (cpu_models[i]->vendor == v) return cpu_models[i];
  return NULL;
}

const char *cpu_vendor_name(enum cpu_vendor v) { return v == VENDOR_INTEL ? "intel" : "amd"; }

const struct cpuid_entry *cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf)
{
  for (size_t i = 0; i < m->cpuid_count; i++) {
    const struct cpuid_entry *e = &m->cpuid[i];
    if (e->leaf == leaf && (!e->has_subleaves || e->subleaf == subleaf)) return e;
  }
  return NULL;
}

bool cpu_model_has(const struct cpu_model *m, uint32_t leaf, int reg, uint32_t bit)
{
  const struct cpuid_entry *e = cpu_model_cpuid(m, leaf, 0);
  if (!e) return false;
  const uint32_t regs[4] = {e->eax, e->ebx, e->ecx, e->edx};
  return (regs[reg] & bit) != 0;
}
