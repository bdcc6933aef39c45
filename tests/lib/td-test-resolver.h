/* td-test-resolver.h: a GResolver that answers from a table, for tests
 *
 * Install it with g_resolver_set_default(): host names then resolve only as the test says
 * (e.g. imap.example.test -> 127.0.0.1), every other name fails with
 * G_RESOLVER_ERROR_NOT_FOUND, and SRV lookups (g_resolver_lookup_service) return the records
 * added, in the order added (the code under test must sort them), or NOT_FOUND.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TD_TYPE_TEST_RESOLVER (td_test_resolver_get_type ())

G_DECLARE_FINAL_TYPE (TdTestResolver, td_test_resolver, TD, TEST_RESOLVER, GResolver)

TdTestResolver *td_test_resolver_new       (void);
/* @name (case-insensitive) resolves to @address ("127.0.0.1", "::1"). */
void            td_test_resolver_add_host  (TdTestResolver *self,
                                            const char     *name,
                                            const char     *address);
/* An SRV record of @rrname ("_imaps._tcp.example.test"); @target "." = not offered. */
void            td_test_resolver_add_srv   (TdTestResolver *self,
                                            const char     *rrname,
                                            guint16         priority,
                                            guint16         weight,
                                            guint16         port,
                                            const char     *target);
/* Lookups answered so far (names and SRV names), e.g. to see that a host was probed. */
guint           td_test_resolver_get_lookups (TdTestResolver *self,
                                              const char     *name);
/* Answers each SRV lookup only after @ms (0, the default: at once). */
void            td_test_resolver_set_srv_delay (TdTestResolver *self,
                                                guint           ms);

G_END_DECLS
