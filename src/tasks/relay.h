/* relay.h - task events across replicas that share one PostgreSQL database.
 *
 * Every event the local hub publishes goes to the other replicas as a notice through the store
 * coordinator (NOTIFY, sent after the change committed), and every notice from another replica
 * is delivered to this replica's feeds. A notice is "<replica id> <user id length> <user id>
 * <event JSON>", so the event's bytes arrive exactly as published; a replica skips its own
 * notices (its feeds already got the event). An event too big for a notice (a task with very
 * long notes) reaches only the replica it was made on, and is counted in `oversized`.
 *
 * Ownership: the caller owns the struct; the hub and coordinator are not owned and must outlive
 * it. Loop thread only.
 */
#ifndef CHATKITD_TASKS_RELAY_H
#define CHATKITD_TASKS_RELAY_H

#include "core/id.h"
#include "core/log.h"
#include "store/coord.h"
#include "tasks/events.h"

#include <stddef.h>
#include <stdint.h>

struct tasks_relay {
    struct tasks_events *hub;  /* not owned */
    struct store_coord *coord; /* not owned */
    const struct logger *log;  /* not owned */
    char replica[ID_MAX];      /* this process, "rep_" + random hex */
    uint64_t sent, received, oversized, unsent;
};

/* Generates the replica id and becomes the hub's relay. Returns 0 or ERR_IO (no randomness). */
int tasks_relay_init(struct tasks_relay *r, struct tasks_events *hub, struct store_coord *coord,
                     const struct logger *log);
/* The coordinator's notice callback (data = the relay). */
void tasks_relay_on_notice(void *data, const char *payload, size_t len);

#endif
