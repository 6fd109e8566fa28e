/* The task table: one entry per task, in the order `loco env list` shows.
 * A task's index is part of the observation (obs.task), so new tasks go at
 * the end and the order never changes. */
#include "env/web/web.h"

#define TASKS(X)                                                                                  \
    X(click_test) X(click_test_2) X(click_button) X(click_button_sequence) X(click_checkboxes)    \
    X(click_checkboxes_large) X(click_checkboxes_soft) X(click_checkboxes_transfer)               \
    X(click_dialog) X(click_dialog_2) X(click_link) X(click_option) X(click_tab) X(click_tab_2)   \
    X(click_widget) X(enter_password) X(enter_text) X(enter_text_2) X(enter_text_dynamic)         \
    X(focus_text) X(focus_text_2) X(login_user) X(login_user_popup) X(copy_paste)                 \
    X(copy_paste_2) X(simple_arithmetic) X(simple_algebra) X(find_word) X(text_transform)         \
    X(guess_number) X(scroll_text) X(scroll_text_2) X(enter_date) X(enter_time) X(choose_list)    \
    X(use_spinner) X(use_autocomplete) X(click_collapsible) X(click_collapsible_2) X(drag_box)    \
    X(click_color) X(click_shades) X(click_shape) X(count_shape) X(identify_shape)                \
    X(grid_coordinate) X(read_table) X(read_table_2) X(multi_orderings) X(multi_layouts)          \
    X(navigate_tree) X(search_engine) X(social_media) X(find_greatest) X(email_inbox)             \
    X(click_menu) X(use_slider) X(click_test_transfer) X(click_scroll_list) X(odd_or_even)        \
    X(visual_addition) X(form_sequence_2) X(click_collapsible_nodelay)                            \
    X(click_collapsible_2_nodelay) X(use_autocomplete_nodelay)

#define DECL(t) extern const loco__task loco__task_##t;
TASKS(DECL)
#undef DECL

#define ENTRY(t) &loco__task_##t,
const loco__task *const loco__tasks[] = {TASKS(ENTRY)};
#undef ENTRY
const int loco__n_tasks = (int)(sizeof loco__tasks / sizeof *loco__tasks);
