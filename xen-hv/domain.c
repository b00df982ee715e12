/*
 * domain.c — a domain's life: create (VM, memfd RAM, vCPUs, timers),
 * unpause, shutdown, wait, destroy.  Creation is undone step by step on
 * failure: domain_destroy() copes with a half-made domain.
 */
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "domain_priv.h"
#include "evtchn.h"
#include "gnttab.h"
#include "sched_op.h"
#include "vcpu.h"
#include "xen_cpuid.h"
#include "xenhv_layout.h"

/* Guest physical layout (dom0-tools/include/xenhv_layout.h). */
#define LOWMEM_MAX        XENHV_LOWMEM_MAX
#define HIGHMEM_BASE      XENHV_HIGHMEM_BASE
#define SPECIAL_PAGES_GPA XENHV_SPECIAL_GPA
#define NR_SPECIAL_PAGES  XENHV_NR_SPECIAL

struct vcpu_info *vcpu_info_ptr(struct vcpu *v)
{
    struct domain *d = v->d;
    if (v->vcpu_info_gpa != INVALID_GPA)
        return gmem_ptr(&d->gmem, v->vcpu_info_gpa, sizeof(struct vcpu_info));
    if (v->vcpu_id < XEN_LEGACY_MAX_VCPUS)
        return &d->shared_info->vcpu_info[v->vcpu_id];
    return NULL;
}

struct domain *domain_lookup(struct vcpu *v, domid_t domid, long *rc)
{
    if (domid == DOMID_SELF || domid == v->d->domid)
        return v->d;
    *rc = domid == 0 ? -XEN_EPERM : -XEN_ESRCH;
    return NULL;
}

/* The host address and memfd offset behind a RAM gpa, or NULL. */
static uint8_t *ram_host(struct domain *d, gpa_t gpa, uint64_t *mem_off)
{
    uint8_t *h;

    if (gpa & (GMEM_PAGE_SIZE - 1))
        return NULL;
    h = gmem_ptr(&d->gmem, gpa, GMEM_PAGE_SIZE);
    if (!h || h < d->mem || h + GMEM_PAGE_SIZE > d->mem + d->ram_bytes)
        return NULL; /* special pages are not replaced */
    *mem_off = (uint64_t)(h - d->mem);
    return h;
}

/*
 * p2m_extra_map — map page `offset` of fd at a gpa outside every RAM and
 * special-page region, as a KVM memory slot of its own (Xen's p2m takes a
 * grant frame at any gfn; Linux's PVH grant setup picks unpopulated
 * address space above RAM).  An existing mapping at gpa is replaced.
 * Returns 0 or -XEN_EINVAL (gpa overlaps guest memory, no free slot, mmap
 * or KVM refused).
 */
