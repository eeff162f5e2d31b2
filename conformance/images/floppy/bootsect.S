/* Boot sector of the Bochs floppies: a tiny multiboot loader for one test
 * image stored as a flat binary from sector 2 of a 1.44 MB floppy.
 *
 * Bochs 2.7 has no multiboot loader, so this does what QEMU's -kernel does:
 * collect the memory size (int 12h, int 15h E801/88h) and the E820 map,
 * load the kernel with int 13h (CHS, a track at a time, never across a
 * 64 KiB DMA boundary) to 0x10000, enable A20, enter 32-bit protected mode,
 * copy the kernel to its load address (above 1 MiB) and jump to its entry
 * with EAX=0x2BADB002 and EBX pointing to a multiboot information structure
 * (Multiboot Specification 0.6.96, "Machine state", "Boot information
 * format"). mkfloppy patches the image's load address, size, entry and
 * sector count into the parameter block at PARAMS. */

#define BUF_SEG     0x1000      /* kernel staging buffer: 0x10000 */
#define MBI         0x6000      /* multiboot information */
#define MMAP        0x6100      /* multiboot memory map entries */
#define MMAP_END    0x7000
#define SECTORS_PER_TRACK 18
#define PARAMS      0x1E0

        .code16
        .text
        .globl start
start:
        ljmp    $0, $norm
norm:   cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7C00, %sp
        sti
        cld
        movb    %dl, drive

        /* Clear the information structure and the map. */
        movw    $MBI, %di
        movw    $(MMAP_END - MBI) / 2, %cx
        xorw    %ax, %ax
        rep stosw

        /* Memory below 1 MiB (KiB). */
        int     $0x12
        movw    %ax, MBI + 4
        /* Memory above 1 MiB: E801 gives KiB to 16 MiB plus 64 KiB blocks above. */
        movw    $0xE801, %ax
        int     $0x15
        jc      use88
        testw   %ax, %ax
        jnz     1f
        movw    %cx, %ax
        movw    %dx, %bx
1:      movzwl  %bx, %ebx
        shll    $6, %ebx
        movzwl  %ax, %eax
        addl    %ebx, %eax
        jmp     2f
use88:  movb    $0x88, %ah
        int     $0x15
        movzwl  %ax, %eax
2:      movl    %eax, MBI + 8
        movb    $0x01, MBI              /* flags: mem_lower/mem_upper */

        /* E820 map: each multiboot entry is a 4-byte size then the 20 bytes
         * E820 returns. */
        xorl    %ebx, %ebx
        movw    $MMAP + 4, %di
e820:   movl    $0xE820, %eax
        movl    $0x534D4150, %edx       /* 'SMAP' */
        movl    $20, %ecx
        int     $0x15
        jc      e820_done
        cmpl    $0x534D4150, %eax
        jne     e820_done
        movl    $20, -4(%di)
        addw    $24, %di
        cmpw    $MMAP_END - 24, %di
        jae     e820_done
        testl   %ebx, %ebx
        jnz     e820
e820_done:
        subw    $MMAP + 4, %di
        jz      load
        movw    %di, MBI + 44           /* mmap_length */
        movw    $MMAP, MBI + 48         /* mmap_addr */
        orb     $0x40, MBI              /* flags: memory map */

        /* Load the kernel: SI = next LBA, DI = sectors left, ES = buffer. */
load:   movw    $BUF_SEG, %ax
        movw    %ax, %es
        movw    $1, %si
        movw    p_sectors, %di
        movw    $3, %bp                 /* retries */
rd:     testw   %di, %di
        jz      loaded
        movw    %si, %ax
        xorw    %dx, %dx
        movw    $SECTORS_PER_TRACK, %bx
        divw    %bx                     /* AX = track, DX = sector in track */
        subw    %dx, %bx                /* BX = sectors left on this track */
        cmpw    %di, %bx
        jbe     1f
        movw    %di, %bx
1:      movw    %es, %cx                /* sectors before the next 64 KiB boundary */
        andw    $0x0FFF, %cx
        negw    %cx
        addw    $0x1000, %cx
        shrw    $5, %cx
        cmpw    %cx, %bx
        jbe     2f
        movw    %cx, %bx
2:      movb    %dl, %cl
        incb    %cl                     /* sector, 1-based */
        movb    %al, %dh
        andb    $1, %dh                 /* head = track & 1 */
        shrw    $1, %ax
        movb    %al, %ch                /* cylinder = track / 2 */
        movb    drive, %dl
        movb    %bl, %al
        movb    $0x02, %ah
        pushw   %bx
        xorw    %bx, %bx
        int     $0x13
        popw    %bx
        jnc     3f
        xorw    %ax, %ax                /* reset the drive, try again */
        movb    drive, %dl
        int     $0x13
        decw    %bp
        jnz     rd
        movw    $msg_disk, %si
        jmp     die
3:      addw    %bx, %si
        subw    %bx, %di
        shlw    $5, %bx
        movw    %es, %ax
        addw    %bx, %ax
        movw    %ax, %es
        jmp     rd

loaded: /* A20 through the "fast A20" port 0x92 (Bochs and PCs since the PS/2). */
        inb     $0x92, %al
        orb     $0x02, %al
        andb    $0xFE, %al
        outb    %al, $0x92

        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        lgdtl   gdt_desc
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        ljmpl   $0x08, $pm32

die:    lodsb                           /* print DS:SI and stop */
        testb   %al, %al
        jz      4f
        movb    $0x0E, %ah
        xorw    %bx, %bx
        int     $0x10
        jmp     die
4:      cli
        hlt
        jmp     4b

        .code32
pm32:   movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    %ax, %fs
        movw    %ax, %gs
        movl    $0x7C00, %esp
        movl    $(BUF_SEG << 4), %esi
        movl    p_load, %edi
        movl    p_size, %ecx
        addl    $3, %ecx
        shrl    $2, %ecx
        rep movsl
        movl    $0x2BADB002, %eax
        movl    $MBI, %ebx
        jmp     *p_entry

msg_disk: .asciz "boot: floppy read error"
drive:  .byte 0
        .balign 8
gdt:    .quad 0
        .quad 0x00CF9A000000FFFF        /* 0x08 flat 32-bit code */
        .quad 0x00CF92000000FFFF        /* 0x10 flat data */
gdt_desc:
        .word 23
        .long gdt

        /* Parameter block, filled in by mkfloppy. */
        .org PARAMS
        .ascii "HVSIMBT1"
p_load:    .long 0
p_size:    .long 0
p_entry:   .long 0
p_sectors: .word 0

        .org 510
        .byte 0x55, 0xAA
