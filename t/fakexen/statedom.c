/* fakexen: queries and changes on a loaded state (see state.h): Domain-0's defaults, lookups,
 * adding and removing domains, free memory, guest actions coming due, userdata.
 */
#define _GNU_SOURCE
#include "state.h"

#include <stdlib.h>
#include <string.h>

void fx_clear(struct fx_state *st)
{
    for (int i = 0; i < st->ndoms; i++)
        for (int j = 0; j < st->doms[i].nud; j++)
            free(st->doms[i].ud[j].data);
    st->ndoms = 0;
}

void fx_init_host(struct fx_state *st)
{
    struct fx_dom *d;
    fx_clear(st);
    st->next_domid = 1;
    d = &st->doms[st->ndoms++];
    memset(d, 0, sizeof(*d));
    d->id = 0;
    strcpy(d->name, "Domain-0");
    d->type = FX_PV;
    d->max_kb = d->cur_kb = FX_DOM0_MEM_KB;
    d->vcpus = d->online = FX_HOST_CPUS;
    d->reason = FX_REASON_NONE;
    d->pv = 1;
    d->born_ms = fx_now_ms();
}

/* ---- queries and changes ---- */

struct fx_dom *fx_find(struct fx_state *st, uint32_t id)
{
    for (int i = 0; i < st->ndoms; i++)
        if (st->doms[i].id == id)
            return &st->doms[i];
    return NULL;
}

struct fx_dom *fx_find_name(struct fx_state *st, const char *name)
{
    for (int i = 0; i < st->ndoms; i++)
        if (!strcmp(st->doms[i].name, name))
            return &st->doms[i];
    return NULL;
}

struct fx_dom *fx_lookup(struct fx_state *st, const char *what)
{
    uint64_t id;
    struct fx_dom *d = fx_find_name(st, what);
    if (d)
        return d;
    if (!fx_parse_u64(what, FX_DOMID_MAX, &id))
        return fx_find(st, (uint32_t)id);
    return NULL;
}

struct fx_dom *fx_add(struct fx_state *st)
{
    struct fx_dom *d;
    if (st->ndoms >= FX_MAX_DOMS || st->next_domid > FX_DOMID_MAX)
        return NULL;
    d = &st->doms[st->ndoms++];
    memset(d, 0, sizeof(*d));
    d->id = st->next_domid++;
    d->reason = FX_REASON_NONE;
    d->pv = 1;
    d->born_ms = fx_now_ms();
    return d;
}

void fx_remove(struct fx_state *st, struct fx_dom *d)
{
    long i = d - st->doms;
    if (i < 0 || i >= st->ndoms)
        return;
    for (int j = 0; j < d->nud; j++)
        free(d->ud[j].data);
    memmove(&st->doms[i], &st->doms[i + 1], (size_t)(st->ndoms - i - 1) * sizeof(st->doms[0]));
    st->ndoms--;
}

uint64_t fx_free_kb(const struct fx_state *st)
{
    uint64_t used = FX_XEN_KB;
    for (int i = 0; i < st->ndoms; i++)
        used += st->doms[i].cur_kb;
    return used >= FX_HOST_MEM_KB ? 0 : FX_HOST_MEM_KB - used;
}

static int can_act(const struct fx_dom *d)
{
    return d->pending != FX_PEND_NONE && !d->paused && !d->shutdown;
}

int fx_apply_due(struct fx_state *st, uint64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < st->ndoms; i++) {
        struct fx_dom *d = &st->doms[i];
        if (!can_act(d) || d->due_ms > now_ms)
            continue;
        d->shutdown = 1;
        d->reason = d->pending == FX_PEND_REBOOT ? FX_REBOOT : FX_POWEROFF;
        d->pending = FX_PEND_NONE;
        d->due_ms = 0;
        n++;
    }
    return n;
}

uint64_t fx_next_due(const struct fx_state *st)
{
    uint64_t best = 0;
    for (int i = 0; i < st->ndoms; i++) {
        const struct fx_dom *d = &st->doms[i];
        if (can_act(d) && (best == 0 || d->due_ms < best))
            best = d->due_ms ? d->due_ms : 1;
    }
    return best;
}

struct fx_ud *fx_ud_find(struct fx_dom *d, const char *key)
{
    for (int i = 0; i < d->nud; i++)
        if (!strcmp(d->ud[i].key, key))
            return &d->ud[i];
    return NULL;
}

int fx_ud_set(struct fx_dom *d, const char *key, const unsigned char *data, size_t len)
{
    struct fx_ud *u = fx_ud_find(d, key);
    unsigned char *copy = NULL;

    if (!fx_valid_udkey(key) || len > FX_UD_MAX)
        return -1;
    if (len == 0) {
        if (u) {
            free(u->data);
            *u = d->ud[--d->nud];
        }
        return 0;
    }
    if (!(copy = malloc(len)))
        return -1;
    memcpy(copy, data, len);
    if (!u) {
        if (d->nud >= FX_MAX_UD) {
            free(copy);
            return -1;
        }
        u = &d->ud[d->nud++];
        strcpy(u->key, key);
    } else {
        free(u->data);
    }
    u->data = copy;
    u->len = len;
    return 0;
}
