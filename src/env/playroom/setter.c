/*
 * The scripted setter: it turns its prompt into one utterance (a template
 * per family, synonyms, optional politeness, and now and then a vague object
 * "the duck" without its colour), types it one token per step after a short
 * pause, and answers "which one ?" with "the <colour> one".  It stays where
 * it stands.  Its choices come from its own seeded stream.
 */
#include <string.h>
#include "env/playroom/internal.h"
#include "env/playroom/vocab.h"

typedef struct { uint8_t t[LOCO_PLAYROOM_MSG_MAX + 1]; int n; } words;

static void add(words *s, int t) {
    if (s->n < LOCO_PLAYROOM_MSG_MAX) s->t[s->n++] = (uint8_t)t;
}

/* "the [colour] duck", with a synonym one time in five. */
static void object(words *s, loco_rng *rng, int cat, int colour, int with_colour) {
    add(s, T_THE);
    if (with_colour) add(s, loco__pr_tok_colour_word(colour));
    add(s, loco__pr_tok_category_word(cat, 0, loco__pr_chance(rng, 20)));
}

/* "a red duck" / "an orange duck". */
static void indefinite(words *s, loco_rng *rng, int cat, int colour) {
    add(s, colour == 1 ? T_AN : T_A);   /* orange */
    add(s, loco__pr_tok_colour_word(colour));
    add(s, loco__pr_tok_category_word(cat, 0, loco__pr_chance(rng, 20)));
}

/* "the [colour] table": the colour may go when the room has one such piece. */
static void furniture(words *s, loco_rng *rng, const pr_world *w, int kind, int colour) {
    int same = 0;
    for (int f = 0; f < w->n_furn; f++) same += w->furn[f].kind == kind;
    add(s, T_THE);
    if (same > 1 || loco__pr_chance(rng, 50)) add(s, loco__pr_tok_colour_word(colour));
    add(s, loco__pr_tok_furniture_word(kind, loco__pr_chance(rng, 20)));
}

/* Builds the utterance for the prompt. */
static void utter(loco_playroom_env *e, words *s) {
    loco_rng *rng = &e->rng[LOCO_PLAYROOM_SETTER];
    const loco_playroom_prompt *p = &e->prompt;
    const pr_world *w = &e->w;
    int f = p->family, k = (int)loco__pr_below(rng, 4);
    /* Vagueness: the object without its colour, for the families whose
     * solver can ask back.  When the category is unique it is harmless. */
    int vague = (f == LOCO_PLAYROOM_LIFT || f == LOCO_PLAYROOM_PUT || f == LOCO_PLAYROOM_BRING ||
                 f == LOCO_PLAYROOM_WHERE) && loco__pr_chance(rng, 15);
    e->setter.vague = (uint8_t)vague;
    int polite = loco__pr_chance(rng, 25);
    if (polite && !loco__pr_is_question(f) && k < 2) add(s, T_PLEASE);
    switch (f) {
    case LOCO_PLAYROOM_LIFT:
        if (k == 0) add(s, T_LIFT);
        else if (k == 1) add(s, T_PICK), add(s, T_UP);
        else if (k == 2) add(s, T_CAN), add(s, T_YOU), add(s, T_HOLD);
        else add(s, T_GRAB);
        object(s, rng, p->x_cat, p->x_colour, !vague);
        break;
    case LOCO_PLAYROOM_PUT:
        add(s, k == 0 ? T_PUT : k == 1 ? T_PLACE : k == 2 ? T_SET : T_DROP);
        object(s, rng, p->x_cat, p->x_colour, !vague);
        if (p->relation == 0) {
            if (k == 1) add(s, T_ON), add(s, T_TOP), add(s, T_OF);
            else add(s, k == 2 ? T_ONTO : T_ON);
        } else {
            add(s, k == 1 ? T_INSIDE : k == 3 ? T_INTO : T_IN);
        }
        furniture(s, rng, w, p->f_kind, p->f_colour);
        break;
    case LOCO_PLAYROOM_GO:
        if (k == 0) add(s, T_GO), add(s, T_TO);
        else if (k == 1) add(s, T_WALK), add(s, T_OVER), add(s, T_TO);
        else if (k == 2) add(s, T_HEAD), add(s, T_TO);
        else add(s, T_CAN), add(s, T_YOU), add(s, T_GO), add(s, T_TO);
        furniture(s, rng, w, p->f_kind, p->f_colour);
        break;
    case LOCO_PLAYROOM_BRING:
        if (k == 0) add(s, T_BRING), add(s, T_ME);
        else if (k == 1) add(s, T_GIVE), add(s, T_ME);
        else if (k == 2) add(s, T_GET), add(s, T_ME);
        else add(s, T_FETCH);
        object(s, rng, p->x_cat, p->x_colour, !vague);
        if (k == 3) add(s, T_FOR), add(s, T_ME);
        break;
    case LOCO_PLAYROOM_POSITION:
        add(s, k == 1 ? T_PLACE : k == 3 ? T_SET : T_PUT);
        object(s, rng, p->x_cat, p->x_colour, 1);
        if (p->relation == 0) {
            if (k == 0) add(s, T_NEXT), add(s, T_TO);
            else add(s, k == 1 ? T_BESIDE : k == 2 ? T_BY : T_NEAR);
        } else {
            if (k == 0) add(s, T_TO), add(s, T_THE);
            else if (k == 1) add(s, T_ON), add(s, T_THE);
            add(s, T_LEFT), add(s, T_OF);
        }
        object(s, rng, p->y_cat, p->y_colour, 1);
        break;
    case LOCO_PLAYROOM_COLOUR:
        if (k == 3) {
            add(s, T_TELL), add(s, T_ME), add(s, T_THE), add(s, loco__pr_chance(rng, 50) ? T_COLOUR : T_COLOR), add(s, T_OF);
        } else {
            add(s, T_WHAT), add(s, k == 1 ? T_COLOR : T_COLOUR), add(s, T_IS);
        }
        object(s, rng, p->x_cat, p->x_colour, 0);
        break;
    case LOCO_PLAYROOM_COUNT: {
        int plural = loco__pr_tok_category_word(p->x_cat, 1, loco__pr_chance(rng, 20));
        if (k == 2) add(s, T_COUNT), add(s, T_THE), add(s, plural);
        else {
            add(s, T_HOW), add(s, T_MANY), add(s, plural);
            if (k == 3) add(s, T_DO), add(s, T_YOU), add(s, T_SEE);
            else add(s, T_ARE), add(s, T_THERE);
        }
        break;
    }
    case LOCO_PLAYROOM_EXISTS:
        if (k == 0 || k == 1) add(s, T_IS), add(s, T_THERE);
        else add(s, T_DO), add(s, T_YOU), add(s, T_SEE);
        indefinite(s, rng, p->x_cat, p->x_colour);
        break;
    case LOCO_PLAYROOM_WHERE:
        if (k >= 2) {
            add(s, T_TELL), add(s, T_ME), add(s, T_WHERE);
            object(s, rng, p->x_cat, p->x_colour, !vague);
            add(s, T_IS);
        } else {
            add(s, T_WHERE), add(s, T_IS);
            object(s, rng, p->x_cat, p->x_colour, !vague);
            if (k == 1) add(s, T_NOW);
        }
        break;
    }
    if (polite && !loco__pr_is_question(f) && k >= 2) add(s, T_PLEASE);
    if (loco__pr_is_question(f)) add(s, T_QMARK);
}

