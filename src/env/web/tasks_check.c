/*
 * Selection tasks: checkboxes, radio buttons and widgets.  Success is exact
 * (every requested box ticked and no other): MiniWoB++'s "r > 0 counts as
 * success", which lets click-checkboxes-large pass with a missed box, is
 * not copied.
 */
#include <stdio.h>
#include <string.h>
#include "env/web/web.h"

/* ti[1] submit, ti[2] count, ti[10+k] box k, ti[30+k] wanted.  want[k] < 0
 * draws each box with probability pwant.  cols = 2 splits the boxes into two
 * floated columns (click-checkboxes-large). */
static void checkboxes(loco__page *p, int n, const int *want, float pwant, int cols) {
    int div = loco__add(p, p->area, K_BOX, "DIV", NULL), col[2] = {div, div};
    loco__set_id(p, div, "boxes");
    if (cols == 2)
        for (int c = 0; c < 2; c++) {
            col[c] = loco__add(p, div, K_BOX, "DIV", NULL);
            loco__set_id(p, col[c], c ? "boxes-right" : "boxes-left");
            p->n[col[c]].display = D_INLINE_BLOCK; p->n[col[c]].w = 76;
        }
    char names[16][LOCO_ENV_STR];
    for (int k = 0; k < n; k++) {
        char name[16];
        int dup;
        do {   /* distinct names, so that the instruction is unambiguous */
            loco__rand_string(p, name, 2, 8);
            dup = 0;
            for (int j = 0; j < k; j++) dup |= !strcmp(names[j], name);
        } while (dup);
        loco__strcpy(names[k], name, LOCO_ENV_STR);
        char id[16];
        snprintf(id, sizeof id, "ch%d", k);
        int parent = col[cols == 2 && k >= (n + 1) / 2];
        p->ti[10 + k] = loco__checkbox(p, parent, name, NULL);
        loco__set_id(p, p->ti[10 + k], id);
        loco__br(p, parent);
        p->ti[30 + k] = want ? want[k] : loco__randf(p) < pwant;
    }
    p->ti[2] = n;
}
/* The instruction lists the wanted boxes in the order given. */
static void checkboxes_query(loco__page *p, const int *order) {
    char q[LOCO_ENV_UTTERANCE] = "";
    int nw = 0;
    for (int j = 0; j < p->ti[2]; j++) {
        int k = order ? order[j] : j;
        if (!p->ti[30 + k]) continue;
        char key[24];
        const char *name = p->n[p->n[p->ti[10 + k]].next].e.text;
        snprintf(key, sizeof key, "target %d", nw++);
        loco__set_field(p, key, name);
        if (q[0]) strncat(q, ", ", sizeof q - strlen(q) - 1);
        strncat(q, name, sizeof q - strlen(q) - 1);
    }
    loco__set_field(p, "button", "submit");
    loco__set_utterance(p, "Select %s and click Submit.", nw ? q : "nothing");
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
/* MiniWoB++ pays the mean of +-1 over the boxes, which is positive for a
 * partly wrong answer; here anything but the exact set pays -1, so that a
 * wrong answer never scores above 0 (docs/env.md). */
static void checkboxes_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    int exact = 1;
    for (int k = 0; k < p->ti[2]; k++) exact &= p->n[p->ti[10 + k]].checked == p->ti[30 + k];
    if (exact) loco__win(p); else loco__lose(p);
}
/* Tick the boxes whose label is a target, then Submit. */
static void checkboxes_plan(loco__demo *d, const loco_env_obs *o) {
    for (int f = 0; f < o->n_fields; f++) {
        if (strncmp(o->field_key[f], "target", 6)) continue;
        for (int k = 0; k < o->n_elems; k++)
            if (!strcmp(o->elems[k].tag, "t") && !strcmp(o->elems[k].text, o->field_value[f])) {
                /* the checkbox is the label's first child: the element just before the text */
                if (k > 0) loco__demo_click(d, o->elems[k - 1].ref);
            }
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}

static void click_checkboxes_gen(loco__page *p) {
    checkboxes(p, loco__randi(p, 2, 6), NULL, 0.5f, 1);
    checkboxes_query(p, NULL);
}
const loco__task loco__task_click_checkboxes = {"click-checkboxes", click_checkboxes_gen, checkboxes_event, checkboxes_plan, NULL, 0};

/* MiniWoB++'s large variant: 5..13 wanted among max(7, wanted)..13 boxes in
 * two columns, listed in a shuffled order. */
static void click_checkboxes_large_gen(loco__page *p) {
    int nt = loco__randi(p, 5, 13), n = loco__randi(p, nt > 7 ? nt : 7, 13), order[16], want[16];
    for (int k = 0; k < n; k++) order[k] = k;
    loco__shuffle(p, order, n);
    for (int j = 0; j < n; j++) want[order[j]] = j < nt;
    checkboxes(p, n, want, 0, 2);
    checkboxes_query(p, order);
}
const loco__task loco__task_click_checkboxes_large = {"click-checkboxes-large", click_checkboxes_large_gen, checkboxes_event, checkboxes_plan, NULL, 0};

/* The transfer variant: the same page with fewer boxes wanted. */
static void click_checkboxes_transfer_gen(loco__page *p) {
    checkboxes(p, loco__randi(p, 2, 6), NULL, 0.3f, 1);
    checkboxes_query(p, NULL);
}
const loco__task loco__task_click_checkboxes_transfer = {"click-checkboxes-transfer", click_checkboxes_transfer_gen, checkboxes_event, checkboxes_plan, NULL, 0};

/* click-checkboxes-soft: the boxes carry synonyms of the requested words. */
static const char *const syn[][3] = {
    {"big", "large", "huge"}, {"small", "tiny", "little"}, {"happy", "glad", "cheerful"},
    {"sad", "unhappy", "gloomy"}, {"fast", "quick", "rapid"}, {"slow", "sluggish", "unhurried"},
    {"angry", "furious", "irate"}, {"old", "ancient", "aged"}, {"smart", "clever", "bright"},
    {"begin", "start", "commence"}, {"end", "finish", "conclude"}, {"rich", "wealthy", "affluent"},
    {"pig", "swine", "hog"}, {"home", "house", "dwelling"}, {"cut", "slice", "chop"},
    {"love", "adore", "cherish"}, {"hate", "loathe", "detest"}, {"real", "genuine", "authentic"}};
#define N_SYN ((int)(sizeof syn / sizeof *syn))

static void click_checkboxes_soft_gen(loco__page *p) {
    int groups[N_SYN];
    for (int k = 0; k < N_SYN; k++) groups[k] = k;
    loco__shuffle(p, groups, N_SYN);
    int n = loco__randi(p, 2, 6), nt = loco__randi(p, 1, n < 4 ? n : 4);
    int div = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, div, "boxes");
    char q[LOCO_ENV_UTTERANCE] = "";
    for (int k = 0; k < nt; k++) {
        char key[16];
        snprintf(key, sizeof key, "target %d", k);
        loco__set_field(p, key, syn[groups[k]][0]);
        if (k) strcat(q, ", ");
        strcat(q, syn[groups[k]][0]);
    }
    int order[8];
    for (int k = 0; k < n; k++) order[k] = k;
    loco__shuffle(p, order, n);
    for (int k = 0; k < n; k++) {
        int g = order[k];   /* boxes 0..nt-1 are the synonyms of the targets */
        p->ti[10 + k] = loco__checkbox(p, div, syn[groups[g]][loco__randi(p, 1, 2)], NULL);
        loco__br(p, div);
        p->ti[30 + k] = g < nt;
    }
    loco__set_field(p, "button", "submit");
    loco__set_utterance(p, "Select words similar to %s and click Submit.", q);
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
    p->ti[2] = n;
}
static void click_checkboxes_soft_plan(loco__demo *d, const loco_env_obs *o) {
    for (int k = 1; k < o->n_elems; k++) {
        if (strcmp(o->elems[k].tag, "t")) continue;
        for (int f = 0; f < o->n_fields; f++) {
            if (strncmp(o->field_key[f], "target", 6)) continue;
            for (int g = 0; g < N_SYN; g++)
                if (!strcmp(syn[g][0], o->field_value[f]) &&
                    (!strcmp(syn[g][1], o->elems[k].text) || !strcmp(syn[g][2], o->elems[k].text)))
                    loco__demo_click(d, o->elems[k - 1].ref);
        }
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_click_checkboxes_soft = {"click-checkboxes-soft", click_checkboxes_soft_gen, checkboxes_event,
    click_checkboxes_soft_plan, NULL, 0};

/* ---------------------------------------------------------------- click-option */
static void click_option_gen(loco__page *p) {
    int div = loco__add(p, p->area, K_BOX, "DIV", NULL);
    int n = loco__randi(p, 2, 6), tgt = loco__randi(p, 0, n - 1);
    for (int k = 0; k < n; k++) {
        char name[16];
        int dup;
        do {
            loco__rand_string(p, name, 2, 8);
            dup = 0;
            for (int j = 0; j < k; j++) dup |= !strcmp(p->ts[1 + j], name);
        } while (dup);
        loco__strcpy(p->ts[1 + k], name, LOCO_ENV_STR);   /* n <= 6 fits ts[1..6] */
        int l, c = loco__checkbox(p, div, name, &l);
        p->n[c].kind = K_RADIO; p->n[c].group = 0;
        loco__strcpy(p->n[c].e.tag, "INPUT_radio", sizeof p->n[c].e.tag);
        loco__br(p, div);
        p->ti[10 + k] = c;
        if (k == tgt) loco__strcpy(p->ts[0], name, LOCO_ENV_STR);
    }
    p->ti[2] = n; p->ti[3] = tgt;
    loco__set_utterance(p, "Select %s and click Submit.", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void click_option_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (p->n[p->ti[10 + p->ti[3]]].checked) loco__win(p); else loco__lose(p);
}
static void click_option_plan(loco__demo *d, const loco_env_obs *o) {
    int t = loco__obs_find_text(o, "t", loco__obs_field(o, "target"));
    for (int k = 1; k < o->n_elems; k++)
        if (o->elems[k].ref == t) loco__demo_click(d, o->elems[k - 1].ref);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_click_option = {"click-option", click_option_gen, click_option_event, click_option_plan, NULL, 0};

/* ---------------------------------------------------------------- click-widget */
static void click_widget_gen(loco__page *p) {
    static const char *const types[] = {"button", "checkbox", "radio", "text", "textarea"};
    int n = loco__randi(p, 3, 6);
    for (int k = 0; k < n; k++) {
        int t = loco__randi(p, 0, 4), w;
        char txt[16];
        loco__rand_string(p, txt, 3, 6);
        if (t == 0) w = loco__button(p, p->area, txt);
        else if (t == 1 || t == 2) {
            w = loco__checkbox(p, p->area, txt, NULL);
            if (t == 2) { p->n[w].kind = K_RADIO; p->n[w].group = (int16_t)k;
                          loco__strcpy(p->n[w].e.tag, "INPUT_radio", 16); }
        } else if (t == 3) w = loco__input(p, p->area, INPUT_TEXT, 80);
        else {
            w = loco__add(p, p->area, K_TEXTAREA, "TEXTAREA", NULL);
            p->n[w].w = 100; p->n[w].h = 30; p->n[w].border = 1; p->n[w].font_px = 13;
            memcpy(p->n[w].bcolor, (uint8_t[4]){0x76, 0x76, 0x76, 255}, 4);
        }
        loco__set_class(p, w, types[t]);
        p->ti[10 + k] = w; p->ti[30 + k] = t;
        loco__br(p, p->area);
    }
    int tgt = p->ti[30 + loco__randi(p, 0, n - 1)];
    p->ti[0] = n; p->ti[1] = tgt;
    loco__set_utterance(p, "Click on a \"%s\" widget.", types[tgt]);
    loco__set_field(p, "target", types[tgt]);
}
static void click_widget_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++) {
        int w = p->ti[10 + k];
        int l = p->n[w].parent;
        int hit = loco__within(p, i, w) || (p->n[l].kind == K_LABEL && loco__within(p, i, l));
        if (hit) { if (p->ti[30 + k] == p->ti[1]) loco__win(p); else loco__lose(p); }
    }
}
static void click_widget_plan(loco__demo *d, const loco_env_obs *o) {
    const char *t = loco__obs_field(o, "target");
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, t)) { loco__demo_click(d, o->elems[k].ref); return; }
}
const loco__task loco__task_click_widget = {"click-widget", click_widget_gen, click_widget_event, click_widget_plan, NULL, 0};

