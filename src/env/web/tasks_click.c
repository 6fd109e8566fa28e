/*
 * Click tasks (MiniWoB++'s click-*): each is a generator (the page from a
 * seed, with MiniWoB++'s instruction template and fields), an event handler
 * (the page's success logic: endEpisode(1, true) for a win, -1 for a wrong
 * answer) and a demonstrator planner that reads only the observation.
 */
#include <stdio.h>
#include <string.h>
#include "env/web/web.h"

static void absolute(loco__page *p, int i, float x, float y) {
    p->n[i].absolute = 1; p->n[i].x = x; p->n[i].y = y;
}

/* ---------------------------------------------------------------- click-test */
static void click_test_gen(loco__page *p) {
    loco__set_utterance(p, "Click the button.");
    int w = loco__randi(p, 35, 100), l = loco__randi(p, 0, 160 - w - 2), u = loco__randi(p, 0, 160 - w - 2);
    int b = loco__button(p, p->area, "Click Me!");
    loco__set_id(p, b, "subbtn");
    p->n[b].w = p->n[b].h = (int16_t)w;
    p->n[b].margin[3] = (int16_t)l; p->n[b].margin[0] = (int16_t)u;
    p->ti[0] = b;
}
static void click_test_event(loco__page *p, int ev, int i) {
    if (ev == EV_CLICK && loco__within(p, i, p->ti[0])) loco__win(p);
}
static void click_test_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_id(o, "subbtn"));
}
const loco__task loco__task_click_test = {"click-test", click_test_gen, click_test_event, click_test_plan, NULL, 0};

/* -------------------------------------------------------------- click-test-2 */
static void click_test_2_gen(loco__page *p) {
    int first = loco__randi(p, 0, 1);
    const char *label[2] = {"ONE", "TWO"};
    loco__set_utterance(p, "Click button %s.", label[first]);
    loco__set_field(p, "target", label[first]);
    for (int k = 0; k < 2; k++) {
        int b = loco__button(p, p->area, label[k]);
        loco__set_id(p, b, k == 0 ? "subbtn" : "subbtn2");
        absolute(p, b, (float)loco__randi(p, 0, 118), (float)loco__randi(p, 0, 118));
        p->ti[k] = b;
    }
    p->ti[2] = first;
}
static void click_test_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 2; k++)
        if (loco__within(p, i, p->ti[k])) { if (k == p->ti[2]) loco__win(p); else loco__lose(p); }
}
static void click_button_by_field(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", loco__obs_field(o, "target")));
}
const loco__task loco__task_click_test_2 = {"click-test-2", click_test_2_gen, click_test_2_event, click_button_by_field, NULL, 0};

/* click-test-transfer: MiniWoB++ asks for ONE in its train data mode and TWO
 * in its test mode; this is the train mode. */
static void click_test_transfer_gen(loco__page *p) {
    click_test_2_gen(p);
    p->n_fields = 0;
    p->ti[2] = 0;
    loco__set_utterance(p, "Click button ONE.");
    loco__set_field(p, "target", "ONE");
}
const loco__task loco__task_click_test_transfer = {"click-test-transfer", click_test_transfer_gen, click_test_2_event,
    click_button_by_field, NULL, 0};

/* -------------------------------------------------------------- click-button */
static const char *const button_words[] = {"submit", "okay", "ok", "yes", "no", "cancel", "next", "previous"};
static const char *const lorem[] = {"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing",
    "elit", "sed", "do", "eiusmod", "tempor", "magna", "aliqua", "enim", "minim", "veniam", "quis",
    "nostrud", "ut", "labore", "et", "dolore", "ullamco", "laboris", "nisi", "aliquip", "commodo"};
#define N_LOREM ((int)(sizeof lorem / sizeof *lorem))

static void lorem3(loco__page *p, char *out, int cap) {
    out[0] = 0;
    for (int q = 0; q < 3; q++) {
        strncat(out, " ", (size_t)cap - strlen(out) - 1);
        strncat(out, loco__pick(p, lorem, N_LOREM), (size_t)cap - strlen(out) - 1);
    }
}

