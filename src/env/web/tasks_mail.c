/*
 * email-inbox (delete, star, reply, forward on one inbox) and click-menu (a
 * jQuery UI menu whose submenus open on hover).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

/* ---------------------------------------------------------------- email-inbox */
/* ti[0] the subtask (0 delete, 1 star, 2 reply, 3 forward), ti[1] the target
 * email, ti[2] the email open (-1 none); per email k: ti[10+k] thread,
 * ti[14+k] sender, ti[18+k] trash, ti[22+k] star; ti[30] inbox, ti[31]
 * view, ti[32] Reply, ti[33] Forward, ti[34] back, ti[35] reply form,
 * ti[36] its textarea, ti[37] forward form, ti[38] its input, ti[39] Send
 * (reply), ti[40] Send (forward), ti[41] view sender, ti[42] view body. */
static const char *const subjects[] = {"Lunch", "Meeting", "Invoice", "Trip", "Party", "Report", "Hello", "Tickets"};
static const char *const tasks[4] = {"delete", "star", "reply", "forward"};
#define N_MAIL 3

static int icon(loco__page *p, int parent, const char *text, const char *cls) {
    int s = loco__add(p, parent, K_LINK, "SPAN", text);
    loco__set_class(p, s, cls);
    p->n[s].display = D_INLINE_BLOCK; p->n[s].w = 14; p->n[s].center = 1;
    return s;
}

static void email_inbox_gen(loco__page *p) {
    int who[N_MAIL], task = loco__randi(p, 0, 3), tgt = loco__randi(p, 0, N_MAIL - 1);
    for (int k = 0; k < N_MAIL; k++) {
        int dup;
        do {
            who[k] = loco__randi(p, 0, loco__n_names - 1);
            dup = 0;
            for (int q = 0; q < k; q++) dup |= who[q] == who[k];
        } while (dup);
    }
    int inbox = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, inbox, "main");
    for (int k = 0; k < N_MAIL; k++) {
        int th = loco__add(p, inbox, K_BOX, "DIV", NULL);
        loco__set_class(p, th, "email-thread");
        p->n[th].border = 1; p->n[th].pad[0] = p->n[th].pad[2] = 2; p->n[th].margin[2] = 2;
        memcpy(p->n[th].bcolor, (uint8_t[4]){0xDD, 0xDD, 0xDD, 255}, 4);
        int snd = loco__add(p, th, K_BOX, "SPAN", loco__names[who[k]]);
        loco__set_class(p, snd, "email-sender");
        p->n[snd].display = D_INLINE_BLOCK; p->n[snd].w = 96; p->n[snd].bold = 1;
        p->ti[18 + k] = icon(p, th, "T", "trash");
        p->ti[22 + k] = icon(p, th, "*", "star");
        int sub = loco__add(p, th, K_BOX, "DIV", subjects[loco__randi(p, 0, 7)]);
        loco__set_class(p, sub, "email-subject");
        p->ti[10 + k] = th; p->ti[14 + k] = snd;
    }
    int view = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, view, "email");
    p->ti[34] = icon(p, view, "<", "email-back");
    p->ti[41] = loco__add(p, view, K_BOX, "DIV", "");
    loco__set_class(p, p->ti[41], "email-sender");
    p->n[p->ti[41]].bold = 1;
    p->ti[42] = loco__add(p, view, K_BOX, "DIV", "");
    loco__set_class(p, p->ti[42], "email-body");
    p->ti[32] = loco__button(p, view, "Reply");
    p->ti[33] = loco__button(p, view, "Forward");
    int rf = loco__add(p, view, K_BOX, "DIV", NULL);
    loco__set_id(p, rf, "reply");
    p->ti[36] = loco__add(p, rf, K_TEXTAREA, "TEXTAREA", NULL);
    loco__set_id(p, p->ti[36], "reply-text");
    loco__node *ta = &p->n[p->ti[36]];
    ta->w = 120; ta->h = 30; ta->border = 1; ta->font_px = 13; ta->scroll = 1;
    memcpy(ta->bcolor, (uint8_t[4]){0x76, 0x76, 0x76, 255}, 4);
    loco__set_bg(p, p->ti[36], 0xFFFFFF);
    p->ti[39] = loco__button(p, rf, "Send");
    loco__set_id(p, p->ti[39], "send-reply");
    int ff = loco__add(p, view, K_BOX, "DIV", NULL);
    loco__set_id(p, ff, "forward");
    p->ti[38] = loco__input(p, ff, INPUT_TEXT, 90);
    loco__set_id(p, p->ti[38], "forward-sender");
    p->ti[40] = loco__button(p, ff, "Send");
    loco__set_id(p, p->ti[40], "send-forward");
    loco__hide(p, view, 1); loco__hide(p, rf, 1); loco__hide(p, ff, 1);
    p->ti[30] = inbox; p->ti[31] = view; p->ti[35] = rf; p->ti[37] = ff;
    p->ti[0] = task; p->ti[1] = tgt; p->ti[2] = -1;
    const char *by = loco__names[who[tgt]];
    loco__set_field(p, "by", by);
    loco__set_field(p, "task", tasks[task]);
    if (task == 0) loco__set_utterance(p, "Find the email by %s and click the trash icon to delete it.", by);
    else if (task == 1) loco__set_utterance(p, "Find the email by %s and click the star icon to mark it as important.", by);
    else if (task == 2) {
        char msg[LOCO_ENV_STR];
        snprintf(msg, sizeof msg, "%s %s", loco__words_list[loco__randi(p, 0, loco__n_words - 1)],
                 loco__words_list[loco__randi(p, 0, loco__n_words - 1)]);
        loco__strcpy(p->ts[0], msg, LOCO_ENV_STR);
        loco__set_utterance(p, "Find the email by %s and reply to them with the text \"%s\".", by, msg);
        loco__set_field(p, "message", msg);
    } else {
        int to;
        do to = loco__randi(p, 0, loco__n_names - 1); while (to == who[tgt]);
        loco__strcpy(p->ts[0], loco__names[to], LOCO_ENV_STR);
        loco__set_utterance(p, "Find the email by %s and forward that email to %s.", by, p->ts[0]);
        loco__set_field(p, "to", p->ts[0]);
    }
}
static void email_inbox_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < N_MAIL; k++) {
        if (i == p->ti[18 + k]) { if (p->ti[0] == 0 && k == p->ti[1]) loco__win(p); else loco__lose(p); return; }
        if (i == p->ti[22 + k]) { if (p->ti[0] == 1 && k == p->ti[1]) loco__win(p); else loco__lose(p); return; }
        if (loco__within(p, i, p->ti[10 + k])) {   /* open the email */
            p->ti[2] = k;
            loco__set_text(p, p->ti[41], p->n[p->ti[14 + k]].e.text);
            loco__set_text(p, p->ti[42], p->n[p->n[p->ti[22 + k]].next].e.text);
            loco__hide(p, p->ti[30], 1); loco__hide(p, p->ti[31], 0);
            return;
        }
    }
    if (i == p->ti[34]) { loco__hide(p, p->ti[31], 1); loco__hide(p, p->ti[30], 0); p->ti[2] = -1; return; }
    if (loco__within(p, i, p->ti[32])) { loco__hide(p, p->ti[35], 0); loco__hide(p, p->ti[37], 1); return; }
    if (loco__within(p, i, p->ti[33])) { loco__hide(p, p->ti[37], 0); loco__hide(p, p->ti[35], 1); return; }
    int reply = loco__within(p, i, p->ti[39]), fwd = loco__within(p, i, p->ti[40]);
    if (!reply && !fwd) return;
    int ok = p->ti[2] == p->ti[1] && p->ti[0] == (reply ? 2 : 3) &&
             !strcmp(p->n[p->ti[reply ? 36 : 38]].e.value, p->ts[0]);
    if (ok) loco__win(p); else loco__lose(p);
}
/* Inbox: the icon in the sender's row, or open the email; email: Reply or
 * Forward; form: fill it (TYPE_FIELD) and Send. */
