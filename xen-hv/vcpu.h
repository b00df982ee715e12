/* vcpu.h — the vCPU thread (one per vCPU: KVM_RUN and exit handling). */
#ifndef XENHV_VCPU_H
#define XENHV_VCPU_H

/*
 * vcpu_thread — pthread entry; arg is the struct vcpu.  Runs until the
 * domain shuts down.  vCPU 0 starts at the PVH entry the builder set;
 * other vCPUs wait inside KVM for INIT/SIPI or for VCPUOP_up.
 */
void *vcpu_thread(void *arg);

#endif
