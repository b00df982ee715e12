/*
 * head.S — PVH entry (Xen docs/misc/pvh.pandoc), long-mode switch, AP
 * entries and the 256 IDT stubs.
 *
 * The boot CPU enters at pvh_start in 32-bit flat protected mode with
 * paging off and %ebx = physical address of struct hvm_start_info.
 * The page tables are static data (4 GiB identity map, 2 MiB pages) so
 * that no loop runs before long mode: on kvm_pvm every guest ring-0
 * instruction is emulated.
 */
#include <xen/elfnote.h>

/* XEN_HVM_START_MAGIC_VALUE of <xen/arch-x86/hvm/start_info.h>, which is
 * not includable from assembly; boot.c checks that the two agree. */
#define START_MAGIC 0x336ec578

#define CR0_PE      0x00000001
#define CR0_MP      0x00000002
#define CR0_ET      0x00000010
#define CR0_NE      0x00000020
#define CR0_WP      0x00010000
#define CR0_PG      0x80000000
#define CR4_PAE     0x00000020
#define MSR_EFER    0xc0000080
#define EFER_LME    0x00000100

#define GDT_CS32    0x08
#define GDT_CS64    0x10
#define GDT_DS      0x18

#define STACK_BYTES 16384

/* ---------------------------------------------------------------- note */
        .section .note.Xen, "a", @note
        .balign 4
        .long   4                       /* namesz: "Xen\0" */
        .long   4                       /* descsz */
        .long   XEN_ELFNOTE_PHYS32_ENTRY
        .asciz  "Xen"
        .long   pvh_start

/* ------------------------------------------------------ 32-bit entry */
        .section .text.head, "ax"
        .code32
        .globl  pvh_start
pvh_start:
        cli
        cld
        cmpl    $START_MAGIC, (%ebx)
        jne     .Lbad_magic
        movl    %ebx, boot_start_info_pa

        /* BSS (may be zero already: the loader zeroes p_memsz).  Four
         * bytes per iteration (kernel.ld aligns both ends to 64): kvm_pvm
         * emulates every iteration, and a large BSS took seconds. */
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        shrl    $2, %ecx
        xorl    %eax, %eax
        rep stosl

        movl    $boot_stack_top, %esp
        call    enter_long_mode
        ljmp    $GDT_CS64, $.Lboot64

.Lbad_magic:
        /* Nothing to print with: say "M" on the debug port and stop. */
        movb    $'M', %al
        outb    %al, $0xe9
1:      hlt
        jmp     1b

/*
 * enter_long_mode: load our GDT, enable PAE, load CR3, set EFER.LME and
 * turn paging on.  Called in 32-bit mode with a stack; returns still in
 * 32-bit compatibility code (the caller far-jumps to 64-bit code).
 * Clobbers eax, ecx, edx.
 */
        .globl  enter_long_mode
enter_long_mode:
        lgdt    gdt_desc
        ljmp    $GDT_CS32, $1f
1:      movl    $GDT_DS, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        movl    %eax, %fs
        movl    %eax, %gs
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $pml4, %eax
        movl    %eax, %cr3
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG), %eax
        movl    %eax, %cr0
        ret

/* AP coming from the real-mode trampoline, now in 32-bit flat mode. */
        .globl  ap_start32
ap_start32:
        movl    $GDT_DS, %eax
        movl    %eax, %ds
        movl    %eax, %ss
        movl    ap_boot_stack, %esp
        call    enter_long_mode
        ljmp    $GDT_CS64, $ap_start64

/* ------------------------------------------------------ 64-bit entry */
        .code64
.Lboot64:
        movl    $GDT_DS, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        xorl    %eax, %eax
        movl    %eax, %fs
        movl    %eax, %gs
        movq    $boot_stack_top, %rsp
        xorl    %ebp, %ebp
        movl    boot_start_info_pa, %edi
        call    kernel_start
1:      hlt
        jmp     1b

/*
 * AP in long mode, either from ap_start32 or directly from
 * VCPUOP_initialise (VCPU_HVM_MODE_64B: flat segments but no GDT or IDT
 * of ours loaded, rsp set by the caller).  Reload GDT, segments and CS.
 */
        .globl  ap_start64
ap_start64:
        lgdt    gdt_desc
        movl    $GDT_DS, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    %eax, %ss
        xorl    %eax, %eax
        movl    %eax, %fs
        movl    %eax, %gs
        movq    ap_boot_stack, %rsp
        pushq   $GDT_CS64
        pushq   $1f
        lretq
1:      xorl    %ebp, %ebp
        call    smp_ap_main
2:      hlt
        jmp     2b

/* ------------------------------------------------------------ traps */
/*
 * trap_stubs: 256 stubs of 16 bytes.  Each pushes a zero error code when
 * the CPU does not push one, then the vector, and joins trap_common,
 * which saves the general registers as a struct trap_frame (traps.h).
 */
        .balign 16
        .globl  trap_stubs
trap_stubs:
        .set    vec, 0
        .rept   256
        .balign 16
        .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || \
            (vec == 21) || (vec == 29) || (vec == 30)
        .else
        pushq   $0
        .endif
        .if vec < 128
        pushq   $vec
        .else
        pushq   $(vec - 256)            /* sign-extended imm8, masked in C */
        .endif
        jmp     trap_common
        .set    vec, vec + 1
        .endr

trap_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rsp, %rdi
        call    trap_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp
        iretq

/* ------------------------------------------------------------- data */
        .section .data.boot, "aw"
        .balign 16
        .globl  gdt
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08: 32-bit code, flat */
        .quad   0x00af9a000000ffff      /* 0x10: 64-bit code */
        .quad   0x00cf92000000ffff      /* 0x18: data, flat */
gdt_end:
        .balign 16
        .word   0                       /* aligns the base field */
        .globl  gdt_desc
gdt_desc:
        .word   gdt_end - gdt - 1
        .quad   gdt                     /* 32-bit lgdt reads the low half */

        .globl  boot_start_info_pa
boot_start_info_pa:
        .long   0
        .globl  ap_boot_stack
        .balign 8
ap_boot_stack:
        .quad   0

/*
 * Identity map of the first 4 GiB with 2 MiB pages, as static data.
 * 3–4 GiB (the MMIO hole with the LAPIC) is mapped uncached.
 */
        .section .data.pagetables, "aw"
        .balign 4096
        .globl  pml4
pml4:
        .quad   pdpt + 0x003            /* present, writable */
        .fill   511, 8, 0
pdpt:
        .quad   pd + 0x0000 + 0x003
        .quad   pd + 0x1000 + 0x003
        .quad   pd + 0x2000 + 0x003
        .quad   pd + 0x3000 + 0x003
        .fill   508, 8, 0
pd:
        .set    i, 0
        .rept   2048
        .if i >= 1536
        .quad   (i << 21) | 0x09b       /* P RW PWT PCD PS */
        .else
        .quad   (i << 21) | 0x083       /* P RW PS */
        .endif
        .set    i, i + 1
        .endr

/* ---------------------------------------------------------- stacks */
        .section .stack, "aw", @nobits
        .balign 4096
boot_stack:
        .skip   STACK_BYTES
        .globl  boot_stack_top
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
