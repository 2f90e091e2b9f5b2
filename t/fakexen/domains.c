/* fakexen: the libxl domain calls that would reach Xen or xenstore, answered from the state
 * file: information and listing, names, create, destroy, shutdown/reboot requests, pause,
 * triggers, memory, userdata and the stored configuration.
 *
 * Return codes and the messages logged follow libxl 4.17 where a client can see them
 * (ERROR_DOMAIN_NOTFOUND from libxl_domain_info, ERROR_INVAL and "Domain with name ...
 * already exists." for a duplicate name, ERROR_NOPARAVIRT for a guest without PV drivers).
 * Only synchronous calls (ao_how NULL) are supported, which is all virtlite makes.
 *
 * The guest model: PV and PVH guests have PV drivers, HVM guests do not (so a PV shutdown
 * of an HVM guest gives ERROR_NOPARAVIRT and the caller falls back to the ACPI power
 * button). A shutdown or reboot request is acted on FAKEXEN_DELAY_MS later, once the guest
 * is unpaused; a new domain starts paused, as libxl leaves it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl_utils.h>

#include "fakexen.h"

#define USERDATA_CONFIG "libxl-json" /* the key libxl keeps a domain's config under */
#define DEFAULT_MAX_KB (32u * 1024u)  /* libxl's default when max_memkb is not set */
#define MIN_DOM0_KB (128u * 1024u)

static int sync_only(libxl_ctx *ctx, const char *func, const libxl_asyncop_how *ao_how)
{
    if (!ao_how)
        return 0;
    fx_xlog(ctx, XTL_ERROR, "%s: only synchronous calls are simulated", func);
    return ERROR_NI;
}

/* Loads the state and finds domid. On failure returns NULL with *rc set (logged). */
static struct fx_state *load_dom(libxl_ctx *ctx, const char *func, uint32_t domid, struct fx_dom **dp, int *rc)
{
    struct fx_state *st = fx_load(ctx);
    if (!st) {
        *rc = ERROR_FAIL;
        return NULL;
    }
    if (!(*dp = fx_find(st, domid))) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "%s: Domain %u: Non-existant domain", func, domid);
        *rc = ERROR_DOMAIN_NOTFOUND;
        return NULL;
    }
    return st;
}

/* Loads the state for an operation that Domain-0 does not allow. */
static struct fx_state *load_domu(libxl_ctx *ctx, const char *func, uint32_t domid, struct fx_dom **dp, int *rc)
{
    if (domid == 0) {
        fx_xlog(ctx, XTL_ERROR, "%s: not supported for Domain-0", func);
        *rc = ERROR_INVAL;
        return NULL;
    }
    return load_dom(ctx, func, domid, dp, rc);
}

static void fill_info(libxl_dominfo *info, const struct fx_dom *d, uint64_t now_ms)
{
    uint64_t ran_ms = now_ms > d->born_ms ? now_ms - d->born_ms : 0;
    memcpy(info->uuid.uuid, d->uuid, 16);
    info->domid = d->id;
    info->ssidref = 0;
    info->running = !d->paused && !d->shutdown;
    info->blocked = false;
    info->paused = d->paused;
    info->shutdown = d->shutdown;
    info->dying = false;
    info->never_stop = false;
    info->shutdown_reason = d->shutdown ? (libxl_shutdown_reason)d->reason : LIBXL_SHUTDOWN_REASON_UNKNOWN;
    info->outstanding_memkb = 0;
    info->current_memkb = d->cur_kb;
    info->shared_memkb = 0;
    info->paged_memkb = 0;
    info->max_memkb = d->max_kb;
    /* A tenth of each online vCPU since creation: grows, and is plausible. */
    info->cpu_time = ran_ms * 100000u * d->online;
    info->vcpu_max_id = d->vcpus - 1;
    info->vcpu_online = d->online;
    info->cpupool = 0;
    info->gpaddr_bits = 40;
    info->domain_type = (libxl_domain_type)d->type;
}

