/*
 * xs_escape.h — how the xenstore CLI tools show binary values and read
 * escaped ones, with the conventions of Xen's xenstore-read/-write/-ls:
 * bytes 0x20..0x7e except '\' as they are; '\t' '\n' '\r' '\\' as those
 * two-character escapes; other bytes below 010 as '\' and three octal
 * digits; every other byte as "\x" and two hex digits.
 */
#ifndef XS_ESCAPE_H
#define XS_ESCAPE_H

#include <stddef.h>

/*
 * Escape the len bytes at val into a malloc'ed, nul-terminated string.
 * Returns NULL with errno ENOMEM.
 */
char *xs_escape_value(const char *val, size_t len);

/*
 * Decode the escapes of the nul-terminated string in into out, which must
 * hold strlen(in) + 1 bytes; *out_len gets the decoded length (the value
 * may contain nul bytes).  Unknown escapes stand for the character after
 * the backslash; "\x" and octal escapes take up to 2 hex or 3 octal
 * digits; a trailing lone backslash decodes to a nul byte (as Xen's
 * tools).  Cannot fail.
 */
void xs_unescape_value(const char *in, char *out, size_t *out_len);

#endif /* XS_ESCAPE_H */
