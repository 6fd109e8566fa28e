/*
 * Text-entry tasks: type into fields and press Submit.  The value is checked
 * when Submit is clicked, exactly as MiniWoB++ compares strings.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "env/web/web.h"

static int submit(loco__page *p, int parent, const char *label) {
    int b = loco__button(p, parent, label);
    loco__set_id(p, b, "subbtn");
    loco__set_class(p, b, "secondary-action");
    p->n[b].pad[0] = p->n[b].pad[2] = 6; p->n[b].pad[1] = p->n[b].pad[3] = 25;
    return b;
}

/* A form moved by up to 20px, as randomizeInputs() does. */
static int form(loco__page *p) {
    int f = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, f, "form");
    p->n[f].margin[3] = (int16_t)loco__randi(p, 0, 20);
    p->n[f].margin[0] = (int16_t)loco__randi(p, 0, 20);
    return f;
}

/* ti[0] the field, ti[1] Submit; ts[0] the expected value. */
static void field_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}

static void enter_text_gen(loco__page *p) {
    const char *q = loco__pick(p, loco__names, loco__n_names);
    loco__strcpy(p->ts[0], q, LOCO_ENV_STR);
    loco__set_utterance(p, "Enter \"%s\" into the text field and press Submit.", q);
    loco__set_field(p, "target", q);
    int f = form(p);
    p->ti[0] = loco__input(p, f, INPUT_TEXT, 100);
    loco__set_id(p, p->ti[0], "tt");
    p->ti[1] = submit(p, f, "Submit");
    p->n[p->ti[1]].margin[0] = (int16_t)loco__randi(p, 0, 20);
}
/* Click the field, type the field value (TYPE_FIELD), Submit. */
static void enter_text_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", 0));
    loco__demo_field(d, loco__obs_field_index(o, "target"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_enter_text = {"enter-text", enter_text_gen, field_event, enter_text_plan, NULL, 0};

static void enter_text_dynamic_gen(loco__page *p) {
    char q[16];
    loco__rand_string(p, q, 2, 6);
    loco__strcpy(p->ts[0], q, LOCO_ENV_STR);
    loco__set_utterance(p, "Enter \"%s\" into the text field and press Submit.", q);
    loco__set_field(p, "target", q);
    int f = form(p);
    p->ti[0] = loco__input(p, f, INPUT_TEXT, 100);
    loco__set_id(p, p->ti[0], "tt");
    p->ti[1] = submit(p, f, "Submit");
}
/* Typed key by key (every letter and digit is on the key list). */
static void enter_text_dynamic_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", 0));
    loco__demo_type(d, loco__obs_field(o, "target"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_enter_text_dynamic = {"enter-text-dynamic", enter_text_dynamic_gen, field_event,
    enter_text_dynamic_plan, NULL, 0};

static void enter_text_2_gen(loco__page *p) {
    const char *q = loco__pick(p, loco__names, loco__n_names);
    int upper = loco__randi(p, 0, 1);
    char want[LOCO_ENV_STR];
    int k = 0;
    for (; q[k]; k++) want[k] = (char)(upper ? toupper((unsigned char)q[k]) : tolower((unsigned char)q[k]));
    want[k] = 0;
    loco__strcpy(p->ts[0], want, LOCO_ENV_STR);
    loco__set_utterance(p, "Type \"%s\" in all %s case letters in the text input and press Submit.", q,
                        upper ? "upper" : "lower");
    loco__set_field(p, "text", q);
    loco__set_field(p, "case", upper ? "upper" : "lower");
    int f = form(p);
    p->ti[0] = loco__input(p, f, INPUT_TEXT, 100);
    loco__set_id(p, p->ti[0], "tt");
    p->ti[1] = submit(p, f, "Submit");
}
static void enter_text_2_plan(loco__demo *d, const loco_env_obs *o) {
    char s[LOCO_ENV_STR];
    const char *q = loco__obs_field(o, "text");
    int upper = !strcmp(loco__obs_field(o, "case"), "upper"), k = 0;
    for (; q[k]; k++) s[k] = (char)(upper ? toupper((unsigned char)q[k]) : tolower((unsigned char)q[k]));
    s[k] = 0;
    loco__demo_click(d, loco__obs_find_tag(o, "INPUT_text", 0));
    loco__demo_type(d, s);
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_enter_text_2 = {"enter-text-2", enter_text_2_gen, field_event, enter_text_2_plan, NULL, 0};

/* ----------------------------------------------------------- enter-password */
static void enter_password_gen(loco__page *p) {
    char q[16];
    loco__rand_string(p, q, 2, 6);
    loco__strcpy(p->ts[0], q, LOCO_ENV_STR);
    loco__set_utterance(p, "Enter the password \"%s\" into both text fields and press submit.", q);
    loco__set_field(p, "target", q);
    int f = form(p);
    int l1 = loco__add(p, f, K_BOX, "P", NULL);
    loco__add(p, l1, K_LABEL, "LABEL", "Password");
    p->ti[0] = loco__input(p, l1, INPUT_PASSWORD, 120);
    loco__set_id(p, p->ti[0], "password");
    int l2 = loco__add(p, f, K_BOX, "P", NULL);
    loco__add(p, l2, K_LABEL, "LABEL", "Verify password");
    p->ti[2] = loco__input(p, l2, INPUT_PASSWORD, 120);
    loco__set_id(p, p->ti[2], "verify");
    p->ti[1] = submit(p, f, "Submit");
}
static void enter_password_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0]) && !strcmp(p->n[p->ti[2]].e.value, p->ts[0])) loco__win(p); else loco__lose(p);
}
static void enter_password_plan(loco__demo *d, const loco_env_obs *o) {
    int f = loco__obs_field_index(o, "target");
    for (int k = 0; k < 2; k++) {
        loco__demo_click(d, loco__obs_find_tag(o, "INPUT_password", k));
        loco__demo_field(d, f);
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Submit"));
}
const loco__task loco__task_enter_password = {"enter-password", enter_password_gen, enter_password_event, enter_password_plan, NULL, 0};

/* ---------------------------------------------------------------- login-user */
/* ti[0] username, ti[2] password, ti[1] Login; ts[0], ts[1] expected. */
static void login_form(loco__page *p) {
    const char *u = loco__pick(p, loco__names, loco__n_names);
    char pw[16];
    loco__rand_string(p, pw, 2, 6);
    for (int k = 0; u[k]; k++) p->ts[0][k] = (char)tolower((unsigned char)u[k]);
    p->ts[0][strlen(u)] = 0;
    loco__strcpy(p->ts[1], pw, LOCO_ENV_STR);
    loco__set_utterance(p, "Enter the username \"%s\" and the password \"%s\" into the text fields and press login.",
                        p->ts[0], pw);
    loco__set_field(p, "username", p->ts[0]);
    loco__set_field(p, "password", pw);
    int f = form(p);
    int l1 = loco__add(p, f, K_BOX, "P", NULL);
    loco__add(p, l1, K_LABEL, "LABEL", "Username");
    p->ti[0] = loco__input(p, l1, INPUT_TEXT, 120);
    loco__set_id(p, p->ti[0], "username");
    int l2 = loco__add(p, f, K_BOX, "P", NULL);
    loco__add(p, l2, K_LABEL, "LABEL", "Password");
    p->ti[2] = loco__input(p, l2, INPUT_PASSWORD, 120);
    loco__set_id(p, p->ti[2], "password");
    p->ti[1] = submit(p, f, "Login");
}
static void login_event(loco__page *p, int ev, int i) {
    if (ev != EV_CLICK || !loco__within(p, i, p->ti[1])) return;
    if (!strcmp(p->n[p->ti[0]].e.value, p->ts[0]) && !strcmp(p->n[p->ti[2]].e.value, p->ts[1])) loco__win(p); else loco__lose(p);
}
static void login_plan(loco__demo *d, const loco_env_obs *o) {
    loco__demo_click(d, loco__obs_find_id(o, "username"));
    loco__demo_field(d, loco__obs_field_index(o, "username"));
    loco__demo_click(d, loco__obs_find_id(o, "password"));
    loco__demo_field(d, loco__obs_field_index(o, "password"));
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Login"));
}
const loco__task loco__task_login_user = {"login-user", login_form, login_event, login_plan, NULL, 0};

/* login-user-popup: focusing a field may raise a popup that covers the form
 * until it is dismissed (its "Cancel" closes it; "OK" loses). */
static void login_popup_gen(loco__page *p) {
    login_form(p);
    int pop = loco__add(p, p->area, K_BOX, "DIV", NULL);
    loco__set_id(p, pop, "popup");
    p->n[pop].absolute = 1; p->n[pop].x = 10; p->n[pop].y = 30; p->n[pop].w = 130; p->n[pop].border = 2;
    memcpy(p->n[pop].bcolor, (uint8_t[4]){0, 0, 0, 255}, 4);
    loco__set_bg(p, pop, 0xFFFFFF);
    for (int k = 0; k < 4; k++) p->n[pop].pad[k] = 5;
    loco__add(p, pop, K_BOX, "P", "Your session is about to expire. Exit now?");
    p->ti[4] = loco__button(p, pop, "Cancel");
    p->n[p->ti[4]].margin[1] = 4;
    p->ti[5] = loco__button(p, pop, "OK");
    loco__hide(p, pop, 1);
    p->ti[3] = pop;
    p->ti[6] = loco__randf(p) < 0.5f;   /* will it pop up? */
}
static void login_popup_event(loco__page *p, int ev, int i) {
    if (ev == EV_FOCUS && p->ti[6] && (i == p->ti[0] || i == p->ti[2])) {
        p->ti[6] = 0;
        loco__hide(p, p->ti[3], 0);
        loco__focus(p, -1);
        return;
    }
    if (ev != EV_CLICK) return;
    if (loco__within(p, i, p->ti[4])) { loco__hide(p, p->ti[3], 1); return; }
    if (loco__within(p, i, p->ti[5])) { loco__lose(p); return; }
    login_event(p, ev, i);
}
/* Dismiss a popup first; otherwise fill in whatever is still wrong. */
static void login_popup_plan(loco__demo *d, const loco_env_obs *o) {
    if (loco__obs_find_id(o, "popup")) { loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Cancel")); return; }
    static const char *const ids[2] = {"username", "password"};
    for (int k = 0; k < 2; k++) {
        const loco_env_elem *e = loco__obs_ref(o, loco__obs_find_id(o, ids[k]));
        if (e && strcmp(e->value, loco__obs_field(o, ids[k]))) {
            if (e->value[0]) {   /* clear a half-typed field */
                loco__demo_click(d, e->ref);
                loco__demo_key(d, "C-a");
                loco__demo_key(d, "<Backspace>");
            } else loco__demo_click(d, e->ref);
            loco__demo_field(d, loco__obs_field_index(o, ids[k]));
            return;   /* look again: the popup may have come */
        }
    }
    loco__demo_click(d, loco__obs_find_text(o, "BUTTON", "Login"));
}
const loco__task loco__task_login_user_popup = {"login-user-popup", login_popup_gen, login_popup_event, login_popup_plan, NULL, 0};