static int p2m_extra_map(struct domain *d, gpa_t gpa, int fd, uint64_t offset,
                         bool writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    struct p2m_extra *e = NULL;
    void *host;
    int i, rc;

    if (gpa > (1ULL << 52) - GMEM_PAGE_SIZE ||
        gmem_ptr(&d->gmem, gpa, 1) ||
        gmem_ptr(&d->gmem, gpa + GMEM_PAGE_SIZE - 1, 1))
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    for (i = 0; i < P2M_EXTRA_MAX; i++)
        if (d->p2m_extra[i].gpa == gpa)
            break;
    if (i == P2M_EXTRA_MAX)
        for (i = 0; i < P2M_EXTRA_MAX; i++)
            if (d->p2m_extra[i].gpa == INVALID_GPA)
                break;
    if (i == P2M_EXTRA_MAX) {
        rc = -XEN_EINVAL;
        goto out;
    }
    e = &d->p2m_extra[i];
    if (e->gpa == gpa) { /* same gfn: the new page replaces the old */
        host = mmap(e->host, GMEM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, fd,
                    (off_t)offset);
        rc = host == MAP_FAILED ? -XEN_EINVAL : 0;
        goto out;
    }
    host = mmap(NULL, GMEM_PAGE_SIZE, prot, MAP_SHARED, fd, (off_t)offset);
    if (host == MAP_FAILED) {
        rc = -XEN_EINVAL;
        goto out;
    }
    rc = kvm_vm_map(d->vm_fd, P2M_EXTRA_SLOT0 + (uint32_t)i, gpa,
                    GMEM_PAGE_SIZE, host);
    if (rc) {
        munmap(host, GMEM_PAGE_SIZE);
        rc = -XEN_EINVAL;
        goto out;
    }
    e->gpa = gpa;
    e->host = host;
out:
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* p2m_extra_unmap — remove the slot p2m_extra_map() made at gpa.
 * Returns 0, or -XEN_EINVAL when nothing is mapped there. */
static int p2m_extra_unmap(struct domain *d, gpa_t gpa)
{
    int rc = -XEN_EINVAL;

    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < P2M_EXTRA_MAX; i++) {
        struct p2m_extra *e = &d->p2m_extra[i];
        if (e->gpa != gpa)
            continue;
        kvm_vm_map(d->vm_fd, P2M_EXTRA_SLOT0 + (uint32_t)i, gpa, 0, e->host);
        munmap(e->host, GMEM_PAGE_SIZE);
        e->gpa = INVALID_GPA;
        e->host = NULL;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int domain_p2m_replace(struct domain *d, gpa_t gpa, int fd, uint64_t offset,
                       bool writable)
{
    uint64_t off;
    uint8_t *h;
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);

    if (fd < 0 || (offset & (GMEM_PAGE_SIZE - 1)) ||
        (gpa & (GMEM_PAGE_SIZE - 1)))
        return -XEN_EINVAL;
    h = ram_host(d, gpa, &off);
    if (!h)
        return p2m_extra_map(d, gpa, fd, offset, writable);
    if (mmap(h, GMEM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, fd,
             (off_t)offset) == MAP_FAILED)
        return -XEN_EINVAL;
    return 0;
}

int domain_p2m_replace_host(struct domain *d, gpa_t gpa, void *host,
                            bool writable)
{
    uint8_t *p = host;

    if (!p || p < d->mem || p + GMEM_PAGE_SIZE > d->mem + d->ram_bytes ||
        ((uintptr_t)p & (GMEM_PAGE_SIZE - 1)))
        return -XEN_EINVAL;
    return domain_p2m_replace(d, gpa, d->mem_fd, (uint64_t)(p - d->mem),
                              writable);
}

int domain_p2m_restore(struct domain *d, gpa_t gpa)
{
    uint64_t off;
    uint8_t *h = ram_host(d, gpa, &off);

    if (!h)
        return p2m_extra_unmap(d, gpa);
    if (mmap(h, GMEM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             d->mem_fd, (off_t)off) == MAP_FAILED)
        return -XEN_EINVAL;
    return 0;
}

void gnttab_map_note(struct domain *d, uint32_t handle, gpa_t gpa)
{
    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < d->nr_grant_maps; i++) {
        if (d->grant_maps[i].handle != handle)
            continue;
        if (gpa == INVALID_GPA)
            d->grant_maps[i] = d->grant_maps[--d->nr_grant_maps];
        else
            d->grant_maps[i].gpa = gpa;
        goto out;
    }
    if (gpa == INVALID_GPA)
        goto out;
    if (d->nr_grant_maps == d->grant_maps_cap) {
        unsigned int cap = d->grant_maps_cap ? d->grant_maps_cap * 2 : 16;
        struct grant_map_note *n = realloc(d->grant_maps, cap * sizeof(*n));
        if (!n)
            goto out; /* the mapping stays; unmap will say bad_handle */
        d->grant_maps = n;
        d->grant_maps_cap = cap;
    }
    d->grant_maps[d->nr_grant_maps++] =
        (struct grant_map_note){.handle = handle, .gpa = gpa};
out:
    pthread_mutex_unlock(&d->lock);
}

gpa_t gnttab_map_where(struct domain *d, uint32_t handle)
{
    gpa_t gpa = INVALID_GPA;

    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < d->nr_grant_maps; i++)
        if (d->grant_maps[i].handle == handle)
            gpa = d->grant_maps[i].gpa;
    pthread_mutex_unlock(&d->lock);
    return gpa;
}

/* Event channel host side: the core reaches this domain through these. */
static struct shared_info *evtchn_host_shared_info(void *host_dom)
{
    struct domain *d = host_dom;
    return __atomic_load_n(&d->shared_info, __ATOMIC_ACQUIRE);
}

