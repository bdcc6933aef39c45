/* td-test-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-store.h"

#include "td-test-util.h"

TdStore *
td_test_store_open (const char *path,
                    guint       timeout_ms)
{
  TdStore *store = td_store_new (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_open_async (store, NULL, td_test_store_result, &result);
  g_assert_true (td_store_open_finish (store, td_test_wait_result (&result, timeout_ms),
                                       &error));
  g_assert_no_error (error);
  return store;
}

TdMessage *
td_test_store_find_subject (TdStore    *store,
                            gint64      folder_id,
                            const char *subject)
{
  g_autoptr(GPtrArray) page = td_store_page_messages (store, folder_id, 0, 1000, NULL);

  g_assert_nonnull (page);
  for (guint i = 0; i < page->len; i++)
    if (g_strcmp0 (td_message_get_subject (g_ptr_array_index (page, i)), subject) == 0)
      return g_object_ref (g_ptr_array_index (page, i));
  return NULL;
}
