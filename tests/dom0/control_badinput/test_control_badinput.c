/*
 * control_badinput — xen-hv's control socket under bad input: packets
 * shorter than a header, a length field that lies, unknown ops, requests
 * before HELLO, wrong payload sizes, a second HELLO, ports and handles it
 * does not own, a connection that vanishes mid-way, random bytes.  Each
 * gets an error reply or the connection is dropped; xen-hv keeps serving
 * (a well-formed client works afterwards) and the guest is undisturbed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xenevtchn.h>

#include "harness.h"
#include "tap.h"
#include "xenhv_privcmd.h"

static int conn(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send raw bytes; returns the reply's rc, 1 if the connection closed. */
static int raw(int fd, const void *buf, size_t len)
{
    uint8_t rep[XENHV_MSG_MAX];
    struct xenhv_msg m;
    struct timeval tv = {.tv_sec = 5};
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
        return 1;
    n = recv(fd, rep, sizeof(rep), 0);
    if (n <= 0)
        return 1;
    if ((size_t)n < sizeof(m))
        return 2;
    memcpy(&m, rep, sizeof(m));
    return m.rc;
}

static int op(int fd, uint32_t op, const void *p, uint32_t len)
{
    uint8_t buf[256];
    struct xenhv_msg m = {.op = op, .seq = 9, .len = len};
    memcpy(buf, &m, sizeof(m));
    memcpy(buf + sizeof(m), p, len);
    return raw(fd, buf, sizeof(m) + len);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    int status, port = -1, fd;
    xenevtchn_handle *h;
    pid_t pid;
    FILE *out;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    snprintf(img, sizeof(img), "%s/../evtchn_pingpong/guest.elf", dir);
    tap_plan(13);
    pid = start_run("bad", img, &out);
    {
        const char *r = read_ready(out, guest_out, sizeof(guest_out));
        if (r)
            sscanf(r, "READY port=%d", &port);
    }
    ok(port > 0, "guest ready");

    fd = conn(run_sock);
    is_int(raw(fd, "abc", 3), 1, "a packet shorter than a header: dropped");
    close(fd);
    fd = conn(run_sock);
    {
        struct xenhv_msg m = {.op = XENHV_OP_HELLO, .len = 1000};
        is_int(raw(fd, &m, sizeof(m)), -XEN_EINVAL,
               "a length field that lies: EINVAL");
    }
    {
        struct xenhv_evtchn_req r = {.port = 1};
        is_int(op(fd, XENHV_OP_EVTCHN_NOTIFY, &r, sizeof(r)), -XEN_EINVAL,
               "a request before HELLO: EINVAL");
    }
    is_int(op(fd, XENHV_OP_HELLO, NULL, 0), 0, "HELLO");
    is_int(op(fd, XENHV_OP_HELLO, NULL, 0), -XEN_EINVAL,
           "a second HELLO: EINVAL");
    is_int(op(fd, 0xdead, NULL, 0), -XEN_ENOSYS, "an unknown op: ENOSYS");
    is_int(op(fd, XENHV_OP_EVTCHN_NOTIFY, "x", 1), -XEN_EINVAL,
           "a wrong payload size: EINVAL");
    {
        struct xenhv_evtchn_req r = {.port = (uint32_t)port};
        is_int(op(fd, XENHV_OP_EVTCHN_UNBIND, &r, sizeof(r)), -XEN_EINVAL,
               "closing a port of the guest's (not ours): EINVAL");
    }
    {
        struct xenhv_gnttab_unmap_req r = {.handle = 12345};
        uint8_t buf[64];
        struct xenhv_msg m = {.op = XENHV_OP_GNTTAB_UNMAP, .len = sizeof(r)};
        memcpy(buf, &m, sizeof(m));
        memcpy(buf + sizeof(m), &r, sizeof(r));
        ok(raw(fd, buf, sizeof(m) + sizeof(r)) == 0,
           "unmapping a handle we never had answers (GNTST_bad_handle)");
    }
    {
        uint8_t junk[512];
        srand(7);
        for (int i = 0; i < 200; i++) {
            int j = conn(run_sock);
            size_t n = (size_t)(rand() % (int)sizeof(junk));
            for (size_t b = 0; b < n; b++)
                junk[b] = (uint8_t)rand();
            if (j >= 0) {
                struct timeval tv = {.tv_usec = 20000};
                setsockopt(j, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                send(j, junk, n, MSG_NOSIGNAL);
                if (i % 2)
                    recv(j, junk, sizeof(junk), 0);
                close(j); /* sometimes before the reply: vanishing peer */
            }
        }
        ok(1, "200 connections of random bytes sent");
    }
    close(fd);
    h = xenevtchn_open(NULL, 0);
    ok(h && xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port) > 0,
       "a well-formed client still works afterwards");
    /* Answer the guest's ping-pong so that it powers off. */
    if (h) {
        xenevtchn_close(h);
    }
    ok(waitpid(pid, &status, WNOHANG) == 0,
       "xen-hv and its guest are still running");
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    unlink(run_sock);
    return tap_done();
}
