/*
 * xlcfg_priv.h — internals shared by the files of libxlcfg: the settings
 * table the parser fills and the typed layer reads, and the diagnostics.
 */
#ifndef XLCFG_PRIV_H
#define XLCFG_PRIV_H

#include <stdarg.h>

#include "xlcfg.h"

/* Deepest list nesting accepted (xl allows nested lists, e.g. vnuma). */
#define XLCFG_NEST_MAX 16
/* After this many errors the parser stops reporting (and parsing). */
#define XLCFG_ERRORS_MAX 50

enum xlcfg_vtype {
    XLCFG_V_STRING, /* a quoted string or a number, kept as text */
    XLCFG_V_LIST,
};

/* One value of the syntax: a string/number atom or a list of values. */
struct xlcfg_value {
    enum xlcfg_vtype type;
    unsigned int line, col;     /* where it starts */
    char *str;                  /* XLCFG_V_STRING */
    struct xlcfg_value **items; /* XLCFG_V_LIST */
    size_t n, cap;
    const char **strs; /* lazily built for xlcfg_get_list() */
};

/* One `key = value` (or `key += value`) setting, the latest wins. */
struct xlcfg_setting {
    char *name;
    char *source;      /* file name or "<command line>" */
    unsigned int line; /* of the key */
    bool appended;     /* set or extended with += */
    bool used;         /* read by the typed layer */
    struct xlcfg_value *value;
};

struct xlcfg {
    struct xlcfg_setting *settings;
    size_t nsettings, cap;
    char **diags;
    size_t ndiags, dcap;
    size_t nerrors;
    bool oom;     /* a diagnostic could not be stored */
    char *source; /* the first source parsed, for keys that are missing */
};

/* xlcfg_value_free: free @v and its items; NULL is accepted. */
void xlcfg_value_free(struct xlcfg_value *v);

/*
 * xlcfg_diagf: record one diagnostic; @error selects "error" or
 * "warning".  The message is "SOURCE:LINE[:COL]: KIND: TEXT" (COL omitted
 * when 0, LINE too when 0).  Never fails: on ENOMEM the message is dropped and
 * cfg->oom set.
 */
void xlcfg_diagf(struct xlcfg *cfg, bool error, const char *source,
                 unsigned int line, unsigned int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* xlcfg_find: the setting named @key, or NULL. */
struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *key);

/* xlcfg_strdup_printf: a malloc'ed formatted string, NULL on ENOMEM. */
char *xlcfg_strdup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * xlcfg_domain_validate: the checks shared by xlcfg_domain_build(),
 * xlcfg_domain_to_json() and xlcfg_domain_from_json() on a filled @d.
 * Returns 0 (*@why NULL), -EINVAL with a malloc'ed reason in *@why, or
 * -ENOMEM (*@why NULL).
 */
int xlcfg_domain_validate(const struct xlcfg_domain *d, char **why);

/*
 * xlcfg_utf8_valid: @s is well-formed UTF-8 (what JSON can carry; the
 * typed layer refuses other strings so that its JSON always reads back).
 */
bool xlcfg_utf8_valid(const char *s);

/* xlcfg_name_valid: a domain name is 1..XLCFG_NAME_MAX of [A-Za-z0-9_.-]. */
bool xlcfg_name_valid(const char *name);


/* xlcfg_hex_digit: the value of hex digit @c, or -1. */
int xlcfg_hex_digit(char c);

/* xlcfg_random: fill @buf with @len random bytes (getrandom). */
void xlcfg_random(void *buf, size_t len);

/* Names of the enums as libxl's JSON writes them; NULL if out of range. */
const char *xlcfg_format_name(enum xlcfg_disk_format f);
const char *xlcfg_backend_name(enum xlcfg_disk_backend b);
const char *xlcfg_nictype_name(enum xlcfg_nic_type t);

#endif /* XLCFG_PRIV_H */
