/*
 * kvm_probe — does this host's /dev/kvm run the guest ring-0 instructions
 * that a Linux guest needs?  README.md's platform notes list the ones that
 * fail on kvm_pvm: vmcall hangs the vCPU, lock cmpxchg16b, xrstor and int3
 * in ring 0 can end in KVM_EXIT_INTERNAL_ERROR.  The lab VM (a real SVM KVM)
 * must run them all; this program checks it and prints TAP.
 *
 * It builds a tiny 64-bit guest directly with the KVM API
 * (Documentation/virt/kvm/api.rst: KVM_CREATE_VM, KVM_SET_USER_MEMORY_REGION,
 * KVM_SET_SREGS, KVM_SET_CPUID2, KVM_RUN): long mode set up through the
 * special registers, identity-mapped 2 MiB pages, a GDT and an IDT with a
 * #BP handler.  Each instruction runs on a fresh VM from its own entry
 * point and ends with hlt, its result in r8, so one that hangs or fails
 * does not hide the others.  On kvm_pvm all five fail as the notes say.
 *
 * Usage: kvm_probe [--first N]   (number the TAP results from N; the plan
 * line is printed only without --first).  Exit 0 when every check passed,
 * 1 otherwise, 77 (with a SKIP plan) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Guest-physical layout (all inside the first 2 MiB page). */
#define PROBE_MEM_BYTES (4u << 20)
#define PROBE_GDT       0x1000u
#define PROBE_IDT       0x2000u
#define PROBE_PML4      0x3000u
#define PROBE_PDPT      0x4000u
#define PROBE_PD        0x5000u
#define PROBE_DATA      0x7000u /* the cmpxchg16b target, 16-byte aligned */
#define PROBE_XSAVE     0x8000u /* XSAVE area, 64-byte aligned */
#define PROBE_CODE      0x10000u
#define PROBE_STACK     0x3ff000u

/* What KVM answers to a hypercall number it does not know
 * (include/uapi/linux/kvm_para.h: KVM_ENOSYS 1000). */
#define PROBE_KVM_ENOSYS 1000

/* The guest's code, assembled into this binary and copied to PROBE_CODE.
 * Only immediates and absolute addresses: it is not run where it lies.
 * Each probe starts at its own label on a fresh VM and ends with hlt,
 * its result in r8. */
extern const uint8_t probe_guest_start[], probe_guest_vmmcall[],
    probe_guest_vmcall[], probe_guest_cmpxchg16b[], probe_guest_xsave[],
    probe_guest_int3[], probe_guest_bp_handler[], probe_guest_end[];
__asm__(".pushsection .rodata\n"
        ".globl probe_guest_start, probe_guest_vmmcall, probe_guest_vmcall\n"
        ".globl probe_guest_cmpxchg16b, probe_guest_xsave, probe_guest_int3\n"
        ".globl probe_guest_bp_handler, probe_guest_end\n"
        "probe_guest_start:\n"
        /* vmmcall (AMD's) with a hypercall number KVM does not know */
        "probe_guest_vmmcall:\n"
        "mov $0x7fff, %eax\n vmmcall\n mov %rax, %r8\n hlt\n"
        /* vmcall (Intel's): on SVM a #UD that KVM emulates */
        "probe_guest_vmcall:\n"
        "mov $0x7fff, %eax\n vmcall\n mov %rax, %r8\n hlt\n"
        /* lock cmpxchg16b: {1, 2} -> {3, 4}; r8 = ZF */
        "probe_guest_cmpxchg16b:\n"
        "mov $1, %eax\n mov $2, %edx\n mov $3, %ebx\n mov $4, %ecx\n"
        "lock cmpxchg16b 0x7000\n setz %r8b\n hlt\n"
        /* xsave then xrstor of x87 and SSE state; r8 = 1 after */
        "probe_guest_xsave:\n"
        "mov $3, %eax\n xor %edx, %edx\n xsave 0x8000\n"
        "mov $3, %eax\n xor %edx, %edx\n xrstor 0x8000\n mov $1, %r8\n hlt\n"
        /* int3 through the IDT's #BP gate; the handler sets r8 */
        "probe_guest_int3:\n int3\n hlt\n"
        "probe_guest_bp_handler:\n mov $0x33, %r8\n iretq\n"
        "probe_guest_end:\n"
        ".popsection\n");

struct probe_result {
    int reached_hlt;          /* the guest ran to its hlt */
    unsigned int exit_reason; /* the KVM exit that ended the run */
    unsigned int suberror;    /* for KVM_EXIT_INTERNAL_ERROR */
    int hung;                 /* KVM_RUN did not return within 10 s */
    struct kvm_regs regs;     /* registers at the end */
    uint64_t cmpxchg_mem[2];  /* PROBE_DATA at the end */
};

static int probe_next = 1; /* number of the next TAP result */
static int probe_failed;

/* Print one TAP result numbered from probe_next; cond true is "ok". */
static void probe_report(int cond, const char *desc)
{
    printf("%s %d - %s\n", cond ? "ok" : "not ok", probe_next++, desc);
    if (!cond)
        probe_failed = 1;
}