/* ---------------------------------------------------------------- click-scroll-list */
/* A multi-select list box (150x90, 8-12 names or countries, scrolling) and
 * one or two entries to choose, within 15 s as upstream.  Chromium's list
 * box without modifier keys: a press selects only the entry under the
 * pointer, dragging with the button held extends the selection over the
 * entries passed, the arrow keys move a single selection.  Two entries can
 * be chosen together only when they are neighbours, since a held Ctrl is
 * not in CC-Net's key list; the demonstrator wins exactly those instances
 * (about 60%, CC-Net's reported 0.60).  Selected entries get the class
 * "selected" and a blue background.  ti[1] Submit, ti[2] entries,
 * ti[3] the list, ti[4] anchor, ti[10+k] entries, ti[30+k] wanted,
 * ti[50+k] selected. */
static void scroll_select(loco__page *p, int a, int b) {
    if (a > b) { int t = a; a = b; b = t; }
    for (int k = 0; k < p->ti[2]; k++) {
        int on = k >= a && k <= b, e = p->ti[10 + k];
        p->ti[50 + k] = on;
        loco__set_class(p, e, on ? "selected" : "");
        loco__set_bg(p, e, on ? 0xCCE0FF : 0xFFFFFF);
    }
}
static const char *const people[] = {"Ainslie", "Daffi", "Loree", "Ophelie", "Flori", "Eadie", "Marjy", "Tresa",
    "Gerti", "Nelle", "Kippy", "Roseann", "Cassie", "Berty", "Ilse", "Jenda"};
