/* test-types.c: tests of src/engine/td-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-util.h"
#include "td-types.h"

#include <gmime/gmime.h>

static const TdFolderRole all_roles[] = {
  TD_FOLDER_ROLE_NONE, TD_FOLDER_ROLE_INBOX, TD_FOLDER_ROLE_DRAFTS, TD_FOLDER_ROLE_SENT,
  TD_FOLDER_ROLE_TRASH, TD_FOLDER_ROLE_JUNK, TD_FOLDER_ROLE_ARCHIVE, TD_FOLDER_ROLE_ALL,
  TD_FOLDER_ROLE_FLAGGED,
};

static void
test_folder_role_round_trip (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_roles); i++)
    {
      const char *name = td_folder_role_to_string (all_roles[i]);

      g_assert_nonnull (name);
      g_assert_cmpint (td_folder_role_from_string (name), ==, all_roles[i]);
      /* Every role but NONE has a name of its own. */
      g_assert_cmpint (name[0] == '\0', ==, all_roles[i] == TD_FOLDER_ROLE_NONE);
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (name, !=, td_folder_role_to_string (all_roles[j]));
    }
}

static void
test_folder_role_names (void)
{
  g_assert_cmpstr (td_folder_role_to_string (TD_FOLDER_ROLE_INBOX), ==, "inbox");
  g_assert_cmpstr (td_folder_role_to_string (TD_FOLDER_ROLE_SENT), ==, "sent");
  g_assert_cmpstr (td_folder_role_to_string (TD_FOLDER_ROLE_DRAFTS), ==, "drafts");
  g_assert_cmpstr (td_folder_role_to_string (TD_FOLDER_ROLE_TRASH), ==, "trash");
  g_assert_cmpstr (td_folder_role_to_string (TD_FOLDER_ROLE_NONE), ==, "");

  /* Stored text may come back in another case; unknown text is no role. */
  g_assert_cmpint (td_folder_role_from_string ("Sent"), ==, TD_FOLDER_ROLE_SENT);
  g_assert_cmpint (td_folder_role_from_string ("ARCHIVE"), ==, TD_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpint (td_folder_role_from_string ("outbox"), ==, TD_FOLDER_ROLE_NONE);
  g_assert_cmpint (td_folder_role_from_string ("inbox "), ==, TD_FOLDER_ROLE_NONE);
  g_assert_cmpint (td_folder_role_from_string (""), ==, TD_FOLDER_ROLE_NONE);
  g_assert_cmpint (td_folder_role_from_string (NULL), ==, TD_FOLDER_ROLE_NONE);

  /* A value out of the enum's range (from a corrupt store) is no role, not a crash. */
  g_assert_cmpstr (td_folder_role_to_string ((TdFolderRole) 1000), ==, "");
  g_assert_cmpstr (td_folder_role_to_string ((TdFolderRole) -1), ==, "");
}

static void
test_folder_role_sort_keys (void)
{
  /* The sidebar order: inbox first, then drafts, sent, archive; trash after junk; plain
   * folders (no role) last. */
  const TdFolderRole order[] = {
    TD_FOLDER_ROLE_INBOX, TD_FOLDER_ROLE_DRAFTS, TD_FOLDER_ROLE_SENT, TD_FOLDER_ROLE_ARCHIVE,
    TD_FOLDER_ROLE_JUNK, TD_FOLDER_ROLE_TRASH, TD_FOLDER_ROLE_NONE,
  };

  for (guint i = 1; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpint (td_folder_role_sort_key (order[i - 1]), <, td_folder_role_sort_key (order[i]));

  /* Every role sorts before a folder without one, and no two roles share a key. */
  for (guint i = 0; i < G_N_ELEMENTS (all_roles); i++)
    {
      if (all_roles[i] != TD_FOLDER_ROLE_NONE)
        g_assert_cmpint (td_folder_role_sort_key (all_roles[i]), <,
                         td_folder_role_sort_key (TD_FOLDER_ROLE_NONE));
      for (guint j = 0; j < i; j++)
        g_assert_cmpint (td_folder_role_sort_key (all_roles[i]), !=,
                         td_folder_role_sort_key (all_roles[j]));
    }
}

static void
test_account_kind (void)
{
  const TdAccountKind kinds[] = { TD_ACCOUNT_KIND_IMAP, TD_ACCOUNT_KIND_POP3 };
  TdAccountKind kind;

  g_assert_cmpstr (td_account_kind_to_string (TD_ACCOUNT_KIND_IMAP), ==, "imap");
  g_assert_cmpstr (td_account_kind_to_string (TD_ACCOUNT_KIND_POP3), ==, "pop3");

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      kind = (TdAccountKind) 99;
      g_assert_true (td_account_kind_from_string (td_account_kind_to_string (kinds[i]), &kind));
      g_assert_cmpint (kind, ==, kinds[i]);
    }

  /* Unknown text fails and leaves the output alone. */
  kind = TD_ACCOUNT_KIND_POP3;
  g_assert_false (td_account_kind_from_string ("smtp", &kind));
  g_assert_false (td_account_kind_from_string ("", &kind));
  g_assert_false (td_account_kind_from_string ("imap4", &kind));
  g_assert_false (td_account_kind_from_string (NULL, &kind));
  g_assert_cmpint (kind, ==, TD_ACCOUNT_KIND_POP3);
}

static void
test_security (void)
{
  const TdSecurity modes[] = { TD_SECURITY_TLS, TD_SECURITY_STARTTLS };
  TdSecurity security;

  g_assert_cmpstr (td_security_to_string (TD_SECURITY_TLS), ==, "tls");
  g_assert_cmpstr (td_security_to_string (TD_SECURITY_STARTTLS), ==, "starttls");

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      security = (TdSecurity) 99;
      g_assert_true (td_security_from_string (td_security_to_string (modes[i]), &security));
      g_assert_cmpint (security, ==, modes[i]);
    }

  /* There is no plaintext mode, whatever a config file says. */
  security = TD_SECURITY_STARTTLS;
  g_assert_false (td_security_from_string ("none", &security));
  g_assert_false (td_security_from_string ("plain", &security));
  g_assert_false (td_security_from_string ("ssl", &security));
  g_assert_false (td_security_from_string ("", &security));
  g_assert_false (td_security_from_string (NULL, &security));
  g_assert_cmpint (security, ==, TD_SECURITY_STARTTLS);
}