static void probe_alarm(int sig)
{
    (void)sig; /* only interrupts KVM_RUN (no SA_RESTART) */
}

/*
 * Fill the guest's memory mem (PROBE_MEM_BYTES bytes): page tables that
 * identity-map 4 MiB with 2 MiB pages (Intel SDM vol. 3 4.5), a GDT with a
 * 64-bit code and a data segment, an IDT whose vector 3 is an interrupt
 * gate to the #BP handler, the cmpxchg16b operand and the code.
 */
static void probe_setup_memory(uint8_t *mem)
{
    uint64_t *pml4 = (uint64_t *)(mem + PROBE_PML4);
    uint64_t *pdpt = (uint64_t *)(mem + PROBE_PDPT);
    uint64_t *pd = (uint64_t *)(mem + PROBE_PD);
    uint64_t *gdt = (uint64_t *)(mem + PROBE_GDT);
    uint64_t *data = (uint64_t *)(mem + PROBE_DATA);
    uint8_t *gate = mem + PROBE_IDT + 3 * 16;
    uint64_t handler =
        PROBE_CODE + (uint64_t)(probe_guest_bp_handler - probe_guest_start);

    pml4[0] = PROBE_PDPT | 3; /* present, writable */
    pdpt[0] = PROBE_PD | 3;
    pd[0] = 0x000000 | 0x83; /* present, writable, 2 MiB page */
    pd[1] = 0x200000 | 0x83;
    gdt[1] = 0x00af9b000000ffffull; /* selector 8: 64-bit code, DPL 0 */
    gdt[2] = 0x00cf93000000ffffull; /* selector 0x10: data */
    /* 64-bit interrupt gate: offset 15:0, selector, IST 0, type 0x8e,
     * offset 31:16, offset 63:32, reserved. */
    gate[0] = handler & 0xff;
    gate[1] = (handler >> 8) & 0xff;
    gate[2] = 8;
    gate[3] = 0;
    gate[4] = 0;
    gate[5] = 0x8e;
    gate[6] = (handler >> 16) & 0xff;
    gate[7] = (handler >> 24) & 0xff;
    memcpy(gate + 8, (uint32_t[]){(uint32_t)(handler >> 32)}, 4);
    data[0] = 1;
    data[1] = 2;
    memcpy(mem + PROBE_CODE, probe_guest_start,
           (size_t)(probe_guest_end - probe_guest_start));
}

/*
 * Put vCPU vcpu_fd into 64-bit ring 0 at guest address rip with the host's
 * supported CPUID (so XSAVE is allowed) and CR4.OSXSAVE set.
 * kvm_fd is /dev/kvm.  Returns 0, or -1 with errno set by the failed
 * ioctl (its name printed as a TAP comment).
 */
static int probe_setup_vcpu(int kvm_fd, int vcpu_fd, uint64_t rip)
{
    struct kvm_cpuid2 *cpuid = NULL;
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_segment code = {.base = 0,
                               .limit = 0xffffffff,
                               .selector = 8,
                               .type = 11,
                               .present = 1,
                               .dpl = 0,
                               .db = 0,
                               .s = 1,
                               .l = 1,
                               .g = 1};
    struct kvm_segment data;
    int nent = 64, ret = -1;

    for (;;) {
        free(cpuid);
        cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
        if (!cpuid)
            goto out;
        cpuid->nent = nent;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
            break;
        if (errno != E2BIG || nent > 4096) {
            printf("# KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
            goto out;
        }
        nent *= 2;
    }
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
        printf("# KVM_SET_CPUID2: %s\n", strerror(errno));
        goto out;
    }
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        printf("# KVM_GET_SREGS: %s\n", strerror(errno));
        goto out;
    }
    /* Flat data segment: the code segment's base and limit, writable. */
    data = code;
    data.selector = 0x10;
    data.type = 3;
    data.db = 1;
    data.l = 0;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.gdt.base = PROBE_GDT;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.idt.base = PROBE_IDT;
    sregs.idt.limit = 256 * 16 - 1;
    sregs.cr3 = PROBE_PML4;
    sregs.cr4 = 0x20 | 0x200 | 0x400 | 0x40000; /* PAE OSFXSR OSXMMEXCPT
                                                  OSXSAVE */
    sregs.cr0 = 0x80050033;                     /* PG WP NE ET MP PE */
    sregs.efer = 0x500;                         /* LMA LME */
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
        printf("# KVM_SET_SREGS: %s\n", strerror(errno));
        goto out;
    }
    memset(&regs, 0, sizeof(regs));
    regs.rip = rip;
    regs.rsp = PROBE_STACK;
    regs.rflags = 2;
    if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
        printf("# KVM_SET_REGS: %s\n", strerror(errno));
        goto out;
    }
    ret = 0;
out:
    free(cpuid);
    return ret;
}

/*
 * Run the probe guest from its label entry (one of probe_guest_*) on a
 * fresh VM of /dev/kvm (kvm_fd) until its first exit, and fill *res.
 * Returns 0 when the guest ran (whatever its end), -1 when the VM could
 * not be set up (the reason printed as a TAP comment).
 */
