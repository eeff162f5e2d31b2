#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_hv_exits (input format: the comment above
LLVMFuzzerTestOneInput in fuzz/fuzz_hv_exits.c). Run from the top of the
tree: python3 fuzz/fuzz_hv_exits/make_seeds.py. The found_* seeds beside
these are campaign findings, kept as they were found (their configuration
byte set to the CPU model the campaign used)."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
CPU = {"skylake-x": 0, "nehalem": 1, "epyc-qemu": 2, "ryzen": 3, "zen2": 4}
SHADOW = 8
RAW, PLACE, NRIP = 1, 2, 4


def cfg(cpu, shadow=False):
    return bytes([CPU[cpu] | (SHADOW if shadow else 0)])


def mem(gpa, val):
    return bytes([0]) + struct.pack("<IQ", gpa, val)


def text(gpa, s):
    out = b""
    s = s + b"\0" * (-len(s) % 8)
    for i in range(0, len(s), 8):
        out += mem(gpa + i, struct.unpack("<Q", s[i:i + 8])[0])
    return out


def code(bs):
    return bytes([1, len(bs)]) + bs


def reg(n, val):
    return bytes([2, n]) + struct.pack("<Q", val & (2**64 - 1))


def vmx(reason, qual=0, length=2, intr=0, intr_err=0, idt=0, idt_err=0, flags=0, var=0):
    return (bytes([4, 0xf0, flags, var]) + struct.pack("<I", reason) + struct.pack("<Q", qual) +
            bytes([(length - 1) % 15]) + struct.pack("<IIII", intr, intr_err, idt, idt_err))


def svm(code_, info1=0, info2=0, intinfo=0, flags=0, var=0):
    return (bytes([4, 0xf0, flags, var]) + struct.pack("<Q", code_ & (2**64 - 1)) +
            struct.pack("<QQQ", info1, info2, intinfo))


RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
PF_INFO = 14 | 3 << 8 | 1 << 11 | 1 << 31
seeds = {
    # VMX, Skylake-X, SLAT
    "vmx_cpuid_leaf1": cfg("skylake-x") + reg(RAX, 1) + vmx(10, flags=PLACE),
    "vmx_vmcall_print_then_exit": cfg("skylake-x") + text(0x200000, b"hello") + reg(RAX, 1) +
        reg(RDI, 0x200000) + reg(RSI, 5) + vmx(18, length=3) + reg(RAX, 2) + reg(RDI, 0) + vmx(18, length=3),
    "vmx_vmcall_stats_unknown": cfg("skylake-x") + reg(RAX, 3) + vmx(18, length=3) + reg(RAX, 99) + vmx(18, length=3),
    "vmx_cr4_pge_then_vmxe": cfg("skylake-x") + reg(RBX, 0xa0) + vmx(28, qual=4 | 3 << 8, length=3) +
        reg(RBX, 0x2020) + vmx(28, qual=4 | 3 << 8, length=3),
    "vmx_cr0_clts_lmsw_read": cfg("skylake-x") + vmx(28, qual=2 << 4) + vmx(28, qual=3 << 4 | 0xb << 16, length=3) +
        vmx(28, qual=1 << 4 | 3 | 1 << 8, length=3),
    "vmx_msrs": cfg("skylake-x") + reg(RCX, 0xc0000080) + vmx(31) + reg(RCX, 0x277) + reg(RAX, 0x06060606) +
        reg(RDX, 0x06060606) + vmx(32) + reg(RCX, 0x1337) + vmx(31) + reg(RCX, 0xc0000080) + reg(RAX, 0x901) +
        reg(RDX, 0) + vmx(32),
    "vmx_com1_line": cfg("skylake-x") + reg(RAX, ord("A")) + vmx(30, qual=0x3f8 << 16, length=1) +
        reg(RAX, 10) + vmx(30, qual=0x3f8 << 16, length=1) + vmx(30, qual=0x3fd << 16 | 8, length=1),
    "vmx_hlt_vmxon": cfg("skylake-x") + vmx(12, length=1) + vmx(27, length=4),
    "vmx_wbinvd_stops": cfg("skylake-x") + vmx(54, length=2),
    "vmx_entry_failure_stops": cfg("skylake-x") + vmx(33 | 1 << 31, flags=RAW),
    "vmx_port_80_stops": cfg("skylake-x") + vmx(30, qual=0x80 << 16, length=1),
    # VMX, shadow paging
    "vmx_shadow_pf_fill_inject_invlpg_cr3": cfg("skylake-x", True) +
        vmx(0, qual=0x200000, intr=PF_INFO, length=1) + vmx(0, qual=0x40000000, intr=PF_INFO, length=1) +
        vmx(14, qual=0x200000, length=3) + reg(RAX, 0x1000) + vmx(28, qual=3, length=3) +
        vmx(28, qual=3 | 1 << 4 | 2 << 8, length=3),
    "vmx_shadow_pf_during_softint": cfg("skylake-x", True) +
        vmx(0, qual=0x201000, intr=PF_INFO, idt=0x80 | 4 << 8 | 1 << 31, length=2),
    "vmx_shadow_pf_during_extint": cfg("skylake-x", True) + bytes([3]) + struct.pack("<QI", 0x100000, 0x202) +
        vmx(0, qual=0x200000, intr=PF_INFO, idt=0x20 | 1 << 31, length=1),
    # a user read of a supervisor page (#PF P|U), then with EFER.NXE a fetch
    # from a no-execute page (#PF P|I), then a supervisor write they allow
    "vmx_shadow_pf_user_nx": cfg("skylake-x", True) + vmx(0, qual=0x200000, intr=PF_INFO, intr_err=4, length=1) +
        mem(0x3008, 0x200000 | 0x87 | 1 << 63) + reg(RCX, 0xc0000080) + reg(RAX, 0x901) + reg(RDX, 0) +
        vmx(32, length=2) + vmx(0, qual=0x200010, intr=PF_INFO, intr_err=0x10, length=1) +
        vmx(0, qual=0x200020, intr=PF_INFO, intr_err=2, length=1),
    "svm_shadow_pf_user_nx": cfg("ryzen", True) + svm(0x4e, info1=4, info2=0x200000) +
        mem(0x3008, 0x200000 | 0x87 | 1 << 63) + reg(RCX, 0xc0000080) + reg(RAX, 0x901) + reg(RDX, 0) +
        svm(0x7c, flags=PLACE | NRIP, var=1) + svm(0x4e, info1=0x10, info2=0x200010) +
        svm(0x4e, info1=2, info2=0x200020),
    # user pages (U/S on every level) filled for a user read; with EFER.NXE a
    # no-execute page filled for a read, then written (dirty: writable)
    "vmx_shadow_fill_user_page": cfg("skylake-x", True) + mem(0x1000, 0x2007) + mem(0x2000, 0x3007) +
        mem(0x3008, 0x200000 | 0x87) + vmx(0, qual=0x200000, intr=PF_INFO, intr_err=4, length=1) +
        vmx(0, qual=0x201000, intr=PF_INFO, intr_err=6, length=1),
    "svm_shadow_fill_nx_page": cfg("zen2", True) + mem(0x3008, 0x200000 | 0x83 | 1 << 63) +
        reg(RCX, 0xc0000080) + reg(RAX, 0x901) + reg(RDX, 0) + svm(0x7c, flags=PLACE | NRIP, var=1) +
        svm(0x4e, info1=0, info2=0x200000) + svm(0x4e, info1=2, info2=0x200000),
    "vmx_nehalem_cpuid_softint": cfg("nehalem", True) + reg(RAX, 0x40000000) + vmx(10, flags=PLACE) +
        vmx(0, qual=0x202000, intr=PF_INFO, idt=0x80 | 4 << 8 | 1 << 31, length=2),
    # SVM, EPYC (QEMU): no NRIP save, no decode assists: hv decodes
    "svm_cpuid_vmmcall": cfg("epyc-qemu") + reg(RAX, 0x80000001) + svm(0x72, flags=PLACE) +
        reg(RAX, 2) + svm(0x81, flags=PLACE),
    "svm_msr_io": cfg("epyc-qemu") + reg(RCX, 0x277) + svm(0x7c, flags=PLACE) + reg(RCX, 0x1337) +
        svm(0x7c, flags=PLACE | 0) + reg(RAX, ord("x")) + reg(RDX, 0x3f8) + svm(0x7b, flags=PLACE, var=1),
    "svm_cr4_write_decoded": cfg("epyc-qemu") + reg(RBX, 0xa0) + svm(0x14, flags=PLACE, var=3) +
        code(b"\x0f\x06") + svm(0x10),
    "svm_hlt_vmrun_unknown": cfg("epyc-qemu") + svm(0x78, flags=PLACE) + svm(0x80, flags=PLACE) + svm(0x89),
    "svm_invalid_stops": cfg("epyc-qemu") + svm(-1, flags=RAW),
    "svm_prefixed_cpuid": cfg("epyc-qemu") + code(b"\x2e\x66\x0f\xa2") + svm(0x72),
    # SVM with NRIP save (ryzen) and decode assists (zen2)
    "svm_ryzen_nrip_cpuid": cfg("ryzen") + svm(0x72, flags=PLACE | NRIP) + svm(0x81, flags=PLACE | NRIP),
    "svm_zen2_cr_decode_assists": cfg("zen2") + reg(9, 0xa0) + svm(0x14, flags=PLACE | NRIP, var=9),
    "svm_shadow_pf_invlpg_cr3": cfg("zen2", True) + svm(0x4e, info1=0, info2=0x200000) +
        svm(0x4e, info1=2, info2=0x40000000) + svm(0x79, info1=0x200000, flags=PLACE | NRIP) +
        reg(RAX, 0x1000) + svm(0x13, flags=PLACE | NRIP) + svm(0x03, flags=PLACE | NRIP, var=2),
    "svm_shadow_epyc_invlpg_decoded": cfg("epyc-qemu", True) + reg(RAX, 0x200000) + svm(0x79, flags=PLACE) +
        code(b"\x64\x0f\x01\x38") + svm(0x79),
}

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
