/*
 * Multi-step tasks: tables, forms in several layouts, a file tree, a search
 * engine with result pages, a social-media feed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

/* ---------------------------------------------------------------- read-table */
static const char *const keys[] = {"Color", "First name", "Last name", "Country", "Gender", "Language", "Year of Birth"};
#define N_KEYS 7
static const char *const vals[N_KEYS][6] = {
    {"red", "blue", "green", "white", "black", "yellow"},
    {"Ada", "Jon", "Mia", "Liam", "Zoe", "Omar"},
    {"Smith", "Kahn", "Novak", "Silva", "Berg", "Ito"},
    {"Kenya", "Peru", "Nepal", "Chile", "Oman", "Spain"},
    {"Male", "Female", "Other", "Male", "Female", "Other"},
    {"English", "Hindi", "Swahili", "Polish", "Greek", "Tamil"},
    {"1964", "1977", "1983", "1991", "2001", "1958"}};

/* A two-column table of n random keys; ti[20+k] key index of row k, ts[2+k]
 * row k's value (k < 6). */
static int table(loco__page *p, int n) {
    int idx[N_KEYS];
    for (int k = 0; k < N_KEYS; k++) idx[k] = k;
    loco__shuffle(p, idx, N_KEYS);
    int t = loco__add(p, p->area, K_BOX, "TABLE", NULL);
    p->n[t].border = 1;
    memcpy(p->n[t].bcolor, (uint8_t[4]){0x99, 0x99, 0x99, 255}, 4);
    for (int k = 0; k < n; k++) {
        int tr = loco__add(p, t, K_BOX, "TR", NULL);
        int a = loco__add(p, tr, K_BOX, "TD", keys[idx[k]]);
        int b = loco__add(p, tr, K_BOX, "TD", vals[idx[k]][loco__randi(p, 0, 5)]);
        p->n[a].display = p->n[b].display = D_INLINE_BLOCK;
        p->n[a].w = 70; p->n[b].w = 70; p->n[a].bold = 1;
        p->n[a].pad[3] = p->n[b].pad[3] = 2;
        p->ti[20 + k] = idx[k];
        loco__strcpy(p->ts[2 + k], p->n[b].e.text, LOCO_ENV_STR);
    }
    return t;
}
/* The value cell right after the key cell with text key. */
static const char *table_value(const loco_env_obs *o, const char *key) {
    for (int k = 0; k + 1 < o->n_elems; k++)
        if (!strcmp(o->elems[k].tag, "TD") && !strcmp(o->elems[k].text, key)) return o->elems[k + 1].text;
    return "";
}

static void read_table_gen(loco__page *p) {
    table(p, loco__randi(p, 3, 6));
    int row = loco__randi(p, 0, 2);
    loco__strcpy(p->ts[0], p->ts[2 + row], LOCO_ENV_STR);
    loco__set_utterance(p, "Enter the value of %s into the text field and press Submit.", keys[p->ti[20 + row]]);
    loco__set_field(p, "target", keys[p->ti[20 + row]]);
    p->ti[0] = loco__input(p, p->area, INPUT_TEXT, 100);
    loco__set_id(p, p->ti[0], "tt");
    p->n[p->ti[0]].margin[0] = 6;
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 4, 20);
}
static void read_table_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}
static void read_table_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_id(o, "tt"));
    loco__demo_type(d, table_value(o, loco__obs_field(o, "target")));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_read_table = {"read-table", read_table_gen, read_table_event, read_table_plan, NULL, 0};