static void click_button_gen(loco__page *p) {
    int nb = 0;
    for (int i = 0; i < 6; i++) {
        float u = loco__randf(p);
        int must = i == 5 && nb == 0;
        char txt[LOCO_ENV_STR];
        if (u < 0.33f && !must) {
            lorem3(p, txt, sizeof txt);
            loco__add(p, p->area, K_BOX, "DIV", txt + 1);
        } else if (u < 0.66f && !must) {
            if (loco__randf(p) < 0.5f) {
                lorem3(p, txt, sizeof txt - 2);
                strcat(txt, ":");
                int sp = loco__add(p, p->area, K_BOX, "SPAN", txt + 1);
                p->n[sp].display = D_INLINE;
            }
            loco__input(p, p->area, INPUT_TEXT, loco__randi(p, 40, 150));
            loco__br(p, p->area);
        } else {
            char w[16];
            snprintf(w, sizeof w, "%s", loco__pick(p, button_words, 8));
            if (loco__randf(p) < 0.5f) w[0] = (char)(w[0] - 'a' + 'A');
            p->ti[1 + nb++] = loco__button(p, p->area, w);
            if (loco__randf(p) < 0.5f) loco__br(p, p->area);
        }
    }
    p->ti[0] = nb;
    int c = p->ti[1 + loco__randi(p, 0, nb - 1)];
    loco__strcpy(p->ts[0], p->n[c].e.text, LOCO_ENV_STR);
    loco__set_utterance(p, "Click on the \"%s\" button.", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
}
static void click_button_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (loco__within(p, i, p->ti[1 + k])) {
            if (!strcmp(p->n[p->ti[1 + k]].e.text, p->ts[0])) loco__win(p); else loco__lose(p);
        }
}
const loco__task loco__task_click_button = {"click-button", click_button_gen, click_button_event, click_button_by_field, NULL, 0};

/* ----------------------------------------------------- click-button-sequence */
static void click_button_sequence_gen(loco__page *p) {
    loco__set_utterance(p, "Click button ONE, then click button TWO.");
    const char *label[2] = {"ONE", "TWO"};
    for (int k = 0; k < 2; k++) {
        int b = loco__button(p, p->area, label[k]);
        loco__set_id(p, b, k == 0 ? "subbtn" : "subbtn2");
        absolute(p, b, (float)loco__randi(p, 0, 118), (float)loco__randi(p, 0, 118));
        p->ti[k] = b;
    }
}
static void click_button_sequence_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    if (loco__within(p, i, p->ti[0])) p->ti[2] = 1;
    else if (loco__within(p, i, p->ti[1])) { if (p->ti[2]) loco__win(p); else loco__lose(p); }
}
static void click_button_sequence_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "ONE"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "TWO"));
}
const loco__task loco__task_click_button_sequence = {"click-button-sequence", click_button_sequence_gen,
    click_button_sequence_event, click_button_sequence_plan, NULL, 0};