static int probe_run(int kvm_fd, const uint8_t *entry, struct probe_result *res)
{
    struct kvm_userspace_memory_region region;
    struct kvm_run *run = MAP_FAILED;
    uint8_t *mem = MAP_FAILED;
    int vm_fd = -1, vcpu_fd = -1, ret = -1;
    long run_size;

    memset(res, 0, sizeof(*res));
    vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm_fd < 0) {
        printf("# KVM_CREATE_VM: %s\n", strerror(errno));
        goto out;
    }
    mem = mmap(NULL, PROBE_MEM_BYTES, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        goto out;
    probe_setup_memory(mem);
    region = (struct kvm_userspace_memory_region){
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = PROBE_MEM_BYTES,
        .userspace_addr = (uint64_t)(uintptr_t)mem};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        printf("# KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno));
        goto out;
    }
    vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vcpu_fd < 0 || run_size <= 0) {
        printf("# KVM_CREATE_VCPU: %s\n", strerror(errno));
        goto out;
    }
    run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED ||
        probe_setup_vcpu(kvm_fd, vcpu_fd,
                         PROBE_CODE + (uint64_t)(entry - probe_guest_start)) <
            0)
        goto out;

    alarm(10); /* a hung vCPU (kvm_pvm's vmcall) ends the run */
    if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
        res->hung = errno == EINTR;
        if (!res->hung)
            printf("# KVM_RUN: %s\n", strerror(errno));
    } else {
        res->exit_reason = run->exit_reason;
        res->reached_hlt = run->exit_reason == KVM_EXIT_HLT;
        if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
            res->suberror = run->internal.suberror;
    }
    alarm(0);
    if (ioctl(vcpu_fd, KVM_GET_REGS, &res->regs) < 0)
        memset(&res->regs, 0, sizeof(res->regs));
    memcpy(res->cmpxchg_mem, mem + PROBE_DATA, sizeof(res->cmpxchg_mem));
    ret = 0;
out:
    if (run != MAP_FAILED)
        munmap(run, run_size);
    if (vcpu_fd >= 0)
        close(vcpu_fd);
    if (mem != MAP_FAILED)
        munmap(mem, PROBE_MEM_BYTES);
    if (vm_fd >= 0)
        close(vm_fd);
    return ret;
}

/*
 * Run probe entry on kvm_fd and report one TAP result named desc: ok when
 * the guest reached its hlt with r8 == want (and, for cmpxchg16b, the
 * memory swapped); otherwise the exit reason and rip are in the line.
 */
static void probe_check(int kvm_fd, const uint8_t *entry, uint64_t want,
                        const char *desc)
{
    struct probe_result res;
    char line[200];
    int good;

    if (probe_run(kvm_fd, entry, &res) < 0) {
        snprintf(line, sizeof(line), "%s (the probe VM could not be set up)",
                 desc);
        probe_report(0, line);
        return;
    }
    good = res.reached_hlt && res.regs.r8 == want;
    if (entry == probe_guest_cmpxchg16b)
        good = good && res.cmpxchg_mem[0] == 3 && res.cmpxchg_mem[1] == 4;
    if (good)
        snprintf(line, sizeof(line), "%s", desc);
    else if (res.hung)
        snprintf(line, sizeof(line),
                 "%s (vCPU hung: KVM_RUN did not return "
                 "in 10 s)",
                 desc);
    else
        snprintf(line, sizeof(line),
                 "%s (exit %u, suberror %u, rip 0x%llx, r8 0x%llx)", desc,
                 res.exit_reason, res.suberror,
                 (unsigned long long)res.regs.rip,
                 (unsigned long long)res.regs.r8);
    probe_report(good, line);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"first", required_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    struct sigaction sa;
    int kvm_fd, opt, plan = 1;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'f') {
            fprintf(stderr, "usage: kvm_probe [--first N]\n");
            return 2;
        }
        probe_next = atoi(optarg);
        plan = 0;
    }
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
        return 77;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = probe_alarm;
    sigaction(SIGALRM, &sa, NULL);

    if (plan)
        printf("1..6\n");
    probe_report(ioctl(kvm_fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION,
                 "KVM_GET_API_VERSION is 12");
    probe_check(kvm_fd, probe_guest_vmmcall, (uint64_t)-PROBE_KVM_ENOSYS,
                "ring-0 vmmcall returns, rax -KVM_ENOSYS from KVM");
    probe_check(kvm_fd, probe_guest_vmcall, (uint64_t)-PROBE_KVM_ENOSYS,
                "ring-0 vmcall (emulated on SVM) returns, rax -KVM_ENOSYS");
    probe_check(kvm_fd, probe_guest_cmpxchg16b, 1,
                "ring-0 lock cmpxchg16b swaps {1,2} for {3,4}");
    probe_check(kvm_fd, probe_guest_xsave, 1, "ring-0 xsave and xrstor run");
    probe_check(kvm_fd, probe_guest_int3, 0x33,
                "ring-0 int3 reaches the IDT's #BP gate, iretq returns");
    close(kvm_fd);
    return probe_failed;
}
