/* fakexen: a simulated Xen host for virtlite's tests, loaded with LD_PRELOAD.
 *
 * It replaces the lowest calls libxl_ctx_alloc makes (xc_interface_open, xs_open) so that a
 * real libxl context exists, and the libxl entry points that would reach the hypervisor or
 * xenstore, answering them from the state file (state.c). Everything else (JSON parsing,
 * event registration, the SIGCHLD machinery, the application above) is the real code.
 *
 * What libxl_ctx_alloc needs (libxl 4.17, checked in its source and by running it here):
 * only xc_interface_open and xs_open, plus xc_interface_close and xs_close in
 * libxl_ctx_free. Everything else it sets up is plain memory, a mutex, the atfork handler
 * and a poller self-pipe; xenevtchn is opened lazily (never, here, since no libxl code that
 * waits on event channels runs), and xencall/xengnttab/osdep handles only come from the
 * real xc_interface_open, which is not called. The fake xc/xs handles are dummies that no
 * real libxc/libxenstore function may receive: every libxl entry point that would use them
 * is interposed (host.c, domains.c, console.c; the list is the FX_EXPORT functions).
 * xc_interface_open fails (as without Xen) when the state file is invalid, so a broken
 * host gives a clear error at context creation instead of later.
 *
 * Symbols: the library is built with hidden visibility; only the interposed functions are
 * exported, unversioned, which the dynamic linker accepts for libxl's versioned
 * references. The real functions are reached with dlsym(RTLD_NEXT).
 *
 * Events follow real libxl's model: a death watch is a "xenstore watch" -- here an inotify
 * fd on the state file's directory plus a self-pipe, registered through the application's
 * osevent fd hooks. Whenever the state file changes (this process, another daemon,
 * fakexenctl), the watch fd becomes readable; when the application calls
 * libxl_osevent_occurred_fd for it, the watched domains are compared with what was last
 * reported and DOMAIN_SHUTDOWN / DOMAIN_DEATH events go to the application's event_occurs
 * hook. Guest reactions that take time (shutdown, reboot) are timeouts registered through
 * the application's timeout hooks.
 *
 * Locking: fx_mu guards this process's records; the state file has its own flock. The
 * application's hooks are called with fx_mu held (as libxl calls them with its ctx lock
 * held); event callbacks and real libxl functions taking a ctx are called without it.
 *
 * Differences from real libxl, on purpose: events go to the event_occurs hook only (an
 * application that polls with libxl_event_check gets none; virtlite registers the hook);
 * at libxl_ctx_free our outstanding guest-reaction timeouts are removed with the
 * application's timeout_deregister hook, which real libxl never calls (virtlite's hook
 * handles it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_event.h>
#include <libxl_utils.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "fakexen.h"


pthread_mutex_t fx_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fx_ctx *fx_ctxs;

void fx_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fakexen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void *real_fn(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fx_log("cannot find the real %s: %s", name, dlerror());
        abort();
    }
    return f;
}

uint64_t delay_ms(void)
{
    const char *s = getenv("FAKEXEN_DELAY_MS");
    char *end;
    unsigned long v;
    if (!s || !*s)
        return DEFAULT_DELAY_MS;
    errno = 0;
    v = strtoul(s, &end, 10);
    return (errno || *end || v > 60000) ? DEFAULT_DELAY_MS : v;
}

/* Begins a state transaction, logging why it failed. Caller holds fx_mu. */
struct fx_state *begin(void)
{
    char err[512];
    struct fx_state *st = fx_begin(err, sizeof(err));
    if (!st)
        fx_log("%s", err);
    return st;
}

int commit(struct fx_state *st)
{
    char err[512];
    if (fx_commit(st, err, sizeof(err))) {
        fx_log("%s", err);
        return ERROR_FAIL;
    }
    return 0;
}

struct fx_ctx *ctx_get(libxl_ctx *ctx, int create)
{
    struct fx_ctx *fx;
    for (fx = fx_ctxs; fx; fx = fx->next)
        if (fx->ctx == ctx)
            return fx;
    if (!create || !(fx = calloc(1, sizeof(*fx))))
        return NULL;
    fx->ctx = ctx;
    fx->ino_fd = fx->kick_rd = fx->kick_wr = -1;
    fx->next = fx_ctxs;
    fx_ctxs = fx;
    return fx;
}

void evq_push(struct evq *q, libxl_event *ev)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        libxl_event **n = realloc(q->ev, cap * sizeof(*n));
        if (!n) {
            fx_log("out of memory: event dropped");
            libxl_event_free(NULL, ev);
            return;
        }
        q->ev = n;
        q->cap = cap;
    }
    q->ev[q->n++] = ev;
}