static struct vcpu_info *evtchn_host_vcpu_info(void *host_dom,
                                               unsigned int vcpu)
{
    struct domain *d = host_dom;
    return vcpu < d->nr_vcpus ? vcpu_info_ptr(d->vcpus[vcpu]) : NULL;
}

/*
 * An upcall became pending on vcpu: inject the vCPU's upcall vector
 * (HVMOP_set_evtchn_upcall_vector, else HVM_PARAM_CALLBACK_IRQ of type
 * vector) through the in-kernel LAPIC as a fixed, edge MSI to its APIC id,
 * and wake it if it sleeps in SCHEDOP_block.  Called with the event
 * channel lock held; lock order: event channels, then d->lock.
 */
static void evtchn_host_upcall(void *host_dom, unsigned int vcpu)
{
    struct domain *d = host_dom;
    struct vcpu *v;
    uint8_t vector;

    if (vcpu >= d->nr_vcpus)
        return;
    v = d->vcpus[vcpu];
    pthread_mutex_lock(&d->lock);
    vector = v->upcall_vector ? v->upcall_vector : d->callback_vector;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&d->lock);
    if (vector) {
        __atomic_add_fetch(&v->nr_upcalls, 1, __ATOMIC_RELAXED);
        kvm_vm_signal_msi(d->vm_fd, 0xfee00000ULL | (v->vcpu_id << 12), vector);
    }
}

void domain_assert_evtchn_irq(struct vcpu *v)
{
    struct vcpu_info *vi;
    bool pending;

    pthread_mutex_lock(&v->d->lock);
    vi = vcpu_info_ptr(v);
    pending = vi && __atomic_load_n(&vi->evtchn_upcall_pending,
                                    __ATOMIC_ACQUIRE);
    pthread_mutex_unlock(&v->d->lock);
    if (pending)
        evtchn_host_upcall(v->d, v->vcpu_id);
}

static const struct evtchn_host_ops domain_evtchn_host_ops = {
    .shared_info = evtchn_host_shared_info,
    .vcpu_info = evtchn_host_vcpu_info,
    .upcall = evtchn_host_upcall,
    .pending = sched_poll_wake,
};

void vcpu_kick(struct vcpu *v)
{
    if (!v->thread_started)
        return;
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(v->thread, SIGUSR1);
}

int vcpu_request(struct vcpu *current, struct vcpu *target,
                 enum vcpu_request req)
{
    struct domain *d = target->d;
    unsigned int seq;
    int rc = 0;

    pthread_mutex_lock(&d->lock);
    target->requests |= req;
    seq = target->req_seq;
    pthread_cond_broadcast(&target->cond);
    pthread_mutex_unlock(&d->lock);
    vcpu_kick(target);

