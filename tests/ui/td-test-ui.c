/* td-test-ui.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-ui.h"

#include "td-test-util.h"

/* --- The session's directories --- */

static const char * const session_vars[] = {
  "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
  "XDG_RUNTIME_DIR", "XDG_DATA_DIRS", "XDG_CONFIG_DIRS",
};
static char *session_values[G_N_ELEMENTS (session_vars)];

static char **
system_data_dirs (void)
{
  const char *dirs = session_values[6];

  return g_strsplit (dirs != NULL && *dirs != '\0' ? dirs : "/usr/local/share:/usr/share",
                     G_SEARCHPATH_SEPARATOR_S, -1);
}

void
td_test_ui_save_session_dirs (void)
{
  g_auto(GStrv) data_dirs = NULL;
  g_autoptr(GString) schema_dirs = g_string_new (g_getenv ("GSETTINGS_SCHEMA_DIR"));

  for (guint i = 0; i < G_N_ELEMENTS (session_vars); i++)
    session_values[i] = g_strdup (g_getenv (session_vars[i]));

  /* GTK's own widgets (the file chooser) need the system's schemas, which the isolated
   * XDG_DATA_DIRS will not have. */
  data_dirs = system_data_dirs ();
  for (guint i = 0; data_dirs[i] != NULL; i++)
    {
      g_autofree char *dir = g_build_filename (data_dirs[i], "glib-2.0", "schemas", NULL);

      if (schema_dirs->len > 0)
        g_string_append (schema_dirs, G_SEARCHPATH_SEPARATOR_S);
      g_string_append (schema_dirs, dir);
    }
  g_setenv ("GSETTINGS_SCHEMA_DIR", schema_dirs->str, TRUE);
}

/* G_TEST_OPTION_ISOLATE_DIRS (in td_test_init()) points every XDG directory of each test,
 * XDG_DATA_DIRS included, at empty directories: GTK would find no MIME database (so no
 * SVG icon loads) and no icon theme, and WebKit's processes would get HOME=/dev/null.
 * ui-session.sh already made a private HOME and XDG dirs (TD_TEST_KEEP_ENV=1): use them. */
void
td_test_ui_restore_session_dirs (void)
{
  g_auto(GStrv) data_dirs = system_data_dirs ();
  g_autoptr(GPtrArray) mime_dirs = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (session_vars); i++)
    if (session_values[i] != NULL)
      g_setenv (session_vars[i], session_values[i], TRUE);
    else
      g_unsetenv (session_vars[i]);

  /* What GLib still answers is the isolated set: make it exist (GTK writes the recent files
   * list there when a file chooser saves). */
  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_mkdir_with_parents (g_get_user_config_dir (), 0700);
  g_mkdir_with_parents (g_get_user_cache_dir (), 0700);

  if (session_values[1] != NULL)
    g_ptr_array_add (mime_dirs, g_build_filename (session_values[1], "mime", NULL));
  for (guint i = 0; data_dirs[i] != NULL; i++)
    g_ptr_array_add (mime_dirs, g_build_filename (data_dirs[i], "mime", NULL));
  g_ptr_array_add (mime_dirs, NULL);
  g_content_type_set_mime_dirs ((const char * const *) mime_dirs->pdata);
}

static void
restore_icon_theme (void)
{
  g_auto(GStrv) data_dirs = system_data_dirs ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gdk_display_get_default ());

  for (guint i = 0; data_dirs[i] != NULL; i++)
    g_ptr_array_add (paths, g_build_filename (data_dirs[i], "icons", NULL));
  g_ptr_array_add (paths, g_strdup ("/usr/share/pixmaps"));
  g_ptr_array_add (paths, NULL);
  gtk_icon_theme_set_search_path (theme, (const char * const *) paths->pdata);
}

/* --- Waiting --- */

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
td_test_ui_wait_until (TdTestUiPredicate  predicate,
                       gpointer           data,
                       guint              timeout_ms,
                       const char        *what)
{
  td_test_wait_until (predicate, data, timeout_ms, what);
}

void
td_test_ui_spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

/* --- Running the application --- */

typedef struct
{
  TdTestUiBody body;
  gpointer     data;
  gboolean     ran;
} AppRun;

static void
app_startup_cb (GApplication *app,
                gpointer      user_data)
{
  restore_icon_theme ();
}

static void
app_activate_cb (GApplication *app,
                 AppRun       *run)
{
  if (run->ran)
    return;
  run->ran = TRUE;
  run->body (TD_APPLICATION (app), run->data);
  /* The real quit: app.quit closes the windows and ends g_application_run(). */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
}

static gboolean
pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

void
td_test_ui_run_app (const char   *profile_dir,
                    TdTestUiBody  body,
                    gpointer      data)
{
  TdApplication *app = td_application_new ();
  char *argv[] = { (char *) "tidings", NULL };
  AppRun run = { body, data, FALSE };
  gpointer weak = app;
  int status;

  td_application_set_profile_dir (app, profile_dir);
  /* Each test runs its own instance, not on the bus: a registered GtkApplication asks the
   * portal for its Inhibit interface, and the private bus would start xdg-desktop-portal
   * (without a display) and its document portal (a FUSE mount in XDG_RUNTIME_DIR). */
  g_application_set_application_id (G_APPLICATION (app), NULL);
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_signal_connect_after (app, "startup", G_CALLBACK (app_startup_cb), NULL);
  g_signal_connect_after (app, "activate", G_CALLBACK (app_activate_cb), &run);

  status = g_application_run (G_APPLICATION (app), 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (run.ran);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));

  /* It holds the store: it must really go. */
  g_object_add_weak_pointer (G_OBJECT (app), &weak);
  g_object_unref (app);
  td_test_ui_wait_until (pointer_is_null, &weak, TD_TEST_UI_TIMEOUT_MS,
                         "the application to be finalized");
}