libxl_event *new_event(libxl_event_type type, uint32_t domid, const unsigned char *uuid,
                              libxl_ev_user user)
{
    libxl_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    libxl_event_init(ev);
    libxl_event_init_type(ev, type);
    ev->domid = domid;
    if (uuid)
        memcpy(ev->domuuid.uuid, uuid, 16);
    ev->for_user = user;
    return ev;
}

/* Hands events to the application (fx_mu NOT held: it may call libxl). */
void deliver(libxl_ctx *ctx, const libxl_event_hooks *eh, void *euser, struct evq *q)
{
    for (size_t i = 0; i < q->n; i++) {
        libxl_event *ev = q->ev[i];
        if (eh && eh->event_occurs && (eh->event_occurs_mask & (1ULL << ev->type))) {
            eh->event_occurs(euser, ev);
        } else {
            fx_log("no event callback registered: %s event for domain %u dropped",
                   libxl_event_type_to_string(ev->type), ev->domid);
            libxl_event_free(ctx, ev);
        }
    }
    free(q->ev);
    q->ev = NULL;
    q->n = q->cap = 0;
}

/* ---- timeouts for guest reactions ---- */

/* Arms one application timeout for the earliest pending guest action. Holds fx_mu. */
void arm(struct fx_ctx *fx, const struct fx_state *st)
{
    uint64_t due = fx_next_due(st);
    struct fx_timeout *t;
    struct timeval abs;

    if (!due || !fx->oh || !fx->oh->timeout_register)
        return;
    if (fx->armed_due && fx->armed_due <= due)
        return;
    if (!(t = calloc(1, sizeof(*t))))
        return;
    t->fx = fx;
    t->due_ms = due;
    abs.tv_sec = (time_t)(due / 1000);
    abs.tv_usec = (suseconds_t)(due % 1000) * 1000;
    if (fx->oh->timeout_register(fx->ouser, &t->reg, abs, t)) {
        fx_log("cannot register a timeout with the application");
        free(t);
        return;
    }
    t->next = fx->timeouts;
    fx->timeouts = t;
    fx->armed_due = due;
}

/* Compares the watched domains with what was reported; queues events. Holds fx_mu. */
static void scan(struct fx_ctx *fx, struct evq *q)
{
    struct fx_state *st = begin();
    if (!st)
        return;
    for (struct libxl__evgen_domain_death *g = fx->gens; g; g = g->next) {
        struct fx_dom *d = fx_find(st, g->domid);
        libxl_event *ev = NULL;
        if (g->death_reported)
            continue;
        if (!d) {
            g->death_reported = 1;
            ev = new_event(LIBXL_EVENT_TYPE_DOMAIN_DEATH, g->domid, NULL, g->user);
        } else if (d->shutdown && !g->shutdown_reported) {
            g->shutdown_reported = 1;
            ev = new_event(LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, g->domid, d->uuid, g->user);
            if (ev)
                ev->u.domain_shutdown.shutdown_reason = (uint8_t)d->reason;
        } else if (!d->shutdown) {
            g->shutdown_reported = 0;
        }
        if (ev)
            evq_push(q, ev);
    }
    arm(fx, st);
    fx_abort(st);
}

/* ---- the death watch's fds ---- */

static void drain(int fd)
{
    char buf[4096];
    if (fd < 0)
        return;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        break;
    }
}

void kick(struct fx_ctx *fx)
{
    ssize_t r;
    if (fx->kick_wr >= 0)
        do
            r = write(fx->kick_wr, "k", 1);
        while (r < 0 && errno == EINTR);
}

static void close_watch_fds(struct fx_ctx *fx)
{
    if (fx->ino_fd >= 0) close(fx->ino_fd);
    if (fx->kick_rd >= 0) close(fx->kick_rd);
    if (fx->kick_wr >= 0) close(fx->kick_wr);
    fx->ino_fd = fx->kick_rd = fx->kick_wr = -1;
}