FX_EXPORT int libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid)
{
    struct fx_state *st = fx_load(ctx);
    struct fx_dom *d;
    if (!st)
        return ERROR_FAIL;
    if (!(d = fx_find(st, domid))) {
        fx_abort(st);
        return ERROR_DOMAIN_NOTFOUND;
    }
    if (info_r)
        fill_info(info_r, d, fx_now_ms());
    fx_abort(st);
    return 0;
}

static int by_domid(const void *a, const void *b)
{
    uint32_t x = ((const libxl_dominfo *)a)->domid, y = ((const libxl_dominfo *)b)->domid;
    return x < y ? -1 : x > y;
}

FX_EXPORT libxl_dominfo *libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out)
{
    struct fx_state *st = fx_load(ctx);
    libxl_dominfo *list;
    uint64_t now = fx_now_ms();
    if (!st)
        return NULL;
    if (!(list = calloc((size_t)st->ndoms, sizeof(*list)))) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "libxl_list_domain: out of memory");
        return NULL;
    }
    for (int i = 0; i < st->ndoms; i++) {
        libxl_dominfo_init(&list[i]);
        fill_info(&list[i], &st->doms[i], now);
    }
    qsort(list, (size_t)st->ndoms, sizeof(*list), by_domid);
    *nb_domain_out = st->ndoms;
    fx_abort(st);
    return list;
}

FX_EXPORT int libxl_name_to_domid(libxl_ctx *ctx, const char *name, uint32_t *domid)
{
    struct fx_state *st;
    struct fx_dom *d;
    if (!name)
        return ERROR_INVAL;
    if (!(st = fx_load(ctx)))
        return ERROR_FAIL;
    d = fx_find_name(st, name);
    if (d)
        *domid = d->id;
    fx_abort(st);
    return d ? 0 : ERROR_INVAL;
}

FX_EXPORT char *libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    struct fx_state *st = fx_load(ctx);
    struct fx_dom *d;
    char *name = NULL;
    if (!st)
        return NULL;
    if ((d = fx_find(st, domid)))
        name = strdup(d->name);
    fx_abort(st);
    return name;
}

/* ---- create ---- */

/* Fills in what libxl's defaults would and checks what the fake relies on. */
static int create_defaults(libxl_ctx *ctx, libxl_domain_config *c)
{
    libxl_domain_build_info *b = &c->b_info;
    const char *name = c->c_info.name;

    if (c->c_info.type != LIBXL_DOMAIN_TYPE_PV && c->c_info.type != LIBXL_DOMAIN_TYPE_HVM &&
        c->c_info.type != LIBXL_DOMAIN_TYPE_PVH) {
        fx_xlog(ctx, XTL_ERROR, "libxl_domain_create_new: invalid domain type %d", c->c_info.type);
        return ERROR_INVAL;
    }
    if (!name || !*name || strlen(name) > FX_NAME_MAX) {
        fx_xlog(ctx, XTL_ERROR, "libxl_domain_create_new: missing or too long domain name");
        return ERROR_INVAL;
    }
    if (libxl_uuid_is_nil(&c->c_info.uuid))
        libxl_uuid_generate(&c->c_info.uuid);
    if (b->max_memkb == LIBXL_MEMKB_DEFAULT)
        b->max_memkb = DEFAULT_MAX_KB;
    if (b->target_memkb == LIBXL_MEMKB_DEFAULT)
        b->target_memkb = b->max_memkb;
    if (b->max_memkb == 0 || b->target_memkb > b->max_memkb) {
        fx_xlog(ctx, XTL_ERROR, "libxl_domain_create_new: target_memkb %llu must be at most max_memkb %llu",
                (unsigned long long)b->target_memkb, (unsigned long long)b->max_memkb);
        return ERROR_INVAL;
    }
    if (!b->max_vcpus)
        b->max_vcpus = 1;
    if (b->max_vcpus < 0 || (unsigned)b->max_vcpus > FX_MAX_VCPUS) {
        fx_xlog(ctx, XTL_ERROR, "libxl_domain_create_new: %d vcpus is out of range", b->max_vcpus);
        return ERROR_INVAL;
    }
    if (!b->avail_vcpus.size) {
        if (libxl_bitmap_alloc(ctx, &b->avail_vcpus, b->max_vcpus))
            return ERROR_NOMEM;
        libxl_bitmap_set(&b->avail_vcpus, 0);
    }
    return 0;
}