static void email_inbox_plan(loco__demo *d, const loco_env_obs *o) {
    const char *by = loco__obs_field(o, "by"), *task = loco__obs_field(o, "task");
    int fwd = !strcmp(task, "forward");
    int form = loco__obs_find_id(o, fwd ? "forward-sender" : "reply-text");
    if (form) {
        loco__demo_click(d, form);
        loco__demo_field(d, loco__obs_field_index(o, fwd ? "to" : "message"));
        loco__demo_click(d, loco__obs_find_id(o, fwd ? "send-forward" : "send-reply"));
        return;
    }
    if (loco__obs_find_id(o, "email")) {
        loco__demo_click(d, loco__obs_find_text(o, "BUTTON", fwd ? "Forward" : "Reply"));
        return;
    }
    for (int k = 0; k < o->n_elems; k++) {
        if (strcmp(o->elems[k].classes, "email-sender") || strcmp(o->elems[k].text, by)) continue;
        if (!strcmp(task, "delete") || !strcmp(task, "star")) {
            for (int q = k + 1; q < o->n_elems && q < k + 4; q++)
                if (!strcmp(o->elems[q].classes, !strcmp(task, "delete") ? "trash" : "star")) {
                    loco__demo_click(d, o->elems[q].ref);
                    return;
                }
        }
        loco__demo_click(d, o->elems[k].ref);
        return;
    }
}
const loco__task loco__task_email_inbox = {"email-inbox", email_inbox_gen, email_inbox_event, email_inbox_plan, NULL, 0};

