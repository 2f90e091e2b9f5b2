/* fakexen: what the parts of the preload library share (fakexen.c: contexts, hooks and
 * events; host.c: host information; domains.c: domain operations; console.c: consoles).
 * See fakexen.c for the overall design. */
#ifndef FAKEXEN_H
#define FAKEXEN_H

#include <pthread.h>
#include <stdint.h>

#include <libxl.h>
#include <libxl_event.h>

#include "state.h"

/* The functions we interpose are the only symbols the library exports. */
#define FX_EXPORT __attribute__((visibility("default")))

_Static_assert((int)FX_HVM == (int)LIBXL_DOMAIN_TYPE_HVM && (int)FX_PV == (int)LIBXL_DOMAIN_TYPE_PV &&
               (int)FX_PVH == (int)LIBXL_DOMAIN_TYPE_PVH, "domain types");
_Static_assert((int)FX_POWEROFF == (int)LIBXL_SHUTDOWN_REASON_POWEROFF &&
               (int)FX_REBOOT == (int)LIBXL_SHUTDOWN_REASON_REBOOT &&
               (int)FX_SUSPEND == (int)LIBXL_SHUTDOWN_REASON_SUSPEND &&
               (int)FX_CRASH == (int)LIBXL_SHUTDOWN_REASON_CRASH &&
               (int)FX_WATCHDOG == (int)LIBXL_SHUTDOWN_REASON_WATCHDOG &&
               (int)FX_SOFT_RESET == (int)LIBXL_SHUTDOWN_REASON_SOFT_RESET &&
               (int)FX_REASON_NONE == (int)LIBXL_SHUTDOWN_REASON_UNKNOWN, "shutdown reasons");

#define DEFAULT_DELAY_MS 200
#define MAX_CONSOLES 64

struct fx_timeout;

/* What we know of one libxl context of this process. */
struct fx_ctx {
    libxl_ctx *ctx;
    const libxl_osevent_hooks *oh;
    void *ouser;
    const libxl_event_hooks *eh;
    void *euser;
    int watching;
    int ino_fd, kick_rd, kick_wr;
    void *ino_reg, *kick_reg;
    char ino_tag, kick_tag; /* their addresses are our for_libxl values */
    struct libxl__evgen_domain_death *gens;
    struct fx_timeout *timeouts;
    uint64_t armed_due;
    int warned_nohooks;
    xentoollog_logger *lg; /* the context's logger, for our messages */
    struct fx_ctx *next;
};

struct libxl__evgen_domain_death {
    struct fx_ctx *fx;
    uint32_t domid;
    libxl_ev_user user;
    int shutdown_reported, death_reported;
    struct libxl__evgen_domain_death *next;
};

struct fx_timeout {
    struct fx_ctx *fx;
    void *reg;
    uint64_t due_ms;
    struct fx_timeout *next;
};

/* A guest console: a pty pair the fake keeps open; the guest "writes" a banner line,
 * FX_BANNER_FMT with the domain's name and id, that whoever opens the path can read. */
#define FX_BANNER_FMT "fakexen console of domain %s (id %u)\r\n"
struct fx_console {
    uint32_t domid;
    int master, slave;
    char path[128];
};

struct evq {
    libxl_event **ev;
    size_t n, cap;
};

extern pthread_mutex_t fx_mu;

void fx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *real_fn(const char *name);
#define REAL(type, name) ((type)real_fn(#name))
uint64_t delay_ms(void);
struct fx_state *begin(void);
int commit(struct fx_state *st);
struct fx_ctx *ctx_get(libxl_ctx *ctx, int create);
void evq_push(struct evq *q, libxl_event *ev);
libxl_event *new_event(libxl_event_type type, uint32_t domid, const unsigned char *uuid, libxl_ev_user user);
void deliver(libxl_ctx *ctx, const libxl_event_hooks *eh, void *euser, struct evq *q);
void arm(struct fx_ctx *fx, const struct fx_state *st);
void kick(struct fx_ctx *fx);

/* Logs through the context's xentoollog logger (as libxl would), else to stderr. */
void fx_xlog(libxl_ctx *ctx, xentoollog_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Loads the state (logging any failure through ctx). NULL on failure. */
struct fx_state *fx_load(libxl_ctx *ctx);
/* Saves the state; 0 or ERROR_FAIL (logged). */
int fx_save(libxl_ctx *ctx, struct fx_state *st);
/* Forgets the consoles of a domain that no longer exists (console.c). */
void fx_console_forget(uint32_t domid);

#endif
