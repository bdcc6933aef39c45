/* test-store-outbox.c: tests of src/engine/store/td-store-outbox.c and migration 007-outbox.sql
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-store-outbox.h"

#include <string.h>

#include "td-error.h"
#include "td-test-store.h"
#include "td-test-util.h"

#define TIMEOUT_MS 60000

static const char message_text[] =
  "From: alice@example.org\r\n"
  "To: bob@example.org\r\n"
  "Subject: In the outbox\r\n"
  "Message-ID: <1@example.org>\r\n"
  "\r\n"
  "Hello\r\n";

typedef struct
{
  char      *path;
  TdStore   *store;
  TdAccount *account;
  gint64     sent_folder;
} Fixture;

static gboolean
wait_op (Fixture  *f,
         GAsyncResult *result,
         GError  **error)
{
  return td_store_outbox_op_finish (f->store, result, error);
}

#define RUN_OP(f, call_args, error)                                        \
  G_STMT_START {                                                           \
    g_autoptr(GAsyncResult) _r = NULL;                                     \
    call_args;                                                             \
    ok = wait_op ((f), td_test_wait_result (&_r, TIMEOUT_MS), (error));    \
  } G_STMT_END

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  f->path = g_build_filename (g_get_user_data_dir (), "outbox.db", NULL);
  f->store = td_test_store_open (f->path, TIMEOUT_MS);
  f->account = td_account_new (TD_ACCOUNT_KIND_POP3, "alice@example.org", "pop.example.org",
                               995, TD_SECURITY_TLS, NULL);
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &result);
  g_assert_true (td_store_add_account_finish (f->store, td_test_wait_result (&result, TIMEOUT_MS),
                                              &error));
  g_assert_no_error (error);

  folders = td_store_list_folders (f->store, td_account_get_id (f->account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == TD_FOLDER_ROLE_SENT)
      f->sent_folder = td_folder_get_id (g_ptr_array_index (folders, i));
  g_assert_cmpint (f->sent_folder, >, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->account);
  g_clear_object (&f->store);
  g_free (f->path);
}

static gint64
add_item (Fixture *f)
{
  static const char * const to[] = { "bob@example.org", "carol@example.org", NULL };
  g_autoptr(GBytes) raw = g_bytes_new_static (message_text, strlen (message_text));
  g_autoptr(TdOutboxItem) item = td_outbox_item_new (td_account_get_id (f->account),
                                                     "alice@example.org", to, raw);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  item->subject = g_strdup ("In the outbox");
  item->message_id_header = g_strdup ("<1@example.org>");
  td_store_outbox_add_async (f->store, item, NULL, td_test_store_result, &result);
  id = td_store_outbox_add_finish (f->store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static GPtrArray *
list (Fixture  *f,
      gboolean  with_raw)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  td_store_outbox_list_async (f->store, 0, with_raw, NULL, td_test_store_result, &result);
  items = td_store_outbox_list_finish (f->store, td_test_wait_result (&result, TIMEOUT_MS),
                                       &error);
  g_assert_no_error (error);
  return items;
}

static TdOutboxItem *
only_item (GPtrArray *items)
{
  g_assert_cmpuint (items->len, ==, 1);
  return g_ptr_array_index (items, 0);
}

/* The whole life of a message: added, listed, sending, a failure to retry, a failure for
 * good, the user's retry, sent, finished into Sent. */