/* ---------------------------------------------------------------- click-menu */
/* A vertical menu; an item with a submenu opens it to its right on hover
 * (closing the other submenus of its level).  Clicking the asked leaf wins,
 * another leaf loses.  ti[0] items; item k: ti[2+k] node, ti[20+k] its
 * submenu (-1 none), ti[40+k] its parent item (-1 top level). */
static void menu_level(loco__page *p, int parent_item, int depth, float x, float y) {
    int n = loco__randi(p, 2, 4);
    int ul = loco__add(p, p->area, K_BOX, "UL", NULL);   /* menus follow each other, later on top */
    loco__set_class(p, ul, "ui-menu");
    p->n[ul].absolute = 1; p->n[ul].x = x; p->n[ul].y = y; p->n[ul].w = 52; p->n[ul].border = 1;
    memcpy(p->n[ul].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    loco__set_bg(p, ul, 0xFFFFFF);
    if (depth > 0) loco__hide(p, ul, 1);
    if (parent_item >= 0) p->ti[20 + parent_item] = ul;
    int mine[4];
    for (int k = 0; k < n && p->ti[0] < 18; k++) {
        char name[LOCO_ENV_STR];
        int dup;
        do {
            snprintf(name, sizeof name, "%s", loco__names[loco__randi(p, 0, loco__n_names - 1)]);
            dup = 0;
            for (int q = 0; q < p->ti[0]; q++) dup |= !strcmp(p->n[p->ti[2 + q]].e.text, name);
        } while (dup);
        int id = p->ti[0]++;
        int li = loco__add(p, ul, K_BOX, "LI", name);
        loco__set_class(p, li, "ui-menu-item");
        p->n[li].pad[0] = p->n[li].pad[2] = 2; p->n[li].pad[3] = 3;
        p->ti[2 + id] = li; p->ti[20 + id] = -1; p->ti[40 + id] = parent_item;
        mine[k] = id;
    }
    for (int k = 0; k < n; k++)
        if (depth < 2 && loco__randf(p) < 0.4f && p->ti[0] < 16)
            menu_level(p, mine[k], depth + 1, x + 50, y + 17.0f * (float)k);
}
static void click_menu_gen(loco__page *p) {
    p->ti[0] = 0;
    menu_level(p, -1, 0, 2, 2);
    int leaves[18], nl = 0;
    for (int k = 0; k < p->ti[0]; k++) if (p->ti[20 + k] < 0) leaves[nl++] = k;
    int t = leaves[loco__randi(p, 0, nl - 1)], chain[4], nc = 0;
    for (int k = t; k >= 0 && nc < 4; k = p->ti[40 + k]) chain[nc++] = k;
    char path[LOCO_ENV_STR] = "";
    for (int k = nc - 1; k >= 0; k--) {
        strncat(path, p->n[p->ti[2 + chain[k]]].e.text, sizeof path - strlen(path) - 1);
        if (k) strncat(path, ">", sizeof path - strlen(path) - 1);
    }
    p->ti[1] = t;
    loco__set_utterance(p, "Select %s", path);
    loco__set_field(p, "target", path);
}
static void click_menu_event(loco__page *p, int ev, int i) {
    for (int k = 0; k < p->ti[0]; k++) {
        if (i != p->ti[2 + k]) continue;
        if (ev == EV_HOVER) {   /* open this item's submenu, close its siblings' (and below) */
            for (int q = 0; q < p->ti[0]; q++) {
                int ul = p->ti[20 + q];
                if (ul < 0) continue;
                int keep = 0;   /* keep q open if it is k or an ancestor of k */
                for (int a = k; a >= 0; a = p->ti[40 + a]) keep |= a == q;
                loco__hide(p, ul, !keep);
            }
        } else if (ev == EV_CLICK && p->ti[20 + k] < 0) {
            if (k == p->ti[1]) loco__win(p); else loco__lose(p);
        }
        return;
    }
}
/* Hover along the path; click the leaf once it shows. */
static void click_menu_plan(loco__demo *d, const loco_env_obs *o) {
    char path[LOCO_ENV_STR], *parts[4];
    int np = 0;
    loco__strcpy(path, loco__obs_field(o, "target"), LOCO_ENV_STR);
    for (char *s = path; s && np < 4;) {
        parts[np++] = s;
        s = strchr(s, '>');
        if (s) *s++ = 0;
    }
    int last = loco__obs_find_text(o, "LI", parts[np - 1]);
    if (last) { loco__demo_click(d, last); return; }
    for (int k = np - 2; k >= 0; k--) {
        int r = loco__obs_find_text(o, "LI", parts[k]);
        if (r && !loco__obs_find_text(o, "LI", parts[k + 1])) { loco__demo_push(d, I_MOVE, r, NULL); return; }
    }
}
const loco__task loco__task_click_menu = {"click-menu", click_menu_gen, click_menu_event, click_menu_plan, NULL, 0};
