/* relay.c - task events across replicas (see relay.h). */
#include "tasks/relay.h"

#include "core/err.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void relay_publish(void *data, const char *user_id, const char *json, size_t len)
{
    struct tasks_relay *r = data;
    char head[ID_MAX + STORE_COORD_NOTICE_MAX];
    size_t ulen = strlen(user_id);
    int n = snprintf(head, sizeof head, "%s %zu %s", r->replica, ulen, user_id);
    if (n < 0 || (size_t)n + len > STORE_COORD_NOTICE_MAX) {
        r->oversized++;
        log_warn(r->log, "task event of %zu bytes not relayed to other replicas (too big)", len);
        return;
    }
    memcpy(head + n, json, len);
    if (store_coord_notify(r->coord, head, (size_t)n + len) == 0)
        r->sent++;
    else
        r->unsent++;
}

int tasks_relay_init(struct tasks_relay *r, struct tasks_events *hub, struct store_coord *coord,
                     const struct logger *log)
{
    memset(r, 0, sizeof *r);
    r->hub = hub;
    r->coord = coord;
    r->log = log;
    int rc = id_new("rep_", r->replica);
    if (rc)
        return rc;
    tasks_events_set_relay(hub, relay_publish, r);
    return 0;
}

void tasks_relay_on_notice(void *data, const char *payload, size_t len)
{
    struct tasks_relay *r = data;
    size_t rl = strlen(r->replica);
    if (len > rl && memcmp(payload, r->replica, rl) == 0 && payload[rl] == ' ')
        return; /* our own: the local feeds already have it */
    const char *sp = memchr(payload, ' ', len);
    if (!sp)
        return;
    char *end;
    unsigned long ulen = strtoul(sp + 1, &end, 10);
    if (*end != ' ' || ulen == 0 || ulen >= STORE_USER_ID_MAX ||
        (size_t)(end + 1 - payload) + ulen >= len)
        return;
    char user[STORE_USER_ID_MAX];
    memcpy(user, end + 1, ulen);
    user[ulen] = '\0';
    const char *json = end + 1 + ulen;
    r->received++;
    tasks_events_deliver(r->hub, user, json, len - (size_t)(json - payload));
}