/* read-table-2: two labelled fields, each to be filled from the table. */
static void read_table_2_gen(loco__page *p) {
    loco__set_utterance(p, "Enter the value that corresponds with each label into the form and submit when done.");
    table(p, loco__randi(p, 3, 5));
    int rows[2] = {0, 1};
    if (loco__randi(p, 0, 1)) { rows[0] = 2; }
    for (int k = 0; k < 2; k++) {
        int l = loco__add(p, p->area, K_LABEL, "LABEL", keys[p->ti[20 + rows[k]]]);
        p->n[l].margin[1] = 3;
        p->ti[2 + k] = loco__input(p, p->area, INPUT_TEXT, 60);
        loco__strcpy(p->ts[k], p->ts[2 + rows[k]], LOCO_ENV_STR);
        loco__br(p, p->area);
    }
    p->ti[1] = loco__submit(p, p->area, "Submit", 4, 20);
}
static void read_table_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[2]].e.value, p->ts[0]) && !strcmp(p->n[p->ti[3]].e.value, p->ts[1])) loco__win(p); else loco__lose(p);
}
static void read_table_2_plan(loco__demo *d, const loco_env_obs *o) {
    for (int k = 0; k + 1 < o->n_elems; k++)
        if (!strcmp(o->elems[k].tag, "LABEL") && !strcmp(o->elems[k + 1].tag, "INPUT_text")) {
            loco__demo_click(d, o->elems[k + 1].ref);
            loco__demo_type(d, table_value(o, o->elems[k].text));
        }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_read_table_2 = {"read-table-2", read_table_2_gen, read_table_2_event, read_table_2_plan, NULL, 0};

/* ---------------------------------------------------------------- multi-orderings */
static const char *const genres[] = {"action", "comedy", "drama", "fantasy", "horror", "thriller", "saga", "political"};
static const char *const directors[] = {"David", "Mcneil", "Harrell", "Manning", "Spence", "Rosario", "Short", "Stein"};
static const char *const flabels[3] = {"Genre", "Director", "Year"};

/* Three labelled fields in a random order; multi-layouts also varies where
 * the label goes (before, above) and the button's text. */
static void movie_form(loco__page *p, int layouts) {
    snprintf(p->ts[0], LOCO_ENV_STR, "%s", genres[loco__randi(p, 0, 7)]);
    snprintf(p->ts[1], LOCO_ENV_STR, "%s", directors[loco__randi(p, 0, 7)]);
    snprintf(p->ts[2], LOCO_ENV_STR, "%d", loco__randi(p, 1970, 2015));
    loco__set_utterance(p, "Search for %s movies directed by %s from year %s.", p->ts[0], p->ts[1], p->ts[2]);
    loco__set_field(p, "genre", p->ts[0]);
    loco__set_field(p, "director", p->ts[1]);
    loco__set_field(p, "year", p->ts[2]);
    int order[3] = {0, 1, 2};
    loco__shuffle(p, order, 3);
    int above = layouts && loco__randi(p, 0, 1);
    for (int k = 0; k < 3; k++) {
        int f = order[k];
        int row = loco__add(p, p->area, K_BOX, "DIV", NULL);
        p->n[row].margin[2] = 2;
        int l = loco__add(p, row, K_LABEL, "LABEL", flabels[f]);
        p->n[l].display = above ? D_BLOCK : D_INLINE_BLOCK;
        if (!above) p->n[l].w = 48;
        p->ti[2 + f] = loco__input(p, row, INPUT_TEXT, above ? 120 : 90);
    }
    static const char *const buttons[3] = {"Submit", "Search", "Find"};
    p->ti[1] = loco__submit(p, p->area, buttons[layouts ? loco__randi(p, 0, 2) : 0], 4, 20);
}
static void movie_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    int ok = 1;
    for (int f = 0; f < 3; f++) ok &= !strcmp(p->n[p->ti[2 + f]].e.value, p->ts[f]);
    if (ok) loco__win(p); else loco__lose(p);
}
/* Each field is the input after its label; the button is the only one. */
static void movie_plan(loco__demo *d, const loco_env_obs *o) {
    static const char *const fk[3] = {"genre", "director", "year"};
    for (int k = 0; k + 1 < o->n_elems; k++)
        for (int f = 0; f < 3; f++)
            if (!strcmp(o->elems[k].tag, "LABEL") && !strcmp(o->elems[k].text, flabels[f])) {
                loco__demo_click(d, o->elems[k + 1].ref);
                loco__demo_field(d, loco__obs_field_index(o, fk[f]));
            }
    loco__demo_click(d, loco__obs_find_tag(o, "BUTTON", 0));
}
static void multi_orderings_gen(loco__page *p) { movie_form(p, 0); }
static void multi_layouts_gen(loco__page *p) { movie_form(p, 1); }
const loco__task loco__task_multi_orderings = {"multi-orderings", multi_orderings_gen, movie_event, movie_plan, NULL, 0};
const loco__task loco__task_multi_layouts = {"multi-layouts", multi_layouts_gen, movie_event, movie_plan, NULL, 0};

