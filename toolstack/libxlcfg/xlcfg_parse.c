/*
 * xlcfg_parse.c — lexer and parser of xl's config syntax, the settings
 * table and the diagnostics.
 *
 * The syntax (Xen's docs/man/xl.cfg.5.pod.in "Syntax"; its grammar is
 * tools/libs/util/libxlu_cfg_l.l and libxlu_cfg_y.y, which we read to learn
 * it):
 *
 *   file    := { stmt }
 *   stmt    := NEWLINE | ';' | NAME ('=' | '+=') value (NEWLINE | ';' | EOF)
 *   value   := STRING | NUMBER | '[' nl* [ item { ',' nl* item } [',' nl*] ]
 *              ']'
 *   item    := value nl*
 *   NAME    := [a-z][._0-9a-z]*          (lowercase, as xl)
 *   NUMBER  := [0-9][0-9a-fx]*           (kept as text; converted with
 *                                          strtol base 0 where a number
 *                                          is wanted, as xl)
 *   STRING  := '...' | "..."  on one line, escapes \' \" \\ \a \b \f \n \r
 *              \t \v \xHH \OOO
 *   '#' starts a comment up to the end of the line.
 *
 * A later `key = v` replaces an earlier one; `key += v` appends a string
 * to a string or a list to a list (xl's XLU_OP_ADDITION).  Errors name
 * SOURCE:LINE:COL, what was found and what was expected; only the first
 * error of a line is reported (the rest usually follow from it), and
 * parsing resumes at the next line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xlcfg_priv.h"

/* Largest config file read (xl's are a few KiB). */
#define XLCFG_FILE_MAX (1 << 20)

enum tok_kind {
    T_EOF,
    T_NEWLINE,
    T_NAME,
    T_NUMBER,
    T_STRING,
    T_ASSIGN,
    T_APPEND,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_SEMI,
    T_BADCHAR, /* a character no token starts with */
    T_ERROR,   /* lexical error, already reported */
};

/* Why a T_BADCHAR may have been written, added to its message. */
enum tok_hint {
    HINT_NONE,
    HINT_PYTHON,    /* xl warns that such characters suggest Python (xm) */
    HINT_UPPERCASE, /* setting names are lowercase */
};

struct tok {
    enum tok_kind kind;
    unsigned int line, col;
    char *text; /* NAME, NUMBER, STRING (dequoted), BADCHAR (described) */
    enum tok_hint hint;
};

struct lexer {
    struct xlcfg *cfg;
    const char *source;
    const char *p, *end;
    unsigned int line, col;
    unsigned int err_line; /* last line with a reported error */
    int rc;                /* 0, -EINVAL or -ENOMEM */
};

void xlcfg_diagf(struct xlcfg *cfg, bool error, const char *source,
                 unsigned int line, unsigned int col, const char *fmt, ...)
{
    char *text = NULL, *msg = NULL;
    char **grown;
    va_list ap;
    int n;

    if (error)
        cfg->nerrors++;
    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        text = NULL;
        goto oom;
    }
    if (col)
        n = asprintf(&msg, "%s:%u:%u: %s: %s", source, line, col,
                     error ? "error" : "warning", text);
    else if (!line)
        n = asprintf(&msg, "%s: %s: %s", source, error ? "error" : "warning",
                     text);
    else
        n = asprintf(&msg, "%s:%u: %s: %s", source, line,
                     error ? "error" : "warning", text);
    if (n < 0) {
        msg = NULL;
        goto oom;
    }
    if (cfg->ndiags == cfg->dcap) {
        size_t cap = cfg->dcap ? cfg->dcap * 2 : 8;

        grown = realloc(cfg->diags, cap * sizeof(*grown));
        if (!grown)
            goto oom;
        cfg->diags = grown;
        cfg->dcap = cap;
    }
    cfg->diags[cfg->ndiags++] = msg;
    free(text);
    return;
oom:
    cfg->oom = true;
    free(text);
    free(msg);
}

char *xlcfg_strdup_printf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

struct xlcfg *xlcfg_new(void)
{
    return calloc(1, sizeof(struct xlcfg));
}

void xlcfg_value_free(struct xlcfg_value *v)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < v->n; i++)
        xlcfg_value_free(v->items[i]);
    free(v->items);
    free(v->strs);
    free(v->str);
    free(v);
}