/* ---------------------------------------------------------------- click-dialog */
/* A jQuery UI dialog: a title bar with a close button "x", a text body. */
static int dialog(loco__page *p, const char *title, int *body) {
    int dlg = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_class(p, dlg, "ui-dialog");
    absolute(p, dlg, (float)loco__randi(p, 0, 20), (float)loco__randi(p, 0, 40));
    p->n[dlg].w = 140; p->n[dlg].border = 1;
    loco__set_bg(p, dlg, 0xFFFFFF);
    memcpy(p->n[dlg].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    int bar = loco__add(p, dlg, K_BOX, "DIV", NULL);
    loco__set_class(p, bar, "ui-dialog-titlebar");
    loco__set_bg(p, bar, 0xE9E9E9);
    for (int k = 0; k < 4; k++) p->n[bar].pad[k] = 3;
    int t = loco__add(p, bar, K_BOX, "SPAN", title);
    p->n[t].display = D_INLINE; p->n[t].bold = 1;
    int x = loco__button(p, bar, "x");
    loco__set_class(p, x, "ui-button ui-dialog-titlebar-close");
    absolute(p, x, 118, 2);
    p->n[x].w = 18; p->n[x].h = 16; p->n[x].pad[1] = p->n[x].pad[3] = 0; p->n[x].font_px = 10;
    int b = loco__add(p, dlg, K_BOX, "DIV", NULL);
    for (int k = 0; k < 4; k++) p->n[b].pad[k] = 4;
    *body = b;
    return x;
}

static void click_dialog_gen(loco__page *p) {
    loco__set_utterance(p, "Close the dialog box by clicking the \"x\".");
    char txt[LOCO_ENV_STR];
    lorem3(p, txt, sizeof txt);
    int body;
    p->ti[0] = dialog(p, "Dialog", &body);
    loco__set_text(p, body, txt + 1);
}
static void click_dialog_event(loco__page *p, int ev, int i) {
    if (ev == EV_CLICK && loco__within(p, i, p->ti[0])) loco__win(p);
}
static void click_dialog_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "x"));
}
const loco__task loco__task_click_dialog = {"click-dialog", click_dialog_gen, click_dialog_event, click_dialog_plan, NULL, 0};

static void click_dialog_2_gen(loco__page *p) {
    static const char *const targets[] = {"x", "OK", "Cancel"};
    int tgt = loco__randi(p, 0, 2), body;
    char txt[LOCO_ENV_STR];
    lorem3(p, txt, sizeof txt);
    p->ti[0] = dialog(p, "Dialog", &body);
    loco__set_text(p, body, txt + 1);
    int pane = loco__add(p, p->n[body].parent, K_BOX, "DIV", NULL);
    p->n[pane].pad[0] = p->n[pane].pad[2] = 4; p->n[pane].pad[3] = 30;
    p->ti[1] = loco__button(p, pane, "OK");
    p->n[p->ti[1]].margin[1] = 6;
    p->ti[2] = loco__button(p, pane, "Cancel");
    p->ti[3] = tgt;
    loco__set_utterance(p, "Click the button in the dialog box labeled \"%s\".", targets[tgt]);
    loco__set_field(p, "target", targets[tgt]);
}
static void click_dialog_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 3; k++)
        if (loco__within(p, i, p->ti[k])) { if (k == p->ti[3]) loco__win(p); else loco__lose(p); }
}
const loco__task loco__task_click_dialog_2 = {"click-dialog-2", click_dialog_2_gen, click_dialog_2_event,
    click_button_by_field, NULL, 0};

/* ---------------------------------------------------------------- click-link */
static void click_link_gen(loco__page *p) {
    int para = loco__add(p, p->area, K_BOX, "P", NULL);
    int nw = loco__randi(p, 10, 16), nl = 0;
    char used[20][LOCO_ENV_STR];
    for (int k = 0; k < nw; k++) {
        const char *w = loco__pick(p, lorem, N_LOREM);
        int link = loco__randf(p) < 0.3f;
        for (int q = 0; q < nl && link; q++)
            if (!strcmp(used[q], w)) link = 0;   /* link texts are unique */
        loco__words(p, para, w, link ? K_LINK : K_TEXT, link ? "SPAN" : "t");
        if (link) {
            int l = p->n_nodes - 1;
            loco__set_class(p, l, "alink");
            loco__set_fg(p, l, 0x0000EE);
            loco__strcpy(used[nl], w, LOCO_ENV_STR);
            p->ti[1 + nl++] = l;
        }
    }
    if (nl == 0) {   /* at least one link */
        loco__words(p, para, "link", K_LINK, "SPAN");
        int l = p->n_nodes - 1;
        loco__set_class(p, l, "alink"); loco__set_fg(p, l, 0x0000EE);
        p->ti[1 + nl++] = l;
    }
    p->ti[0] = nl;
    int c = p->ti[1 + loco__randi(p, 0, nl - 1)];
    loco__strcpy(p->ts[0], p->n[c].e.text, LOCO_ENV_STR);
    loco__set_utterance(p, "Click on the link \"%s\".", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
}
static void click_link_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[1 + k]) { if (!strcmp(p->n[i].e.text, p->ts[0])) loco__win(p); else loco__lose(p); }
}
static void click_link_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_text(o, "SPAN", loco__obs_field(o, "target")));
}
const loco__task loco__task_click_link = {"click-link", click_link_gen, click_link_event, click_link_plan, NULL, 0};

