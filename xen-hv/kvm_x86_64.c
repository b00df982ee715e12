/*
 * kvm_x86_64.c — thin KVM wrappers for x86-64 (see kvm_x86_64.h).
 *
 * Host errno is converted to a negative return value here, once; callers
 * never read errno after calling into this file.
 */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/errno.h>

#include "kvm_x86_64.h"

/* Addresses KVM needs for its VMX real-mode helpers; reserved in memmap. */
#define KVM_TSS_ADDR       0xfffbd000ULL
#define KVM_IDENT_MAP_ADDR 0xfeffc000ULL

static int check_cap(int fd, long cap)
{
    int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

int kvm_host_open(struct kvm_host *h, char *err, size_t errlen)
{
    static const struct {
        long cap;
        const char *name;
    } needed[] = {
        {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
        {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
        {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"},
        {KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
        {KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ"},
        {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    };
    int rc;
    unsigned int cap = 256;

    memset(h, 0, sizeof(*h));
    h->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (h->fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
        return rc;
    }
    if (ioctl(h->fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        snprintf(err, errlen, "/dev/kvm has an unknown API version");
        rc = -ENOTSUP;
        goto out;
    }
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (!check_cap(h->fd, needed[i].cap)) {
            snprintf(err, errlen, "host KVM lacks %s", needed[i].name);
            rc = -ENOTSUP;
            goto out;
        }
    }
    if ((check_cap(h->fd, KVM_CAP_SYNC_REGS) &
         (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !=
        (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
        snprintf(err, errlen, "host KVM cannot sync GPRs and SREGS");
        rc = -ENOTSUP;
        goto out;
    }
    h->vcpu_mmap_size = ioctl(h->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (h->vcpu_mmap_size <= 0) {
        snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
        rc = -ENOTSUP;
        goto out;
    }
    h->has_xen_hvm = check_cap(h->fd, KVM_CAP_XEN_HVM) != 0;

    for (;;) {
        h->supported = calloc(1, sizeof(*h->supported) +
                                     cap * sizeof(h->supported->entries[0]));
        if (!h->supported) {
            rc = -ENOMEM;
            goto out;
        }
        h->supported->nent = cap;
        if (ioctl(h->fd, KVM_GET_SUPPORTED_CPUID, h->supported) == 0)
            break;
        rc = -errno;
        free(h->supported);
        h->supported = NULL;
        if (rc != -E2BIG || cap >= 4096) {
            snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID failed");
            goto out;
        }
        cap *= 2;
    }
    h->supported_cap = cap;

    /*
     * kvm_pvm has no VMX/SVM underneath: KVM_CAP_VM_TYPES-style probing is
     * not available on older hosts, so recognise it by its module being
     * loaded.  Only diagnostics and the guest tests' expectations use it.
     */
    h->is_kvm_pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
    return 0;

out:
    kvm_host_close(h);
    return rc;
}

void kvm_host_close(struct kvm_host *h)
{
    free(h->supported);
    h->supported = NULL;
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
}

int kvm_vm_create(const struct kvm_host *h, uint32_t msr_trap)
{
    int vm = -1, rc;
    /* One MSR, bit clear = deny = exit to user space for reads and writes. */
    uint8_t deny_bitmap[1] = {0};
    struct kvm_msr_filter filter = {
        .flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
        .ranges[0] = {.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
                      .base = msr_trap,
                      .nmsrs = 1,
                      .bitmap = deny_bitmap},
    };
    struct kvm_enable_cap msr_cap = {
        .cap = KVM_CAP_X86_USER_SPACE_MSR,
        .args[0] = KVM_MSR_EXIT_REASON_FILTER,
    };
    uint64_t ident = KVM_IDENT_MAP_ADDR;

    vm = ioctl(h->fd, KVM_CREATE_VM, 0);
    if (vm < 0)
        return -errno;
    /* TSS and identity map only matter on VMX; harmless elsewhere. */
    (void)ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR);
    (void)ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident);
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
        goto fail;
    if (ioctl(vm, KVM_ENABLE_CAP, &msr_cap) < 0)
        goto fail;
    if (ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter) < 0)
        goto fail;
    return vm;

fail:
    rc = -errno;
    close(vm);
    return rc;
}

int kvm_vm_map(int vm_fd, uint32_t slot, gpa_t gpa, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int kvm_vm_signal_msi(int vm_fd, uint64_t address, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)address,
        .address_hi = (uint32_t)(address >> 32),
        .data = data,
    };
    int r = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
    return r < 0 ? -errno : 0;
}

int kvm_vcpu_create(const struct kvm_host *h, int vm_fd, unsigned int id,
                    struct kvm_run **run)
{
    int fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
    int rc;
    void *p;

    if (fd < 0)
        return -errno;
    p = mmap(NULL, h->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             0);
    if (p == MAP_FAILED) {
        rc = -errno;
        close(fd);
        return rc;
    }
    *run = p;
    (*run)->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    return fd;
}

void kvm_vcpu_destroy(const struct kvm_host *h, int vcpu_fd,
                      struct kvm_run *run)
{
    if (run)
        munmap(run, h->vcpu_mmap_size);
    if (vcpu_fd >= 0)
        close(vcpu_fd);
}

int kvm_vcpu_set_cpuid(int vcpu_fd, struct kvm_cpuid2 *cpuid)
{
    return ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
}

int kvm_vcpu_get_tsc_offset(int vcpu_fd, int64_t *offset)
{
    struct kvm_device_attr a = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uint64_t)(uintptr_t)offset,
    };
    return ioctl(vcpu_fd, KVM_GET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

int kvm_vcpu_set_tsc_offset(int vcpu_fd, int64_t offset)
{
    struct kvm_device_attr a = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uint64_t)(uintptr_t)&offset,
    };
    return ioctl(vcpu_fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* Fill a KVM segment from Xen's packed attribute format (hvm_vcpu.h). */
static void seg_from_ar(struct kvm_segment *s, uint16_t sel, uint64_t base,
                        uint32_t limit, uint16_t ar)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->type = ar & 0xf;
    s->s = (ar >> 4) & 1;
    s->dpl = (ar >> 5) & 3;
    s->present = (ar >> 7) & 1;
    s->avl = (ar >> 8) & 1;
    s->l = (ar >> 9) & 1;
    s->db = (ar >> 10) & 1;
    s->g = (ar >> 11) & 1;
    s->unusable = !s->present;
}

/* Segment attribute words for flat segments, Xen's packed format. */
#define AR_CODE32 0xc9b /* G, D, P, S, type 0xb */
#define AR_CODE64 0xa9b /* G, L, P, S, type 0xb */
#define AR_DATA32 0xc93 /* G, B, P, S, type 0x3 */
#define AR_TSS32  0x08b /* P, busy 32-bit TSS */
#define AR_LDT    0x082 /* P, LDT */

static int set_segments(int vcpu_fd, struct kvm_sregs *sr, uint16_t cs_ar,
                        uint32_t cs_base, uint32_t cs_limit, uint16_t ds_ar,
                        uint32_t ds_base, uint32_t ds_limit, uint16_t ss_ar,
                        uint32_t ss_base, uint32_t ss_limit, uint16_t es_ar,
                        uint32_t es_base, uint32_t es_limit, uint16_t tr_ar,
                        uint32_t tr_base, uint32_t tr_limit)
{
    seg_from_ar(&sr->cs, 0x08, cs_base, cs_limit, cs_ar);
    seg_from_ar(&sr->ds, 0x10, ds_base, ds_limit, ds_ar);
    seg_from_ar(&sr->ss, 0x10, ss_base, ss_limit, ss_ar);
    seg_from_ar(&sr->es, 0x10, es_base, es_limit, es_ar);
    seg_from_ar(&sr->fs, 0x10, ds_base, ds_limit, ds_ar);
    seg_from_ar(&sr->gs, 0x10, ds_base, ds_limit, ds_ar);
    seg_from_ar(&sr->tr, 0x18, tr_base, tr_limit, tr_ar);
    seg_from_ar(&sr->ldt, 0, 0, 0xffff, AR_LDT);
    if (ioctl(vcpu_fd, KVM_SET_SREGS, sr) < 0)
        return -errno;
    return 0;
}

int kvm_vcpu_set_pvh_entry(int vcpu_fd, uint32_t entry, uint32_t start_info)
{
    struct kvm_sregs sr;
    struct kvm_regs regs;
    int rc;

    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr) < 0)
        return -errno;
    sr.cr0 = 0x11; /* PE | ET */
    sr.cr3 = 0;
    sr.cr4 = 0;
    sr.efer = 0;
    sr.gdt.base = 0;
    sr.gdt.limit = 0;
    sr.idt.base = 0;
    sr.idt.limit = 0;
    rc = set_segments(vcpu_fd, &sr, AR_CODE32, 0, ~0u, AR_DATA32, 0, ~0u,
                      AR_DATA32, 0, ~0u, AR_DATA32, 0, ~0u, AR_TSS32, 0, 0x67);
    if (rc)
        return rc;
    memset(&regs, 0, sizeof(regs));
    regs.rflags = 0x2;
    regs.rip = entry;
    regs.rbx = start_info;
    return ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

#define CR0_PE   (1ULL << 0)
#define CR0_PG   (1ULL << 31)
#define CR4_PAE  (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static int ar_ok(uint16_t ar, bool code)
{
    if (!(ar & 0x80)) /* not present */
        return !code;
    if (!(ar & 0x10)) /* system segment */
        return 0;
    return code ? (ar & 0x8) != 0 : (ar & 0x8) == 0 || (ar & 0x2) != 0;
}

int hvm_vcpu_context_check(const struct vcpu_hvm_context *c)
{
    if (c->mode == VCPU_HVM_MODE_32B) {
        const struct vcpu_hvm_x86_32 *r = &c->cpu_regs.x86_32;
        if (!ar_ok(r->cs_ar, true) || !ar_ok(r->ds_ar, false) ||
            !ar_ok(r->ss_ar, false) || !ar_ok(r->es_ar, false))
            return -XEN_EINVAL;
        if (r->tr_ar && (r->tr_ar & 0x1f) != 0xb && (r->tr_ar & 0x1f) != 0x3)
            return -XEN_EINVAL;
        if ((r->cr0 & CR0_PG) && !(r->cr0 & CR0_PE))
            return -XEN_EINVAL;
        if (r->efer & EFER_LMA)
            return -XEN_EINVAL;
        if ((r->efer & EFER_LME) && (r->cr0 & CR0_PG) && !(r->cr4 & CR4_PAE))
            return -XEN_EINVAL;
        return 0;
    }
    if (c->mode == VCPU_HVM_MODE_64B) {
        const struct vcpu_hvm_x86_64 *r = &c->cpu_regs.x86_64;
        int64_t rip = (int64_t)r->rip;
        if ((r->cr0 & (CR0_PE | CR0_PG)) != (CR0_PE | CR0_PG) ||
            !(r->cr4 & CR4_PAE) || !(r->efer & EFER_LME))
            return -XEN_EINVAL;
        uint64_t top = (uint64_t)rip >> 47; /* canonical: all 0 or all 1 */
        if (top != 0 && top != 0x1ffff)
            return -XEN_EINVAL;
        return 0;
    }
    return -XEN_EINVAL;
}

int kvm_vcpu_set_hvm_context(int vcpu_fd, const struct vcpu_hvm_context *c)
{
    struct kvm_sregs sr;
    struct kvm_regs regs;
    struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
    int rc;

    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr) < 0)
        return -errno;
    memset(&regs, 0, sizeof(regs));
    sr.gdt.base = sr.idt.base = 0;
    sr.gdt.limit = sr.idt.limit = 0;
    if (c->mode == VCPU_HVM_MODE_32B) {
        const struct vcpu_hvm_x86_32 *r = &c->cpu_regs.x86_32;
        sr.cr0 = r->cr0 | 0x10;
        sr.cr3 = r->cr3;
        sr.cr4 = r->cr4;
        sr.efer = r->efer;
        rc = set_segments(vcpu_fd, &sr, r->cs_ar, r->cs_base, r->cs_limit,
                          r->ds_ar, r->ds_base, r->ds_limit, r->ss_ar,
                          r->ss_base, r->ss_limit, r->es_ar, r->es_base,
                          r->es_limit, r->tr_ar ? r->tr_ar : AR_TSS32,
                          r->tr_base, r->tr_ar ? r->tr_limit : 0x67);
        if (rc)
            return rc;
        regs.rax = r->eax;
        regs.rcx = r->ecx;
        regs.rdx = r->edx;
        regs.rbx = r->ebx;
        regs.rsp = r->esp;
        regs.rbp = r->ebp;
        regs.rsi = r->esi;
        regs.rdi = r->edi;
        regs.rip = r->eip;
        regs.rflags = r->eflags | 0x2;
    } else {
        const struct vcpu_hvm_x86_64 *r = &c->cpu_regs.x86_64;
        sr.cr0 = r->cr0 | 0x10;
        sr.cr3 = r->cr3;
        sr.cr4 = r->cr4;
        sr.efer = r->efer | EFER_LMA;
        rc = set_segments(vcpu_fd, &sr, AR_CODE64, 0, ~0u, AR_DATA32, 0, ~0u,
                          AR_DATA32, 0, ~0u, AR_DATA32, 0, ~0u, AR_TSS32, 0,
                          0x67);
        if (rc)
            return rc;
        regs.rax = r->rax;
        regs.rcx = r->rcx;
        regs.rdx = r->rdx;
        regs.rbx = r->rbx;
        regs.rsp = r->rsp;
        regs.rbp = r->rbp;
        regs.rsi = r->rsi;
        regs.rdi = r->rdi;
        regs.rip = r->rip;
        regs.rflags = r->rflags | 0x2;
    }
    if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return -errno;
    if (ioctl(vcpu_fd, KVM_SET_MP_STATE, &mp) < 0)
        return -errno;
    return 0;
}

int kvm_vcpu_get_mp_state(int vcpu_fd)
{
    struct kvm_mp_state mp;
    if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &mp) < 0)
        return -errno;
    return (int)mp.mp_state;
}
