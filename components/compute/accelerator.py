"""Which ``<domain type>`` the guests get: as configured, or probed when the host starts.

``domain_type = "auto"`` asks the hardware, not libvirt: "kvm" is listed in
libvirt's capabilities whenever ``/dev/kvm`` exists, even where that KVM
cannot run a stock guest (a paravirtual KVM such as ``kvm_pvm`` hangs the
moment a kernel leaves real mode). So the probe does what every stock guest
does first: QEMU with ``-accel kvm`` runs a 174-byte firmware from the reset
vector through protected mode and paging into 64-bit long mode, where it
writes to the ``isa-debug-exit`` port. Only if QEMU exits with that code
within a few seconds do the guests get "kvm"; otherwise "qemu" (TCG, slower
but always right). The probe runs QEMU on this machine, so it applies only to
local ``qemu:///`` URIs.

The firmware, assembled from (GNU as, linked at 0xF0000, 64 KiB)::

        .code16
    start:  cli
            lgdtl %cs:(gdtr - 0xF0000)
            movl %cr0, %eax ; orl $1, %eax ; movl %eax, %cr0
            ljmpl $0x08, $pm32
        .code32
    pm32:   movw $0x10, %ax ; movw %ax, %ds ; movw %ax, %es ; movw %ax, %ss
            movl $0x1000, %edi ; movl $3072, %ecx ; xorl %eax, %eax ; rep stosl
            movl $0x2003, 0x1000 ; movl $0x3003, 0x2000 ; movl $0x83, 0x3000
            movl %cr4, %eax ; orl $0x20, %eax ; movl %eax, %cr4      # PAE
            movl $0x1000, %eax ; movl %eax, %cr3
            movl $0xC0000080, %ecx ; rdmsr ; orl $0x100, %eax ; wrmsr  # EFER.LME
            movl %cr0, %eax ; orl $0x80000000, %eax ; movl %eax, %cr0 # paging
            ljmp $0x18, $lm64
        .code64
    lm64:   movb $0x31, %al ; outb %al, $0xf4                       # exit (0x31<<1)|1
    1:      hlt ; jmp 1b
    gdt:    .quad 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF, 0x00AF9A000000FFFF
    gdtr:   .word 31 ; .long gdt
            .org 0xFFF0 ; .code16 ; jmp start
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

QEMU = "qemu-system-x86_64"
KVM_DEVICE = "/dev/kvm"
PROBE_TIMEOUT_SECONDS = 5.0
# QEMU's exit status once the firmware reached long mode: (0x31 << 1) | 1.
PROBE_PASSED = 99
PROBE_CODE = bytes.fromhex(
    "fa2e660f0116a8000f20c06683c8010f22c066ea1a000f00080066b810008ed88ec08ed0bf0010"
    "0000b9000c000031c0f3abc7050010000003200000c7050020000003300000c705003000008300"
    "00000f20e083c8200f22e0b8001000000f22d8b9800000c00f320d000100000f300f20c00d0000"
    "00800f22c0ea81000f001800b031e6f4f4ebfd0000000000000000ffff0000009acf00ffff0000"
    "0092cf00ffff0000009aaf001f0088000f00"
)
RESET_VECTOR = 0xFFF0
RESET_JUMP = bytes.fromhex("e90d00")  # jmp 0x0000 (start)
FIRMWARE_BYTES = 0x10000


def probe_firmware() -> bytes:
    """The 64 KiB firmware image QEMU maps below 1 MiB (reset vector at 0xFFFF0)."""
    image = bytearray(FIRMWARE_BYTES)
    image[: len(PROBE_CODE)] = PROBE_CODE
    image[RESET_VECTOR : RESET_VECTOR + len(RESET_JUMP)] = RESET_JUMP
    return bytes(image)


def resolve_domain_type(configured: str, libvirt_uri: str) -> str:
    """The domain type guests get: ``configured``, unless it is "auto"."""
    if configured != "auto":
        return configured
    if not libvirt_uri.startswith("qemu:///"):
        return "qemu"
    if kvm_runs_stock_guests():
        log.info("guests get domain type kvm: KVM runs a stock guest into long mode")
        return "kvm"
    log.info("guests get domain type qemu (TCG): KVM is missing or cannot run stock guests")
    return "qemu"


def kvm_runs_stock_guests(timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether QEMU with KVM takes the probe firmware from reset into long mode."""
    if not os.access(KVM_DEVICE, os.R_OK | os.W_OK):
        return False
    return reaches_long_mode("kvm", timeout)


def reaches_long_mode(accel: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether QEMU with accelerator ``accel`` ("kvm", "tcg") runs the probe firmware
    into long mode within ``timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="stratus-accel-probe-") as scratch:
        firmware = Path(scratch) / "probe.bin"
        firmware.write_bytes(probe_firmware())
        command = [
            QEMU, "-accel", accel, "-machine", "pc", "-m", "16", "-nodefaults",
            "-no-user-config", "-display", "none", "-bios", str(firmware),
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
        ]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout)
        except FileNotFoundError:
            log.warning("%s is not installed", QEMU)
            return False
        except subprocess.TimeoutExpired:
            return False
    return result.returncode == PROBE_PASSED
