/*
 * xs_lib_ext.h — helpers our libxenstore exports beyond Debian's
 * <xenstore_lib.h> (Xen keeps them in its private xenstore_lib.h).  The
 * CLI tools and tests use them; programs written for libxenstore need not.
 */
#ifndef XS_LIB_EXT_H
#define XS_LIB_EXT_H

#include <stddef.h>
#include <xenstore.h>

/*
 * Format one permission as xenstore's <perm-as-string> ("r0", "w5", "b1",
 * "n2"; docs/misc/xenstore.txt, GET_PERMS) into buf of buf_len bytes
 * (MAX_STRLEN(unsigned int) + 1 is enough).  XS_PERM_IGNORE is ignored.
 * Returns false with errno EINVAL for an unknown permission mask or
 * ENOSPC when buf is too small.
 */
bool xs_perm_to_string(const struct xs_permissions *perm, char *buf,
                       size_t buf_len);

/*
 * Decode a permission letter of <perm-as-string> (docs/misc/xenstore.txt:
 * 'n' none, 'r' read, 'w' write, 'b' both) into *perms (XS_PERM_*).
 * Returns false, *perms untouched, for any other character.
 */
bool xs_perm_from_letter(char letter, unsigned int *perms);

/*
 * Count the nul-terminated strings in the len bytes at strings (a reply
 * body such as a DIRECTORY or GET_PERMS answer).  Bytes after the last
 * nul are not counted.  Cannot fail.
 */
unsigned int xs_count_strings(const char *strings, unsigned int len);

#endif /* XS_LIB_EXT_H */
