/*
 * Text and number tasks: copying and pasting, arithmetic, reading words,
 * guessing with feedback, scrolling text areas, the greatest of hidden
 * cards.  Answers are typed key by key (digits,
 * letters and '-' are on the key list) or pasted with Ctrl+V.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "env/web/web.h"

static int textarea(loco__page *p, int parent, const char *text) {
    int t = loco__add(p, parent, K_TEXTAREA, "TEXTAREA", NULL);
    loco__node *n = &p->n[t];
    n->w = 126; n->h = 31; n->border = 1; n->font_px = 13; n->pad[0] = n->pad[1] = n->pad[2] = n->pad[3] = 2;
    n->scroll = 1; n->display = D_BLOCK;
    memcpy(n->bcolor, (uint8_t[4]){0x76, 0x76, 0x76, 255}, 4);
    loco__set_bg(p, t, 0xFFFFFF);
    loco__set_value(p, t, text);
    return t;
}

/* Up to `words` random lorem words, at most 63 characters. */
static const char *const lw[] = {"lorem", "ipsum", "dolor", "sit", "amet", "sed", "tempor", "magna", "aliqua",
    "enim", "minim", "veniam", "quis", "nostrud", "labore", "dolore", "commodo", "cras", "nunc", "odio", "proin",
    "justo", "purus", "morbi", "felis", "risus", "nibh", "velit", "eget", "urna"};
#define N_LW ((int)(sizeof lw / sizeof *lw))
static void sentence(loco__page *p, char *out, int words) {
    out[0] = 0;
    for (int k = 0; k < words; k++) {
        const char *w = lw[loco__randi(p, 0, N_LW - 1)];
        if (strlen(out) + strlen(w) + 1 > LOCO_ENV_STR - 1) break;
        if (k) strcat(out, " ");
        strcat(out, w);
    }
}

/* ti[0] answer field, ti[1] Submit; ts[0] the expected answer. */
static void answer_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}
static void answer_form(loco__page *p, int parent) {
    p->ti[0] = loco__input(p, parent, INPUT_TEXT, 120);
    loco__set_id(p, p->ti[0], "answer-input");
    loco__br(p, parent);
    p->ti[1] = loco__submit(p, parent, "Submit", 6, 25);
}
/* Click the answer field, type s key by key, Submit. */
static void type_answer(loco__demo *d, const loco_env_obs *o, const char *s) {
    loco__demo_click(d, loco__obs_find_id(o, "answer-input"));
    loco__demo_type(d, s);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}

/* ---------------------------------------------------------------- copy-paste */
static void copy_paste_gen(loco__page *p) {
    loco__set_utterance(p, "Copy the text in the textarea below, paste it into the textbox and press Submit.");
    sentence(p, p->ts[0], loco__randi(p, 2, 5));
    textarea(p, p->area, p->ts[0]);
    answer_form(p, p->area);
}
/* Select all in the text area, copy, click the field, paste, Submit. */
static void copy_from(loco__demo *d, const loco_env_obs *o, int ref) {
    loco__demo_click(d, ref);
    loco__demo_key(d, "C-a");
    loco__demo_key(d, "C-c");
    loco__demo_click(d, loco__obs_find_id(o, "answer-input"));
    loco__demo_key(d, "C-v");
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
static void copy_paste_plan(loco__demo *d, const loco_env_obs *o) { copy_from(d, o, loco__obs_find_tag(o, "TEXTAREA", 0)); }
const loco__task loco__task_copy_paste = {"copy-paste", copy_paste_gen, answer_event, copy_paste_plan, NULL, 0};

static const char *const nth[] = {"1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th", "12th"};

static void copy_paste_2_gen(loco__page *p) {
    int n = loco__randi(p, 2, 3), tgt = loco__randi(p, 0, n - 1);
    loco__set_utterance(p, "Copy the text from the %s text area below and paste it into the text input, then press Submit.", nth[tgt]);
    char num[16];
    snprintf(num, sizeof num, "%d", tgt + 1);
    loco__set_field(p, "target", num);
    for (int k = 0; k < n; k++) {
        char s[LOCO_ENV_STR];
        sentence(p, s, loco__randi(p, 2, 4));
        int t = textarea(p, p->area, s);
        p->n[t].h = 25;
        if (k == tgt) loco__strcpy(p->ts[0], s, LOCO_ENV_STR);
    }
    answer_form(p, p->area);
}
static void copy_paste_2_plan(loco__demo *d, const loco_env_obs *o) {
    copy_from(d, o, loco__obs_find_tag(o, "TEXTAREA", atoi(loco__obs_field(o, "target")) - 1));
}
const loco__task loco__task_copy_paste_2 = {"copy-paste-2", copy_paste_2_gen, answer_event, copy_paste_2_plan, NULL, 0};

/* ---------------------------------------------------------- simple-arithmetic */
static void problem(loco__page *p, const char *text) {
    int s = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, s, "math-problem");
    p->n[s].font_px = 16; p->n[s].margin[0] = 6; p->n[s].margin[2] = 6;
    int q = loco__add(p, s, K_BOX, "SPAN", text);
    loco__set_id(p, q, "math-question");
    p->n[q].display = D_INLINE;
    answer_form(p, p->area);
}