/* Starts the watch fds when the first death watch appears. Holds fx_mu. */
static int watch_start(struct fx_ctx *fx)
{
    char dir[4096];
    int pfd[2];
    const char *path = fx_state_path(), *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;

    if (fx->watching)
        return 0;
    if (!fx->oh) {
        if (!fx->warned_nohooks++)
            fx_log("no osevent hooks registered: domain events cannot be delivered");
        return 0;
    }
    if (n == 0) {
        strcpy(dir, slash ? "/" : ".");
    } else {
        if (n >= sizeof(dir))
            return ERROR_FAIL;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    fx->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fx->ino_fd < 0 || inotify_add_watch(fx->ino_fd, dir, IN_MOVED_TO) < 0 ||
        pipe2(pfd, O_NONBLOCK | O_CLOEXEC)) {
        fx_log("cannot watch %s: %s", dir, strerror(errno));
        close_watch_fds(fx);
        return ERROR_FAIL;
    }
    fx->kick_rd = pfd[0];
    fx->kick_wr = pfd[1];
    fx->ino_reg = fx->kick_reg = NULL;
    if (fx->oh->fd_register(fx->ouser, fx->ino_fd, &fx->ino_reg, POLLIN, &fx->ino_tag)) {
        close_watch_fds(fx);
        return ERROR_FAIL;
    }
    if (fx->oh->fd_register(fx->ouser, fx->kick_rd, &fx->kick_reg, POLLIN, &fx->kick_tag)) {
        fx->oh->fd_deregister(fx->ouser, fx->ino_fd, fx->ino_reg);
        close_watch_fds(fx);
        return ERROR_FAIL;
    }
    fx->watching = 1;
    return 0;
}

static void watch_stop(struct fx_ctx *fx)
{
    if (!fx->watching)
        return;
    fx->oh->fd_deregister(fx->ouser, fx->ino_fd, fx->ino_reg);
    fx->oh->fd_deregister(fx->ouser, fx->kick_rd, fx->kick_reg);
    close_watch_fds(fx);
    fx->watching = 0;
}

/* ---- xc / xs handles: enough for libxl_ctx_alloc ---- */

FX_EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    struct fx_state *st;
    (void)logger; (void)dombuild_logger; (void)open_flags;
    pthread_mutex_lock(&fx_mu);
    st = begin(); /* an invalid state file is a broken hypervisor: fail like one */
    fx_abort(st);
    pthread_mutex_unlock(&fx_mu);
    if (!st) {
        errno = EINVAL;
        return NULL;
    }
    return calloc(1, 64);
}

FX_EXPORT int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

FX_EXPORT struct xs_handle *xs_open(unsigned long flags)
{
    (void)flags;
    return calloc(1, 64);
}

FX_EXPORT void xs_close(struct xs_handle *xsh)
{
    free(xsh);
}

/* ---- contexts and our logging through them ---- */

FX_EXPORT int libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg)
{
    int rc = REAL(int (*)(libxl_ctx **, int, unsigned, xentoollog_logger *), libxl_ctx_alloc)(pctx, version, flags, lg);
    if (rc == 0 && *pctx) {
        pthread_mutex_lock(&fx_mu);
        struct fx_ctx *fx = ctx_get(*pctx, 1);
        if (fx)
            fx->lg = lg;
        pthread_mutex_unlock(&fx_mu);
    }
    return rc;
}

void fx_xlog(libxl_ctx *ctx, xentoollog_level level, const char *fmt, ...)
{
    char msg[1024];
    xentoollog_logger *lg = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx ? ctx_get(ctx, 0) : NULL;
    if (fx)
        lg = fx->lg;
    pthread_mutex_unlock(&fx_mu);
    if (lg)
        xtl_log(lg, level, -1, "libxl", "fakexen: %s", msg);
    else
        fx_log("%s", msg);
}

struct fx_state *fx_load(libxl_ctx *ctx)
{
    char err[512];
    struct fx_state *st = fx_begin(err, sizeof(err));
    if (!st)
        fx_xlog(ctx, XTL_ERROR, "%s", err);
    return st;
}

int fx_save(libxl_ctx *ctx, struct fx_state *st)
{
    char err[512];
    if (fx_commit(st, err, sizeof(err))) {
        fx_xlog(ctx, XTL_ERROR, "%s", err);
        return ERROR_FAIL;
    }
    return 0;
}

/* ---- context-level hooks ---- */

FX_EXPORT void libxl_osevent_register_hooks(libxl_ctx *ctx, const libxl_osevent_hooks *hooks, void *user)
{
    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx_get(ctx, 1);
    if (fx) {
        fx->oh = hooks;
        fx->ouser = user;
    }
    pthread_mutex_unlock(&fx_mu);
    REAL(void (*)(libxl_ctx *, const libxl_osevent_hooks *, void *), libxl_osevent_register_hooks)(ctx, hooks, user);
}

