/* The hvsim command line. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cpu_model.h"
#include "sim/intercept.h"
#include "sim/machine.h"
#include "models/svm/explain_vmcb.h"
#include "models/svm/features.h"
#include "models/vmx/caps.h"
#include "models/vmx/explain.h"

#define MAX_IMAGE_SIZE (256u << 20)
#define EXIT_USAGE 2

static const char usage[] =
  "usage: hvsim run [--cpu MODEL] [--mem SIZE] [--trace FILE] [--max-insns N] [--mce SPEC]... [--quiet] IMAGE\n"
  "                 [-- CMDLINE...]\n"
  "       hvsim cpus\n"
  "       hvsim explain-vmcs [--cpu MODEL] FILE\n"
  "       hvsim explain-vmcb [--cpu MODEL] FILE\n"
  "       hvsim --help | --version\n"
  "\n"
  "run      boot a multiboot (v1) ELF image, as qemu-system-x86_64 -kernel does; the\n"
  "         guest's COM1 output goes to stdout, and hvsim exits with the status the guest\n"
  "         asked for through isa-debug-exit (port 0xf4: status (value << 1) | 1).\n"
  "  --cpu MODEL       CPU model (see `hvsim cpus`; default: the first Intel model)\n"
  "  --mem SIZE        RAM size, in bytes or with K, M or G (default 128M, 2M to 16G)\n"
  "  --trace FILE      record the run's events and their SHA-256 digest in FILE\n"
  "  --max-insns N     stop a runaway guest after N instructions (exit status 124)\n"
  "  --mce SPEC        inject a machine-check error (repeatable, docs/mca.md); SPEC is\n"
  "                    at=N[,bank=B][,status=S][,addr=A][,misc=M][,ripv][,eipv][,vmentry]:\n"
  "                    at virtual time N (instructions) log STATUS (default VAL|UC|EN|PCC,\n"
  "                    0xb200000000000001) in bank B (default 0) and signal #MC at the next\n"
  "                    instruction boundary with MCG_STATUS RIPV/EIPV as flagged; vmentry:\n"
  "                    at the first VMX VM entry from time N on instead (exit reason 41)\n"
  "  --quiet           no run summary on stderr\n"
  "  -- CMDLINE...     the multiboot command line after the image name\n"
  "cpus     list the CPU models: NAME VENDOR DESCRIPTION, one per line\n"
  "explain-vmcs  list every VM-entry check a VMCS dump fails (docs/explain-vmcs.md);\n"
  "              --cpu: skylake-x (default) or nehalem. Exit 0 all pass, 1 some fail, 2 bad dump\n"
  "explain-vmcb  list every VMRUN consistency check a VMCB dump fails (docs/explain-vmcb.md);\n"
  "              --cpu: ryzen (default), epyc-qemu or zen2. Exit 0 all pass, 1 some fail, 2 bad dump\n"
  "\n"
  "Exit status of run: the guest's isa-debug-exit status; 0 after Bochs's iodebug exit or\n"
  "a triple fault (shutdown, as QEMU -no-reboot); 3 when the guest halted with nothing to\n"
  "wake it; 124 at --max-insns; 125 when the simulator cannot go on; 2 for bad usage or a\n"
  "bad image.\n";

/* The model's TLB figures for the run summary. Unicorn's own TLB, which
 * sits in front of the model and resizes itself by host time, decides how
 * many translations reach the model, so these can vary between runs of
 * long guests (docs/architecture.md, "Known limits"). */
static void print_mmu_summary(const struct mmu *mmu, FILE *out)
{
  const struct mmu_stats *st = mmu_stats(mmu);
  uint64_t hits = 0;
  for (int i = 0; i < MMU_PAGE_SIZES; i++) hits += st->tlb_hits[i];
  uint64_t lookups = hits + st->tlb_misses;
  fprintf(out, "mmu: %llu translations, TLB %llu hits / %llu misses (%.1f%% hits), %llu walks reading %llu paging-structure entries, %llu invalidations\n",
          (unsigned long long)st->translations, (unsigned long long)hits, (unsigned long long)st->tlb_misses,
          lookups ? 100.0 * (double)hits / (double)lookups : 0.0, (unsigned long long)st->walks,
          (unsigned long long)st->refs, (unsigned long long)st->invalidations);
  for (int i = 0; i < MMU_STATS_TAGS; i++) {
    const struct mmu_tag_stats *t = &st->per_tag[i];
    if (t->used) fprintf(out, "mmu: tag %u (VPID/ASID): %llu hits / %llu misses\n", t->tag,
                         (unsigned long long)t->hits, (unsigned long long)t->misses);
  }
}