static void queue(pr_setter *st, const words *s) {
    memcpy(st->out, s->t, (size_t)s->n);
    st->out[s->n] = T_EOM;
    st->n_out = (uint8_t)(s->n + 1), st->pos = 0;
}

void loco__pr_setter_reset(loco_playroom_env *e) {
    memset(&e->setter, 0, sizeof e->setter);
    words s = {{0}, 0};
    utter(e, &s);
    queue(&e->setter, &s);
    e->setter.delay = (uint8_t)(1 + loco__pr_below(&e->rng[LOCO_PLAYROOM_SETTER], 3));
}

void loco__pr_setter_act(loco_playroom_env *e, int32_t act[2]) {
    pr_setter *st = &e->setter;
    act[0] = LOCO_PLAYROOM_NOOP, act[1] = LOCO_PLAYROOM_SILENT;
    /* Read new messages: a solver's "which ... ?" gets the colour of X. */
    for (; st->seen < e->chat.n_msg; st->seen++) {
        const pr_msg *m = loco__pr_chat_msg(&e->chat, st->seen);
        if (m->speaker != LOCO_PLAYROOM_SOLVER || st->pos < st->n_out) continue;
        int which = 0;
        for (int i = 0; i < m->len; i++) which |= m->tok[i] == T_WHICH;
        if (!which || e->prompt.x_colour == PR_NONE) continue;
        words s = {{0}, 0};
        add(&s, T_THE), add(&s, loco__pr_tok_colour_word(e->prompt.x_colour));
        add(&s, loco__pr_chance(&e->rng[LOCO_PLAYROOM_SETTER], 50) ? T_ONE : loco__pr_tok_category_word(e->prompt.x_cat, 0, 0));
        queue(st, &s);
        st->delay = (uint8_t)(1 + loco__pr_below(&e->rng[LOCO_PLAYROOM_SETTER], 2));
    }
    if (st->pos >= st->n_out) return;
    if (st->delay) { st->delay--; return; }
    act[1] = st->out[st->pos++];
}
