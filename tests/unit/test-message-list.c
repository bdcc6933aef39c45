/* test-message-list.c: tests of src/engine/store/td-message-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-message-list.h"

#include <string.h>

#include "td-error.h"
#include "td-test-util.h"

#define TIMEOUT_MS 60000
#define N_MESSAGES 5000

/* The header of message number @n, dated @n minutes after 2024-01-01 12:00 UTC. */
static GBytes *
make_header (guint n)
{
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 12, 0, 0);
  g_autoptr(GDateTime) when = g_date_time_add_minutes (base, (int) n);
  g_autofree char *date = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *text = g_strdup_printf ("From: Sender <sender@example.org>\r\n"
                                           "To: me@example.org\r\n"
                                           "Subject: Message %u\r\n"
                                           "Date: %s\r\n"
                                           "Message-ID: <m%u@example.org>\r\n"
                                           "\r\n", n, date, n);

  return g_bytes_new (text, strlen (text));
}

static gint64
header_date (guint n)
{
  g_autoptr(GDateTime) base = g_date_time_new_utc (2024, 1, 1, 12, 0, 0);

  return g_date_time_to_unix (base) + 60 * (gint64) n;
}

typedef struct
{
  char      *path;
  TdStore   *store;
  gint64     folder;
  gint64     other;
} Fixture;

static void
wait_ok (TdStore *store,
         gboolean (*finish) (TdStore *, GAsyncResult *, GError **),
         GAsyncResult **result)
{
  g_autoptr(GError) error = NULL;

  td_test_wait_result (result, TIMEOUT_MS);
  g_assert_true (finish (store, *result, &error));
  g_assert_no_error (error);
  g_clear_object (result);
}

static void
add_range (Fixture *f,
           gint64   folder,
           guint    first,
           guint    count)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GAsyncResult) result = NULL;

  for (guint n = first; n < first + count; n++)
    {
      g_autoptr(GBytes) header = make_header (n);

      g_ptr_array_add (specs, td_message_spec_new (n + 1, 0, 0, 100, header));
    }
  td_store_add_messages_async (f->store, folder, specs, NULL, td_test_store_result, &result);
  wait_ok (f->store, td_store_add_messages_finish, &result);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *dir = td_test_make_tempdir ("list");
  g_autoptr(TdAccount) account = td_account_new (TD_ACCOUNT_KIND_IMAP, "a@example.org",
                                                 "imap.example.org", 993, TD_SECURITY_TLS, NULL);
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(TdFolder) other = NULL;
  g_autoptr(GError) error = NULL;

  f->path = g_build_filename (dir, "tidings.db", NULL);
  f->store = td_store_new (f->path);
  td_store_open_async (f->store, NULL, td_test_store_result, &result);
  wait_ok (f->store, td_store_open_finish, &result);

  td_store_add_account_async (f->store, account, NULL, td_test_store_result, &result);
  wait_ok (f->store, td_store_add_account_finish, &result);

  g_ptr_array_add (specs, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  g_ptr_array_add (specs, td_folder_spec_new ("Other", '/', TD_FOLDER_ROLE_NONE, TRUE));
  td_store_sync_folders_async (f->store, td_account_get_id (account), specs, NULL,
                               td_test_store_result, &result);
  wait_ok (f->store, td_store_sync_folders_finish, &result);

  folder = td_store_find_folder (f->store, td_account_get_id (account), "INBOX", &error);
  g_assert_no_error (error);
  other = td_store_find_folder (f->store, td_account_get_id (account), "Other", &error);
  g_assert_no_error (error);
  f->folder = td_folder_get_id (folder);
  f->other = td_folder_get_id (other);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  td_store_close (f->store);
  g_clear_object (&f->store);
  g_free (f->path);
}

static void
assert_item (TdMessageList *list,
             guint          position)
{
  g_autoptr(TdMessage) m = g_list_model_get_item (G_LIST_MODEL (list), position);

  g_assert_nonnull (m);
  /* Newest first: position p is message number N - 1 - p. */
  g_assert_cmpint (td_message_get_date (m), ==, header_date (N_MESSAGES - 1 - position));
}