static void simple_arithmetic_gen(loco__page *p) {
    loco__set_utterance(p, "Solve the math problem and type your answer into the textbox. Press submit when done.");
    int a = loco__randi(p, 0, 9), b = loco__randi(p, 0, 9), op = loco__randi(p, 0, 2), r;
    char q[32];
    if (op == 0) r = a + b; else if (op == 1) r = a - b; else r = a * b;
    snprintf(q, sizeof q, "%d %c %d =", a, "+-x"[op], b);
    snprintf(p->ts[0], LOCO_ENV_STR, "%d", r);
    problem(p, q);
}
/* Reads "a op b =" from the page. */
static void simple_arithmetic_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_id(o, "math-question"));
    int a = 0, b = 0;
    char op = '+', s[16];
    if (e) sscanf(e->text, "%d %c %d", &a, &op, &b);
    snprintf(s, sizeof s, "%d", op == '+' ? a + b : op == '-' ? a - b : a * b);
    type_answer(d, o, s);
}
const loco__task loco__task_simple_arithmetic = {"simple-arithmetic", simple_arithmetic_gen, answer_event, simple_arithmetic_plan, NULL, 0};

/* simple-algebra: "x + b = c" or "x - b = c" or "b + x = c"; solve for x. */
static void simple_algebra_gen(loco__page *p) {
    loco__set_utterance(p, "Solve for x and type your answer into the textbox. Press Submit when done.");
    int x = loco__randi(p, -9, 19), b = loco__randi(p, 1, 19), form = loco__randi(p, 0, 2);
    char q[32];
    if (form == 0) snprintf(q, sizeof q, "x + %d = %d", b, x + b);
    else if (form == 1) snprintf(q, sizeof q, "x - %d = %d", b, x - b);
    else snprintf(q, sizeof q, "%d + x = %d", b, x + b);
    snprintf(p->ts[0], LOCO_ENV_STR, "%d", x);
    problem(p, q);
}
static void simple_algebra_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_id(o, "math-question"));
    int b = 0, c = 0, x = 0;
    char s[16];
    if (e) {
        if (sscanf(e->text, "x + %d = %d", &b, &c) == 2) x = c - b;
        else if (sscanf(e->text, "x - %d = %d", &b, &c) == 2) x = c + b;
        else if (sscanf(e->text, "%d + x = %d", &b, &c) == 2) x = c - b;
    }
    snprintf(s, sizeof s, "%d", x);
    type_answer(d, o, s);
}
const loco__task loco__task_simple_algebra = {"simple-algebra", simple_algebra_gen, answer_event, simple_algebra_plan, NULL, 0};

/* ---------------------------------------------------------------- find-word */
static void find_word_gen(loco__page *p) {
    char para[LOCO_ENV_STR];
    sentence(p, para, loco__randi(p, 5, 9));
    int n = 1;
    for (const char *c = para; *c; c++) n += *c == ' ';
    int tgt = loco__randi(p, 0, n - 1), k = 0;
    const char *w = para;
    for (; k < tgt; w++) k += *w == ' ';
    int len = 0;
    while (w[len] && w[len] != ' ') len++;
    memcpy(p->ts[0], w, (size_t)len); p->ts[0][len] = 0;
    loco__set_utterance(p, "Find the %s word in the paragraph, type that into the textbox and press \"Submit\".", nth[tgt]);
    char num[16];
    snprintf(num, sizeof num, "%d", tgt + 1);
    loco__set_field(p, "target", num);
    int pa = loco__add(p, p->area, K_BOX, "P", para);
    loco__set_id(p, pa, "paragraph");
    p->n[pa].margin[2] = 6;
    answer_form(p, p->area);
}
static void find_word_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_id(o, "paragraph"));
    int n = atoi(loco__obs_field(o, "target")), k = 1;
    char w[LOCO_ENV_STR] = "";
    if (e) {
        const char *c = e->text;
        for (; *c && k < n; c++) k += *c == ' ';
        int len = 0;
        while (c[len] && c[len] != ' ') len++;
        memcpy(w, c, (size_t)len); w[len] = 0;
    }
    type_answer(d, o, w);
}
const loco__task loco__task_find_word = {"find-word", find_word_gen, answer_event, find_word_plan, NULL, 0};