static uint32_t online_vcpus(const libxl_domain_build_info *b)
{
    uint32_t n = 0;
    for (int i = 0; i < b->max_vcpus; i++)
        if (libxl_bitmap_test(&b->avail_vcpus, i))
            n++;
    return n ? n : 1;
}

FX_EXPORT int libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
                                      const libxl_asyncop_how *ao_how,
                                      const libxl_asyncprogress_how *aop_console_how)
{
    struct fx_state *st;
    struct fx_dom *d;
    char *json, why[FX_NAME_MAX + 128];
    int rc;

    (void)aop_console_how;
    if ((rc = sync_only(ctx, "libxl_domain_create_new", ao_how)) || (rc = create_defaults(ctx, d_config)))
        return rc;
    if (!(json = libxl_domain_config_to_json(ctx, d_config))) {
        fx_xlog(ctx, XTL_ERROR, "libxl_domain_create_new: cannot convert the config to JSON");
        return ERROR_FAIL;
    }
    if (!(st = fx_load(ctx))) {
        free(json);
        return ERROR_FAIL;
    }
    /* Messages are logged after the state is unlocked: logging takes fx_mu, which an
     * event scan may hold while it waits for the state lock. */
    rc = ERROR_FAIL;
    if (fx_find_name(st, d_config->c_info.name)) {
        snprintf(why, sizeof(why), "Domain with name \"%s\" already exists.", d_config->c_info.name);
        rc = ERROR_INVAL;
        goto abort;
    }
    if (d_config->b_info.target_memkb > fx_free_kb(st)) {
        snprintf(why, sizeof(why), "libxl_domain_create_new: not enough free memory for %llu KiB",
                 (unsigned long long)d_config->b_info.target_memkb);
        rc = ERROR_NOMEM;
        goto abort;
    }
    if (!(d = fx_add(st))) {
        snprintf(why, sizeof(why), "libxl_domain_create_new: the host is full");
        goto abort;
    }
    strcpy(d->name, d_config->c_info.name);
    memcpy(d->uuid, d_config->c_info.uuid.uuid, 16);
    d->type = d_config->c_info.type;
    d->max_kb = d_config->b_info.max_memkb;
    d->cur_kb = d_config->b_info.target_memkb;
    d->vcpus = (uint32_t)d_config->b_info.max_vcpus;
    d->online = online_vcpus(&d_config->b_info);
    d->paused = 1;
    d->pv = d->type != FX_HVM;
    if (fx_ud_set(d, USERDATA_CONFIG, (const unsigned char *)json, strlen(json))) {
        snprintf(why, sizeof(why), "libxl_domain_create_new: cannot store the domain's config");
        goto abort;
    }
    free(json);
    *domid = d->id;
    return fx_save(ctx, st);
abort:
    free(json);
    fx_abort(st);
    fx_xlog(ctx, XTL_ERROR, "%s", why);
    return rc;
}

/* ---- life cycle ---- */

FX_EXPORT int libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if ((rc = sync_only(ctx, "libxl_domain_destroy", ao_how)) ||
        !(st = load_domu(ctx, "libxl_domain_destroy", domid, &d, &rc)))
        return rc;
    fx_remove(st, d);
    rc = fx_save(ctx, st);
    fx_console_forget(domid);
    return rc;
}

/* A shutdown or reboot request through the PV control interface. */
static int request(libxl_ctx *ctx, const char *func, uint32_t domid, const libxl_asyncop_how *ao_how, int what)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if ((rc = sync_only(ctx, func, ao_how)) || !(st = load_domu(ctx, func, domid, &d, &rc)))
        return rc;
    if (!d->pv) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "%s: Domain %u: PV control interface not available", func, domid);
        return ERROR_NOPARAVIRT;
    }
    if (!d->shutdown) {
        d->pending = what;
        d->due_ms = fx_now_ms() + delay_ms();
    }
    return fx_save(ctx, st);
}