    pthread_mutex_lock(&d->lock);
    while (target->req_seq == seq) {
        struct timespec ts;
        if (d->is_shutting_down) {
            rc = -XEN_ESRCH;
            break;
        }
        /* Serve our own requests meanwhile: two vCPUs may ask each other. */
        if (current)
            vcpu_serve_requests(current);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&target->cond, &d->lock, &ts);
        if (target->req_seq == seq)
            vcpu_kick(target);
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void domain_shutdown(struct domain *d, int reason)
{
    bool first = false;

    pthread_mutex_lock(&d->lock);
    if (d->shutdown_code < 0)
        d->shutdown_code = reason;
    if (!d->is_shutting_down) {
        first = true;
        d->is_shutting_down = true;
        d->shutdown_reason = d->shutdown_code;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            pthread_cond_broadcast(&d->vcpus[i]->cond);
    }
    pthread_mutex_unlock(&d->lock);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        vcpu_kick(d->vcpus[i]);
    /* Tell the control domain, as Xen's domain_shutdown() does. */
    if (first && d->evtchn)
        evtchn_send_global_virq(d->evtchn, 0, VIRQ_DOM_EXC);
    /*
     * Wake the event loop through an event, not event_base_loopbreak():
     * a break requested while the loop is between two runs is lost
     * (event_base_loop() clears it when it starts), and the loop would
     * then wait forever.
     */
    if (first && d->shutdown_ev)
        event_active(d->shutdown_ev, EV_READ, 0);
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char msg[512];
    int n;
    va_list ap;

    n = snprintf(msg, sizeof(msg),
                 "(xen-hv) domain %u (%s) crashed: ", d->domid, d->name);
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
    va_end(ap);
    strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
    fputs(msg, stderr);
    if (d->log.stream_fd != STDERR_FILENO) {
        int fd = d->log.stream_fd;
        d->log.stream_fd = -1; /* already on stderr */
        console_log_write(&d->log, msg, strlen(msg));
        d->log.stream_fd = fd;
    }
    domain_shutdown(d, SHUTDOWN_crash);
}

void domain_kill(struct domain *d, const char *why)
{
    domain_crash(d, "%s", why);
}

static int setup_memory(struct domain *d, uint64_t ram, char *err,
                        size_t errlen)
{
    uint64_t low = ram < LOWMEM_MAX ? ram : LOWMEM_MAX;
    uint64_t high = ram - low;
    uint64_t special = NR_SPECIAL_PAGES * GMEM_PAGE_SIZE;
    unsigned int slot = 0, n = 0;
    int rc;

    d->ram_bytes = ram;
    d->mem_bytes = ram + special;
    d->mem_fd = memfd_create("xen-hv-guest-ram", MFD_CLOEXEC);
    if (d->mem_fd < 0 || ftruncate(d->mem_fd, (off_t)d->mem_bytes) < 0) {
        rc = -errno;
        snprintf(err, errlen, "guest RAM memfd of %llu bytes: %s",
                 (unsigned long long)d->mem_bytes, strerror(errno));
        return rc;
    }
    d->mem = mmap(NULL, d->mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                  d->mem_fd, 0);
    if (d->mem == MAP_FAILED) {
        d->mem = NULL;
        rc = -errno;
        snprintf(err, errlen, "mapping guest RAM: %s", strerror(errno));
        return rc;
    }
    madvise(d->mem, d->mem_bytes, MADV_MERGEABLE);

    d->gmem.region[n++] = (struct gmem_region){0, low, d->mem};
    if (high)
        d->gmem.region[n++] =
            (struct gmem_region){HIGHMEM_BASE, high, d->mem + low};
    d->gmem.region[n++] =
        (struct gmem_region){SPECIAL_PAGES_GPA, special, d->mem + ram};
    d->gmem.nr_regions = n;
    for (unsigned int i = 0; i < n; i++) {
        const struct gmem_region *r = &d->gmem.region[i];
        rc = kvm_vm_map(d->vm_fd, slot++, r->gpa_base, r->size, r->host);
        if (rc) {
            snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
                     strerror(-rc));
            return rc;
        }
    }

