/* fakexen: the simulated host's state file, shared by libfakexen.so and fakexenctl.
 *
 * The state file (env FAKEXEN_STATE, default /run/fakexen/state) is the "hypervisor": every
 * operation locks it, reads it, changes it and rewrites it atomically (tmp file + rename),
 * so several processes (the daemon, fakexenctl, a restarted daemon) see one host.
 * Parsing is strict and bounded: a bad file is rejected with a message, never trusted.
 */
#ifndef FAKEXEN_STATE_H
#define FAKEXEN_STATE_H

#include <stddef.h>
#include <stdint.h>

#define FX_DEFAULT_STATE "/run/fakexen/state"
#define FX_MAX_DOMS 256
#define FX_NAME_MAX 255
#define FX_MAX_UD 16
#define FX_UDKEY_MAX 64
#define FX_UD_MAX (4u << 20)          /* bytes of one userdata blob */
#define FX_FILE_MAX (80u << 20)       /* bytes of the whole state file */
#define FX_DOMID_MAX 0x7fefu          /* DOMID_FIRST_RESERVED - 1 */
#define FX_MAX_VCPUS 512u

/* The simulated host. */
#define FX_HOST_CPUS 4u
#define FX_HOST_MEM_KB (8ull << 20)   /* 8 GiB */
#define FX_XEN_KB (64ull << 10)       /* kept by Xen itself */
#define FX_DOM0_MEM_KB (1ull << 20)   /* dom0_mem=1024M */

/* Domain types and shutdown reasons use libxl's numbers. */
enum { FX_HVM = 1, FX_PV = 2, FX_PVH = 3 };
enum { FX_REASON_NONE = -1, FX_POWEROFF = 0, FX_REBOOT = 1, FX_SUSPEND = 2, FX_CRASH = 3,
       FX_WATCHDOG = 4, FX_SOFT_RESET = 5 };
/* A request the guest will act on once due (and unpaused). */
enum { FX_PEND_NONE = 0, FX_PEND_POWEROFF = 1, FX_PEND_REBOOT = 2 };

struct fx_ud {
    char key[FX_UDKEY_MAX + 1];
    unsigned char *data;
    size_t len;
};

struct fx_dom {
    uint32_t id;
    char name[FX_NAME_MAX + 1];
    unsigned char uuid[16];
    int type;
    uint64_t max_kb, cur_kb;
    uint32_t vcpus, online;
    int paused, shutdown, reason, pv;
    int pending;
    uint64_t due_ms, born_ms;
    int nud;
    struct fx_ud ud[FX_MAX_UD];
};

struct fx_state {
    int lockfd;
    uint32_t next_domid;
    int ndoms;
    struct fx_dom doms[FX_MAX_DOMS];
};

const char *fx_state_path(void);
uint64_t fx_now_ms(void);

/* Locks and loads the state (a missing file is a fresh host with only Domain-0), applies
 * the guest actions that have come due and saves if any did. NULL with a message in err
 * when the file is unreadable or invalid. */
struct fx_state *fx_begin(char *err, size_t errlen);
/* Saves, unlocks and frees. Returns 0, or -1 with a message in err. */
int fx_commit(struct fx_state *st, char *err, size_t errlen);
/* Unlocks and frees without saving. */
void fx_abort(struct fx_state *st);

/* Parses a state file image (buf need not be NUL-terminated). 0 or -1 with a message. */
int fx_parse(const char *buf, size_t len, struct fx_state *st, char *err, size_t errlen);
/* A decimal number of at most 20 digits, no sign, at most max. 0 or -1. */
int fx_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Checks a file without locking it (fakexenctl check). */
int fx_check_file(const char *path, char *err, size_t errlen);
void fx_init_host(struct fx_state *st);
void fx_clear(struct fx_state *st);

struct fx_dom *fx_find(struct fx_state *st, uint32_t id);
struct fx_dom *fx_find_name(struct fx_state *st, const char *name);
/* By name, or by id when `what` is all digits. */
struct fx_dom *fx_lookup(struct fx_state *st, const char *what);
struct fx_dom *fx_add(struct fx_state *st);
void fx_remove(struct fx_state *st, struct fx_dom *d);
uint64_t fx_free_kb(const struct fx_state *st);
int fx_apply_due(struct fx_state *st, uint64_t now_ms);
/* The earliest due time of a pending action that can happen (0 if none). */
uint64_t fx_next_due(const struct fx_state *st);

struct fx_ud *fx_ud_find(struct fx_dom *d, const char *key);
/* Stores a copy of data (len > 0) or deletes (len == 0). 0, or -1 if full / no memory. */
int fx_ud_set(struct fx_dom *d, const char *key, const unsigned char *data, size_t len);
int fx_valid_udkey(const char *key);

void fx_uuid_format(const unsigned char u[16], char out[37]);
const char *fx_type_name(int type);

#endif