static void
test_paging (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TdMessageList) list = NULL;
  guint loaded;

  add_range (f, f->folder, 0, N_MESSAGES);

  /* Knowing its size reads no rows. */
  list = td_message_list_new (f->store, f->folder);
  g_assert_cmpint (td_message_list_get_folder_id (list), ==, f->folder);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == TD_TYPE_MESSAGE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_MESSAGES);
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, 0);

  /* The last item loads only the page it is on. */
  assert_item (list, N_MESSAGES - 1);
  loaded = td_message_list_get_rows_loaded (list);
  g_assert_cmpuint (loaded, >, 0);
  g_assert_cmpuint (loaded, <=, 100);
  assert_item (list, N_MESSAGES - 2);
  assert_item (list, N_MESSAGES - 100);
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded);

  /* Out of range: nothing, and nothing read. */
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), N_MESSAGES));
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), G_MAXUINT));
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded);

  /* Four pages stay cached; the least recently used one goes when a fifth comes. */
  assert_item (list, 0);            /* page 0 */
  assert_item (list, 150);          /* page 1 */
  assert_item (list, 2500);         /* page 25 */
  loaded = td_message_list_get_rows_loaded (list);
  g_assert_cmpuint (loaded, ==, 400);
  assert_item (list, N_MESSAGES - 50);   /* the last page again: cached */
  assert_item (list, 99);                /* page 0: cached */
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded);
  assert_item (list, 3000);              /* page 30 evicts page 1 */
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded + 100);
  assert_item (list, 0);                 /* still cached */
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded + 100);
  assert_item (list, 100);               /* page 1 again: read again */
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded + 200);

  /* Random access over the whole folder reads at most a page per access. */
  for (guint i = 0; i < 50; i++)
    {
      guint before = td_message_list_get_rows_loaded (list);
      guint position = g_test_rand_int_range (0, N_MESSAGES);

      assert_item (list, position);
      g_assert_cmpuint (td_message_list_get_rows_loaded (list) - before, <=, 100);
    }

  /* A full scroll: every item in order, each page read once. */
  g_clear_object (&list);
  list = td_message_list_new (f->store, f->folder);
  for (guint p = 0; p < N_MESSAGES; p++)
    assert_item (list, p);
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, N_MESSAGES);
}

typedef struct
{
  guint calls;
  guint position;
  guint removed;
  guint added;
} Changed;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Changed    *changed)
{
  changed->calls++;
  changed->position = position;
  changed->removed = removed;
  changed->added = added;
  /* The model is already consistent when it says so. */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, added);
}

static void
wait_changed (Changed *changed,
              guint    calls)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  while (changed->calls < calls && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (changed->calls, ==, calls);
}

static void
test_items_changed (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TdMessageList) list = NULL;
  g_autoptr(TdMessageList) empty = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) flags = g_array_new (FALSE, FALSE, sizeof (TdUidFlags));
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(TdMessage) first = NULL;
  Changed changed = { 0 };
  Changed empty_changed = { 0 };
  TdUidFlags seen = { N_MESSAGES + 1, TD_FLAG_SEEN };   /* uid of the newest message */
  guint32 gone = N_MESSAGES + 1;
  guint loaded;

  add_range (f, f->folder, 0, N_MESSAGES);
  list = td_message_list_new (f->store, f->folder);
  empty = td_message_list_new (f->store, f->other);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (empty)), ==, 0);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changed);
  g_signal_connect (empty, "items-changed", G_CALLBACK (items_changed_cb), &empty_changed);
  assert_item (list, 0);
  loaded = td_message_list_get_rows_loaded (list);

  /* A new newest message. */
  add_range (f, f->folder, N_MESSAGES, 1);
  wait_changed (&changed, 1);
  g_assert_cmpuint (changed.position, ==, 0);
  g_assert_cmpuint (changed.removed, ==, N_MESSAGES);
  g_assert_cmpuint (changed.added, ==, N_MESSAGES + 1);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (td_message_get_date (first), ==, header_date (N_MESSAGES));
  /* The cache was dropped: the first page was read again. */
  g_assert_cmpuint (td_message_list_get_rows_loaded (list), ==, loaded + 100);
  g_clear_object (&first);

  /* A flag change: same size, new contents. */
  g_array_append_val (flags, seen);
  td_store_update_flags_async (f->store, f->folder, flags, NULL, td_test_store_result, &result);
  wait_ok (f->store, td_store_update_flags_finish, &result);
  wait_changed (&changed, 2);
  g_assert_cmpuint (changed.removed, ==, N_MESSAGES + 1);
  g_assert_cmpuint (changed.added, ==, N_MESSAGES + 1);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpuint (td_message_get_flags (first), ==, TD_FLAG_SEEN);
  g_clear_object (&first);

  /* A removal. */
  g_array_append_val (uids, gone);
  td_store_remove_messages_async (f->store, f->folder, uids, NULL, td_test_store_result, &result);
  wait_ok (f->store, td_store_remove_messages_finish, &result);
  wait_changed (&changed, 3);
  g_assert_cmpuint (changed.removed, ==, N_MESSAGES + 1);
  g_assert_cmpuint (changed.added, ==, N_MESSAGES);
  assert_item (list, 0);

  /* Another folder's change is not ours; ours reaches the other list only once. */
  add_range (f, f->other, 0, 3);
  wait_changed (&empty_changed, 1);
  g_assert_cmpuint (empty_changed.removed, ==, 0);
  g_assert_cmpuint (empty_changed.added, ==, 3);
  g_assert_cmpuint (changed.calls, ==, 3);
  g_assert_cmpuint (empty_changed.calls, ==, 1);
}

static void
test_store_gone (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(TdMessageList) list = NULL;

  add_range (f, f->folder, 0, 10);
  list = td_message_list_new (f->store, f->folder);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10);

  /* A closed store gives no rows, and no crash. */
  td_store_close (f->store);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), 3));
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add ("/message-list/paging", Fixture, NULL, fixture_setup, test_paging,
              fixture_teardown);
  g_test_add ("/message-list/items-changed", Fixture, NULL, fixture_setup, test_items_changed,
              fixture_teardown);
  g_test_add ("/message-list/store-closed", Fixture, NULL, fixture_setup, test_store_gone,
              fixture_teardown);

  return g_test_run ();
}
