/* An engine's lane onto the worker pool: at most one job of the lane is on the pool at a time,
 * the others wait here in a bounded FIFO. The engines serialise their calls anyway; queueing
 * here instead of on their mutex keeps the kernel's few workers free for other plugins. */
#include "audio_int.h"

#include <string.h>

void au_lane_init(au_lane *l, const char *name, void (*work)(void *job), void (*done)(au_job *j)) {
    memset(l, 0, sizeof *l);
    l->name = name;
    l->work = work;
    l->done = done;
}

static void lane_done(void *ud) {
    au_job *j = ud;
    au_lane *l = j->lane;
    au_state *st = j->st;
    l->running = NULL;
    j->lane = NULL;
    l->done(j); /* j is gone or elsewhere after this */
    au_lane_next(st, l);
}

static int start(au_state *st, au_lane *l, au_job *j) {
    j->lane = l;
    l->running = j;
    if (st->api->work_submit(st->self, l->work, lane_done, j) != EZ_OK) {
        l->running = NULL;
        j->lane = NULL;
        return -1;
    }
    return 0;
}

int au_lane_submit(au_state *st, au_lane *l, au_job *j) {
    if (!l->running)
        return start(st, l, j);
    if (l->depth >= st->queue_depth)
        return -1;
    j->next = NULL;
    j->lane = l;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->depth++;
    return 0;
}

static au_job *pop(au_lane *l) {
    au_job *j = l->head;
    if (!j)
        return NULL;
    l->head = j->next;
    if (!l->head)
        l->tail = NULL;
    l->depth--;
    j->next = NULL;
    j->lane = NULL;
    return j;
}

void au_lane_next(au_state *st, au_lane *l) {
    while (!l->running && !st->stopping) {
        au_job *j = pop(l);
        if (!j)
            return;
        if (st->api->is_gone(j->req)) /* nobody waits for it: do not spend the engine */
            au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The client went away", NULL);
        else if (start(st, l, j) != 0)
            au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The worker pool refused the job", NULL);
    }
}

au_job *au_lane_drain(au_lane *l) {
    au_job *list = l->head;
    l->head = l->tail = NULL;
    l->depth = 0;
    for (au_job *j = list; j; j = j->next)
        j->lane = NULL;
    return list;
}