    /* The memory map Xen's libxl would give a PVH guest of this size. */
    n = 0;
    d->memmap[n++] = (struct hvm_memmap_table_entry){
        .addr = 0, .size = low, .type = XEN_HVM_MEMMAP_TYPE_RAM};
    d->memmap[n++] =
        (struct hvm_memmap_table_entry){.addr = SPECIAL_PAGES_GPA,
                                        .size = special,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    /* KVM's VMX identity map page and real-mode TSS. */
    d->memmap[n++] =
        (struct hvm_memmap_table_entry){.addr = 0xfeffc000ULL,
                                        .size = 0x1000,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    d->memmap[n++] =
        (struct hvm_memmap_table_entry){.addr = 0xfffbd000ULL,
                                        .size = 0x3000,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    if (high)
        d->memmap[n++] =
            (struct hvm_memmap_table_entry){.addr = HIGHMEM_BASE,
                                            .size = high,
                                            .type = XEN_HVM_MEMMAP_TYPE_RAM};
    d->nr_memmap = n;
    d->tot_pages = ram >> GMEM_PAGE_SHIFT;
    d->max_pages = d->tot_pages;
    return 0;
}

static int setup_vcpu(struct domain *d, unsigned int id, char *err,
                      size_t errlen)
{
    struct vcpu *v = calloc(1, sizeof(*v));
    const struct kvm_host *h = d->kvm;
    int rc;

    if (!v)
        return -ENOMEM;
    d->vcpus[id] = v;
    v->d = d;
    v->vcpu_id = id;
    v->fd = -1;
    v->schedstat_fd = -1;
    v->vcpu_info_gpa = INVALID_GPA;
    v->time_area_gva = INVALID_GVA;
    v->runstate_gva = INVALID_GVA;
    v->runstate.state = RUNSTATE_offline;
    pthread_cond_init(&v->cond, NULL);
    v->singleshot = evtimer_new(d->evbase, sched_timer_fire, v);
    v->periodic = event_new(d->evbase, -1, EV_PERSIST, sched_periodic_fire, v);
    if (!v->singleshot || !v->periodic)
        return -ENOMEM;

    rc = kvm_vcpu_create(h, d->vm_fd, id, &v->run);
    if (rc < 0) {
        snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(-rc));
        return rc;
    }
    v->fd = rc;
    return 0;
}

static int setup_vcpu_cpuid(struct domain *d, struct vcpu *v, char *err,
                            size_t errlen)
{
    const struct kvm_host *h = d->kvm;
    struct kvm_cpuid2 *cpuid = NULL;
    unsigned int cap = h->supported_cap + 16;
    unsigned int id = v->vcpu_id;
    struct xen_cpuid_params p;
    int rc;

    cpuid = calloc(1, sizeof(*cpuid) + cap * sizeof(cpuid->entries[0]));
    if (!cpuid)
        return -ENOMEM;
    memcpy(cpuid, h->supported,
           sizeof(*cpuid) + h->supported->nent * sizeof(cpuid->entries[0]));
    memset(&p, 0, sizeof(p));
    p.vcpu_id = id;
    p.domid = d->domid;
    p.tsc_khz = (uint32_t)(d->tsc_hz / 1000);
    p.tsc_mul = d->scale.mul;
    p.tsc_shift = d->scale.shift;
    p.x2apic = true;
    p.tsc_reliable = d->tsc_stable;
    p.tsc_offset = d->tsc_base; /* guest TSC at system time 0 */
    for (unsigned int i = 0; i < h->supported->nent; i++)
        if (h->supported->entries[i].function == 0x80000001)
            p.rdtscp = (h->supported->entries[i].edx >> 27) & 1;
    rc = xen_cpuid_build(cpuid, cap, &p);
    if (rc == 0)
        rc = kvm_vcpu_set_cpuid(v->fd, cpuid);
    free(cpuid);
    if (rc) {
        snprintf(err, errlen, "vCPU %u CPUID: %s", id, strerror(-rc));
        return rc;
    }
    return 0;
}

/* Runs on the event loop: leave it so domain_wait() sees the shutdown. */
static void shutdown_wakeup(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(arg);
}

int domain_create(const struct kvm_host *h, struct event_base *base,
                  const struct domain_config *cfg, struct domain **out,
                  char *err, size_t errlen)
{
    struct domain *d = NULL;
    int rc;

    *out = NULL;
    if (cfg->vcpus < 1 || cfg->vcpus > DOMAIN_MAX_VCPUS) {
        snprintf(err, errlen, "vcpus must be 1..%d, not %u", DOMAIN_MAX_VCPUS,
                 cfg->vcpus);
        return -EINVAL;
    }
    if (cfg->memory_mib != 0 && (cfg->memory_mib < DOMAIN_MIN_MEM_MIB ||
                                 cfg->memory_mib > DOMAIN_MAX_MEM_MIB)) {
        snprintf(err, errlen, "memory must be %d..%d MiB, not %llu",
                 DOMAIN_MIN_MEM_MIB, DOMAIN_MAX_MEM_MIB,
                 (unsigned long long)cfg->memory_mib);
        return -EINVAL;
    }
    d = calloc(1, sizeof(*d) + cfg->vcpus * sizeof(d->vcpus[0]));
    if (!d)
        return -ENOMEM;
    d->domid = cfg->domid;
    snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "domU");
    d->kvm = h;
    d->evbase = base;
    d->vm_fd = -1;
    d->mem_fd = -1;
    d->shutdown_reason = -1;
    d->shutdown_code = -1;
    d->shared_info_gpa = INVALID_GPA;
    d->keep_vmcall = cfg->keep_vmcall;
    pthread_mutex_init(&d->lock, NULL);
    for (unsigned int i = 0; i < sizeof(d->handle); i++)
        d->handle[i] = (uint8_t)random();
    d->handle[6] = (d->handle[6] & 0x0f) | 0x40; /* UUID v4 */
    d->handle[8] = (d->handle[8] & 0x3f) | 0x80;
    if (cfg->xen_cmdline)
        d->xen_cmdline = strdup(cfg->xen_cmdline);
    rc = console_log_init(&d->log, cfg->log_bytes ? cfg->log_bytes : 65536,
                          cfg->console_fd);
    if (rc)
        goto fail;
    if (cfg->console_prefix) {
        char pfx[16];
        snprintf(pfx, sizeof(pfx), "(d%u) ", (unsigned int)cfg->domid);
        console_log_set_prefix(&d->log, pfx);
    }
    d->shared_info_priv = mmap(NULL, GMEM_PAGE_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->shared_info_priv == MAP_FAILED) {
        d->shared_info_priv = NULL;
        rc = -ENOMEM;
        goto fail;
    }
    d->shared_info = d->shared_info_priv;
    d->shutdown_ev = event_new(base, -1, 0, shutdown_wakeup, base);
    if (!d->shutdown_ev) {
        rc = -ENOMEM;
        goto fail;
    }

    d->vm_fd = kvm_vm_create(h, XENHV_HYPERCALL_MSR);
    if (d->vm_fd < 0) {
        rc = d->vm_fd;
        snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(-rc));
        goto fail;
    }
    if (cfg->memory_mib) {
        rc = setup_memory(d, cfg->memory_mib << 20, err, errlen);
        if (rc)
            goto fail;
    }
    d->nr_vcpus = cfg->vcpus;
    d->evtchn = evtchn_domain_create(
        cfg->evtchn_world, d->domid, cfg->vcpus,
        cfg->max_event_channels ? cfg->max_event_channels : 1024,
        &evtchn_port_ops_2l, &domain_evtchn_host_ops, d);
    for (unsigned int i = 0; i < 64; i++)
        d->grant_frame_gpa[i] = INVALID_GPA;
    for (unsigned int i = 0; i < P2M_EXTRA_MAX; i++)
        d->p2m_extra[i].gpa = INVALID_GPA;
    rc = gnttab_domain_create(
        d->domid, cfg->max_grant_frames ? (int)cfg->max_grant_frames : -1, -1,
        &d->gnttab);
    if (rc) {
        snprintf(err, errlen, "grant table for domain %u", d->domid);
        rc = -ENOMEM;
        goto fail;
    }
    if (!d->evtchn) {
        snprintf(err, errlen, "event channels for domain %u", d->domid);
        rc = -ENOMEM;
        goto fail;
    }
    for (unsigned int i = 0; i < cfg->vcpus; i++) {
        rc = setup_vcpu(d, i, err, errlen);
        if (rc)
            goto fail;
    }
    /* TSC facts before CPUID: leaf 0x40000003 reports them. */
    rc = time_init(d);
    if (rc) {
        snprintf(err, errlen, "TSC set-up: %s", strerror(-rc));
        goto fail;
    }
    for (unsigned int i = 0; i < cfg->vcpus; i++) {
        rc = setup_vcpu_cpuid(d, d->vcpus[i], err, errlen);
        if (rc)
            goto fail;
    }
    *out = d;
    return 0;

fail:
    domain_destroy(d);
    return rc;
}

