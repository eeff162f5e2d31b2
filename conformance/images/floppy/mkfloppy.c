/* mkfloppy: builds the 1.44 MB Bochs boot floppy of one test image.
 *
 *   hvsim-mkfloppy BOOTSECT.bin IMAGE.elf IMAGE.bin OUT.flp
 *
 * BOOTSECT.bin is floppy/bootsect.S assembled; IMAGE.bin is
 * `objcopy -O binary IMAGE.elf`, the flat bytes from the image's load
 * address. The load address (lowest PT_LOAD physical address) and the entry
 * point come from IMAGE.elf (ELF32 or ELF64); they are patched into the
 * boot sector's parameter block, and the flat image follows from sector 2. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOPPY_SIZE   (80 * 2 * 18 * 512)
#define SECTOR        512
#define PARAMS_OFFSET 0x1E0
#define PARAMS_MAGIC  "HVSIMBT1"
/* The boot sector stages the kernel at 0x10000 below the EBDA (0x9F000). */
#define MAX_KERNEL    (0x9F000 - 0x10000)

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mkfloppy: cannot open %s\n", path);
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                fprintf(stderr, "mkfloppy: out of memory reading %s\n", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ELF header and program headers (System V ABI, "ELF Header",
 * "Program Header"): entry point and lowest PT_LOAD physical address. */
static int elf_load_info(const unsigned char *e, size_t len, uint64_t *entry, uint64_t *load)
{
    if (len < 52 || memcmp(e, "\177ELF", 4) != 0) {
        fprintf(stderr, "mkfloppy: not an ELF file\n");
        return -1;
    }
    int is64 = e[4] == 2;
    if ((e[4] != 1 && e[4] != 2) || e[5] != 1 || (is64 && len < 64)) {
        fprintf(stderr, "mkfloppy: not a little-endian ELF32/ELF64 file\n");
        return -1;
    }
    *entry = is64 ? get_le(e + 24, 8) : get_le(e + 24, 4);
    uint64_t phoff = is64 ? get_le(e + 32, 8) : get_le(e + 28, 4);
    uint64_t phentsize = get_le(e + (is64 ? 54 : 42), 2);
    uint64_t phnum = get_le(e + (is64 ? 56 : 44), 2);
    *load = UINT64_MAX;
    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t off = phoff + i * phentsize;
        if (off + (is64 ? 56 : 32) > len) {
            fprintf(stderr, "mkfloppy: truncated program headers\n");
            return -1;
        }
        const unsigned char *ph = e + off;
        if (get_le(ph, 4) != 1 /* PT_LOAD */)
            continue;
        uint64_t paddr = is64 ? get_le(ph + 24, 8) : get_le(ph + 12, 4);
        if (paddr < *load)
            *load = paddr;
    }
    if (*load == UINT64_MAX) {
        fprintf(stderr, "mkfloppy: no PT_LOAD segment\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOOTSECT.bin IMAGE.elf IMAGE.bin OUT.flp\n", argv[0]);
        return 2;
    }
    int status = 1;
    size_t boot_len = 0, elf_len = 0, bin_len = 0;
    unsigned char *boot = read_file(argv[1], &boot_len);
    unsigned char *elf = read_file(argv[2], &elf_len);
    unsigned char *bin = read_file(argv[3], &bin_len);
    unsigned char *disk = calloc(1, FLOPPY_SIZE);
    uint64_t entry, load;
    if (!boot || !elf || !bin || !disk)
        goto out;
    if (boot_len != SECTOR || boot[510] != 0x55 || boot[511] != 0xAA ||
        memcmp(boot + PARAMS_OFFSET, PARAMS_MAGIC, 8) != 0) {
        fprintf(stderr, "mkfloppy: %s is not the hvsim boot sector\n", argv[1]);
        goto out;
    }
    if (elf_load_info(elf, elf_len, &entry, &load) != 0)
        goto out;
    if (bin_len == 0 || bin_len > MAX_KERNEL || load < 0x100000 || load + bin_len > 0xFFFFFFFFull ||
        entry > 0xFFFFFFFFull) {
        fprintf(stderr, "mkfloppy: image of %zu bytes at 0x%llx does not fit the boot sector's limits "
                "(at most %d bytes, loaded at or above 1 MiB, below 4 GiB)\n",
                bin_len, (unsigned long long)load, MAX_KERNEL);
        goto out;
    }
    uint32_t sectors = (uint32_t)((bin_len + SECTOR - 1) / SECTOR);
    memcpy(disk, boot, SECTOR);
    put_le32(disk + PARAMS_OFFSET + 8, (uint32_t)load);
    put_le32(disk + PARAMS_OFFSET + 12, (uint32_t)bin_len);
    put_le32(disk + PARAMS_OFFSET + 16, (uint32_t)entry);
    disk[PARAMS_OFFSET + 20] = (unsigned char)sectors;
    disk[PARAMS_OFFSET + 21] = (unsigned char)(sectors >> 8);
    memcpy(disk + SECTOR, bin, bin_len);
    FILE *out = fopen(argv[4], "wb");
    if (!out) {
        fprintf(stderr, "mkfloppy: cannot create %s\n", argv[4]);
        goto out;
    }
    if (fwrite(disk, 1, FLOPPY_SIZE, out) != FLOPPY_SIZE) {
        fprintf(stderr, "mkfloppy: cannot write %s\n", argv[4]);
        fclose(out);
        goto out;
    }
    status = fclose(out) == 0 ? 0 : 1;
out:
    free(boot);
    free(elf);
    free(bin);
    free(disk);
    return status;
}