static int usage_error(const char *fmt, const char *arg)
{
  fputs("hvsim: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs(" (see hvsim --help)\n", stderr);
  return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
  if (!*s || *s == '-') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
  if (!*s || *s == '-') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s) return false;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (*end == 'B' || *end == 'b') end++;
  if (*end || v > (UINT64_MAX >> shift)) return false;
  *out = (uint64_t)v << shift;
  return true;
}

static uint8_t *read_image(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "hvsim: cannot open image %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(MAX_IMAGE_SIZE + 1);
  size_t n = buf ? fread(buf, 1, MAX_IMAGE_SIZE + 1, f) : 0;
  bool bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    fprintf(stderr, "hvsim: cannot read image %s\n", path);
    free(buf);
    return NULL;
  }
  if (n > MAX_IMAGE_SIZE) {
    fprintf(stderr, "hvsim: image %s is larger than %u MiB\n", path, MAX_IMAGE_SIZE >> 20);
    free(buf);
    return NULL;
  }
  *size = n;
  return buf;
}

static const char *stop_name(enum stop_reason r)
{
  switch (r) {
  case STOP_NONE: return "running";
  case STOP_DEBUG_EXIT: return "exit";
  case STOP_IODEBUG_EXIT: return "exit";
  case STOP_SHUTDOWN: return "shutdown";
  case STOP_HALTED: return "halted";
  case STOP_MAX_INSNS: return "limit";
  case STOP_INTERNAL: return "error";
  }
  return "?";
}

static int cmd_run(int argc, char **argv)
{
  struct machine_options opt = {.cpu = cpu_models[0], .ram_size = 128ull << 20, .serial_out = stdout};
  const char *image = NULL, *trace_path = NULL;
  bool quiet = false;
  char cmdline[2048] = "";
  struct mca_injection mce[MCA_MAX_INJECTIONS];
  int i = 0;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "--quiet") == 0) { quiet = true; continue; }
    if (strcmp(a, "--cpu") == 0 || strcmp(a, "--mem") == 0 || strcmp(a, "--trace") == 0 || strcmp(a, "--max-insns") == 0 ||
        strcmp(a, "--mce") == 0) {
      if (i + 1 >= argc) return usage_error("option %s needs a value", a);
      const char *v = argv[++i];
      if (strcmp(a, "--cpu") == 0) {
        opt.cpu = cpu_model_find(v);
        if (!opt.cpu) return usage_error("unknown CPU model '%s' (hvsim cpus lists them)", v);
      } else if (strcmp(a, "--mem") == 0) {
        if (!parse_size(v, &opt.ram_size) || opt.ram_size < (2u << 20) || opt.ram_size > (16ull << 30) || (opt.ram_size & 0xfff))
          return usage_error("bad --mem '%s': give 2M to 16G, a multiple of 4 KiB", v);
      } else if (strcmp(a, "--trace") == 0) {
        trace_path = v;
      } else if (strcmp(a, "--mce") == 0) {
        char why[200];
        if (opt.mce_count == MCA_MAX_INJECTIONS) {
          char limit[16];
          snprintf(limit, sizeof limit, "%u", (unsigned)MCA_MAX_INJECTIONS);
          return usage_error("more than %s --mce options", limit);
        }
        if (!mca_parse_injection(v, &mce[opt.mce_count], why, sizeof why)) return usage_error("%s", why);
        opt.mce_count++;
        opt.mce = mce;
      } else if (!parse_u64(v, &opt.max_insns) || opt.max_insns == 0) {
        return usage_error("bad --max-insns '%s': give a positive number", v);
      }
      continue;
    }
    if (a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
    if (image) return usage_error("more than one image given ('%s'); put the command line after --", a);
    image = a;
  }
  for (; i < argc; i++) {
    size_t len = strlen(cmdline);
    if (len + strlen(argv[i]) + 2 >= sizeof cmdline) return usage_error("command line too long%s", "");
    snprintf(cmdline + len, sizeof cmdline - len, "%s%s", len ? " " : "", argv[i]);
  }
  if (!image) return usage_error("no image given%s", "");

  size_t size;
  uint8_t *bytes = read_image(image, &size);
  if (!bytes) return EXIT_USAGE;
  FILE *trace = NULL;
  if (trace_path) {
    trace = fopen(trace_path, "w");
    if (!trace) {
      fprintf(stderr, "hvsim: cannot write trace %s: %s\n", trace_path, strerror(errno));
      free(bytes);
      return EXIT_USAGE;
    }
  }
  opt.trace_out = trace;
  opt.cmdline = cmdline;
  opt.image_name = image;

  char err[256];
  struct machine *m = machine_create(&opt, bytes, size, err, sizeof err);
  free(bytes);
  if (!m) {
    fprintf(stderr, "hvsim: %s: %s\n", image, err);
    if (trace) fclose(trace);
    return EXIT_USAGE;
  }
  machine_run(m);
  fflush(stdout);
  char digest[65];
  trace_close(&m->trace, digest);
  int status = m->exit_status;
  if (!quiet || m->stop == STOP_INTERNAL || m->stop == STOP_SHUTDOWN)
    fprintf(stderr, "hvsim: %s: %s; %llu instructions in %llu blocks, %llu intercepted (%llu code hooks); trace sha256:%s\n",
            stop_name(m->stop), m->stop_detail, (unsigned long long)m->insns, (unsigned long long)m->blocks,
            (unsigned long long)intercepts_handled(m->icpt), (unsigned long long)intercepts_hook_count(m->icpt), digest);
  if (!quiet) print_mmu_summary(&m->mmu, stderr);
  if (!quiet && m->virt && m->virt->report) m->virt->report(m, stderr);
  if (m->stop == STOP_HALTED) status = 3;
  machine_destroy(m);
  if (trace && fclose(trace)) {
    fprintf(stderr, "hvsim: writing trace %s failed\n", trace_path);
    return 125;
  }
  return status;
}