void xlcfg_free(struct xlcfg *cfg)
{
    size_t i;

    if (!cfg)
        return;
    for (i = 0; i < cfg->nsettings; i++) {
        free(cfg->settings[i].name);
        free(cfg->settings[i].source);
        xlcfg_value_free(cfg->settings[i].value);
    }
    for (i = 0; i < cfg->ndiags; i++)
        free(cfg->diags[i]);
    free(cfg->settings);
    free(cfg->diags);
    free(cfg->source);
    free(cfg);
}

size_t xlcfg_diag_count(const struct xlcfg *cfg)
{
    return cfg->ndiags;
}

const char *xlcfg_diag(const struct xlcfg *cfg, size_t i)
{
    return i < cfg->ndiags ? cfg->diags[i] : NULL;
}

size_t xlcfg_error_count(const struct xlcfg *cfg)
{
    return cfg->nerrors;
}

struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg, const char *key)
{
    size_t i;

    for (i = 0; i < cfg->nsettings; i++)
        if (!strcmp(cfg->settings[i].name, key))
            return &cfg->settings[i];
    return NULL;
}

const char *xlcfg_get_string(const struct xlcfg *cfg, const char *key)
{
    struct xlcfg_setting *s = xlcfg_find(cfg, key);

    if (!s || s->value->type != XLCFG_V_STRING)
        return NULL;
    return s->value->str;
}

long xlcfg_get_list(const struct xlcfg *cfg, const char *key,
                    const char *const **items)
{
    struct xlcfg_setting *s = xlcfg_find(cfg, key);
    struct xlcfg_value *v;
    size_t i;

    if (!s || s->value->type != XLCFG_V_LIST)
        return -1;
    v = s->value;
    if (items) {
        free(v->strs);
        v->strs = calloc(v->n + 1, sizeof(*v->strs));
        if (!v->strs)
            return -1;
        for (i = 0; i < v->n; i++)
            v->strs[i] =
                v->items[i]->type == XLCFG_V_STRING ? v->items[i]->str : NULL;
        *items = v->strs;
    }
    return (long)v->n;
}

/* ---- lexer ---- */

/*
 * lex_error: record a syntax error at @line:@col (@col 0: no column), only
 * the first of each line, since the rest of a bad line usually follows
 * from its first error.
 */
__attribute__((format(printf, 4, 5))) static void
lex_error(struct lexer *lx, unsigned int line, unsigned int col,
          const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    int n;

    if (lx->rc == 0)
        lx->rc = -EINVAL;
    if (line <= lx->err_line)
        return;
    lx->err_line = line;
    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        lx->cfg->oom = true;
        lx->cfg->nerrors++;
        return;
    }
    xlcfg_diagf(lx->cfg, true, lx->source, line, col, "%s", text);
    free(text);
}

