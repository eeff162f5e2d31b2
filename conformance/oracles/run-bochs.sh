#!/bin/sh
# Boots a floppy image on Bochs, headless, the one way every oracle test
# runs Bochs.
#
#   run-bochs.sh ENGINE FLOPPY WORK TIMEOUT_S [COMMANDS]
#
# ENGINE     bochs-intel (corei7_skylake_x) | bochs-amd (ryzen)
# FLOPPY     the boot floppy image; Bochs gets its own copy, so parallel runs
#            never share state
# WORK       an empty directory: receives floppy.img, bochsrc, serial.txt
#            (COM1), bochs.log and stdout.txt
# COMMANDS   a file of Bochs debugger commands run before the machine starts
#            (e.g. setpmem), optional
# Exit status: Bochs's, or timeout's (124, 137); 2 for bad usage.
set -u
[ $# -ge 4 ] || { echo "usage: $0 bochs-intel|bochs-amd FLOPPY WORK TIMEOUT_S [COMMANDS]" >&2; exit 2; }
engine=$1 floppy=$2 work=$3 timeout_s=$4 commands=${5:-}
case $engine in
bochs-intel) model=corei7_skylake_x ;;
bochs-amd)   model=ryzen ;;
*) echo "run-bochs.sh: unknown engine $engine" >&2; exit 2 ;;
esac
cp "$floppy" "$work/floppy.img" || exit 2
cat >"$work/bochsrc" <<EOB
megs: 64
cpu: model=$model, count=1, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
boot: floppy
floppya: 1_44=floppy.img, status=inserted
com1: enabled=1, mode=file, dev=serial.txt
display_library: term
log: bochs.log
panic: action=fatal
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
EOB
if [ -n "$commands" ]; then cat "$commands" >"$work/cmds" || exit 2; else : >"$work/cmds"; fi
printf 'c\nquit\n' >>"$work/cmds"
# Bochs wants no controlling terminal (setsid) and no stdin.
cd "$work" && setsid -w timeout -k 5 "$timeout_s" bochs -q -f bochsrc -rc cmds </dev/null >stdout.txt 2>&1