FX_EXPORT void libxl_event_register_callbacks(libxl_ctx *ctx, const libxl_event_hooks *hooks, void *user)
{
    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx_get(ctx, 1);
    if (fx) {
        fx->eh = hooks;
        fx->euser = user;
    }
    pthread_mutex_unlock(&fx_mu);
    REAL(void (*)(libxl_ctx *, const libxl_event_hooks *, void *), libxl_event_register_callbacks)(ctx, hooks, user);
}

FX_EXPORT int libxl_ctx_free(libxl_ctx *ctx)
{
    pthread_mutex_lock(&fx_mu);
    for (struct fx_ctx **pp = &fx_ctxs; *pp; pp = &(*pp)->next) {
        struct fx_ctx *fx = *pp;
        if (fx->ctx != ctx)
            continue;
        *pp = fx->next;
        watch_stop(fx);
        while (fx->gens) {
            struct libxl__evgen_domain_death *g = fx->gens;
            fx->gens = g->next;
            free(g);
        }
        while (fx->timeouts) {
            struct fx_timeout *t = fx->timeouts;
            fx->timeouts = t->next;
            if (fx->oh && fx->oh->timeout_deregister)
                fx->oh->timeout_deregister(fx->ouser, t->reg);
            free(t);
        }
        free(fx);
        break;
    }
    pthread_mutex_unlock(&fx_mu);
    return REAL(int (*)(libxl_ctx *), libxl_ctx_free)(ctx);
}

FX_EXPORT void libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd, short events, short revents)
{
    struct evq q = {0};
    const libxl_event_hooks *eh = NULL;
    void *euser = NULL;
    int ours = 0;

    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx_get(ctx, 0);
    if (fx && (for_libxl == &fx->ino_tag || for_libxl == &fx->kick_tag)) {
        ours = 1;
        if (fx->watching) {
            drain(fx->ino_fd);
            drain(fx->kick_rd);
            scan(fx, &q);
        }
        eh = fx->eh;
        euser = fx->euser;
    }
    pthread_mutex_unlock(&fx_mu);
    if (ours)
        deliver(ctx, eh, euser, &q);
    else
        REAL(void (*)(libxl_ctx *, void *, int, short, short), libxl_osevent_occurred_fd)(ctx, for_libxl, fd, events, revents);
}

FX_EXPORT void libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl)
{
    struct evq q = {0};
    const libxl_event_hooks *eh = NULL;
    void *euser = NULL;
    int ours = 0;

    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx_get(ctx, 0);
    if (fx) {
        for (struct fx_timeout **pp = &fx->timeouts; *pp; pp = &(*pp)->next) {
            struct fx_timeout *t = *pp;
            if (t != for_libxl)
                continue;
            *pp = t->next;
            if (fx->armed_due == t->due_ms)
                fx->armed_due = 0;
            free(t);
            ours = 1;
            scan(fx, &q); /* applies the due action; the watch sees the file change too */
            eh = fx->eh;
            euser = fx->euser;
            break;
        }
    }
    pthread_mutex_unlock(&fx_mu);
    if (ours)
        deliver(ctx, eh, euser, &q);
    else
        REAL(void (*)(libxl_ctx *, void *), libxl_osevent_occurred_timeout)(ctx, for_libxl);
}

FX_EXPORT int libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid, libxl_ev_user user,
                                libxl_evgen_domain_death **evgen_out)
{
    int rc;
    struct libxl__evgen_domain_death *g;

    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = ctx_get(ctx, 1);
    if (!fx || !(g = calloc(1, sizeof(*g)))) {
        pthread_mutex_unlock(&fx_mu);
        return ERROR_NOMEM;
    }
    if ((rc = watch_start(fx))) {
        free(g);
        pthread_mutex_unlock(&fx_mu);
        return rc;
    }
    g->fx = fx;
    g->domid = domid;
    g->user = user;
    g->next = fx->gens;
    fx->gens = g;
    kick(fx); /* like a xenstore watch, it fires once when set */
    *evgen_out = g;
    pthread_mutex_unlock(&fx_mu);
    return 0;
}

FX_EXPORT void libxl_evdisable_domain_death(libxl_ctx *ctx, libxl_evgen_domain_death *evgen)
{
    (void)ctx;
    if (!evgen)
        return;
    pthread_mutex_lock(&fx_mu);
    struct fx_ctx *fx = evgen->fx;
    for (struct libxl__evgen_domain_death **pp = &fx->gens; *pp; pp = &(*pp)->next) {
        if (*pp == evgen) {
            *pp = evgen->next;
            free(evgen);
            break;
        }
    }
    if (!fx->gens)
        watch_stop(fx);
    pthread_mutex_unlock(&fx_mu);
}
