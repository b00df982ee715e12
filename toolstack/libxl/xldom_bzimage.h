/*
 * xldom_bzimage.h — take the ELF kernel out of a Linux bzImage, so that
 * `kernel = "/boot/vmlinuz-..."` boots as PVH the way Xen's domain builder
 * allows it (libxenguest's bzImage loader): the bzImage's protected-mode
 * payload is the compressed vmlinux, an ELF with XEN_ELFNOTE_PHYS32_ENTRY.
 *
 * Layout (Linux's Documentation/arch/x86/boot.rst, boot protocol >= 2.08):
 * setup_sects at 0x1f1 (0 means 4), "HdrS" at 0x202, protocol version at
 * 0x206; payload_offset (0x248) and payload_length (0x24c) locate the
 * compressed kernel from the start of the protected-mode code, which
 * begins at (setup_sects + 1) * 512.  Compressions handled: xz (Debian's)
 * with liblzma, gzip with zlib.
 */
#ifndef XLDOM_BZIMAGE_H
#define XLDOM_BZIMAGE_H

#include <stddef.h>

#define XLDOM_BZIMAGE_MAX_ELF (256u << 20) /* bytes: a decompressed bound */

/*
 * xldom_bzimage_unpack — when img/len (the file's bytes) is a bzImage,
 * decompress its payload into a new malloc'ed buffer *elf of *elf_len
 * bytes.
 * Returns 1 (unpacked), 0 (not a bzImage: use img as it is), or a
 * negative errno with a reason in why: -ENOEXEC (truncated header,
 * payload outside the file, an unknown or corrupt compression, or a
 * payload that is not ELF), -EFBIG (more than XLDOM_BZIMAGE_MAX_ELF
 * bytes), -ENOMEM.
 */
int xldom_bzimage_unpack(const void *img, size_t len, void **elf,
                         size_t *elf_len, char *why, size_t whylen);

#endif
