/*
 * xs_escape.c — escaping of binary xenstore values for the CLI tools (see
 * xs_escape.h for the format, which follows Xen's xenstore tools so that
 * their output and ours are byte for byte the same).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_escape.h"

char *xs_escape_value(const char *val, size_t len)
{
    /* The longest escape is "\xNN": at most 4 bytes per input byte. */
    char *out = malloc(len * 4 + 1), *op = out;
    size_t i;

    if (!out) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)val[i];

        if (c >= ' ' && c <= '~' && c != '\\') {
            *op++ = (char)c;
            continue;
        }
        *op++ = '\\';
        switch (c) {
        case '\t':
            *op++ = 't';
            break;
        case '\n':
            *op++ = 'n';
            break;
        case '\r':
            *op++ = 'r';
            break;
        case '\\':
            *op++ = '\\';
            break;
        default:
            op += sprintf(op, c < 010 ? "%03o" : "x%02x", c);
            break;
        }
    }
    *op = '\0';
    return out;
}

static int digit_value(char c, unsigned int base)
{
    int v;

    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return v < (int)base ? v : -1;
}

/* Read up to max digits of base at *pp; returns how many were read. */
static unsigned int read_number(const char **pp, unsigned int base,
                                unsigned int max, unsigned int *value)
{
    unsigned int n = 0;
    int d;

    *value = 0;
    while (n < max && (d = digit_value((*pp)[n], base)) >= 0) {
        *value = *value * base + (unsigned int)d;
        n++;
    }
    *pp += n;
    return n;
}

void xs_unescape_value(const char *in, char *out, size_t *out_len)
{
    const char *ip = in;
    char *op = out;

    while (*ip) {
        unsigned int c = (unsigned char)*ip++, v;

        if (c != '\\') {
            *op++ = (char)c;
            continue;
        }
        c = (unsigned char)*ip;
        switch (c) {
        case '\0':
            /* Lone backslash at the end: a nul byte, then stop. */
            break;
        case 't':
            c = '\t', ip++;
            break;
        case 'n':
            c = '\n', ip++;
            break;
        case 'r':
            c = '\r', ip++;
            break;
        case 'x':
            ip++;
            if (read_number(&ip, 16, 2, &v))
                c = v;
            break;
        case '0' ... '7':
            read_number(&ip, 8, 3, &v);
            c = v;
            break;
        default:
            /* "\\" and unknown escapes: the character itself. */
            ip++;
            break;
        }
        *op++ = (char)c;
    }
    *op = '\0';
    *out_len = (size_t)(op - out);
}
