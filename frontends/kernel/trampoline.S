/*
 * trampoline.S — real-mode entry for APs started with INIT/SIPI.
 *
 * Stored in .text; smp.c copies [trampoline_start, trampoline_end) to
 * TRAMPOLINE_BASE (0x8000) before each SIPI (vector = 0x8000 >> 12), so it
 * does not depend on a loader or firmware keeping memory below 1 MiB.
 * The code is position-independent except for TRAMPOLINE_BASE below.
 * The AP starts in real mode with CS = 0x0800, IP = 0: load the GDT copy
 * (lgdtl takes a 32-bit base), set CR0.PE and far-jump to ap_start32 in
 * head.S, which enters long mode.
 */
#define TRAMPOLINE_BASE 0x8000

        .section .text.trampoline, "ax"
        .code16
        .balign 16
        .globl  trampoline_start
trampoline_start:
        cli
        cld
        movw    %cs, %ax
        movw    %ax, %ds
        lgdtl   (tramp_gdt_desc - trampoline_start)
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmpl   $0x08, $ap_start32

        .balign 8
tramp_gdt_desc:
        .word   gdt_end_tramp - gdt_tramp - 1
        .long   TRAMPOLINE_BASE + (gdt_tramp - trampoline_start)
        .balign 8
        /* Same layout as head.S's GDT; kept here so it is below 1 MiB. */
gdt_tramp:
        .quad   0
        .quad   0x00cf9a000000ffff
        .quad   0x00af9a000000ffff
        .quad   0x00cf92000000ffff
gdt_end_tramp:
        .globl  trampoline_end
trampoline_end:
        .code64

        .section .note.GNU-stack, "", @progbits