static const char *const places[] = {"Norway", "Luxembourg", "Zambia", "Belgium", "Botswana", "Latvia", "Chile",
    "Cuba", "Ghana", "Kenya", "Malta", "Nepal", "Oman", "Peru", "Qatar", "Samoa"};
static void click_scroll_list_gen(loco__page *p) {
    const char *const *items = loco__randf(p) < 0.5f ? people : places;
    int idx[16], n = loco__randi(p, 8, 12);
    for (int k = 0; k < 16; k++) idx[k] = k;
    loco__shuffle(p, idx, 16);
    int sel = loco__add(p, p->area, K_BOX, "SELECT", NULL);
    loco__set_id(p, sel, "options");
    loco__node *s = &p->n[sel];
    s->w = 150; s->h = 90; s->border = 1; s->scroll = 1; s->margin[0] = 5; s->font_px = 13;
    memcpy(s->bcolor, (uint8_t[4]){0x76, 0x76, 0x76, 255}, 4);
    loco__set_bg(p, sel, 0xFFFFFF);
    for (int k = 0; k < n; k++) {
        int o = loco__add(p, sel, K_BOX, "OPTION", items[idx[k]]);
        p->n[o].pad[3] = 2; p->n[o].pad[0] = p->n[o].pad[2] = 1;
        loco__set_bg(p, o, 0xFFFFFF);
        p->ti[10 + k] = o; p->ti[30 + k] = 0; p->ti[50 + k] = 0;
    }
    p->ti[2] = n; p->ti[3] = sel; p->ti[4] = -1;
    char q[LOCO_ENV_UTTERANCE] = "";
    for (int chosen = 0; chosen < 2;) {   /* upstream's loop: a second entry half the time */
        int k = loco__randi(p, 0, n - 1);
        if (p->ti[30 + k]) continue;
        p->ti[30 + k] = 1;
        if (chosen++) strcat(q, ", ");
        strcat(q, items[idx[k]]);
        if (loco__randf(p) < 0.5f) break;
    }
    loco__set_utterance(p, "Select %s from the scroll list and click Submit.", q);
    loco__set_field(p, "target", q);
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void click_scroll_list_event(loco__page *p, int ev, int i) {
    for (int k = 0; k < p->ti[2]; k++)
        if (i == p->ti[10 + k]) {
            if (ev == EV_DOWN) { p->ti[4] = k; scroll_select(p, k, k); }
            if (ev == EV_HOVER && p->down && p->ti[4] >= 0) scroll_select(p, p->ti[4], k);
            return;
        }
    if (ev >= EV_KEY && i == p->ti[3]) {   /* arrows move one selection */
        int at = -1, k = ev - EV_KEY;
        for (int q = 0; q < p->ti[2]; q++) if (p->ti[50 + q]) at = q;
        if (k == 9 && at + 1 < p->ti[2]) scroll_select(p, at + 1, at + 1);
        if (k == 7 && at > 0) scroll_select(p, at - 1, at - 1);
        return;
    }
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    int ok = 1;
    for (int k = 0; k < p->ti[2]; k++) ok &= p->ti[50 + k] == p->ti[30 + k];
    if (ok) loco__win(p); else loco__lose(p);
}
/* Scroll the wanted entries into the box, then click (one) or drag from
 * one to the other (neighbours), then Submit.  Two entries apart cannot be
 * chosen: the demonstrator picks the first and loses. */
static void click_scroll_list_plan(loco__demo *d, const loco_env_obs *o) {
    char t[LOCO_ENV_STR];
    loco__strcpy(t, loco__obs_field(o, "target"), LOCO_ENV_STR);
    char *second = strstr(t, ", ");
    if (second) { *second = 0; second += 2; }
    const loco_env_elem *box = loco__obs_ref(o, loco__obs_find_id(o, "options"));
    const loco_env_elem *a = loco__obs_ref(o, loco__obs_find_text(o, "OPTION", t));
    const loco_env_elem *b = second ? loco__obs_ref(o, loco__obs_find_text(o, "OPTION", second)) : a;
    if (!box || !a || !b) return;
    if (d->m[0]) { loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit")); return; }
    if (b->top < a->top) { const loco_env_elem *s = a; a = b; b = s; }
    int neighbours = b->top - a->top < a->height + 1;
    if (!neighbours) b = a;
    float lo = box->top + 1, hi = box->top + box->height - 1;
    if (a->top < lo || b->top + b->height > hi) {   /* wheel toward them */
        loco__demo_push(d, I_SCROLL, box->ref, NULL);
        d->q[(d->tail - 1) % 48].n = a->top < lo ? -1 : 1;
        return;
    }
    if (a == b) loco__demo_click(d, a->ref);
    else {
        loco__demo_push(d, I_DRAG, a->ref, NULL);
        d->q[(d->tail - 1) % 48].x = b->left + b->width / 2;
        d->q[(d->tail - 1) % 48].y = b->top + b->height / 2;
    }
    d->m[0] = 1;
}
const loco__task loco__task_click_scroll_list = {"click-scroll-list", click_scroll_list_gen, click_scroll_list_event,
    click_scroll_list_plan, NULL, 15000};