/* ---------------------------------------------------------------- text-transform */
static void text_transform_gen(loco__page *p) {
    loco__set_utterance(p, "Type the text below into the text field and press Submit.");
    loco__rand_string(p, p->ts[0], 3, 6);
    int t = loco__add(p, p->area, K_BOX, "DIV", p->ts[0]);
    loco__set_id(p, t, "text");
    p->n[t].font_px = 20; p->n[t].bold = 1; p->n[t].margin[0] = p->n[t].margin[2] = 8;
    p->n[t].margin[3] = (int16_t)loco__randi(p, 0, 40);
    loco__set_fg(p, t, loco__randi(p, 0, 1) ? 0x333399 : 0x993333);
    answer_form(p, p->area);
}
static void text_transform_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_id(o, "text"));
    type_answer(d, o, e ? e->text : "");
}
const loco__task loco__task_text_transform = {"text-transform", text_transform_gen, answer_event, text_transform_plan, NULL, 0};

/* ---------------------------------------------------------------- guess-number */
/* ti[2] the number, ti[3] the feedback node. */
static void guess_number_gen(loco__page *p) {
    loco__set_utterance(p, "Guess the number between 0-9 and press Submit. Use the feedback below to find the right number.");
    p->ti[2] = loco__randi(p, 0, 9);
    p->ti[0] = loco__input(p, p->area, INPUT_TEXT, 60);
    loco__set_id(p, p->ti[0], "tt");
    p->ti[1] = loco__button(p, p->area, "Submit");
    loco__set_id(p, p->ti[1], "subbtn");
    p->ti[3] = loco__add(p, p->area, K_BOX, "DIV", "Waiting for your guess...");
    loco__set_id(p, p->ti[3], "feedback");
    p->n[p->ti[3]].margin[0] = 6;
}
static void guess_number_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    char *end;
    const char *v = p->n[p->ti[0]].e.value;
    long g = strtol(v, &end, 10);
    if (!v[0] || *end) { loco__set_text(p, p->ti[3], "That is not a number."); return; }
    if (g == p->ti[2]) { loco__win(p); return; }
    char f[LOCO_ENV_STR];
    snprintf(f, sizeof f, "The number is %s than %ld.", g < p->ti[2] ? "higher" : "lower", g);
    loco__set_text(p, p->ti[3], f);
}
/* Binary search over [lo, hi] (m[0], m[1]), reading the feedback line. */
static void guess_number_plan(loco__demo *d, const loco_env_obs *o) {
    if (!d->m[2]) { d->m[0] = 0; d->m[1] = 9; d->m[2] = 1; }
    const loco_env_elem *f = loco__obs_ref(o, loco__obs_find_id(o, "feedback"));
    long g;
    if (f && sscanf(f->text, "The number is higher than %ld.", &g) == 1 && g + 1 > d->m[0]) d->m[0] = (int)g + 1;
    if (f && sscanf(f->text, "The number is lower than %ld.", &g) == 1 && g - 1 < d->m[1]) d->m[1] = (int)g - 1;
    char s[16];
    snprintf(s, sizeof s, "%d", (d->m[0] + d->m[1]) / 2);
    int in = loco__obs_find_id(o, "tt");
    const loco_env_elem *e = loco__obs_ref(o, in);
    loco__demo_click(d, in);
    if (e && e->value[0]) { loco__demo_key(d, "C-a"); loco__demo_key(d, "<Backspace>"); }
    loco__demo_type(d, s);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_guess_number = {"guess-number", guess_number_gen, guess_number_event, guess_number_plan, NULL, 0};

/* ---------------------------------------------------------------- scroll-text */
static void scroll_text_gen(loco__page *p) {
    loco__set_utterance(p, "Find the last word in the text area, enter it into the text field and hit Submit.");
    char s[LOCO_ENV_STR];
    sentence(p, s, 12);
    int t = textarea(p, p->area, s);
    p->n[t].h = 40;
    const char *last = strrchr(s, ' ');
    loco__strcpy(p->ts[0], last ? last + 1 : s, LOCO_ENV_STR);
    answer_form(p, p->area);
}
static void scroll_text_plan(loco__demo *d, const loco_env_obs *o) {
    const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_tag(o, "TEXTAREA", 0));
    const char *last = e ? strrchr(e->value, ' ') : NULL;
    type_answer(d, o, last ? last + 1 : e ? e->value : "");
}
const loco__task loco__task_scroll_text = {"scroll-text", scroll_text_gen, answer_event, scroll_text_plan, NULL, 0};

