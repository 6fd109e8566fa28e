/* Players' actions: a motor action (move, turn, grab, release) and a token
 * of text per step; a message enters the chat on end-of-message. */
#include <string.h>
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

void loco__pr_apply_motor(pr_world *w, int p, int motor) {
    pr_player *pl = &w->pl[p];
    int x, y;
    switch (motor) {
    case LOCO_PLAYROOM_FORWARD:
    case LOCO_PLAYROOM_BACKWARD: {
        int s = motor == LOCO_PLAYROOM_FORWARD ? 1 : -1;
        x = pl->x + s * loco__pr_dx[pl->dir], y = pl->y + s * loco__pr_dy[pl->dir];
        if (loco__pr_walkable(w, x, y)) loco__pr_move_player(w, p, x, y, pl->dir);
        break;
    }
    case LOCO_PLAYROOM_TURN_LEFT: loco__pr_move_player(w, p, pl->x, pl->y, (pl->dir + 3) & 3); break;
    case LOCO_PLAYROOM_TURN_RIGHT: loco__pr_move_player(w, p, pl->x, pl->y, (pl->dir + 1) & 3); break;
    case LOCO_PLAYROOM_GRAB: loco__pr_grab(w, p); break;
    case LOCO_PLAYROOM_RELEASE: loco__pr_release(w, p); break;
    default: break;   /* NOOP, and anything out of range */
    }
}

const pr_msg *loco__pr_chat_msg(const pr_chat *c, uint32_t k) { return &c->msg[k % PR_CHAT_MSGS]; }

/* Appends a committed message's tokens to the 32-token observation window. */
static void window_push(pr_chat *c, const pr_msg *m) {
    for (int i = 0; i < m->len + 1; i++) {
        memmove(c->last, c->last + 1, sizeof c->last - 1);
        memmove(c->last_who, c->last_who + 1, sizeof c->last_who - 1);
        c->last[sizeof c->last - 1] = i < m->len ? m->tok[i] : T_EOM;
        c->last_who[sizeof c->last_who - 1] = (uint8_t)(m->speaker + 1);
    }
}

int loco__pr_say(pr_chat *c, int p, int token) {
    if (token <= LOCO_PLAYROOM_SILENT || token >= PR_VOCAB_SIZE) return 0;
    pr_msg *m = &c->pending[p];
    if (token != T_EOM) m->tok[m->len++] = (uint8_t)token;
    /* A message ends on EOM, or when it is full (then the player's next
     * token starts a new one). */
    if (token != T_EOM && m->len < LOCO_PLAYROOM_MSG_MAX) return 0;
    if (m->len == 0) return 0;   /* EOM alone says nothing */
    m->speaker = (uint8_t)p;
    c->msg[c->n_msg % PR_CHAT_MSGS] = *m;
    c->n_msg++;
    window_push(c, m);
    memset(m, 0, sizeof *m);
    return 1;
}