FX_EXPORT int libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    return request(ctx, "libxl_domain_shutdown", domid, ao_how, FX_PEND_POWEROFF);
}

FX_EXPORT int libxl_domain_reboot(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    return request(ctx, "libxl_domain_reboot", domid, ao_how, FX_PEND_REBOOT);
}

static int set_paused(libxl_ctx *ctx, const char *func, uint32_t domid, const libxl_asyncop_how *ao_how, int paused)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if ((rc = sync_only(ctx, func, ao_how)) || !(st = load_domu(ctx, func, domid, &d, &rc)))
        return rc;
    d->paused = paused;
    return fx_save(ctx, st);
}

FX_EXPORT int libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    return set_paused(ctx, "libxl_domain_pause", domid, ao_how, 1);
}

FX_EXPORT int libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    return set_paused(ctx, "libxl_domain_unpause", domid, ao_how, 0);
}

/* Triggers exist for HVM guests only (Xen refuses them for PV ones). */
FX_EXPORT int libxl_send_trigger(libxl_ctx *ctx, uint32_t domid, libxl_trigger trigger, uint32_t vcpuid,
                                 const libxl_asyncop_how *ao_how)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if ((rc = sync_only(ctx, "libxl_send_trigger", ao_how)) ||
        !(st = load_domu(ctx, "libxl_send_trigger", domid, &d, &rc)))
        return rc;
    if (d->type != FX_HVM || vcpuid >= d->vcpus) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "Send trigger '%s' failed", libxl_trigger_to_string(trigger));
        return ERROR_FAIL;
    }
    switch (trigger) {
    case LIBXL_TRIGGER_POWER: /* the ACPI power button: the guest powers off in a while */
        if (!d->shutdown) {
            d->pending = FX_PEND_POWEROFF;
            d->due_ms = fx_now_ms() + delay_ms();
        }
        break;
    case LIBXL_TRIGGER_RESET: /* a hard reset: the guest is gone at once, as for a reboot */
        if (!d->shutdown) {
            d->shutdown = 1;
            d->reason = FX_REBOOT;
            d->pending = FX_PEND_NONE;
        }
        break;
    case LIBXL_TRIGGER_SLEEP:
    case LIBXL_TRIGGER_NMI:
    case LIBXL_TRIGGER_INIT:
    case LIBXL_TRIGGER_S3RESUME:
        break; /* accepted; the simulated guest ignores them */
    default:
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "libxl_send_trigger: unknown trigger %d", (int)trigger);
        return ERROR_INVAL;
    }
    return fx_save(ctx, st);
}

/* ---- memory ---- */

FX_EXPORT int libxl_domain_setmaxmem(libxl_ctx *ctx, uint32_t domid, uint64_t target_memkb)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if (!(st = load_dom(ctx, "libxl_domain_setmaxmem", domid, &d, &rc)))
        return rc;
    if (target_memkb < d->cur_kb || target_memkb > UINT64_MAX / 2) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "memory_static_max must be greater than or or equal to memory_dynamic_max");
        return ERROR_INVAL;
    }
    d->max_kb = target_memkb;
    return fx_save(ctx, st);
}

FX_EXPORT int libxl_set_memory_target(libxl_ctx *ctx, uint32_t domid, int64_t target_memkb, int relative, int enforce)
{
    struct fx_state *st;
    struct fx_dom *d;
    int64_t target;
    int rc;
    (void)enforce;
    if (!(st = load_dom(ctx, "libxl_set_memory_target", domid, &d, &rc)))
        return rc;
    if (relative) {
        if ((target_memkb < 0 && (uint64_t)-(target_memkb + 1) >= d->cur_kb) ||
            (target_memkb > 0 && (uint64_t)target_memkb > d->max_kb)) {
            target = -1;
        } else {
            target = (int64_t)d->cur_kb + target_memkb;
        }
    } else {
        target = target_memkb;
    }
    if (target < 0 || (uint64_t)target > d->max_kb) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "memory_dynamic_max must be less than or equal to memory_static_max");
        return ERROR_INVAL;
    }
    if (domid == 0 && (uint64_t)target < MIN_DOM0_KB) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "New target %lld for dom0 is below the minimum threshold", (long long)target);
        return ERROR_INVAL;
    }
    d->cur_kb = (uint64_t)target;
    return fx_save(ctx, st);
}

