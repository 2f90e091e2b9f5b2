/* fakexen: state file parsing, writing and locking (see state.h; statedom.c has the
 * queries and changes on a loaded state).
 *
 * Format (text, one record per line, single spaces, every field required):
 *   fakexen-state 1
 *   host next_domid=N
 *   dom id=N name=NAME uuid=UUID type=pv|hvm|pvh max_kb=N cur_kb=N vcpus=N online=N
 *       paused=0|1 shutdown=0|1 reason=-1..5 pv=0|1 pending=none|poweroff|reboot
 *       due_ms=N born_ms=N                                  (all on one line)
 *   ud id=N key=KEY data=HEX                                (after its dom line)
 *   end
 * NAME is percent-encoded outside [A-Za-z0-9._:+@-]. The file must end with "end\n".
 */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void seterr(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (!err || !n)
        return;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

const char *fx_state_path(void)
{
    const char *p = getenv("FAKEXEN_STATE");
    return (p && *p) ? p : FX_DEFAULT_STATE;
}

uint64_t fx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fx_uuid_format(const unsigned char u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

const char *fx_type_name(int type)
{
    switch (type) {
    case FX_HVM: return "hvm";
    case FX_PV: return "pv";
    case FX_PVH: return "pvh";
    default: return "invalid";
    }
}

/* ---- parsing helpers: every one checks bounds and rejects anything unexpected ---- */

int fx_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_flag(const char *s, int *out)
{
    if (!strcmp(s, "0")) { *out = 0; return 0; }
    if (!strcmp(s, "1")) { *out = 1; return 0; }
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_uuid(const char *s, unsigned char u[16])
{
    int k = 0;
    if (strlen(s) != 36)
        return -1;
    for (int i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0 || k >= 16)
            return -1;
        u[k++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    return k == 16 ? 0 : -1;
}

static int name_char_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '+' || c == '@' || c == '-';
}

static int parse_name(const char *s, char out[FX_NAME_MAX + 1])
{
    size_t n = 0;
    while (*s) {
        int c;
        if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            s += 3;
        } else {
            c = (unsigned char)*s++;
            if (!name_char_plain((unsigned char)c))
                return -1;
        }
        if (c == 0 || n >= FX_NAME_MAX)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return n ? 0 : -1;
}

int fx_valid_udkey(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > FX_UDKEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int parse_hex(const char *s, unsigned char **out, size_t *outlen)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > FX_UD_MAX)
        return -1;
    unsigned char *b = malloc(n / 2);
    if (!b)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = b;
    *outlen = n / 2;
    return 0;
}

/* Splits "k=v k=v ..." (after the record word) into at most max pairs, in place. */
static int split_fields(char *p, char **keys, char **vals, int max)
{
    int n = 0;
    while (*p) {
        if (n >= max)
            return -1;
        char *tok = p, *sp = strchr(p, ' ');
        if (sp) {
            *sp = 0;
            p = sp + 1;
            if (!*p)
                return -1; /* trailing space */
        } else {
            p += strlen(p);
        }
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok)
            return -1;
        *eq = 0;
        keys[n] = tok;
        vals[n] = eq + 1;
        n++;
    }
    return n;
}

static const char *field(char **keys, char **vals, int n, const char *key)
{
    const char *found = NULL;
    for (int i = 0; i < n; i++) {
        if (!strcmp(keys[i], key)) {
            if (found)
                return NULL; /* duplicate */
            found = vals[i];
        }
    }
    return found;
}

static int parse_dom(char **k, char **v, int n, struct fx_dom *d)
{
    static const char *const names[] = {"id", "name", "uuid", "type", "max_kb", "cur_kb",
        "vcpus", "online", "paused", "shutdown", "reason", "pv", "pending", "due_ms", "born_ms"};
    const int nf = (int)(sizeof(names) / sizeof(names[0]));
    const char *f[sizeof(names) / sizeof(names[0])];
    uint64_t x;

    if (n != nf)
        return -1;
    for (int i = 0; i < nf; i++)
        if (!(f[i] = field(k, v, n, names[i])))
            return -1;
    memset(d, 0, sizeof(*d));
    if (fx_parse_u64(f[0], FX_DOMID_MAX, &x)) return -1;
    d->id = (uint32_t)x;
    if (parse_name(f[1], d->name)) return -1;
    if (parse_uuid(f[2], d->uuid)) return -1;
    if (!strcmp(f[3], "pv")) d->type = FX_PV;
    else if (!strcmp(f[3], "hvm")) d->type = FX_HVM;
    else if (!strcmp(f[3], "pvh")) d->type = FX_PVH;
    else return -1;
    if (fx_parse_u64(f[4], UINT64_MAX / 2, &d->max_kb) || d->max_kb == 0) return -1;
    if (fx_parse_u64(f[5], d->max_kb, &d->cur_kb)) return -1;
    if (fx_parse_u64(f[6], FX_MAX_VCPUS, &x) || x == 0) return -1;
    d->vcpus = (uint32_t)x;
    if (fx_parse_u64(f[7], d->vcpus, &x)) return -1;
    d->online = (uint32_t)x;
    if (parse_flag(f[8], &d->paused) || parse_flag(f[9], &d->shutdown)) return -1;
    if (!strcmp(f[10], "-1")) d->reason = FX_REASON_NONE;
    else if (fx_parse_u64(f[10], FX_SOFT_RESET, &x)) return -1;
    else d->reason = (int)x;
    if ((d->shutdown != 0) != (d->reason != FX_REASON_NONE)) return -1;
    if (parse_flag(f[11], &d->pv)) return -1;
    if (!strcmp(f[12], "none")) d->pending = FX_PEND_NONE;
    else if (!strcmp(f[12], "poweroff")) d->pending = FX_PEND_POWEROFF;
    else if (!strcmp(f[12], "reboot")) d->pending = FX_PEND_REBOOT;
    else return -1;
    if (fx_parse_u64(f[13], UINT64_MAX / 2, &d->due_ms)) return -1;
    if (fx_parse_u64(f[14], UINT64_MAX / 2, &d->born_ms)) return -1;
    return 0;
}

static int parse_ud(struct fx_state *st, char **k, char **v, int n)
{
    const char *sid = field(k, v, n, "id"), *key = field(k, v, n, "key"), *hex = field(k, v, n, "data");
    uint64_t id;
    struct fx_dom *d;
    unsigned char *data;
    size_t len;

    if (n != 3 || !sid || !key || !hex || fx_parse_u64(sid, FX_DOMID_MAX, &id))
        return -1;
    d = fx_find(st, (uint32_t)id);
    if (!d || !fx_valid_udkey(key) || fx_ud_find(d, key) || d->nud >= FX_MAX_UD)
        return -1;
    if (parse_hex(hex, &data, &len))
        return -1;
    strcpy(d->ud[d->nud].key, key);
    d->ud[d->nud].data = data;
    d->ud[d->nud].len = len;
    d->nud++;
    return 0;
}

static int check_dom(struct fx_state *st, const struct fx_dom *d)
{
    for (int i = 0; i < st->ndoms; i++)
        if (st->doms[i].id == d->id || !strcmp(st->doms[i].name, d->name))
            return -1;
    if (d->id == 0 && strcmp(d->name, "Domain-0"))
        return -1;
    if (d->id != 0 && d->id >= st->next_domid)
        return -1;
    return 0;
}

int fx_parse(const char *in, size_t len, struct fx_state *st, char *err, size_t errlen)
{
    char *buf, *p, *keys[32], *vals[32];
    int lineno = 0, have_host = 0, ended = 0, rc = -1;

    st->ndoms = 0;
    st->next_domid = 1;
    if (len > FX_FILE_MAX) {
        seterr(err, errlen, "state file larger than %u bytes", FX_FILE_MAX);
        return -1;
    }
    if (memchr(in, 0, len)) {
        seterr(err, errlen, "state file contains a NUL byte");
        return -1;
    }
    if (!(buf = malloc(len + 1))) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    memcpy(buf, in, len);
    buf[len] = 0;
    p = buf;
    while (*p) {
        char *line = p, *nl = strchr(p, '\n');
        if (!nl) {
            seterr(err, errlen, "line %d: missing newline (truncated file?)", lineno + 1);
            goto out;
        }
        *nl = 0;
        p = nl + 1;
        lineno++;
        if (ended) {
            seterr(err, errlen, "line %d: data after \"end\"", lineno);
            goto out;
        }
        if (lineno == 1) {
            if (strcmp(line, "fakexen-state 1")) {
                seterr(err, errlen, "line 1: expected \"fakexen-state 1\"");
                goto out;
            }
            continue;
        }
        if (!strcmp(line, "end")) {
            ended = 1;
            continue;
        }
        char *sp = strchr(line, ' ');
        if (!sp) {
            seterr(err, errlen, "line %d: unknown record", lineno);
            goto out;
        }
        *sp = 0;
        int n = split_fields(sp + 1, keys, vals, 32);
        if (n < 0) {
            seterr(err, errlen, "line %d: malformed fields", lineno);
            goto out;
        }
        if (!strcmp(line, "host")) {
            uint64_t x;
            const char *nd = field(keys, vals, n, "next_domid");
            if (have_host || lineno != 2 || n != 1 || !nd || fx_parse_u64(nd, FX_DOMID_MAX + 1, &x) || x == 0) {
                seterr(err, errlen, "line %d: bad host record", lineno);
                goto out;
            }
            st->next_domid = (uint32_t)x;
            have_host = 1;
        } else if (!strcmp(line, "dom")) {
            struct fx_dom d;
            if (!have_host || st->ndoms >= FX_MAX_DOMS || parse_dom(keys, vals, n, &d) || check_dom(st, &d)) {
                seterr(err, errlen, "line %d: bad dom record", lineno);
                goto out;
            }
            st->doms[st->ndoms++] = d;
        } else if (!strcmp(line, "ud")) {
            if (parse_ud(st, keys, vals, n)) {
                seterr(err, errlen, "line %d: bad ud record", lineno);
                goto out;
            }
        } else {
            seterr(err, errlen, "line %d: unknown record \"%.16s\"", lineno, line);
            goto out;
        }
    }
    if (!ended) {
        seterr(err, errlen, "missing \"end\" (truncated file?)");
        goto out;
    }
    if (!fx_find(st, 0)) {
        seterr(err, errlen, "no Domain-0");
        goto out;
    }
    rc = 0;
out:
    free(buf);
    if (rc)
        fx_clear(st);
    return rc;
}

/* ---- reading, writing, locking ---- */

static int read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size < 0 || (uint64_t)sb.st_size > FX_FILE_MAX) {
        seterr(err, errlen, "%s: not a regular file of at most %u bytes", path, FX_FILE_MAX);
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    char *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *outlen = got;
    return 0;
}