/* ---------------------------------------------------------------- navigate-tree */
/* A file tree of folders (collapsed; a click toggles) and files; clicking
 * the named node wins, clicking another file loses.  ti[10+k] nodes (k <
 * ti[0]), ti[30+k] their children's container (-1 for files). */
static void tree_level(loco__page *p, int parent, int depth, int *count) {
    int n = loco__randi(p, 1, 3);
    for (int k = 0; k < n && *count < 10; k++) {
        int folder = depth < 2 && loco__randf(p) < 0.5f;
        int li = loco__add(p, parent, K_BOX, "LI", NULL);
        p->n[li].pad[3] = 10;
        char name[LOCO_ENV_STR];
        int dup;
        do {
            snprintf(name, sizeof name, "%s", loco__names[loco__randi(p, 0, loco__n_names - 1)]);
            dup = 0;
            for (int q = 0; q < *count; q++) dup |= !strcmp(p->n[p->ti[10 + q]].e.text, name);
        } while (dup);
        int s = loco__add(p, li, K_BOX, "SPAN", name);
        p->n[s].display = D_INLINE_BLOCK;
        loco__set_class(p, s, folder ? "folder collapsed" : "file");
        if (folder) p->n[s].bold = 1;
        int id = (*count)++;
        p->ti[10 + id] = s;
        p->ti[30 + id] = -1;
        if (folder) {
            int ul = loco__add(p, li, K_BOX, "UL", NULL);
            loco__hide(p, ul, 1);
            p->ti[30 + id] = ul;
            tree_level(p, ul, depth + 1, count);
        }
    }
}
static void navigate_tree_gen(loco__page *p) {
    int root = loco__add(p, p->area, K_BOX, "UL", NULL);
    loco__set_id(p, root, "tree");
    int count = 0;
    tree_level(p, root, 0, &count);
    p->ti[0] = count;
    p->ti[1] = loco__randi(p, 0, count - 1);
    loco__strcpy(p->ts[0], p->n[p->ti[10 + p->ti[1]]].e.text, LOCO_ENV_STR);
    loco__set_utterance(p, "Navigate through the file tree. Find and click on the folder or file named \"%s\".", p->ts[0]);
    loco__set_field(p, "target", p->ts[0]);
}
static void navigate_tree_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++) {
        if (i != p->ti[10 + k]) continue;
        if (k == p->ti[1]) { loco__win(p); return; }
        int ul = p->ti[30 + k];
        if (ul < 0) { loco__lose(p); return; }
        int open = p->n[ul].display == D_NONE;
        loco__hide(p, ul, !open);
        loco__set_class(p, i, open ? "folder expanded" : "folder collapsed");
    }
}
/* Click the target when it shows; else open the first closed folder. */
static void navigate_tree_plan(loco__demo *d, const loco_env_obs *o) {
    int r = loco__obs_find_text(o, "SPAN", loco__obs_field(o, "target"));
    if (r) { loco__demo_click(d, r); return; }
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, "folder collapsed")) { loco__demo_click(d, o->elems[k].ref); return; }
}
const loco__task loco__task_navigate_tree = {"navigate-tree", navigate_tree_gen, navigate_tree_event, navigate_tree_plan, NULL, 0};