int domain_populate_physmap(struct domain *d, const uint64_t *gfns,
                            unsigned long nr, unsigned int order)
{
    uint64_t pages = 1ULL << (order > 18 ? 0 : order), max, ram_pages;
    char err[128];
    int rc = 0;

    if (order > 18 || nr > (1UL << 20))
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    max = d->max_pages;
    pthread_mutex_unlock(&d->lock);
    if (!d->mem) {
        uint64_t bytes = max << GMEM_PAGE_SHIFT;
        if (bytes < ((uint64_t)DOMAIN_MIN_MEM_MIB << 20) ||
            bytes > ((uint64_t)DOMAIN_MAX_MEM_MIB << 20) ||
            (bytes & ((1ULL << 20) - 1)))
            return -XEN_ENOMEM;
        d->populated = calloc((max + 63) / 64, sizeof(uint64_t));
        if (!d->populated)
            return -XEN_ENOMEM;
        if (setup_memory(d, bytes, err, sizeof(err))) {
            free(d->populated);
            d->populated = NULL;
            return -XEN_ENOMEM;
        }
        pthread_mutex_lock(&d->lock);
        d->tot_pages = 0;
        d->max_pages = max;
        pthread_mutex_unlock(&d->lock);
    } else if (!d->populated) {
        return -XEN_EBUSY;
    }
    ram_pages = d->ram_bytes >> GMEM_PAGE_SHIFT;

    pthread_mutex_lock(&d->lock);
    for (unsigned long i = 0; i < nr && rc == 0; i++) {
        for (uint64_t j = 0; j < pages; j++) {
            uint64_t gfn = (gfns[i] << order) + j, off, idx;
            if (gfns[i] > (UINT64_MAX >> (GMEM_PAGE_SHIFT + order)) ||
                !ram_host(d, gfn << GMEM_PAGE_SHIFT, &off)) {
                rc = -XEN_EINVAL;
                break;
            }
            idx = off >> GMEM_PAGE_SHIFT;
            if (idx >= ram_pages)
                continue;
            if (d->populated[idx / 64] & (1ULL << (idx % 64)))
                continue;
            if (d->tot_pages >= d->max_pages) {
                rc = -XEN_ENOMEM;
                break;
            }
            d->populated[idx / 64] |= 1ULL << (idx % 64);
            d->tot_pages++;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int domain_vcpu_set_affinity(struct domain *d, unsigned int vcpu,
                             const cpu_set_t *set)
{
    cpu_set_t online;
    int rc = 0;

    if (vcpu >= d->nr_vcpus || !d->vcpus[vcpu])
        return -XEN_ENOENT;
    /* Xen refuses a hard affinity with no online CPU in it. */
    if (sched_getaffinity(0, sizeof(online), &online) == 0) {
        CPU_AND(&online, &online, set);
        if (CPU_COUNT(&online) == 0)
            return -XEN_EINVAL;
    }
    pthread_mutex_lock(&d->lock);
    d->vcpus[vcpu]->affinity = *set;
    d->vcpus[vcpu]->has_affinity = true;
    if (d->vcpus[vcpu]->thread_started &&
        pthread_setaffinity_np(d->vcpus[vcpu]->thread, sizeof(*set), set))
        rc = -XEN_EINVAL;
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int domain_pause(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    d->paused = true;
    pthread_mutex_unlock(&d->lock);
    /* Synchronous, as Xen's domain_pause(): every vCPU is out of KVM_RUN. */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i]->thread_started &&
            vcpu_request(NULL, d->vcpus[i], VCPU_REQ_PAUSE))
            return -ESRCH;
    return 0;
}

int domain_unpause(struct domain *d)
{
    int rc;

    pthread_mutex_lock(&d->lock);
    if (d->paused) {
        d->paused = false;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            pthread_cond_broadcast(&d->vcpus[i]->cond);
    }
    pthread_mutex_unlock(&d->lock);
    if (d->nr_vcpus && d->vcpus[0]->thread_started)
        return 0;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
        if (rc) {
            domain_crash(d, "cannot start vCPU %u thread: %s", i, strerror(rc));
            return -rc;
        }
        pthread_mutex_lock(&d->lock);
        v->thread_started = true;
        if (v->has_affinity)
            pthread_setaffinity_np(v->thread, sizeof(v->affinity),
                                   &v->affinity);
        pthread_mutex_unlock(&d->lock);
    }
    return 0;
}

int domain_wait(struct domain *d)
{
    int reason;

    for (;;) {
        pthread_mutex_lock(&d->lock);
        bool down = d->is_shutting_down;
        pthread_mutex_unlock(&d->lock);
        if (down)
            break;
        event_base_loop(d->evbase, EVLOOP_NO_EXIT_ON_EMPTY);
    }
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (v->thread_started) {
            pthread_join(v->thread, NULL);
            v->thread_started = false;
        }
    }
    pthread_mutex_lock(&d->lock);
    reason = d->shutdown_reason;
    pthread_mutex_unlock(&d->lock);
    return reason;
}