int fx_check_file(const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    struct fx_state *st;
    int r = read_file(path, &buf, &len, err, errlen), rc;
    if (r == 1)
        return 0;
    if (r < 0)
        return -1;
    if (!(st = calloc(1, sizeof(*st)))) {
        free(buf);
        return -1;
    }
    rc = fx_parse(buf, len, st, err, errlen);
    fx_clear(st);
    free(st);
    free(buf);
    return rc;
}

static void mkdir_parent(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof(dir))
        return;
    memcpy(dir, path, n + 1);
    for (char *s = dir + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        mkdir(dir, 0755);
        *s = '/';
    }
}

static int save(const struct fx_state *st, char *err, size_t errlen);

struct fx_state *fx_begin(char *err, size_t errlen)
{
    const char *path = fx_state_path();
    char lockpath[4096];
    struct fx_state *st;
    char *buf = NULL;
    size_t len = 0;

    if (snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >= (int)sizeof(lockpath)) {
        seterr(err, errlen, "state path too long");
        return NULL;
    }
    if (!(st = calloc(1, sizeof(*st)))) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    mkdir_parent(path);
    st->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (st->lockfd < 0 || flock(st->lockfd, LOCK_EX)) {
        seterr(err, errlen, "%s: %s", lockpath, strerror(errno));
        goto fail;
    }
    int r = read_file(path, &buf, &len, err, errlen);
    if (r < 0)
        goto fail;
    if (r == 1) {
        fx_init_host(st);
    } else {
        int pr = fx_parse(buf, len, st, err, errlen);
        free(buf);
        if (pr) {
            char msg[300];
            snprintf(msg, sizeof(msg), "%s: %s", path, err ? err : "invalid");
            seterr(err, errlen, "%s", msg);
            goto fail;
        }
    }
    if (fx_apply_due(st, fx_now_ms()) > 0) {
        char e2[256];
        if (save(st, e2, sizeof(e2)))
            fprintf(stderr, "fakexen: %s\n", e2);
    }
    return st;
fail:
    if (st->lockfd >= 0)
        close(st->lockfd);
    fx_clear(st);
    free(st);
    return NULL;
}