/* explain-vmcs / explain-vmcb: FILE ("-" for stdin) and an optional --cpu. */
static int cmd_explain(int argc, char **argv, bool vmx)
{
  const char *file = NULL, *cpu = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--cpu") == 0) {
      if (i + 1 >= argc) return usage_error("option %s needs a value", argv[i]);
      cpu = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return usage_error("unknown option '%s'", argv[i]);
    } else if (file) {
      return usage_error("more than one dump given ('%s')", argv[i]);
    } else {
      file = argv[i];
    }
  }
  if (!file) return usage_error("no dump file given%s", "");
  const struct vmx_caps *caps = vmx ? (cpu ? vmx_caps_by_name(cpu) : vmx_cpu_models[0]) : NULL;
  const struct svm_features *feat = vmx ? NULL : (cpu ? svm_features_by_name(cpu) : svm_cpu_models[0]);
  if (vmx ? !caps : !feat) return usage_error("unknown CPU model '%s' for this command", cpu);
  FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
  if (!in) {
    fprintf(stderr, "hvsim: cannot open dump %s: %s\n", file, strerror(errno));
    return EXIT_USAGE;
  }
  int rc = vmx ? vmx_explain_vmcs(in, file, caps, stdout, stderr) : svm_explain_vmcb(in, file, feat, stdout, stderr);
  if (in != stdin) fclose(in);
  return rc;
}

static int cmd_cpus(void)
{
  for (size_t i = 0; i < cpu_model_count; i++)
    printf("%s %s %s\n", cpu_models[i]->name, cpu_vendor_name(cpu_models[i]->vendor), cpu_models[i]->description);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) { fputs(usage, stderr); return EXIT_USAGE; }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) { fputs(usage, stdout); return 0; }
  if (strcmp(cmd, "--version") == 0) { printf("hvsim %s\n", HVSIM_VERSION); return 0; }
  if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2);
  if (strcmp(cmd, "explain-vmcs") == 0) return cmd_explain(argc - 2, argv + 2, true);
  if (strcmp(cmd, "explain-vmcb") == 0) return cmd_explain(argc - 2, argv + 2, false);
  if (strcmp(cmd, "cpus") == 0) return argc == 2 ? cmd_cpus() : usage_error("cpus takes no arguments%s", "");
  return usage_error("unknown command '%s'", cmd);
}
