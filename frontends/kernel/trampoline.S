/*
 * trampoline.S — real-mode entry for APs started with INIT/SIPI.
 *
 * Linked at TRAMPOLINE_BASE (0x8000, see kernel.ld); the SIPI vector is
 * TRAMPOLINE_BASE >> 12.  The AP starts in real mode with CS = 0x0800,
 * IP = 0: load the kernel's GDT (lgdtl takes a 32-bit base), set CR0.PE
 * and far-jump to ap_start32 in head.S, which enters long mode.
 */
        .section .trampoline, "ax"
        .code16
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
        .long   gdt_tramp
        .balign 8
        /* Same layout as head.S's GDT; kept here so it is below 1 MiB. */
gdt_tramp:
        .quad   0
        .quad   0x00cf9a000000ffff
        .quad   0x00af9a000000ffff
        .quad   0x00cf92000000ffff
gdt_end_tramp:

        .section .note.GNU-stack, "", @progbits