/* ---------------------------------------------------------------- focus-text */
static void focus_text_gen(loco__page *p) {
    loco__set_utterance(p, "Focus into the textbox.");
    int f = loco__add(p, p->area, K_BOX, "DIV", NULL);
    p->n[f].margin[3] = (int16_t)loco__randi(p, 0, 20); p->n[f].margin[0] = (int16_t)loco__randi(p, 0, 60);
    p->ti[0] = loco__input(p, f, INPUT_TEXT, 120);
    loco__set_id(p, p->ti[0], "tt");
}
static void focus_text_event(loco__page *p, int ev, int i) {
    if (ev == EV_FOCUS && i == p->ti[0]) loco__win(p);
}
static void focus_text_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", 0));
}
const loco__task loco__task_focus_text = {"focus-text", focus_text_gen, focus_text_event, focus_text_plan, NULL, 0};

static const char *const ordinals[] = {"1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th",
                                       "11th", "12th", "13th", "14th", "15th", "16th", "17th", "18th", "19th", "20th"};

static void focus_text_2_gen(loco__page *p) {
    int tgt = loco__randi(p, 0, 2);
    loco__set_utterance(p, "Focus into the %s input textbox.", ordinals[tgt]);
    char num[16];
    snprintf(num, sizeof num, "%d", tgt + 1);
    loco__set_field(p, "target", num);
    for (int k = 0; k < 3; k++) {
        int f = loco__add(p, p->area, K_BOX, "DIV", NULL);
        p->n[f].margin[3] = (int16_t)loco__randi(p, 0, 20); p->n[f].margin[0] = (int16_t)loco__randi(p, 0, 10);
        p->ti[k] = loco__input(p, f, INPUT_TEXT, 120);
    }
    p->ti[3] = tgt;
}
static void focus_text_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_FOCUS) return;
    for (int k = 0; k < 3; k++)
        if (i == p->ti[k]) { if (k == p->ti[3]) loco__win(p); else loco__lose(p); }
}
static void focus_text_2_plan(loco__demo *d, const loco_env_obs *o) {
    int n = 0;
    sscanf(loco__obs_field(o, "target"), "%d", &n);
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", n - 1));
}
const loco__task loco__task_focus_text_2 = {"focus-text-2", focus_text_2_gen, focus_text_2_event, focus_text_2_plan, NULL, 0};

