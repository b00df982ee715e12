/*
 * shared.h — shared_info and vcpu_info (<xen/xen.h>).
 *
 * setup maps shared_info with XENMEM_add_to_physmap (XENMAPSPACE_shared_info,
 * <xen/memory.h>) at a page of the image.  Each vCPU below
 * XEN_LEGACY_MAX_VCPUS (32) starts with its vcpu_info in
 * shared_info->vcpu_info[id]; VCPUOP_register_vcpu_info moves it.
 */
#ifndef XENKERN_SHARED_H
#define XENKERN_SHARED_H

#include <stdint.h>
#include <xen/xen.h>

/* The mapped page, or NULL before/without mapping. */
extern struct shared_info *shared_info;

/* shared_info_map — map the page at the image's spare page; 0 or -errno. */
int shared_info_map(void);

/* vcpu_info_of — the current vcpu_info of vCPU id (NULL if none). */
struct vcpu_info *vcpu_info_of(unsigned int id);

/*
 * vcpu_info_register — VCPUOP_register_vcpu_info for vCPU id with its
 * vcpu_info at vi (any 64-byte aligned guest memory; xen-hv and Xen copy
 * the old contents over).  Returns 0 or the hypercall's -XEN_E*
 * (-XEN_EINVAL for a bad offset or a second registration).
 */
int vcpu_info_register(unsigned int id, struct vcpu_info *vi);

#endif