static void put_name(FILE *f, const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (name_char_plain(*p))
            fputc(*p, f);
        else
            fprintf(f, "%%%02X", *p);
    }
}

static const char *pending_name(int p)
{
    return p == FX_PEND_POWEROFF ? "poweroff" : p == FX_PEND_REBOOT ? "reboot" : "none";
}

static int save(const struct fx_state *st, char *err, size_t errlen)
{
    const char *path = fx_state_path();
    char tmp[4096], uuid[37];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        seterr(err, errlen, "state path too long");
        return -1;
    }
    if (!(f = fopen(tmp, "we"))) {
        seterr(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "fakexen-state 1\nhost next_domid=%u\n", st->next_domid);
    for (int i = 0; i < st->ndoms; i++) {
        const struct fx_dom *d = &st->doms[i];
        fx_uuid_format(d->uuid, uuid);
        fprintf(f, "dom id=%u name=", d->id);
        put_name(f, d->name);
        fprintf(f, " uuid=%s type=%s max_kb=%llu cur_kb=%llu vcpus=%u online=%u paused=%d shutdown=%d"
                   " reason=%d pv=%d pending=%s due_ms=%llu born_ms=%llu\n",
                uuid, fx_type_name(d->type), (unsigned long long)d->max_kb, (unsigned long long)d->cur_kb,
                d->vcpus, d->online, d->paused, d->shutdown, d->reason, d->pv, pending_name(d->pending),
                (unsigned long long)d->due_ms, (unsigned long long)d->born_ms);
        for (int j = 0; j < d->nud; j++) {
            fprintf(f, "ud id=%u key=%s data=", d->id, d->ud[j].key);
            for (size_t k = 0; k < d->ud[j].len; k++)
                fprintf(f, "%02x", d->ud[j].data[k]);
            fputc('\n', f);
        }
    }
    fputs("end\n", f);
    long size = ftell(f);
    if (size < 0 || (unsigned long)size > FX_FILE_MAX) {
        fclose(f);
        unlink(tmp);
        seterr(err, errlen, "%s: the state would exceed %u bytes; not saved", path, FX_FILE_MAX);
        return -1;
    }
    if (ferror(f) | fclose(f)) {
        seterr(err, errlen, "%s: write failed", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int fx_commit(struct fx_state *st, char *err, size_t errlen)
{
    int rc = save(st, err, errlen);
    fx_abort(st);
    return rc;
}

void fx_abort(struct fx_state *st)
{
    if (!st)
        return;
    if (st->lockfd >= 0)
        close(st->lockfd); /* releases the flock */
    fx_clear(st);
    free(st);
}