/* ---------------------------------------------------------------- click-tab */
/* jQuery UI tabs: a row of tab links; the active tab's panel shows below. */
static void tabs(loco__page *p, int n, int *tab, int *panel) {
    int bar = loco__add(p, p->area, K_BOX, "UL", NULL);
    loco__set_bg(p, bar, 0xE9E9E9);
    for (int k = 0; k < 4; k++) p->n[bar].pad[k] = 2;
    for (int k = 0; k < n; k++) {
        int li = loco__add(p, bar, K_BOX, "LI", NULL);
        p->n[li].display = D_INLINE_BLOCK; p->n[li].border = 1; p->n[li].margin[1] = 2;
        memcpy(p->n[li].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
        loco__set_bg(p, li, k == 0 ? 0xFFFFFF : 0xF6F6F6);
        char t[24];
        snprintf(t, sizeof t, "Tab #%d", k + 1);
        tab[k] = loco__add(p, li, K_LINK, "A", t);
        for (int q = 0; q < 4; q++) p->n[tab[k]].pad[q] = 3;
        loco__set_fg(p, tab[k], 0x454545);
        panel[k] = loco__add(p, p->area, K_BOX, "DIV", NULL);
        loco__set_id(p, panel[k], t + 4);
        for (int q = 0; q < 4; q++) p->n[panel[k]].pad[q] = 4;
        if (k) loco__hide(p, panel[k], 1);
    }
}
static void show_tab(loco__page *p, const int *tab, const int *panel, int n, int which) {
    for (int k = 0; k < n; k++) {
        loco__hide(p, panel[k], k != which);
        loco__set_bg(p, p->n[tab[k]].parent, k == which ? 0xFFFFFF : 0xF6F6F6);
    }
}

static void click_tab_gen(loco__page *p) {
    int n = loco__randi(p, 2, 6), tgt = loco__randi(p, 0, n - 1);
    tabs(p, n, p->ti + 2, p->ti + 10);
    for (int k = 0; k < n; k++) {
        char txt[LOCO_ENV_STR];
        lorem3(p, txt, sizeof txt);
        loco__set_text(p, p->ti[10 + k], txt + 1);
    }
    p->ti[0] = n; p->ti[1] = tgt;
    loco__set_utterance(p, "Click on Tab #%d.", tgt + 1);
    char num[16];
    snprintf(num, sizeof num, "%d", tgt + 1);
    loco__set_field(p, "target", num);
}
static void click_tab_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[2 + k]) { if (k == p->ti[1]) loco__win(p); else loco__lose(p); }
}
static void click_tab_plan(loco__demo *d, const loco_env_obs *o) {
    char t[24];
    snprintf(t, sizeof t, "Tab #%s", loco__obs_field(o, "target"));
    loco__demo_click(d, loco__obs_find_text(o, "A", t));
}
const loco__task loco__task_click_tab = {"click-tab", click_tab_gen, click_tab_event, click_tab_plan, NULL, 0};

/* click-tab-2: the target link is in one of the panels; switching tabs is free. */
static void click_tab_2_gen(loco__page *p) {
    int n = loco__randi(p, 2, 6), nl = 0;
    tabs(p, n, p->ti + 2, p->ti + 10);
    for (int k = 0; k < n; k++) {
        int nw = loco__randi(p, 4, 8);
        for (int q = 0; q < nw; q++) {
            const char *w = loco__pick(p, loco__words_list, loco__n_words);
            int link = loco__randf(p) < 0.4f;
            for (int r = 0; r < nl && link; r++)
                if (!strcmp(p->n[p->ti[20 + r]].e.text, w)) link = 0;
            loco__words(p, p->ti[10 + k], w, link ? K_LINK : K_TEXT, link ? "SPAN" : "t");
            if (link && nl < 24) {
                int l = p->n_nodes - 1;
                loco__set_fg(p, l, 0x0000EE);
                p->ti[20 + nl++] = l;
            }
        }
    }
    if (nl == 0) {
        loco__words(p, p->ti[10 + n - 1], "link", K_LINK, "SPAN");
        p->ti[20 + nl++] = p->n_nodes - 1;
    }
    p->ti[0] = n; p->ti[1] = nl;
    loco__strcpy(p->ts[0], p->n[p->ti[20 + loco__randi(p, 0, nl - 1)]].e.text, LOCO_ENV_STR);
    loco__set_utterance(p, "Switch between the tabs to find and click on the link \"%s\".", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
}
static void click_tab_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[2 + k]) show_tab(p, p->ti + 2, p->ti + 10, p->ti[0], k);
    for (int k = 0; k < p->ti[1]; k++)
        if (i == p->ti[20 + k]) { if (!strcmp(p->n[i].e.text, p->ts[0])) loco__win(p); else loco__lose(p); }
}
/* Look in the open panel; otherwise open the next tab (m[0] counts tabs tried). */
static void click_tab_2_plan(loco__demo *d, const loco_env_obs *o) {
    int r = loco__obs_find_text(o, "SPAN", loco__obs_field(o, "target"));
    if (r) { loco__demo_click(d, r); return; }
    char t[24];
    snprintf(t, sizeof t, "Tab #%d", ++d->m[0] + 1);
    loco__demo_click(d, loco__obs_find_text(o, "A", t));
}
const loco__task loco__task_click_tab_2 = {"click-tab-2", click_tab_2_gen, click_tab_2_event, click_tab_2_plan, NULL, 0};