static void lex_advance(struct lexer *lx)
{
    if (*lx->p == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
    lx->p++;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

/* Describe character @c for a message ("'x'" or "byte 0x07"). */
static void char_desc(char c, char out[16])
{
    unsigned char u = (unsigned char)c;

    if (u >= 0x21 && u < 0x7f)
        snprintf(out, 16, "'%c'", c);
    else if (c == ' ')
        snprintf(out, 16, "space");
    else
        snprintf(out, 16, "byte 0x%02x", u);
}

/*
 * lex_escape: decode the escape after a backslash at lx->p (which points
 * past the backslash) into *@out.  Returns false after reporting an error.
 * xl's escapes: \' \" \\ \a \b \f \n \r \t \v, \x and two hex digits, and
 * one to three octal digits.  A NUL result is refused: values are C
 * strings.
 */
static bool lex_escape(struct lexer *lx, char quote, unsigned int bs_col,
                       char *out)
{
    static const char simple_in[] = "\"'\\abfnrtv";
    static const char simple_out[] = "\"'\\\a\b\f\n\r\t\v";
    const char *hit;
    char c;
    int v = 0, d, i;

    if (lx->p >= lx->end || *lx->p == '\n') {
        lex_error(lx, lx->line, bs_col,
                  "unterminated string, expected closing %c", quote);
        return false;
    }
    c = *lx->p;
    hit = c ? strchr(simple_in, c) : NULL;
    if (hit) {
        *out = simple_out[hit - simple_in];
        lex_advance(lx);
        return true;
    }
    if (c == 'x') {
        lex_advance(lx);
        for (i = 0; i < 2; i++) {
            d = lx->p < lx->end ? xlcfg_hex_digit(*lx->p) : -1;
            if (d < 0) {
                lex_error(lx, lx->line, bs_col,
                          "bad \\x escape in string, expected two hex "
                          "digits");
                return false;
            }
            v = v * 16 + d;
            lex_advance(lx);
        }
    } else if (c >= '0' && c <= '7') {
        for (i = 0; i < 3 && lx->p < lx->end && *lx->p >= '0' && *lx->p <= '7';
             i++) {
            v = v * 8 + (*lx->p - '0');
            lex_advance(lx);
        }
        if (v > 0xff) {
            lex_error(lx, lx->line, bs_col,
                      "octal escape above \\377 in string");
            return false;
        }
    } else {
        unsigned char u = (unsigned char)c;

        if (u > 0x20 && u < 0x7f)
            lex_error(lx, lx->line, bs_col,
                      "unknown escape \\%c in string, expected one of "
                      "\\' \\\" \\\\ \\a \\b \\f \\n \\r \\t \\v \\xHH "
                      "\\OOO",
                      c);
        else
            lex_error(lx, lx->line, bs_col, "byte 0x%02x after \\ in string",
                      u);
        return false;
    }
    if (v == 0) {
        lex_error(lx, lx->line, bs_col, "NUL escape in string");
        return false;
    }
    *out = (char)v;
    return true;
}

/* lex_string: a quoted string starting at lx->p (the quote). */
static void lex_string(struct lexer *lx, struct tok *t)
{
    char quote = *lx->p;
    size_t cap = 16, n = 0;
    char *buf = malloc(cap), *grown;
    char c;

    if (!buf)
        goto oom;
    lex_advance(lx);
    for (;;) {
        if (lx->p >= lx->end || *lx->p == '\n') {
            lex_error(lx, t->line, t->col,
                      "unterminated string, expected closing %c before "
                      "end of %s",
                      quote, lx->p >= lx->end ? "file" : "line");
            goto bad;
        }
        c = *lx->p;
        if (c == quote) {
            lex_advance(lx);
            break;
        }
        if (c == '\0') {
            lex_error(lx, lx->line, lx->col, "NUL byte in string");
            goto bad;
        }
        if (c == '\\') {
            unsigned int bs_col = lx->col;

            lex_advance(lx);
            if (!lex_escape(lx, quote, bs_col, &c))
                goto bad;
        } else {
            lex_advance(lx);
        }
        if (n + 2 > cap) {
            cap *= 2;
            grown = realloc(buf, cap);
            if (!grown)
                goto oom;
            buf = grown;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    t->kind = T_STRING;
    t->text = buf;
    return;
bad:
    /* Skip the rest of the string so that the line's tail is not lexed. */
    while (lx->p < lx->end && *lx->p != '\n' && *lx->p != quote)
        lex_advance(lx);
    if (lx->p < lx->end && *lx->p == quote)
        lex_advance(lx);
    free(buf);
    t->kind = T_ERROR;
    return;
oom:
    free(buf);
    lx->rc = -ENOMEM;
    t->kind = T_ERROR;
}

/* lex_word: a NAME or NUMBER run of characters accepted by @ok. */
static void lex_word(struct lexer *lx, struct tok *t, enum tok_kind kind,
                     bool (*ok)(char))
{
    const char *start = lx->p;

    while (lx->p < lx->end && ok(*lx->p))
        lex_advance(lx);
    t->text = strndup(start, lx->p - start);
    if (!t->text) {
        lx->rc = -ENOMEM;
        t->kind = T_ERROR;
        return;
    }
    t->kind = kind;
}

static void lex_next(struct lexer *lx, struct tok *t)
{
    char c, d[16];

    memset(t, 0, sizeof(*t));
    while (lx->p < lx->end &&
           (*lx->p == ' ' || *lx->p == '\t' ||
            (*lx->p == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n')))
        lex_advance(lx);
    if (lx->p < lx->end && *lx->p == '#')
        while (lx->p < lx->end && *lx->p != '\n')
            lex_advance(lx);
    t->line = lx->line;
    t->col = lx->col;
    if (lx->p >= lx->end) {
        t->kind = T_EOF;
        return;
    }
    c = *lx->p;
    if (c >= 'a' && c <= 'z') {
        lex_word(lx, t, T_NAME, is_name_char);
        return;
    }
    if (c >= '0' && c <= '9') {
        lex_word(lx, t, T_NUMBER, is_number_char);
        return;
    }
    if (c == '"' || c == '\'') {
        lex_string(lx, t);
        return;
    }
    lex_advance(lx);
    switch (c) {
    case '\n':
        t->kind = T_NEWLINE;
        return;
    case '=':
        t->kind = T_ASSIGN;
        return;
    case '[':
        t->kind = T_LBRACKET;
        return;
    case ']':
        t->kind = T_RBRACKET;
        return;
    case ',':
        t->kind = T_COMMA;
        return;
    case ';':
        t->kind = T_SEMI;
        return;
    case '+':
        if (lx->p < lx->end && *lx->p == '=') {
            lex_advance(lx);
            t->kind = T_APPEND;
            return;
        }
        break;
    }
    /* Reported by the parser, which knows what it expected instead. */
    char_desc(c, d);
    t->text = strdup(d);
    if (!t->text) {
        lx->rc = -ENOMEM;
        t->kind = T_ERROR;
        return;
    }
    t->kind = T_BADCHAR;
    if (c >= 'A' && c <= 'Z')
        t->hint = HINT_UPPERCASE;
    else if (c && strchr("+-.():", c))
        t->hint = HINT_PYTHON;
}

/* ---- parser ---- */

struct parser {
    struct lexer lx;
    struct tok tok; /* current token */
};

static void next(struct parser *ps)
{
    free(ps->tok.text);
    lex_next(&ps->lx, &ps->tok);
}

/* What the current token is, for "unexpected X" messages. */
static void tok_desc(const struct tok *t, char *out, size_t len)
{
    switch (t->kind) {
    case T_EOF:
        snprintf(out, len, "end of file");
        break;
    case T_NEWLINE:
        snprintf(out, len, "end of line");
        break;
    case T_NAME:
        snprintf(out, len, "name '%.32s'", t->text);
        break;
    case T_NUMBER:
        snprintf(out, len, "number %.32s", t->text);
        break;
    case T_STRING:
        snprintf(out, len, "string");
        break;
    case T_ASSIGN:
        snprintf(out, len, "'='");
        break;
    case T_APPEND:
        snprintf(out, len, "'+='");
        break;
    case T_LBRACKET:
        snprintf(out, len, "'['");
        break;
    case T_RBRACKET:
        snprintf(out, len, "']'");
        break;
    case T_COMMA:
        snprintf(out, len, "','");
        break;
    case T_SEMI:
        snprintf(out, len, "';'");
        break;
    case T_BADCHAR:
        snprintf(out, len, "%s", t->text);
        break;
    case T_ERROR:
        snprintf(out, len, "error");
        break;
    }
}

/* What a statement starts with (compared by address in expect_error). */
static const char EXPECT_NAME[] = "a setting name";

/* expect_error: "unexpected <current token>, expected @what". */
static void expect_error(struct parser *ps, const char *what)
{
    static const char *const hints[] = {
        [HINT_NONE] = "",
        [HINT_PYTHON] = " (the config looks like Python, which xl no "
                        "longer accepts)",
        [HINT_UPPERCASE] = " (setting names are lowercase)",
    };
    enum tok_hint hint;
    char d[64];

    if (ps->tok.kind == T_ERROR) /* already reported by the lexer */
        return;
    tok_desc(&ps->tok, d, sizeof(d));
    /* Capitals only suggest a miswritten name where a name was due. */
    if (ps->tok.kind != T_BADCHAR ||
        (ps->tok.hint == HINT_UPPERCASE && what != EXPECT_NAME))
        hint = HINT_NONE;
    else
        hint = ps->tok.hint;
    lex_error(&ps->lx, ps->tok.line, ps->tok.col,
              "unexpected %s, expected %s%s", d, what, hints[hint]);
}

static void skip_newlines(struct parser *ps)
{
    while (ps->tok.kind == T_NEWLINE)
        next(ps);
}

static struct xlcfg_value *value_new(struct parser *ps, enum xlcfg_vtype type)
{
    struct xlcfg_value *v = calloc(1, sizeof(*v));

    if (!v) {
        ps->lx.rc = -ENOMEM;
        return NULL;
    }
    v->type = type;
    v->line = ps->tok.line;
    v->col = ps->tok.col;
    return v;
}

static bool list_append(struct xlcfg_value *list, struct xlcfg_value *item)
{
    struct xlcfg_value **grown;

    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;

        grown = realloc(list->items, cap * sizeof(*grown));
        if (!grown)
            return false;
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->n++] = item;
    return true;
}

/*
 * parse_value: the value starting at the current token; on return the
 * current token is the one after it.  NULL after an error (reported).
 */
static struct xlcfg_value *parse_value(struct parser *ps, unsigned int depth)
{
    struct xlcfg_value *v = NULL, *item;

    if (ps->tok.kind == T_STRING || ps->tok.kind == T_NUMBER) {
        v = value_new(ps, XLCFG_V_STRING);
        if (!v)
            return NULL;
        v->str = ps->tok.text;
        ps->tok.text = NULL;
        next(ps);
        return v;
    }
    if (ps->tok.kind != T_LBRACKET) {
        expect_error(ps, "a value (quoted string, number or '[')");
        return NULL;
    }
    if (depth >= XLCFG_NEST_MAX) {
        lex_error(&ps->lx, ps->tok.line, ps->tok.col,
                  "lists nested deeper than %d", XLCFG_NEST_MAX);
        return NULL;
    }
    v = value_new(ps, XLCFG_V_LIST);
    if (!v)
        return NULL;
    next(ps);
    skip_newlines(ps);
    while (ps->tok.kind != T_RBRACKET) {
        item = parse_value(ps, depth + 1);
        if (!item)
            goto fail;
        if (!list_append(v, item)) {
            xlcfg_value_free(item);
            ps->lx.rc = -ENOMEM;
            goto fail;
        }
        skip_newlines(ps);
        if (ps->tok.kind == T_RBRACKET)
            break;
        if (ps->tok.kind != T_COMMA) {
            expect_error(ps, "',' or ']'");
            goto fail;
        }
        next(ps);
        skip_newlines(ps);
    }
    next(ps); /* the ']' */
    return v;
fail:
    xlcfg_value_free(v);
    return NULL;
}

/* concat: @prev += @add, the result left in @add (xl's semantics). */
static int concat(struct parser *ps, struct xlcfg_value *prev,
                  struct xlcfg_value *add)
{
    struct xlcfg_value **items;
    char *s;
    size_t n;

    if (prev->type != add->type) {
        lex_error(&ps->lx, add->line, add->col,
                  "can't add a %s to a %s with +=",
                  add->type == XLCFG_V_LIST ? "list" : "string",
                  prev->type == XLCFG_V_LIST ? "list" : "string");
        return -EINVAL;
    }
    if (add->type == XLCFG_V_STRING) {
        s = xlcfg_strdup_printf("%s%s", prev->str, add->str);
        if (!s)
            return -ENOMEM;
        free(add->str);
        add->str = s;
        return 0;
    }
    n = prev->n + add->n;
    items = malloc((n ? n : 1) * sizeof(*items));
    if (!items)
        return -ENOMEM;
    memcpy(items, prev->items, prev->n * sizeof(*items));
    memcpy(items + prev->n, add->items, add->n * sizeof(*items));
    free(add->items);
    add->items = items;
    add->n = add->cap = n;
    prev->n = 0; /* the items now belong to @add */
    return 0;
}

/* store: record setting @name (taken) = @v (taken) at @line. */
static void store(struct parser *ps, char *name, bool append,
                  struct xlcfg_value *v, unsigned int line)
{
    struct xlcfg *cfg = ps->lx.cfg;
    struct xlcfg_setting *s = xlcfg_find(cfg, name), *grown;
    char *source = strdup(ps->lx.source);
    int rc;

    if (!source)
        goto oom;
    if (s && append) {
        rc = concat(ps, s->value, v);
        if (rc == -ENOMEM)
            goto oom;
        if (rc)
            goto drop;
    }
    if (s) {
        xlcfg_value_free(s->value);
        free(s->source);
        free(name);
        s->appended = append;
    } else {
        if (cfg->nsettings == cfg->cap) {
            size_t cap = cfg->cap ? cfg->cap * 2 : 16;

            grown = realloc(cfg->settings, cap * sizeof(*grown));
            if (!grown)
                goto oom;
            cfg->settings = grown;
            cfg->cap = cap;
        }
        s = &cfg->settings[cfg->nsettings++];
        memset(s, 0, sizeof(*s));
        s->name = name;
        s->appended = append;
    }
    s->value = v;
    s->source = source;
    s->line = line;
    return;
oom:
    ps->lx.rc = -ENOMEM;
drop:
    free(source);
    free(name);
    xlcfg_value_free(v);
}

/* skip_line: resynchronise after an error at the next line. */
static void skip_line(struct parser *ps)
{
    while (ps->tok.kind != T_NEWLINE && ps->tok.kind != T_EOF &&
           ps->lx.rc != -ENOMEM)
        next(ps);
}

static bool parse_stmt(struct parser *ps)
{
    struct xlcfg_value *v;
    unsigned int line = ps->tok.line;
    char *name;
    bool append;

    if (ps->tok.kind != T_NAME) {
        expect_error(ps, EXPECT_NAME);
        return false;
    }
    name = ps->tok.text;
    ps->tok.text = NULL;
    next(ps);
    if (ps->tok.kind != T_ASSIGN && ps->tok.kind != T_APPEND) {
        expect_error(ps, "'=' or '+='");
        free(name);
        return false;
    }
    append = ps->tok.kind == T_APPEND;
    next(ps);
    v = parse_value(ps, 0);
    if (!v) {
        free(name);
        return false;
    }
    if (ps->tok.kind != T_NEWLINE && ps->tok.kind != T_SEMI &&
        ps->tok.kind != T_EOF) {
        expect_error(ps, "';' or end of line");
        free(name);
        xlcfg_value_free(v);
        return false;
    }
    store(ps, name, append, v, line);
    return true;
}

static int parse_buffer(struct xlcfg *cfg, const char *source, const char *data,
                        size_t len, unsigned int line)
{
    struct parser ps;

    if (!cfg->source) {
        cfg->source = strdup(source);
        if (!cfg->source)
            return -ENOMEM;
    }
    memset(&ps, 0, sizeof(ps));
    ps.lx.cfg = cfg;
    ps.lx.source = source;
    ps.lx.p = data;
    ps.lx.end = data + len;
    ps.lx.line = line;
    ps.lx.col = 1;
    lex_next(&ps.lx, &ps.tok);
    while (ps.tok.kind != T_EOF && ps.lx.rc != -ENOMEM &&
           cfg->nerrors < XLCFG_ERRORS_MAX) {
        if (ps.tok.kind == T_NEWLINE || ps.tok.kind == T_SEMI) {
            next(&ps);
            continue;
        }
        if (!parse_stmt(&ps))
            skip_line(&ps);
    }
    free(ps.tok.text);
    if (cfg->oom)
        return -ENOMEM;
    return ps.lx.rc;
}

int xlcfg_parse_data(struct xlcfg *cfg, const char *source, const char *data,
                     size_t len)
{
    return parse_buffer(cfg, source, data, len, 1);
}

int xlcfg_parse_override(struct xlcfg *cfg, const char *arg, unsigned int argno)
{
    /* One argument is one line; a newline inside it would fake another. */
    if (strchr(arg, '\n')) {
        xlcfg_diagf(cfg, true, "<command line>", argno, 0,
                    "newline in override '%s'", arg);
        return -EINVAL;
    }
    return parse_buffer(cfg, "<command line>", arg, strlen(arg), argno);
}

int xlcfg_parse_file(struct xlcfg *cfg, const char *path)
{
    char *buf = NULL;
    struct stat st;
    size_t got = 0;
    ssize_t n;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        xlcfg_diagf(cfg, true, path, 0, 0, "cannot open: %s", strerror(-rc));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        xlcfg_diagf(cfg, true, path, 0, 0, "cannot stat: %s", strerror(-rc));
        goto out;
    }
    if (st.st_size > XLCFG_FILE_MAX) {
        rc = -EFBIG;
        xlcfg_diagf(cfg, true, path, 0, 0, "larger than %d bytes",
                    XLCFG_FILE_MAX);
        goto out;
    }
    buf = malloc(XLCFG_FILE_MAX + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    /* Read to EOF: st_size may be 0 for a pipe or /proc-like file. */
    while ((n = read(fd, buf + got, XLCFG_FILE_MAX + 1 - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            xlcfg_diagf(cfg, true, path, 0, 0, "cannot read: %s",
                        strerror(-rc));
            goto out;
        }
        got += (size_t)n;
        if (got > XLCFG_FILE_MAX) {
            rc = -EFBIG;
            xlcfg_diagf(cfg, true, path, 0, 0, "larger than %d bytes",
                        XLCFG_FILE_MAX);
            goto out;
        }
    }
    rc = xlcfg_parse_data(cfg, path, buf, got);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}
