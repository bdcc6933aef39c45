/* test-keyring.c: passwords go into the real keyring, and into no file
 *
 * Runs under keyring-session.sh: a gnome-keyring, unlocked, on a private D-Bus, in a
 * throwaway home (TD_KEYRING_TMP). An account is saved in a real profile store, its password
 * in TdSecretCredentials; the item is checked through libsecret and secret-tool, and then
 * every file of the profile, of the XDG directories and of the whole throwaway home (the
 * keyring's own files included) is searched for the password's bytes (ARCHITECTURE.md,
 * invariant 3).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>

#include "td-error.h"
#include "td-secret-credentials.h"
#include "td-store.h"
#include "td-test-util.h"

#define WAIT_MS 30000
#define ADDRESS "alice@example.org"

/* The same schema as td-secret-credentials.c, written out again on purpose: the test checks
 * the items by the documented names. */
static const SecretSchema test_schema = {
  "org.tidings.Tidings.Account", SECRET_SCHEMA_NONE,
  {
    { "uuid", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

typedef struct
{
  char          *profile;
  TdStore       *store;
  TdCredentials *credentials;
  TdAccount     *account;
  char          *password;
} Fixture;

/* --- helpers --- */

static char *
make_password (void)
{
  /* Random per run, so nothing left from an earlier run can be mistaken for it. */
  return g_strdup_printf ("Tidings-keyring-%08x%08x-pässwörd", g_random_int (), g_random_int ());
}

static void
store_password (TdCredentials *credentials,
                TdAccount     *account,
                const char    *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_credentials_store_async (credentials, account, password, NULL, td_test_store_result,
                              &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_credentials_store_finish (credentials, result, &error));
  g_assert_no_error (error);
}

static char *
lookup_password (TdCredentials  *credentials,
                 TdAccount      *account,
                 GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_credentials_lookup_async (credentials, account, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  return td_credentials_lookup_finish (credentials, result, error);
}

static void
clear_password (TdCredentials *credentials,
                TdAccount     *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  td_credentials_clear_async (credentials, account, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_credentials_clear_finish (credentials, result, &error));
  g_assert_no_error (error);
}

/* The items of the schema with this uuid, secrets loaded, straight from the Secret Service. */
static GList *
search_items (const char *uuid)
{
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;

  g_hash_table_insert (attributes, (gpointer) "uuid", (gpointer) uuid);
  secret_service_search (NULL, &test_schema, attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
                         NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  items = secret_service_search_finish (NULL, result, &error);
  g_assert_no_error (error);
  return items;
}

static char *
default_collection_path (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SecretCollection) collection = NULL;

  secret_collection_for_alias (NULL, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, NULL,
                               td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  collection = secret_collection_for_alias_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  return g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)));
}

/* `secret-tool lookup uuid UUID`: another client of the same keyring. */
static char *
secret_tool_lookup (const char *uuid)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error, "secret-tool", "lookup", "uuid", uuid, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    return NULL;
  return g_steal_pointer (&out);
}

static gboolean
contains_bytes (const char *haystack,
                gsize       haystack_len,
                const char *needle,
                gsize       needle_len)
{
  if (needle_len == 0 || haystack_len < needle_len)
    return FALSE;
  for (gsize i = 0; i + needle_len <= haystack_len; i++)
    if (haystack[i] == needle[0] && memcmp (haystack + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

/* Searches every regular file under @dir (not following links) for @secret; returns the
 * number of files read. */
static guint
scan_tree (const char *dir,
           const char *secret)
{
  g_autoptr(GDir) handle = NULL;
  const char *name;
  guint n_files = 0;

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    return 0;
  handle = g_dir_open (dir, 0, NULL);
  if (handle == NULL)
    return 0;

  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;

      if (g_lstat (path, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        n_files += scan_tree (path, secret);
      else if (S_ISREG (st.st_mode))
        {
          g_autofree char *contents = NULL;
          gsize len = 0;
          g_autoptr(GError) error = NULL;

          g_file_get_contents (path, &contents, &len, &error);
          g_assert_no_error (error);
          if (contains_bytes (contents, len, secret, strlen (secret)))
            g_error ("the password is in the file %s", path);
          n_files++;
        }
    }
  return n_files;
}

/* Every place a file of ours could be. Returns how many files were searched. */
static guint
scan_everything (Fixture *f)
{
  const char *wrapper_root = g_getenv ("TD_KEYRING_TMP");
  const char *dirs[] = {
    f->profile,
    g_get_user_data_dir (),
    g_get_user_config_dir (),
    g_get_user_cache_dir (),
    g_get_user_state_dir (),
    g_get_home_dir (),
    wrapper_root,
  };
  guint n_files = 0;

  /* The script made the keyring's home; the test must run under it. */
  g_assert_nonnull (wrapper_root);
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    n_files += scan_tree (dirs[i], f->password);
  return n_files;
}

/* --- fixture --- */

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *db_path = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->profile = g_build_filename (g_get_user_data_dir (), "tidings", NULL);
  db_path = g_build_filename (f->profile, "tidings.db", NULL);
  f->store = td_store_new (db_path);
  td_store_open_async (f->store, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_store_open_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  f->account = td_account_new (TD_ACCOUNT_KIND_IMAP, ADDRESS, "imap.example.org", 993,
                               TD_SECURITY_TLS, "alice");
  td_store_add_account_async (f->store, f->account, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_store_add_account_finish (f->store, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (td_account_get_id (f->account), >, 0);
  g_assert_nonnull (td_account_get_uuid (f->account));

  f->credentials = td_secret_credentials_new ();
  f->password = make_password ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;

  /* Leave the keyring as it was found. */
  td_credentials_clear_async (f->credentials, f->account, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  td_credentials_clear_finish (f->credentials, result, NULL);

  td_store_close (f->store);
  g_clear_object (&f->store);
  g_clear_object (&f->credentials);
  g_clear_object (&f->account);
  g_clear_pointer (&f->profile, g_free);
  g_clear_pointer (&f->password, g_free);
}

/* --- tests --- */

static void
test_roundtrip (Fixture       *f,
                gconstpointer  data)
{
  const char *uuid = td_account_get_uuid (f->account);
  g_autoptr(GError) error = NULL;
  g_autofree char *collection_path = NULL;
  g_autofree char *from_tool = NULL;
  g_autofree char *db_path = NULL;
  char *found;
  GList *items;
  guint n_files;

  store_password (f->credentials, f->account, f->password);

  found = lookup_password (f->credentials, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, f->password);
  td_credentials_free_password (found);

  /* The item, as the Secret Service has it: one, in the default collection, labelled, with
   * the documented attributes and the password as its secret. */
  items = search_items (uuid);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  {
    SecretItem *item = items->data;
    g_autoptr(GHashTable) attributes = secret_item_get_attributes (item);
    g_autofree char *label = secret_item_get_label (item);
    g_autoptr(SecretValue) value = secret_item_get_secret (item);

    collection_path = default_collection_path ();
    g_test_message ("item %s in %s", g_dbus_proxy_get_object_path (G_DBUS_PROXY (item)),
                    collection_path);
    g_assert_true (g_str_has_prefix (g_dbus_proxy_get_object_path (G_DBUS_PROXY (item)),
                                     collection_path));
    g_assert_cmpstr (label, ==, "Tidings: " ADDRESS);
    g_assert_cmpstr (g_hash_table_lookup (attributes, "uuid"), ==, uuid);
    g_assert_cmpstr (g_hash_table_lookup (attributes, "username"), ==, "alice");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, "imap.example.org");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "protocol"), ==, "imap");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==,
                     "org.tidings.Tidings.Account");
    g_assert_nonnull (value);
    g_assert_cmpstr (secret_value_get_text (value), ==, f->password);
  }
  g_list_free_full (items, g_object_unref);

  from_tool = secret_tool_lookup (uuid);
  g_assert_cmpstr (from_tool, ==, f->password);

  /* No file has the password: with the store open (WAL), and after closing it. */
  db_path = g_build_filename (f->profile, "tidings.db", NULL);
  g_assert_true (g_file_test (db_path, G_FILE_TEST_IS_REGULAR));
  n_files = scan_everything (f);
  g_test_message ("%u files searched with the store open", n_files);
  g_assert_cmpuint (n_files, >=, 2);   /* the store and the keyring at least */

  td_store_close (f->store);
  n_files = scan_everything (f);
  g_test_message ("%u files searched with the store closed", n_files);
  g_assert_cmpuint (n_files, >=, 2);

  /* Cleared, it is gone for everyone. */
  clear_password (f->credentials, f->account);
  found = lookup_password (f->credentials, f->account, &error);
  g_assert_null (found);
  g_assert_error (error, TD_ERROR, TD_ERROR_NO_PASSWORD);
  g_assert_nonnull (strstr (error->message, ADDRESS));
  items = search_items (uuid);
  g_assert_cmpuint (g_list_length (items), ==, 0);
  g_clear_pointer (&from_tool, g_free);
  from_tool = secret_tool_lookup (uuid);
  g_assert_null (from_tool);

  /* Clearing what is not there is fine. */
  clear_password (f->credentials, f->account);
}

static void
test_store_replaces (Fixture       *f,
                     gconstpointer  data)
{
  const char *uuid = td_account_get_uuid (f->account);
  g_autoptr(GError) error = NULL;
  g_autofree char *second = make_password ();
  char *found;
  GList *items;

  store_password (f->credentials, f->account, f->password);

  /* The user name changed and a new password came with it: still one item for the uuid. */
  g_object_set (f->account, "username", "alice.smith", NULL);
  store_password (f->credentials, f->account, second);

  found = lookup_password (f->credentials, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, second);
  td_credentials_free_password (found);

  items = search_items (uuid);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  {
    g_autoptr(GHashTable) attributes = secret_item_get_attributes (items->data);

    g_assert_cmpstr (g_hash_table_lookup (attributes, "username"), ==, "alice.smith");
  }
  g_list_free_full (items, g_object_unref);
}

static void
test_accounts_apart (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TdAccount) other = td_account_new (TD_ACCOUNT_KIND_POP3, "bob@example.org",
                                               "pop.example.org", 995, TD_SECURITY_TLS, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other_password = make_password ();
  char *found;

  td_store_add_account_async (f->store, other, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_store_add_account_finish (f->store, result, &error));
  g_assert_cmpstr (td_account_get_uuid (other), !=, td_account_get_uuid (f->account));

  /* The other account has no password yet. */
  store_password (f->credentials, f->account, f->password);
  found = lookup_password (f->credentials, other, &error);
  g_assert_null (found);
  g_assert_error (error, TD_ERROR, TD_ERROR_NO_PASSWORD);
  g_assert_nonnull (strstr (error->message, "bob@example.org"));
  g_clear_error (&error);

  store_password (f->credentials, other, other_password);
  found = lookup_password (f->credentials, other, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, other_password);
  td_credentials_free_password (found);
  found = lookup_password (f->credentials, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, f->password);
  td_credentials_free_password (found);

  /* Clearing one leaves the other. */
  clear_password (f->credentials, other);
  found = lookup_password (f->credentials, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, f->password);
  td_credentials_free_password (found);
}

static char *
lookup_for (TdCredentials         *credentials,
            TdAccount             *account,
            TdCredentialsService   service,
            GError               **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  td_credentials_lookup_for_async (credentials, account, service, NULL, td_test_store_result,
                                   &result);
  td_test_wait_result (&result, WAIT_MS);
  return td_credentials_lookup_finish (credentials, result, error);
}

/* The SMTP password: the incoming one until the account has its own ("smtp" item), which
 * then leaves the incoming one alone; clearing the account removes both. */
static void
test_smtp (Fixture       *f,
           gconstpointer  data)
{
  const char *uuid = td_account_get_uuid (f->account);
  g_autofree char *smtp_password = make_password ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *found;
  GList *items;

  /* nothing at all: the error names the account */
  found = lookup_for (f->credentials, f->account, TD_CREDENTIALS_SMTP, &error);
  g_assert_null (found);
  g_assert_error (error, TD_ERROR, TD_ERROR_NO_PASSWORD);
  g_clear_error (&error);

  store_password (f->credentials, f->account, f->password);
  found = lookup_for (f->credentials, f->account, TD_CREDENTIALS_SMTP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, f->password);
  td_credentials_free_password (found);

  td_account_set_smtp (f->account, "smtp.example.org", 0, TD_SECURITY_TLS, "alice.smtp");
  td_credentials_store_for_async (f->credentials, f->account, TD_CREDENTIALS_SMTP,
                                  smtp_password, NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_true (td_credentials_store_finish (f->credentials, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  found = lookup_for (f->credentials, f->account, TD_CREDENTIALS_SMTP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, smtp_password);
  td_credentials_free_password (found);
  found = lookup_password (f->credentials, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, f->password);
  td_credentials_free_password (found);

  items = search_items (uuid);
  g_assert_cmpuint (g_list_length (items), ==, 2);
  for (GList *l = items; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_item_get_attributes (l->data);

      if (g_strcmp0 (g_hash_table_lookup (attributes, "protocol"), "smtp") == 0)
        {
          g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, "smtp.example.org");
          g_assert_cmpstr (g_hash_table_lookup (attributes, "username"), ==, "alice.smtp");
        }
      else
        g_assert_cmpstr (g_hash_table_lookup (attributes, "protocol"), ==, "imap");
    }
  g_list_free_full (items, g_object_unref);

  clear_password (f->credentials, f->account);
  items = search_items (uuid);
  g_assert_null (items);
}

static void
test_unsaved_account (void)
{
  g_autoptr(TdCredentials) credentials = td_secret_credentials_new ();
  g_autoptr(TdAccount) account = td_account_new (TD_ACCOUNT_KIND_IMAP, ADDRESS,
                                                 "imap.example.org", 993, TD_SECURITY_TLS,
                                                 NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Without a uuid there is no item to find, nor one to make. */
  td_credentials_store_async (credentials, account, "x", NULL, td_test_store_result, &result);
  td_test_wait_result (&result, WAIT_MS);
  g_assert_false (td_credentials_store_finish (credentials, result, &error));
  g_assert_error (error, TD_ERROR, TD_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add ("/keyring/roundtrip", Fixture, NULL, fixture_set_up, test_roundtrip,
              fixture_tear_down);
  g_test_add ("/keyring/store-replaces", Fixture, NULL, fixture_set_up, test_store_replaces,
              fixture_tear_down);
  g_test_add ("/keyring/accounts-apart", Fixture, NULL, fixture_set_up, test_accounts_apart,
              fixture_tear_down);
  g_test_add ("/keyring/smtp", Fixture, NULL, fixture_set_up, test_smtp, fixture_tear_down);
  g_test_add_func ("/keyring/unsaved-account", test_unsaved_account);

  return g_test_run ();
}