static void
test_lifecycle (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(TdMessage) copy = NULL;
  TdOutboxItem *item;
  gint64 id = add_item (f);
  gboolean ok;

  items = list (f, TRUE);
  item = only_item (items);
  g_assert_cmpint (item->id, ==, id);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_QUEUED);
  g_assert_cmpstr (item->mail_from, ==, "alice@example.org");
  g_assert_cmpuint (g_strv_length (item->recipients), ==, 2);
  g_assert_cmpstr (item->recipients[1], ==, "carol@example.org");
  g_assert_cmpstr (item->subject, ==, "In the outbox");
  g_assert_cmpuint (g_bytes_get_size (item->raw), ==, strlen (message_text));
  g_assert_cmpmem (g_bytes_get_data (item->raw, NULL), strlen (message_text), message_text,
                   strlen (message_text));
  g_clear_pointer (&items, g_ptr_array_unref);
  items = list (f, FALSE);
  g_assert_null (only_item (items)->raw);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* sending: only once */
  RUN_OP (f, td_store_outbox_mark_sending_async (f->store, id, 500, NULL, td_test_store_result, &_r),
          &error);
  g_assert_true (ok);
  RUN_OP (f, td_store_outbox_mark_sending_async (f->store, id, 500, NULL, td_test_store_result, &_r),
          &error);
  g_assert_false (ok);
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);

  /* another process sending it now: left alone */
  RUN_OP (f, td_store_outbox_requeue_sending_async (f->store, 0, 500, NULL, td_test_store_result,
                                                    &_r), &error);
  g_assert_true (ok);
  items = list (f, FALSE);
  g_assert_cmpint (only_item (items)->state, ==, TD_OUTBOX_SENDING);
  g_assert_cmpint (only_item (items)->next_attempt, ==, 500);
  g_clear_pointer (&items, g_ptr_array_unref);
  /* a process that died while sending: queued again at the next start */
  RUN_OP (f, td_store_outbox_requeue_sending_async (f->store, 0, 501, NULL, td_test_store_result,
                                                    &_r), &error);
  g_assert_true (ok);
  items = list (f, FALSE);
  g_assert_cmpint (only_item (items)->state, ==, TD_OUTBOX_QUEUED);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* a failure to retry later, then one for good */
  RUN_OP (f, td_store_outbox_mark_failed_async (f->store, id, "try later", TRUE, 12345, NULL,
                                                td_test_store_result, &_r), &error);
  g_assert_true (ok);
  items = list (f, FALSE);
  item = only_item (items);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_QUEUED);
  g_assert_cmpuint (item->attempts, ==, 1);
  g_assert_cmpint (item->next_attempt, ==, 12345);
  g_assert_cmpstr (item->last_error, ==, "try later");
  g_clear_pointer (&items, g_ptr_array_unref);

  RUN_OP (f, td_store_outbox_mark_failed_async (f->store, id, "no such user", FALSE, 0, NULL,
                                                td_test_store_result, &_r), &error);
  g_assert_true (ok);
  items = list (f, FALSE);
  item = only_item (items);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_FAILED);
  g_assert_cmpuint (item->attempts, ==, 2);
  g_assert_cmpstr (item->last_error, ==, "no such user");
  g_clear_pointer (&items, g_ptr_array_unref);
  /* a failed one is not sent until the user says so */
  RUN_OP (f, td_store_outbox_mark_sending_async (f->store, id, 500, NULL, td_test_store_result, &_r),
          &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_WRONG_STATE);
  g_clear_error (&error);
  RUN_OP (f, td_store_outbox_retry_async (f->store, id, NULL, td_test_store_result, &_r),
          &error);
  g_assert_true (ok);

  /* sent: never back to queued or failed, not removable, not requeued */
  RUN_OP (f, td_store_outbox_mark_sending_async (f->store, id, 500, NULL, td_test_store_result, &_r),
          &error);
  g_assert_true (ok);
  RUN_OP (f, td_store_outbox_mark_sent_async (f->store, id, 1000, "carol@example.org: refused",
                                              NULL, td_test_store_result, &_r), &error);
  g_assert_true (ok);
  RUN_OP (f, td_store_outbox_mark_failed_async (f->store, id, "late", TRUE, 0, NULL,
                                                td_test_store_result, &_r), &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  RUN_OP (f, td_store_outbox_remove_async (f->store, id, NULL, td_test_store_result, &_r),
          &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  RUN_OP (f, td_store_outbox_requeue_sending_async (f->store, 0, G_MAXINT64, NULL,
                                                    td_test_store_result, &_r), &error);
  items = list (f, FALSE);
  item = only_item (items);
  g_assert_cmpint (item->state, ==, TD_OUTBOX_SENT);
  g_assert_cmpint (item->sent_at, ==, 1000);
  g_assert_cmpstr (item->last_error, ==, "carol@example.org: refused");
  g_clear_pointer (&items, g_ptr_array_unref);

  /* finished: a read copy in Sent, and the row gone */
  RUN_OP (f, td_store_outbox_finish_sent_async (f->store, id, f->sent_folder, NULL,
                                                td_test_store_result, &_r), &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  items = list (f, FALSE);
  g_assert_cmpuint (items->len, ==, 0);
  copy = td_test_store_find_subject (f->store, f->sent_folder, "In the outbox");
  g_assert_nonnull (copy);
  g_assert_true (td_message_get_flags (copy) & TD_FLAG_SEEN);
  RUN_OP (f, td_store_outbox_finish_sent_async (f->store, id, f->sent_folder, NULL,
                                                td_test_store_result, &_r), &error);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

static void
test_invalid (Fixture       *f,
              gconstpointer  data)
{
  static const char * const none[] = { NULL };
  g_autoptr(GBytes) raw = g_bytes_new_static ("x", 1);
  g_autoptr(TdOutboxItem) item = td_outbox_item_new (td_account_get_id (f->account), "a@b",
                                                     none, raw);
  g_autoptr(TdOutboxItem) stranger = td_outbox_item_new (999, "a@b",
                                                         (const char * const[]) { "c@d", NULL },
                                                         raw);
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;
  gboolean ok;

  td_store_outbox_add_async (f->store, item, NULL, td_test_store_result, &r1);
  g_assert_cmpint (td_store_outbox_add_finish (f->store, td_test_wait_result (&r1, TIMEOUT_MS),
                                               &error), ==, 0);
  g_assert_error (error, TD_ERROR, TD_ERROR_INVALID);
  g_clear_error (&error);
  td_store_outbox_add_async (f->store, stranger, NULL, td_test_store_result, &r2);
  g_assert_cmpint (td_store_outbox_add_finish (f->store, td_test_wait_result (&r2, TIMEOUT_MS),
                                               &error), ==, 0);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* removing the account removes its outbox */
  id = add_item (f);
  g_assert_cmpint (id, >, 0);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GPtrArray) items = NULL;

    td_store_remove_account_async (f->store, td_account_get_id (f->account), NULL,
                                   td_test_store_result, &result);
    g_assert_true (td_store_remove_account_finish (f->store,
                                                   td_test_wait_result (&result, TIMEOUT_MS),
                                                   &error));
    items = list (f, FALSE);
    g_assert_cmpuint (items->len, ==, 0);
  }
  RUN_OP (f, td_store_outbox_remove_async (f->store, id, NULL, td_test_store_result, &_r),
          &error);
  g_assert_false (ok);
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add ("/store/outbox/lifecycle", Fixture, NULL, fixture_setup, test_lifecycle,
              fixture_teardown);
  g_test_add ("/store/outbox/invalid", Fixture, NULL, fixture_setup, test_invalid,
              fixture_teardown);

  return g_test_run ();
}
