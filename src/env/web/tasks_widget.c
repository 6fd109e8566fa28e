/*
 * Widget tasks: date and time inputs, a drop-down list, a spinner, an
 * autocomplete field, collapsible sections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

/* ti[0] the field, ti[1] Submit, ts[0] the expected value. */
static void value_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}
static void click_field_type_submit(loco__demo *d, const loco_env_obs *o, const char *tag) {
    loco__demo_click(d, loco__obs_find_tag(o, tag, 0));
    loco__demo_field(d, loco__obs_field_index(o, "target"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}

/* ---------------------------------------------------------------- enter-date */
static void enter_date_gen(loco__page *p) {
    int y = loco__randi(p, 2010, 2019), m = loco__randi(p, 1, 12), d = loco__randi(p, 1, 28);
    char t[16];
    snprintf(t, sizeof t, "%02d/%02d/%04d", m, d, y);
    snprintf(p->ts[0], LOCO_ENV_STR, "%04d-%02d-%02d", y, m, d);
    loco__set_utterance(p, "Enter %s as the date and hit submit.", t);
    loco__set_field(p, "target", t);
    int f = loco__add(p, p->area, K_BOX, "DIV", NULL);
    p->n[f].margin[0] = (int16_t)loco__randi(p, 0, 20); p->n[f].margin[3] = (int16_t)loco__randi(p, 0, 20);
    p->ti[0] = loco__input(p, f, INPUT_DATE, 110);
    loco__set_id(p, p->ti[0], "tt");
    loco__br(p, f);
    p->ti[1] = loco__submit(p, f, "Submit", 6, 25);
}
static void enter_date_plan(loco__demo *d, const loco_env_obs *o) { click_field_type_submit(d, o, "INPUT_date"); }
const loco__task loco__task_enter_date = {"enter-date", enter_date_gen, value_event, enter_date_plan, NULL, 0};

static void enter_time_gen(loco__page *p) {
    int h = loco__randi(p, 1, 12), m = loco__randi(p, 0, 59), pm = loco__randi(p, 0, 1);
    char t[16], f[16];
    snprintf(t, sizeof t, "%d:%02d %s", h, m, pm ? "PM" : "AM");
    snprintf(f, sizeof f, "%d:%02d%s", h, m, pm ? "PM" : "AM");
    snprintf(p->ts[0], LOCO_ENV_STR, "%02d:%02d", h % 12 + (pm ? 12 : 0), m);
    loco__set_utterance(p, "Enter %s as the time and press submit.", t);
    loco__set_field(p, "target", f);
    int fm = loco__add(p, p->area, K_BOX, "DIV", NULL);
    p->n[fm].margin[0] = (int16_t)loco__randi(p, 0, 20); p->n[fm].margin[3] = (int16_t)loco__randi(p, 0, 20);
    p->ti[0] = loco__input(p, fm, INPUT_TIME, 90);
    loco__set_id(p, p->ti[0], "tt");
    loco__br(p, fm);
    p->ti[1] = loco__submit(p, fm, "Submit", 6, 25);
}
static void enter_time_plan(loco__demo *d, const loco_env_obs *o) { click_field_type_submit(d, o, "INPUT_time"); }
const loco__task loco__task_enter_time = {"enter-time", enter_time_gen, value_event, enter_time_plan, NULL, 0};

/* ---------------------------------------------------------------- choose-list */
static const char *const countries[] = {
    "Albania", "Algeria", "Angola", "Argentina", "Armenia", "Austria", "Bahrain", "Belarus", "Belgium", "Belize",
    "Bolivia", "Botswana", "Brazil", "Bulgaria", "Burundi", "Cameroon", "Canada", "Chile", "Colombia", "Croatia",
    "Cuba", "Cyprus", "Denmark", "Ecuador", "Egypt", "Estonia", "Ethiopia", "Fiji", "Finland", "France", "Gabon",
    "Georgia", "Ghana", "Greece", "Grenada", "Guinea", "Haiti", "Honduras", "Hungary", "Iceland", "India",
    "Ireland", "Jamaica", "Japan", "Jordan", "Kenya", "Kuwait", "Latvia", "Lebanon", "Libya", "Malawi", "Mali",
    "Malta", "Mexico", "Monaco", "Morocco", "Nepal", "Niger", "Nigeria", "Norway", "Oman", "Panama", "Peru",
    "Poland", "Qatar", "Romania", "Rwanda", "Samoa", "Senegal", "Serbia", "Spain", "Sudan", "Sweden", "Togo",
    "Tonga", "Tunisia", "Uganda", "Ukraine", "Uruguay", "Vietnam", "Yemen", "Zambia"};
#define N_COUNTRIES ((int)(sizeof countries / sizeof *countries))

static void choose_list_gen(loco__page *p) {
    int idx[N_COUNTRIES], n = loco__randi(p, 3, 8);
    for (int k = 0; k < N_COUNTRIES; k++) idx[k] = k;
    loco__shuffle(p, idx, N_COUNTRIES);
    int s = loco__add(p, p->area, K_SELECT, "SELECT", NULL);
    p->n[s].font_px = 13; p->n[s].border = 1; p->n[s].pad[1] = p->n[s].pad[3] = 2;
    memcpy(p->n[s].bcolor, (uint8_t[4]){0x76, 0x76, 0x76, 255}, 4);
    loco__set_bg(p, s, 0xFFFFFF);
    for (int k = 0; k < n; k++) {
        int o = loco__add(p, s, K_OPTION, "OPTION", countries[idx[k]]);
        loco__set_bg(p, o, 0xFFFFFF);
    }
    loco__set_value(p, s, countries[idx[0]]);
    const char *t = countries[idx[loco__randi(p, 0, n - 1)]];
    loco__strcpy(p->ts[0], t, LOCO_ENV_STR);
    loco__set_utterance(p, "Select %s from the list and click Submit.", t);
    loco__set_field(p, "target", t);
    loco__br(p, p->area);
    p->ti[0] = s;
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
    p->n[p->ti[1]].margin[0] = 4;
}
/* Open the list, then pick the option (it shows only while open). */
static void choose_list_plan(loco__demo *d, const loco_env_obs *o) {
    const char *t = loco__obs_field(o, "target");
    int opt = loco__obs_find_text(o, "OPTION", t);
    const loco_env_elem *s = loco__obs_ref(o, loco__obs_find_tag(o, "SELECT", 0));
    if (s && !strcmp(s->value, t) && !opt) { loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit")); return; }
    loco__demo_click(d, opt ? opt : s ? s->ref : 0);
}
const loco__task loco__task_choose_list = {"choose-list", choose_list_gen, value_event, choose_list_plan, NULL, 0};

/* ---------------------------------------------------------------- use-spinner */
/* ti[0] the input, ti[1] Submit, ti[2]/ti[3] up/down, ti[4] the target. */
static void use_spinner_gen(loco__page *p) {
    int t = loco__randi(p, -10, 10);
    snprintf(p->ts[0], LOCO_ENV_STR, "%d", t);
    loco__set_utterance(p, "Select %d with the spinner and hit Submit.", t);
    loco__set_field(p, "target", p->ts[0]);
    int w = loco__add(p, p->area, K_BOX, "SPAN", NULL);
    loco__set_class(p, w, "ui-spinner ui-widget");
    p->n[w].display = D_INLINE_BLOCK; p->n[w].border = 1; p->n[w].margin[0] = 10;
    memcpy(p->n[w].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    p->ti[0] = loco__input(p, w, INPUT_TEXT, 60);
    loco__set_id(p, p->ti[0], "spinner");
    loco__set_value(p, p->ti[0], "0");
    for (int k = 0; k < 2; k++) {
        int a = loco__add(p, w, K_LINK, "A", k ? "v" : "^");
        loco__set_class(p, a, k ? "ui-spinner-button ui-spinner-down" : "ui-spinner-button ui-spinner-up");
        p->n[a].display = D_INLINE_BLOCK; p->n[a].w = 16; p->n[a].h = 11; p->n[a].center = 1;
        p->n[a].absolute = 1; p->n[a].x = 69; p->n[a].y = k ? 12 : 0;
        loco__set_bg(p, a, 0xE6E6E6);
        p->ti[2 + k] = a;
    }
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
    p->n[p->ti[1]].margin[0] = 6;
}
static void use_spinner_event(loco__page *p, int ev, int i) {
    if (ev == EV_CLICK && (i == p->ti[2] || i == p->ti[3])) {
        int v = atoi(p->n[p->ti[0]].e.value) + (i == p->ti[2] ? 1 : -1);
        char s[16];
        snprintf(s, sizeof s, "%d", v);
        loco__set_value(p, p->ti[0], s);
        return;
    }
    value_event(p, ev, i);
}
/* One arrow click at a time, reading the value back. */
static void use_spinner_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *in = loco__obs_ref(o, loco__obs_find_id(o, "spinner"));
    int v = in ? atoi(in->value) : 0, t = atoi(loco__obs_field(o, "target"));
    if (v == t) { loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit")); return; }
    for (int k = 0; k < o->n_elems; k++)
        if (strstr(o->elems[k].classes, v < t ? "ui-spinner-up" : "ui-spinner-down")) loco__demo_click(d, o->elems[k].ref);
}
const loco__task loco__task_use_spinner = {"use-spinner", use_spinner_gen, use_spinner_event, use_spinner_plan, NULL, 0};

/* ---------------------------------------------------------------- use-autocomplete */
/* ti[0] the input, ti[1] Submit, ti[10..17] the suggestion items; ts[1], ts[2]
 * the asked start and end. */
static void use_autocomplete_gen(loco__page *p) {
    const char *w;
    int nf, ne, unique;
    do {   /* a start (and end) that only the chosen word has */
        w = countries[loco__randi(p, 0, N_COUNTRIES - 1)];
        int len = (int)strlen(w);
        nf = loco__randi(p, 2, len > 4 ? 4 : len - 1);
        ne = loco__randf(p) < 0.5f ? loco__randi(p, 1, 3) : 0;
        unique = 1;
        for (int k = 0; k < N_COUNTRIES; k++) {
            const char *c = countries[k];
            int cl = (int)strlen(c);
            if (c != w && !strncmp(c, w, (size_t)nf) && (!ne || (cl >= ne && !strcmp(c + cl - ne, w + len - ne)))) unique = 0;
        }
    } while (!unique);
    int len = (int)strlen(w);
    memcpy(p->ts[1], w, (size_t)nf); p->ts[1][nf] = 0;
    loco__strcpy(p->ts[2], w + len - ne, LOCO_ENV_STR);
    if (ne) loco__set_utterance(p, "Enter an item that starts with \"%s\" and ends with \"%s\".", p->ts[1], p->ts[2]);
    else loco__set_utterance(p, "Enter an item that starts with \"%s\".", p->ts[1]);
    loco__set_field(p, "start", p->ts[1]);
    if (ne) loco__set_field(p, "end", p->ts[2]);
    loco__add(p, p->area, K_LABEL, "LABEL", "Tags:");
    p->ti[0] = loco__input(p, p->area, INPUT_TEXT, 100);
    loco__set_id(p, p->ti[0], "tags");
    int ul = loco__add(p, p->area, K_BOX, "UL", NULL);
    loco__set_class(p, ul, "ui-autocomplete ui-menu");
    p->n[ul].absolute = 1; p->n[ul].x = 30; p->n[ul].y = 24; p->n[ul].w = 108; p->n[ul].border = 1;
    memcpy(p->n[ul].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
    loco__set_bg(p, ul, 0xFFFFFF);
    for (int k = 0; k < 8; k++) {
        p->ti[10 + k] = loco__add(p, ul, K_BOX, "LI", "");
        loco__set_class(p, p->ti[10 + k], "ui-menu-item");
        p->n[p->ti[10 + k]].pad[3] = 3;
    }
    loco__hide(p, ul, 1);
    p->ti[2] = ul;
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
    p->n[p->ti[1]].margin[0] = 6;
}
static void use_autocomplete_event(loco__page *p, int ev, int i) {
    if (ev == EV_INPUT && i == p->ti[0]) {   /* suggest the items that start with the text */
        const char *v = p->n[i].e.value;
        int n = 0, len = (int)strlen(v);
        for (int k = 0; k < N_COUNTRIES && n < 8 && len > 0; k++)
            if (!strncasecmp(countries[k], v, (size_t)len)) loco__set_text(p, p->ti[10 + n++], countries[k]);
        for (int k = 0; k < 8; k++) loco__hide(p, p->ti[10 + k], k >= n);
        loco__hide(p, p->ti[2], n == 0);
        return;
    }
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 8; k++)
        if (i == p->ti[10 + k]) {
            loco__set_value(p, p->ti[0], p->n[i].e.text);
            loco__hide(p, p->ti[2], 1);
            return;
        }
    if (!loco__within(p, i, p->ti[1])) return;
    const char *v = p->n[p->ti[0]].e.value;
    size_t lv = strlen(v), le = strlen(p->ts[2]);
    int ok = !strncmp(v, p->ts[1], strlen(p->ts[1])) && lv >= le && !strcmp(v + lv - le, p->ts[2]);
    if (ok) loco__win(p); else loco__lose(p);
}
/* Type the start, then click the suggestion that also has the end. */
static void use_autocomplete_plan(loco__demo *d, const loco_env_obs *o) {
    const char *st = loco__obs_field(o, "start"), *en = loco__obs_field(o, "end");
    const loco_env_elem *in = loco__obs_ref(o, loco__obs_find_id(o, "tags"));
    size_t ls = strlen(st), le = strlen(en);
    if (in && in->value[0] && !strncmp(in->value, st, ls) && strlen(in->value) >= le &&
        !strcmp(in->value + strlen(in->value) - le, en) && !loco__obs_find_tag(o, "LI", 0)) {
        loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
        return;
    }
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        size_t l = strlen(e->text);
        if (!strcmp(e->tag, "LI") && !strncmp(e->text, st, ls) && l >= le && !strcmp(e->text + l - le, en)) {
            loco__demo_click(d, e->ref);
            return;
        }
    }
    if (in) {
        loco__demo_click(d, in->ref);
        if (in->value[0]) { loco__demo_key(d, "C-a"); loco__demo_key(d, "<Backspace>"); }
        loco__demo_type(d, st);
    }
}
const loco__task loco__task_use_autocomplete = {"use-autocomplete", use_autocomplete_gen, use_autocomplete_event,
    use_autocomplete_plan, NULL, 0};

/* ---------------------------------------------------------------- click-collapsible */
/* jQuery UI accordion: headers "Section #k"; a click opens its panel (and
 * closes the others).  ti[2+k] headers, ti[10+k] panels, ti[0] sections. */
static void accordion(loco__page *p, int n) {
    for (int k = 0; k < n; k++) {
        char t[24];
        snprintf(t, sizeof t, "Section #%d", k + 1);
        int h = loco__add(p, p->area, K_BOX, "H3", t);
        loco__set_class(p, h, "ui-accordion-header");
        loco__set_bg(p, h, 0xF6F6F6); p->n[h].border = 1; p->n[h].pad[0] = p->n[h].pad[2] = 3; p->n[h].pad[3] = 6;
        memcpy(p->n[h].bcolor, (uint8_t[4]){0xC5, 0xC5, 0xC5, 255}, 4);
        p->n[h].margin[0] = 2;
        int c = loco__add(p, p->area, K_BOX, "DIV", NULL);
        loco__set_class(p, c, "ui-accordion-content");
        for (int q = 0; q < 4; q++) p->n[c].pad[q] = 4;
        loco__hide(p, c, 1);
        p->ti[2 + k] = h; p->ti[10 + k] = c;
    }
    p->ti[0] = n;
}
static int accordion_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return 0;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[2 + k]) {
            int open = !p->n[p->ti[10 + k]].vis;
            for (int q = 0; q < p->ti[0]; q++) loco__hide(p, p->ti[10 + q], 1);
            loco__hide(p, p->ti[10 + k], !open);
            return 1;
        }
    return 0;
}

static const char *const words[] = {"lorem", "ipsum", "dolor", "amet", "magna", "enim", "minim", "nostrud",
    "commodo", "cras", "nunc", "odio", "proin", "justo", "purus", "morbi", "felis", "risus", "velit", "urna"};
#define N_WORDS ((int)(sizeof words / sizeof *words))

static void click_collapsible_gen(loco__page *p) {
    loco__set_utterance(p, "Expand the section below and click submit.");
    accordion(p, 1);
    char s[LOCO_ENV_STR] = "";
    for (int k = 0; k < 4; k++) { if (k) strcat(s, " "); strcat(s, words[loco__randi(p, 0, N_WORDS - 1)]); }
    loco__add(p, p->ti[10], K_BOX, "P", s);
    p->ti[1] = loco__submit(p, p->ti[10], "Submit", 6, 25);
}
static void click_collapsible_event(loco__page *p, int ev, int i) {
    if (accordion_event(p, ev, i)) return;
    if (ev == EV_CLICK && loco__within(p, i, p->ti[1])) loco__win(p);
}
static void click_collapsible_plan(loco__demo *d, const loco_env_obs *o) {
    int s = loco__obs_find_text(o, "BUTTON", "Submit");
    loco__demo_click(d, s ? s : loco__obs_find_text(o, "H3", "Section #1"));
}
const loco__task loco__task_click_collapsible = {"click-collapsible", click_collapsible_gen, click_collapsible_event,
    click_collapsible_plan, NULL, 0};

/* click-collapsible-2: links in the sections' text; ti[20+k] links, ti[1] count. */
static void click_collapsible_2_gen(loco__page *p) {
    int n = loco__randi(p, 2, 3), nl = 0;
    accordion(p, n);
    for (int k = 0; k < n; k++) {
        int nw = loco__randi(p, 4, 7);
        for (int q = 0; q < nw; q++) {
            const char *w = words[loco__randi(p, 0, N_WORDS - 1)];
            int link = loco__randf(p) < 0.4f;
            for (int r = 0; r < nl && link; r++)
                if (!strcmp(p->n[p->ti[20 + r]].e.text, w)) link = 0;
            loco__words(p, p->ti[10 + k], w, link ? K_LINK : K_TEXT, link ? "SPAN" : "t");
            if (link && nl < 24) { loco__set_fg(p, p->n_nodes - 1, 0x0000EE); p->ti[20 + nl++] = p->n_nodes - 1; }
        }
    }
    if (!nl) { loco__words(p, p->ti[10], "link", K_LINK, "SPAN"); p->ti[20 + nl++] = p->n_nodes - 1; }
    p->ti[1] = nl;
    loco__strcpy(p->ts[0], p->n[p->ti[20 + loco__randi(p, 0, nl - 1)]].e.text, LOCO_ENV_STR);
    loco__set_utterance(p, "Expand the sections below, to find and click on the link \"%s\".", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
}
static void click_collapsible_2_event(loco__page *p, int ev, int i) {
    if (accordion_event(p, ev, i) || ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[1]; k++)
        if (i == p->ti[20 + k]) { if (!strcmp(p->n[i].e.text, p->ts[0])) loco__win(p); else loco__lose(p); }
}
static void click_collapsible_2_plan(loco__demo *d, const loco_env_obs *o) {
    int r = loco__obs_find_text(o, "SPAN", loco__obs_field(o, "target"));
    if (r) { loco__demo_click(d, r); return; }
    char t[24];
    snprintf(t, sizeof t, "Section #%d", ++d->m[0]);
    loco__demo_click(d, loco__obs_find_text(o, "H3", t));
}
const loco__task loco__task_click_collapsible_2 = {"click-collapsible-2", click_collapsible_2_gen, click_collapsible_2_event,
    click_collapsible_2_plan, NULL, 0};

/* The no-delay variants: upstream's pages without the animations (the
 * accordion's slide, autocomplete's wait); this engine has no animations,
 * so they are the same tasks under their own names. */
const loco__task loco__task_click_collapsible_nodelay = {"click-collapsible-nodelay", click_collapsible_gen,
    click_collapsible_event, click_collapsible_plan, NULL, 0};
const loco__task loco__task_click_collapsible_2_nodelay = {"click-collapsible-2-nodelay", click_collapsible_2_gen,
    click_collapsible_2_event, click_collapsible_2_plan, NULL, 0};
const loco__task loco__task_use_autocomplete_nodelay = {"use-autocomplete-nodelay", use_autocomplete_gen,
    use_autocomplete_event, use_autocomplete_plan, NULL, 0};
