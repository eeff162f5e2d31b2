/* Replays fuzz inputs without libFuzzer, so every harness also runs as a
 * regression test in the ordinary (gcc) build: `fuzz_X_replay DIR|FILE...`
 * calls LLVMFuzzerTestOneInput once per file, directories in name order
 * (deterministic). A harness signals a failure by aborting; this driver
 * fails when an argument is missing or a directory holds no input, so an
 * empty corpus cannot pass silently. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs one file; the buffer has exactly the file's size, so a read past
 * its end is caught by AddressSanitizer, as under libFuzzer. */
static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  bool bad = !buf || ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "%s: read error\n", path);
    free(buf);
    return -1;
  }
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every regular file of `dir`; returns how many, or -1. */
static int run_dir(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    return -1;
  }
  char **names = NULL;
  size_t count = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char **grown = realloc(names, (count + 1) * sizeof *names);
    if (!grown) break;
    names = grown;
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[count] = malloc(len);
    snprintf(names[count], len, "%s/%s", dir, e->d_name);
    count++;
  }
  closedir(d);
  qsort(names, count, sizeof *names, by_name);
  int ran = 0;
  for (size_t i = 0; i < count; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (run_file(names[i]) < 0) ran = -1;
      else if (ran >= 0) ran++;
    }
    free(names[i]);
  }
  free(names);
  return ran;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  int total = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    int ran = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
    if (ran <= 0) {
      fprintf(stderr, "%s: %s\n", argv[i], ran == 0 ? "no inputs" : "could not be replayed");
      return 1;
    }
    total += ran;
  }
  printf("%d inputs replayed without a failure\n", total);
  return 0;
}