/* ---------------------------------------------------------------- search-engine */
/* Nine results, three a page; ti[0] input, ti[1] Search, ti[10+3k..] result
 * slots (title, url, text), ti[20+k] page links, ti[2] page shown, ti[3]
 * rank asked (1-based), ti[4] searched with the right query; ts[1+r] the
 * result titles. */
static void search_engine_gen(loco__page *p) {
    const char *q = loco__names[loco__randi(p, 0, loco__n_names - 1)];
    int rank = loco__randi(p, 1, 9);
    loco__strcpy(p->ts[0], q, LOCO_ENV_STR);
    static const char *const nth[] = {"1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th"};
    loco__set_utterance(p, "Use the textbox to enter \"%s\" and press \"Search\", then find and click the %s search result.",
                        q, nth[rank - 1]);
    char r[16];
    snprintf(r, sizeof r, "%d", rank);
    loco__set_field(p, "query", q);
    loco__set_field(p, "rank", r);
    p->ti[3] = rank;
    int bar = loco__add(p, p->area, K_BOX, "DIV", NULL);
    p->ti[0] = loco__input(p, bar, INPUT_TEXT, 80);
    loco__set_id(p, p->ti[0], "search-text");
    p->ti[1] = loco__button(p, bar, "Search");
    loco__set_id(p, p->ti[1], "search");
    int res = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, res, "page-content");
    for (int k = 0; k < 3; k++) {
        int item = loco__add(p, res, K_BOX, "DIV", NULL);
        p->n[item].margin[0] = 2;
        int t = loco__add(p, item, K_LINK, "A", "");
        loco__set_class(p, t, "search-title");
        loco__set_fg(p, t, 0x0000EE);
        p->n[t].display = D_BLOCK;
        int u = loco__add(p, item, K_BOX, "DIV", "");
        loco__set_class(p, u, "search-url");
        loco__set_fg(p, u, 0x006621);
        int x = loco__add(p, item, K_BOX, "DIV", "");
        loco__set_class(p, x, "search-desc");
        p->ti[10 + 3 * k] = t; p->ti[11 + 3 * k] = u; p->ti[12 + 3 * k] = x;
    }
    int pages = loco__add(p, p->area, K_BOX, "UL", NULL);
    loco__set_id(p, pages, "pagination");
    for (int k = 0; k < 3; k++) {
        char s[8];
        snprintf(s, sizeof s, "%d", k + 1);
        int a = loco__add(p, pages, K_LINK, "A", s);
        p->n[a].display = D_INLINE_BLOCK; p->n[a].margin[1] = 8; p->n[a].pad[1] = p->n[a].pad[3] = 2;
        loco__set_class(p, a, "page-link");
        p->ti[20 + k] = a;
    }
    loco__hide(p, res, 1);
    loco__hide(p, pages, 1);
    p->ti[5] = res; p->ti[6] = pages;
    for (int k = 0; k < 9; k++)   /* the titles: the query or another name (ti[50+k], -1 the query) */
        p->ti[50 + k] = loco__randf(p) < 0.5f ? -1 : loco__randi(p, 0, loco__n_names - 1);
}
static const char *result_title(loco__page *p, int r) { return p->ti[50 + r] < 0 ? p->ts[0] : loco__names[p->ti[50 + r]]; }
static void show_page(loco__page *p, int page) {
    p->ti[2] = page;
    for (int k = 0; k < 3; k++) {
        int r = page * 3 + k;
        char url[LOCO_ENV_STR + 16], desc[LOCO_ENV_STR + 32];
        snprintf(url, sizeof url, "https://www.%s.com", result_title(p, r));
        for (char *c = url; *c; c++) *c = (char)tolower((unsigned char)*c);
        snprintf(desc, sizeof desc, "Result %d about %s.", r + 1, result_title(p, r));
        loco__set_text(p, p->ti[10 + 3 * k], result_title(p, r));
        loco__set_text(p, p->ti[11 + 3 * k], url);
        loco__set_text(p, p->ti[12 + 3 * k], desc);
    }
    for (int k = 0; k < 3; k++) loco__set_class(p, p->ti[20 + k], k == page ? "page-link active" : "page-link");
}
static void search_engine_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    if (loco__within(p, i, p->ti[1])) {
        p->ti[4] = !strcmp(p->n[p->ti[0]].e.value, p->ts[0]);
        loco__hide(p, p->ti[5], 0);
        loco__hide(p, p->ti[6], 0);
        show_page(p, 0);
        return;
    }
    for (int k = 0; k < 3; k++) {
        if (i == p->ti[20 + k]) { show_page(p, k); return; }
        if (i == p->ti[10 + 3 * k]) {
            if (p->ti[4] && p->ti[2] * 3 + k + 1 == p->ti[3]) loco__win(p); else loco__lose(p);
            return;
        }
    }
}
static void search_engine_plan(loco__demo *d, const loco_env_obs *o) {
    int rank = atoi(loco__obs_field(o, "rank")), page = (rank - 1) / 3;
    if (!loco__obs_find_tag(o, "A", 0) || !d->m[0]) {
        d->m[0] = 1;
        loco__demo_click(d, loco__obs_find_id(o, "search-text"));
        loco__demo_field(d, loco__obs_field_index(o, "query"));
        loco__demo_click(d, loco__obs_find_id(o, "search"));
        return;
    }
    char s[16];
    snprintf(s, sizeof s, "%d", page + 1);
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].text, s) && !strcmp(o->elems[k].classes, "page-link")) {   /* not the active page */
            loco__demo_click(d, o->elems[k].ref);
            return;
        }
    int seen = 0;
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, "search-title") && seen++ == (rank - 1) % 3) { loco__demo_click(d, o->elems[k].ref); return; }
}
const loco__task loco__task_search_engine = {"search-engine", search_engine_gen, search_engine_event, search_engine_plan, NULL, 0};