TdWindow *
td_test_ui_app_window (TdApplication *app)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (TD_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static gboolean
manager_ready (gpointer data)
{
  return td_application_get_manager (data) != NULL;
}

static gboolean
window_drawn (gpointer data)
{
  GtkWidget *widget = data;

  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 0;
}

TdWindow *
td_test_ui_wait_window (TdApplication *app)
{
  TdWindow *window = td_test_ui_app_window (app);

  g_assert_nonnull (window);
  td_test_ui_wait_until (manager_ready, app, TD_TEST_UI_TIMEOUT_MS, "the store to open");
  td_test_ui_wait_until (window_drawn, window, TD_TEST_UI_TIMEOUT_MS, "the window to be drawn");
  return window;
}

/* --- Screenshots --- */

static void
after_paint_cb (GdkFrameClock *clock,
                gboolean      *painted)
{
  *painted = TRUE;
}

static void
wait_for_paint (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gboolean painted = FALSE;
  gulong id;

  g_assert_nonnull (clock);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &painted);
  gtk_widget_queue_draw (widget);
  td_test_ui_wait_until (flag_is_set, &painted, TD_TEST_UI_TIMEOUT_MS, "a frame to be drawn");
  g_signal_handler_disconnect (clock, id);
}

void
td_test_ui_save_screenshot (GtkWidget  *widget,
                            const char *name)
{
  g_autofree char *path = td_test_artifact_path (name);
  g_autoptr(GdkPaintable) paintable = NULL;
  GtkSnapshot *snapshot;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  g_autofree char *import = g_find_program_in_path ("import");
  int width;
  int height;

  wait_for_paint (widget);
  /* A popover is a surface of its own that a widget paintable does not draw: the X server's
   * picture of the whole screen shows it over its window. */
  if (GTK_IS_POPOVER (widget))
    {
      g_autoptr(GSubprocess) proc = NULL;

      g_assert_nonnull (import);
      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL,
                               import, "-window", "root", path, NULL);
      g_assert_nonnull (proc);
      g_assert_true (g_subprocess_wait_check (proc, NULL, NULL));
      g_test_message ("screenshot: %s", path);
      return;
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  paintable = gtk_widget_paintable_new (widget);
  /* A window still settling its size (a label that wraps, a row just added) draws nothing
   * until it is laid out again: wait for a frame that has it. */
  for (guint attempt = 0; node == NULL && attempt < 50; attempt++)
    {
      if (attempt > 0)
        wait_for_paint (widget);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);

  if (import != NULL)
    {
      g_autofree char *root_name = g_strdup_printf ("root-%s", name);
      g_autofree char *root_path = td_test_artifact_path (root_name);
      g_autoptr(GSubprocess) proc = NULL;

      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL,
                               import, "-window", "root", root_path, NULL);
      if (proc != NULL)
        g_subprocess_wait (proc, NULL, NULL);
    }
}

/* --- Finding widgets --- */

GtkWidget *
td_test_ui_find_button (GtkWidget  *root,
                        const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = td_test_ui_find_button (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
td_test_ui_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* not ours */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) widget = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && gtk_widget_get_visible (widget))
        return widget;
    }
  return NULL;
}

static gboolean
has_toplevel (gpointer data)
{
  return td_test_ui_find_toplevel ((GType) GPOINTER_TO_SIZE (data)) != NULL;
}

static gboolean
no_toplevel (gpointer data)
{
  return td_test_ui_find_toplevel ((GType) GPOINTER_TO_SIZE (data)) == NULL;
}

GtkWidget *
td_test_ui_wait_toplevel (GType type)
{
  g_autofree char *what = g_strdup_printf ("a %s", g_type_name (type));

  td_test_ui_wait_until (has_toplevel, GSIZE_TO_POINTER (type), TD_TEST_UI_TIMEOUT_MS, what);
  return td_test_ui_find_toplevel (type);
}

void
td_test_ui_wait_no_toplevel (GType type)
{
  g_autofree char *what = g_strdup_printf ("no %s", g_type_name (type));

  td_test_ui_wait_until (no_toplevel, GSIZE_TO_POINTER (type), TD_TEST_UI_TIMEOUT_MS, what);
}

/* --- The message view --- */

typedef struct
{
  TdMessageView *view;
  const char    *state;
} StateWait;

static gboolean
body_state_is (gpointer data)
{
  StateWait *wait = data;

  return g_strcmp0 (td_message_view_get_body_state (wait->view), wait->state) == 0;
}

void
td_test_ui_wait_body_state (TdMessageView *view,
                            const char    *state)
{
  StateWait wait = { view, state };
  g_autofree char *what = g_strdup_printf ("body state %s", state);

  td_test_ui_wait_until (body_state_is, &wait, TD_TEST_UI_TIMEOUT_MS, what);
}

char *
td_test_ui_text_view_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start;
  GtkTextIter end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

guint
td_test_ui_find_subject (TdWindow   *window,
                         const char *subject)
{
  GListModel *model = G_LIST_MODEL (td_window_get_selection (window));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TdMessage) message = g_list_model_get_item (model, i);

      if (g_strcmp0 (td_message_get_subject (message), subject) == 0)
        return i;
    }
  g_error ("no message “%s” in the list", subject);
  return GTK_INVALID_LIST_POSITION;
}
