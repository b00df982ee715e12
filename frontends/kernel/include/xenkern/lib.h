/*
 * lib.h — the freestanding C library subset the kernel uses.
 * memset/memcpy are `rep stos`/`rep movs` (cheap even on kvm_pvm).
 */
#ifndef XENKERN_LIB_H
#define XENKERN_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *hay, const char *needle);

/* strtoull — base 0 (0x prefix = hex), 10 or 16; *end past the digits. */
unsigned long long strtoull(const char *s, const char **end, int base);

/*
 * vsnprintf — formats %d %i %u %x %X %o %s %c %p %% with flags '-' and
 * '0', a width, and the length modifiers l, ll, z.  Writes at most
 * size - 1 characters and a NUL; returns the length it wanted to write.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