/* ---- userdata and the stored configuration ---- */

FX_EXPORT int libxl_userdata_store(libxl_ctx *ctx, uint32_t domid, const char *userdata_userid,
                                   const uint8_t *data, int datalen)
{
    struct fx_state *st;
    struct fx_dom *d;
    int rc;
    if (!userdata_userid || !fx_valid_udkey(userdata_userid) || datalen < 0 || (datalen > 0 && !data) ||
        (uint64_t)datalen > FX_UD_MAX) {
        fx_xlog(ctx, XTL_ERROR, "libxl_userdata_store: invalid userdata id or length");
        return ERROR_INVAL;
    }
    if (!(st = load_dom(ctx, "libxl_userdata_store", domid, &d, &rc)))
        return ERROR_LOCK_FAIL; /* libxl cannot take the userdata lock of a missing domain */
    if (fx_ud_set(d, userdata_userid, data, (size_t)datalen)) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "libxl_userdata_store: no room for userdata \"%s\"", userdata_userid);
        return ERROR_FAIL;
    }
    return fx_save(ctx, st);
}

/* Missing userdata is no error: data NULL, length 0. */
FX_EXPORT int libxl_userdata_retrieve(libxl_ctx *ctx, uint32_t domid, const char *userdata_userid,
                                      uint8_t **data_r, int *datalen_r)
{
    struct fx_state *st;
    struct fx_dom *d;
    struct fx_ud *u;
    uint8_t *copy = NULL;
    int rc;
    if (!userdata_userid || !fx_valid_udkey(userdata_userid)) {
        fx_xlog(ctx, XTL_ERROR, "libxl_userdata_retrieve: invalid userdata id");
        return ERROR_INVAL;
    }
    if (!(st = load_dom(ctx, "libxl_userdata_retrieve", domid, &d, &rc)))
        return ERROR_LOCK_FAIL;
    if ((u = fx_ud_find(d, userdata_userid))) {
        if (!(copy = malloc(u->len))) {
            fx_abort(st);
            return ERROR_NOMEM;
        }
        memcpy(copy, u->data, u->len);
    }
    if (data_r)
        *data_r = copy;
    else
        free(copy);
    if (datalen_r)
        *datalen_r = u ? (int)u->len : 0;
    fx_abort(st);
    return 0;
}

/* The config stored at create, with the memory figures brought up to date. */
FX_EXPORT int libxl_retrieve_domain_configuration(libxl_ctx *ctx, uint32_t domid, libxl_domain_config *d_config,
                                                  const libxl_asyncop_how *ao_how)
{
    struct fx_state *st;
    struct fx_dom *d;
    struct fx_ud *u;
    char *json;
    uint64_t max_kb, cur_kb;
    int rc;
    if ((rc = sync_only(ctx, "libxl_retrieve_domain_configuration", ao_how)) ||
        !(st = load_domu(ctx, "libxl_retrieve_domain_configuration", domid, &d, &rc)))
        return rc;
    if (!(u = fx_ud_find(d, USERDATA_CONFIG))) {
        fx_abort(st);
        fx_xlog(ctx, XTL_ERROR, "Domain %u: no JSON config stored", domid);
        return ERROR_JSON_CONFIG_EMPTY;
    }
    if (!(json = malloc(u->len + 1))) {
        fx_abort(st);
        return ERROR_NOMEM;
    }
    memcpy(json, u->data, u->len);
    json[u->len] = 0;
    max_kb = d->max_kb;
    cur_kb = d->cur_kb;
    fx_abort(st);
    rc = libxl_domain_config_from_json(ctx, d_config, json);
    free(json);
    if (rc)
        return rc;
    d_config->b_info.max_memkb = max_kb;
    d_config->b_info.target_memkb = cur_kb;
    return 0;
}
