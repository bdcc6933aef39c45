/* td-test-ui.h: running the real application under Xvfb, waiting on it, screenshots
 *
 * What every UI test does: run the application, wait for it, look for its windows and take
 * screenshots. Run the binaries through ui-session.sh.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "td-application.h"
#include "td-message-view.h"
#include "td-window.h"

G_BEGIN_DECLS

#define TD_TEST_UI_TIMEOUT_MS 30000

/* Before td_test_init(): remembers the directories ui-session.sh made, and makes the system's
 * GSettings schemas findable. */
void           td_test_ui_save_session_dirs    (void);
/* At the start of each test case (after GLib isolated its directories): the session's
 * directories again, so GTK finds icons, MIME types and WebKit a HOME. */
void           td_test_ui_restore_session_dirs (void);

typedef void (*TdTestUiBody) (TdApplication *app,
                              gpointer       data);

/* Runs the real application on @profile_dir from startup to shutdown; @body runs once it is
 * activated (the window is there, the store is being opened). Checks that it went away. */
void           td_test_ui_run_app              (const char    *profile_dir,
                                                TdTestUiBody   body,
                                                gpointer       data);
TdWindow      *td_test_ui_app_window           (TdApplication *app);
/* Waits for the store to open and the window to be drawn. */
TdWindow      *td_test_ui_wait_window          (TdApplication *app);

typedef gboolean (*TdTestUiPredicate) (gpointer data);

/* Runs the main loop until @predicate is TRUE; fails the test after @timeout_ms. */
void           td_test_ui_wait_until           (TdTestUiPredicate  predicate,
                                                gpointer           data,
                                                guint              timeout_ms,
                                                const char        *what);
/* Runs the main loop for @ms. */
void           td_test_ui_spin                 (guint              ms);
/* Saves what @widget shows as TD_BUILD_ROOT/test-artifacts/@name (and, with ImageMagick,
 * the whole X screen as root-@name: popovers are windows of their own). */
void           td_test_ui_save_screenshot      (GtkWidget         *widget,
                                                const char        *name);

/* The button under @root labelled @label (with its mnemonic), or NULL. */
GtkWidget     *td_test_ui_find_button          (GtkWidget         *root,
                                                const char        *label);
/* The first visible toplevel of @type, or NULL. */
GtkWidget     *td_test_ui_find_toplevel        (GType              type);
/* Waits for a visible toplevel of @type and returns it. */
GtkWidget     *td_test_ui_wait_toplevel        (GType              type);
/* Waits until no toplevel of @type is visible. */
void           td_test_ui_wait_no_toplevel     (GType              type);

void           td_test_ui_wait_body_state      (TdMessageView     *view,
                                                const char        *state);
char          *td_test_ui_text_view_text       (GtkTextView       *view);
/* The position of the message @subject in the window's list (fails when there is none). */
guint          td_test_ui_find_subject         (TdWindow          *window,
                                                const char        *subject);

G_END_DECLS