/* scroll-text-2: Submit wins when the text area is scrolled to the asked end. */
static void scroll_text_2_gen(loco__page *p) {
    int bottom = loco__randi(p, 0, 1);
    loco__set_utterance(p, "Scroll the textarea to the %s of the text hit submit.", bottom ? "bottom" : "top");
    loco__set_field(p, "target", bottom ? "bottom" : "top");
    char s[LOCO_ENV_STR];
    sentence(p, s, 12);
    p->ti[0] = textarea(p, p->area, s);
    p->n[p->ti[0]].h = 40;
    p->n[p->ti[0]].scroll_y = bottom ? 0 : 1000;   /* the layout clamps it to the bottom */
    p->ti[2] = bottom;
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void scroll_text_2_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    loco__node *t = &p->n[p->ti[0]];
    float max = t->content_h + t->pad[0] + t->pad[2] + 2 * t->border - t->h;
    int ok = p->ti[2] ? t->scroll_y >= max - 0.5f : t->scroll_y <= 0.5f;
    if (ok) loco__win(p); else loco__lose(p);
}
/* The DOM does not show the scroll offset: wheel far enough, then Submit. */
static void scroll_text_2_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_push(d, I_SCROLL, loco__obs_find_tag(o, "TEXTAREA", 0), NULL);
    d->q[(d->tail - 1) % 48].n = strcmp(loco__obs_field(o, "target"), "bottom") ? -3 : 3;
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_scroll_text_2 = {"scroll-text-2", scroll_text_2_gen, scroll_text_2_event, scroll_text_2_plan, NULL, 0};

/* ---------------------------------------------------------------- find-greatest */
/* Cards face down; a click turns one up (and the others down) and picks it;
 * Submit wins when the picked card holds the greatest number.  MiniWoB++
 * pays a wrong pick 0.1 (a positive reward); here it pays -1. */
static void find_greatest_gen(loco__page *p) {
    loco__set_utterance(p, "Find and pick the card with the greatest number, then press submit.");
    int n = loco__randi(p, 3, 6), nums[6], best = 0;
    int row = loco__add(p, p->area, K_BOX, "DIV", NULL);
    for (int k = 0; k < n; k++) {
        int dup;
        do {
            nums[k] = loco__randi(p, 0, 99);
            dup = 0;
            for (int q = 0; q < k; q++) dup |= nums[q] == nums[k];
        } while (dup);
        if (nums[k] > nums[best]) best = k;
        int c = loco__add(p, row, K_BOX, "DIV", "?");
        loco__set_class(p, c, "card");
        p->n[c].display = D_INLINE_BLOCK; p->n[c].w = 30; p->n[c].h = 40; p->n[c].margin[1] = p->n[c].margin[2] = 6;
        p->n[c].border = 1; p->n[c].center = 1; p->n[c].font_px = 16;
        memcpy(p->n[c].bcolor, (uint8_t[4]){0x33, 0x33, 0x33, 255}, 4);
        loco__set_bg(p, c, 0xDDEEFF);
        p->ti[10 + k] = c; p->ti[20 + k] = nums[k];
    }
    p->ti[0] = n; p->ti[2] = best; p->ti[3] = -1;
    loco__br(p, p->area);
    p->ti[1] = loco__submit(p, p->area, "Submit", 6, 25);
}
static void find_greatest_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK) return;
    for (int k = 0; k < p->ti[0]; k++)
        if (i == p->ti[10 + k]) {
            for (int q = 0; q < p->ti[0]; q++) { loco__set_text(p, p->ti[10 + q], "?"); loco__set_class(p, p->ti[10 + q], "card"); }
            char s[16];
            snprintf(s, sizeof s, "%d", p->ti[20 + k]);
            loco__set_text(p, i, s);
            loco__set_class(p, i, "card selected");
            p->ti[3] = k;
            return;
        }
    if (!loco__within(p, i, p->ti[1])) return;
    if (p->ti[3] == p->ti[2]) loco__win(p); else loco__lose(p);
}
/* Turn each card once, remembering the best (m[1] its ref, m[2] its number;
 * m[0] cards turned), then pick it again and Submit. */
static void find_greatest_plan(loco__demo *d, const loco_env_obs *o) {
    int cards = 0, shown = -1;
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        if (strncmp(e->classes, "card", 4)) continue;
        if (cards == d->m[0] - 1 && strcmp(e->text, "?")) {
            shown = atoi(e->text);
            if (!d->m[1] || shown > d->m[2]) { d->m[1] = e->ref; d->m[2] = shown; }
        }
        cards++;
    }
    if (d->m[0] < cards) {
        int seen = 0;
        for (int k = 0; k < o->n_elems; k++)
            if (!strncmp(o->elems[k].classes, "card", 4) && seen++ == d->m[0]) { loco__demo_click(d, o->elems[k].ref); break; }
        d->m[0]++;
        return;
    }
    const loco_env_elem *b = loco__obs_ref(o, d->m[1]);
    if (b && strcmp(b->classes, "card selected")) { loco__demo_click(d, d->m[1]); return; }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_find_greatest = {"find-greatest", find_greatest_gen, find_greatest_event, find_greatest_plan, NULL, 0};