static void
test_flags (void)
{
  /* \Recent is session-only: never part of what is stored. */
  g_assert_cmpuint (TD_FLAGS_STORED & TD_FLAG_RECENT, ==, 0);
  g_assert_cmpuint (TD_FLAGS_STORED & TD_FLAG_SEEN, ==, TD_FLAG_SEEN);
  g_assert_cmpuint (TD_FLAGS_STORED & TD_FLAG_JUNK, ==, TD_FLAG_JUNK);
}

static void
test_engine_init_idempotent (void)
{
  g_autofree char *decoded = NULL;

  /* td_test_init() already called it once; more calls change nothing and GMime works. */
  td_engine_init ();
  td_engine_init ();
  decoded = g_mime_utils_header_decode_text (NULL, "=?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?=E0?=");
  /* Blanks between adjacent encoded words vanish (RFC 2047, 6.2). */
  g_assert_cmpstr (decoded, ==, "caféà");
}

int
main (int    argc,
      char **argv)
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/types/folder-role/round-trip", test_folder_role_round_trip);
  g_test_add_func ("/types/folder-role/names", test_folder_role_names);
  g_test_add_func ("/types/folder-role/sort-keys", test_folder_role_sort_keys);
  g_test_add_func ("/types/account-kind/round-trip", test_account_kind);
  g_test_add_func ("/types/security/round-trip", test_security);
  g_test_add_func ("/types/flags/stored", test_flags);
  g_test_add_func ("/types/engine/init-idempotent", test_engine_init_idempotent);

  return g_test_run ();
}
