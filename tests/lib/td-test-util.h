/* td-test-util.h: a clean environment for every test binary
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_test_init() with G_TEST_OPTION_ISOLATE_DIRS (every test case gets empty XDG dirs from
 * GLib) plus: a private temporary XDG_{DATA,CONFIG,CACHE,STATE,RUNTIME}_DIR in the
 * environment for child processes (unless a wrapper script already made them:
 * TD_TEST_KEEP_ENV=1), LC_ALL=C.UTF-8, td_engine_init(). The directory is removed at exit
 * unless the test failed. UI tests undo the isolation of XDG_DATA_DIRS themselves (see
 * tests/ui/td-test-ui.c). */
void        td_test_init           (int    *argc,
                                    char ***argv);
/* A new empty directory under the test's temporary root. */
char       *td_test_make_tempdir   (const char *prefix);
/* Absolute path of a file under tests/data/. */
char       *td_test_data_path      (const char *relative);
GBytes     *td_test_load_data      (const char *relative);
/* Where tests put screenshots and other artifacts (TD_BUILD_ROOT/test-artifacts). */
char       *td_test_artifact_path  (const char *name);
/* Runs the default main context until *@flag is TRUE or @timeout_ms passes (then fails
 * the test). */
void        td_test_wait_for       (gboolean   *flag,
                                    guint       timeout_ms);
/* Runs the default main context until @done (@data) is TRUE; fails the test, naming @what,
 * after @timeout_ms. */
void        td_test_wait_until     (GSourceFunc  done,
                                    gpointer     data,
                                    guint        timeout_ms,
                                    const char  *what);
/* Runs the main loop until the GAsyncResult pointed to by @result is set; returns it. */
GAsyncResult *td_test_wait_result  (GAsyncResult **result,
                                    guint          timeout_ms);
/* A GAsyncReadyCallback that stores a ref of the result into *(GAsyncResult **)user_data. */
void        td_test_store_result   (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data);

G_END_DECLS