void domain_copy_stats(const struct domain *d, uint64_t *ns, uint64_t *bytes)
{
    *ns = *bytes = 0;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        if (!d->vcpus[i])
            continue;
        *ns += d->vcpus[i]->copy_ns;
        *bytes += d->vcpus[i]->copy_bytes;
    }
}

void domain_exit_stats(const struct domain *d, uint64_t *exits,
                       uint64_t *hypercalls)
{
    *exits = *hypercalls = 0;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        if (!d->vcpus[i])
            continue;
        *exits += d->vcpus[i]->nr_exits;
        *hypercalls += d->vcpus[i]->nr_hypercalls;
    }
}

void domain_destroy(struct domain *d)
{
    bool running = false;

    if (!d)
        return;
    /*
     * Stop every vCPU thread first, then free: shutting down kicks all
     * vCPUs, so no vCPU may be freed while another is still being stopped
     * (a 2-vCPU domain's destroy kicked the freed vCPU 0).
     */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        running |= d->vcpus[i] && d->vcpus[i]->thread_started;
    if (running)
        domain_shutdown(d, SHUTDOWN_crash);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i] && d->vcpus[i]->thread_started)
            pthread_join(d->vcpus[i]->thread, NULL);
    if (getenv("XENHV_VCPU_STATS"))
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            struct vcpu *v = d->vcpus[i];
            if (!v)
                continue;
            fprintf(stderr,
                    "(XEN) d%uv%u: exits=%llu hypercalls=%llu timer_set=%llu "
                    "timer_fired=%llu upcalls=%llu vector=%#x/%#x up=%d "
                    "mp_state=%d rip=%#llx\n",
                    d->domid, i, (unsigned long long)v->nr_exits,
                    (unsigned long long)v->nr_hypercalls,
                    (unsigned long long)v->nr_timer_set,
                    (unsigned long long)v->nr_timer_fired,
                    (unsigned long long)v->nr_upcalls, v->upcall_vector,
                    d->callback_vector, v->up,
                    v->fd >= 0 ? kvm_vcpu_get_mp_state(v->fd) : -1,
                    (unsigned long long)(v->run ? v->run->s.regs.regs.rip : 0));
            fprintf(stderr,
                    "(XEN) d%uv%u: exits io=%llu mmio=%llu msr=%llu hlt=%llu "
                    "other=%llu; ports",
                    d->domid, i, (unsigned long long)v->nr_exit_reason[0],
                    (unsigned long long)v->nr_exit_reason[1],
                    (unsigned long long)v->nr_exit_reason[2],
                    (unsigned long long)v->nr_exit_reason[3],
                    (unsigned long long)v->nr_exit_reason[4]);
            for (unsigned int k = 0; k < 32 && v->top_port_n[k]; k++)
                if (v->top_port_n[k] >= 16)
                    fprintf(stderr, " %#x:%llu", v->top_port[k],
                            (unsigned long long)v->top_port_n[k]);
            fputc('\n', stderr);
        }
    /*
     * Peers' event sends (which may kick our vCPUs) hold the event channel
     * world's lock: once our event channels are gone none is in flight.
     */
    if (d->evtchn) {
        evtchn_domain_destroy(d->evtchn);
        d->evtchn = NULL;
    }
    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i])
            d->vcpus[i]->thread_started = false;
    pthread_mutex_unlock(&d->lock);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        if (v->singleshot)
            event_free(v->singleshot);
        if (v->periodic)
            event_free(v->periodic);
        kvm_vcpu_destroy(d->kvm, v->fd, v->run);
        pthread_cond_destroy(&v->cond);
        free(v);
        d->vcpus[i] = NULL;
    }
    if (d->gnttab) {
        gnttab_release_mappings(d->gnttab);
        gnttab_domain_destroy(d->gnttab);
    }
    free(d->grant_maps);
    free(d->populated);
    if (d->shutdown_ev)
        event_free(d->shutdown_ev);
    if (d->vm_fd >= 0)
        close(d->vm_fd);
    for (unsigned int i = 0; i < P2M_EXTRA_MAX; i++)
        if (d->p2m_extra[i].host)
            munmap(d->p2m_extra[i].host, GMEM_PAGE_SIZE);
    if (d->mem)
        munmap(d->mem, d->mem_bytes);
    if (d->mem_fd >= 0)
        close(d->mem_fd);
    if (d->shared_info_priv)
        munmap(d->shared_info_priv, GMEM_PAGE_SIZE);
    if (d->log.buf)
        console_log_destroy(&d->log);
    free(d->xen_cmdline);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