/* ---------------------------------------------------------------- social-media */
/* Three posts: "@user", a line of text, Reply / Retweet / Like and a "more"
 * menu (Share via DM, Copy link, Mute, Block).  ti[0] target post, ti[1]
 * target button index, ti[10+8p+b] post p's buttons (0-2 visible, 3 more,
 * 4-7 menu items), ti[40+p] menu containers. */
static const char *const actions[8] = {"Reply", "Retweet", "Like", "More", "Share via DM", "Copy link", "Mute", "Block"};

static void social_media_gen(loco__page *p) {
    int users[3];
    for (int k = 0; k < 3; k++) {
        int dup;
        do {
            users[k] = loco__randi(p, 0, loco__n_names - 1);
            dup = 0;
            for (int q = 0; q < k; q++) dup |= users[q] == users[k];
        } while (dup);
    }
    for (int k = 0; k < 3; k++) {
        int post = loco__add(p, p->area, K_BOX, "DIV", NULL);
        loco__set_class(p, post, "media");
        p->n[post].margin[2] = 3;
        char u[LOCO_ENV_STR];
        snprintf(u, sizeof u, "@%s", loco__names[users[k]]);
        for (char *c = u; *c; c++) *c = (char)tolower((unsigned char)*c);
        int un = loco__add(p, post, K_BOX, "SPAN", u);
        loco__set_class(p, un, "username");
        p->n[un].display = D_BLOCK; p->n[un].bold = 1;
        char txt[LOCO_ENV_STR];
        snprintf(txt, sizeof txt, "%s %s", loco__words_list[loco__randi(p, 0, loco__n_words - 1)],
                 loco__words_list[loco__randi(p, 0, loco__n_words - 1)]);
        loco__add(p, post, K_BOX, "DIV", txt);
        int ctl = loco__add(p, post, K_BOX, "DIV", NULL);
        for (int b = 0; b < 4; b++) {
            int s = loco__add(p, ctl, K_LINK, "SPAN", actions[b]);
            p->n[s].display = D_INLINE_BLOCK; p->n[s].margin[1] = 5;
            loco__set_fg(p, s, 0x1DA1F2);
            loco__set_class(p, s, b == 3 ? "more" : "action");
            p->ti[10 + 8 * k + b] = s;
        }
        p->ti[44 + k] = ctl;
    }
    /* the menus come after every post, so that an open one lies on top of the
     * posts below it (the page's z-index) */
    for (int k = 0; k < 3; k++) {
        int menu = loco__add(p, p->area, K_BOX, "UL", NULL);
        p->n[menu].absolute = 1; p->n[menu].x = 60; p->n[menu].w = 80; p->n[menu].border = 1;
        memcpy(p->n[menu].bcolor, (uint8_t[4]){0x99, 0x99, 0x99, 255}, 4);
        loco__set_bg(p, menu, 0xFFFFFF);
        for (int b = 4; b < 8; b++) {
            int li = loco__add(p, menu, K_BOX, "LI", actions[b]);
            loco__set_class(p, li, "menu-item");
            p->n[li].pad[3] = 3;
            p->ti[10 + 8 * k + b] = li;
        }
        loco__hide(p, menu, 1);
        p->ti[40 + k] = menu;
    }
    int tp = loco__randi(p, 0, 2), tb = loco__randi(p, 0, 6);
    if (tb >= 3) tb++;   /* never "More" */
    p->ti[0] = tp; p->ti[1] = tb;
    char u[LOCO_ENV_STR];
    snprintf(u, sizeof u, "@%s", loco__names[users[tp]]);
    for (char *c = u; *c; c++) *c = (char)tolower((unsigned char)*c);
    loco__set_utterance(p, "For the user %s, click on the \"%s\" button.", u, actions[tb]);
    loco__set_field(p, "user", u);
    loco__set_field(p, "button", actions[tb]);
}
static void social_media_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < 3; k++)
        for (int b = 0; b < 8; b++) {
            if (i != p->ti[10 + 8 * k + b]) continue;
            if (b == 3) {
                int open = p->n[p->ti[40 + k]].display == D_NONE;
                if (p->dirty) loco__layout(p);
                p->n[p->ti[40 + k]].y = p->n[p->ti[44 + k]].e.top - p->n[p->area].e.top + 12;
                for (int q = 0; q < 3; q++) loco__hide(p, p->ti[40 + q], 1);
                loco__hide(p, p->ti[40 + k], !open);
                return;
            }
            if (k == p->ti[0] && b == p->ti[1]) loco__win(p); else loco__lose(p);
            return;
        }
}
/* Within the user's post: the button, or "More" first when it is in the menu. */
static void social_media_plan(loco__demo *d, const loco_env_obs *o) {
    const char *user = loco__obs_field(o, "user"), *btn = loco__obs_field(o, "button");
    int post = 0;
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, "username") && !strcmp(o->elems[k].text, user)) post = o->elems[k].parent;
    int in_post = 0, more = 0;
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (e->ref == post) { in_post = 1; continue; }
        if (in_post && !strcmp(e->classes, "media")) break;   /* the next post */
        if (!in_post) continue;
        if (!strcmp(e->text, btn)) { loco__demo_click(d, e->ref); return; }
        if (!strcmp(e->classes, "more")) { more = e->ref; break; }
    }
    /* the item is in the post's menu: open it (menus follow the posts, one
     * open at a time), then pick the item */
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].classes, "menu-item") && !strcmp(o->elems[k].text, btn) && d->m[0] == more) {
            loco__demo_click(d, o->elems[k].ref);
            return;
        }
    if (more) { loco__demo_click(d, more); d->m[0] = more; }
}
const loco__task loco__task_social_media = {"social-media", social_media_gen, social_media_event, social_media_plan, NULL, 0};
