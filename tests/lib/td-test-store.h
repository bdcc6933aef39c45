/* td-test-store.h: a store for the tests that sync into one, and what they ask it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-store.h"

G_BEGIN_DECLS

/* A new TdStore at @path, opened (fails the test when it does not open in @timeout_ms). */
TdStore    *td_test_store_open          (const char *path,
                                         guint       timeout_ms);
/* The first of the newest 1000 messages of @folder_id with exactly @subject (a ref), or
 * NULL. */
TdMessage  *td_test_store_find_subject  (TdStore    *store,
                                         gint64      folder_id,
                                         const char *subject);

G_END_DECLS
