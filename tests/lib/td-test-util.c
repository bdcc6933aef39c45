/* td-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-util.h"

#include <glib/gstdio.h>
#include <locale.h>

#include "td-types.h"

static char *test_root;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
cleanup_root (void)
{
  if (test_root != NULL && !g_test_failed () && g_getenv ("TD_TEST_KEEP_TMP") == NULL)
    remove_tree (test_root);
  g_clear_pointer (&test_root, g_free);
}

void
td_test_init (int    *argc,
              char ***argv)
{
  g_autoptr(GError) error = NULL;

  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");
  g_test_init (argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  test_root = g_dir_make_tmp ("tidings-test-XXXXXX", &error);
  g_assert_no_error (error);

  if (g_strcmp0 (g_getenv ("TD_TEST_KEEP_ENV"), "1") != 0)
    {
      static const char * const dirs[] = {
        "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
      };
      g_autofree char *runtime = g_build_filename (test_root, "runtime", NULL);

      for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
        {
          g_autofree char *d = g_build_filename (test_root, dirs[i], NULL);

          g_mkdir_with_parents (d, 0700);
          g_setenv (dirs[i], d, TRUE);
        }
      g_mkdir_with_parents (runtime, 0700);
      g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
    }

  atexit (cleanup_root);
  td_engine_init ();
}

char *
td_test_make_tempdir (const char *prefix)
{
  g_autofree char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix != NULL ? prefix : "dir");
  char *path = g_build_filename (test_root, tmpl, NULL);

  g_assert_nonnull (g_mkdtemp (path));
  return path;
}

char *
td_test_data_path (const char *relative)
{
  const char *srcdir = g_getenv ("TD_TEST_SRCDIR");

  g_assert_nonnull (srcdir);
  return g_build_filename (srcdir, "data", relative, NULL);
}

GBytes *
td_test_load_data (const char *relative)
{
  g_autofree char *path = td_test_data_path (relative);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

char *
td_test_artifact_path (const char *name)
{
  const char *root = g_getenv ("TD_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (root != NULL ? root : ".", "test-artifacts", NULL);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
td_test_wait_for (gboolean *flag,
                  guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    g_error ("timed out after %u ms", timeout_ms);
  g_source_remove (id);
}

void
td_test_wait_until (GSourceFunc  done,
                    gpointer     data,
                    guint        timeout_ms,
                    const char  *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    g_error ("timed out after %u ms waiting for %s", timeout_ms, what);
  g_source_remove (id);
}

void
td_test_store_result (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

GAsyncResult *
td_test_wait_result (GAsyncResult **result,
                     guint          timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (*result == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    g_error ("timed out after %u ms", timeout_ms);
  g_source_remove (id);
  return *result;
}
