/* test-window-pop3.c: a POP3 account in the window, against a real Dovecot
 *
 * The real TdApplication opens a profile with one POP3 account: the check on start downloads
 * the Inbox; the preferences show how often POP3 accounts are checked and what the account
 * keeps on the server, and a change is saved with the account; the next check (at the
 * interval, nothing asked for) brings new mail, applies the changed choice on the server,
 * and announces the mail while the window is not looked at. The notification's action shows
 * the account's Inbox. Last, the accounts page removes the account, after asking.
 *
 * Run by ui-session.sh (Xvfb, a private D-Bus, an unlocked gnome-keyring).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include <string.h>

#include "td-account-manager.h"
#include "td-error.h"
#include "td-preferences-window.h"
#include "td-secret-credentials.h"
#include "td-sidebar.h"
#include "td-test-dovecot.h"
#include "td-test-store.h"
#include "td-test-ui.h"
#include "td-test-util.h"

#define TIMEOUT_MS TD_TEST_UI_TIMEOUT_MS

typedef struct
{
  TdTestDovecot *dovecot;
  gint64         account_id;
} Run;

static guint
server_count (TdTestDovecot *dovecot)
{
  g_autofree char *out = td_test_dovecot_doveadm_output (dovecot, NULL, "search", "-u", "alice",
                                                         "mailbox", "INBOX", "all", NULL);
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  g_assert_nonnull (out);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      n++;
  return n;
}

static gboolean
server_empty (gpointer data)
{
  Run *run = data;

  return server_count (run->dovecot) == 0;
}

static guint
list_count (TdWindow *window)
{
  GListModel *model = gtk_single_selection_get_model (td_window_get_selection (window));

  return model != NULL ? g_list_model_get_n_items (model) : 0;
}

static gboolean
not_syncing (gpointer data)
{
  return !td_account_manager_is_syncing (data);
}

static gboolean
list_has_three (gpointer data)
{
  return list_count (data) == 3;
}

static gboolean
list_has_four (gpointer data)
{
  return list_count (data) == 4;
}

typedef struct
{
  TdStore      *store;
  gint64        account_id;
  TdPop3Policy  policy;
  gboolean      deleted_here;
} PolicyWait;

static gboolean
stored_policy_is (gpointer data)
{
  PolicyWait *wait = data;
  g_autoptr(TdAccount) stored = td_store_get_account (wait->store, wait->account_id, NULL);

  return stored != NULL && td_account_get_pop3_policy (stored) == wait->policy &&
         td_account_get_pop3_delete_when_deleted_here (stored) == wait->deleted_here;
}

static gint64
folder_with_role (TdStore      *store,
                  gint64        account_id,
                  TdFolderRole  role)
{
  g_autoptr(GPtrArray) folders = td_store_list_folders (store, account_id, NULL);

  g_assert_nonnull (folders);
  for (guint i = 0; i < folders->len; i++)
    if (td_folder_get_role (g_ptr_array_index (folders, i)) == role)
      return td_folder_get_id (g_ptr_array_index (folders, i));
  return 0;
}

static void
check_preferences (TdWindow *window,
                   Run      *run)
{
  TdAccountManager *manager = td_window_get_manager (window);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  PolicyWait wait = { td_account_manager_get_store (manager), run->account_id,
                      TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD, FALSE };
  TdPreferencesWindow *preferences;
  GObject *check_row;
  GObject *check_spin;
  GObject *sync_row;
  AdwComboRow *policy;
  GtkSpinButton *days;
  GtkSwitch *deleted_here;
  GListModel *choices;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL));
  preferences = TD_PREFERENCES_WINDOW (td_test_ui_wait_toplevel (TD_TYPE_PREFERENCES_WINDOW));
  check_row = gtk_widget_get_template_child (GTK_WIDGET (preferences),
                                             TD_TYPE_PREFERENCES_WINDOW, "pop3_check_row");
  check_spin = gtk_widget_get_template_child (GTK_WIDGET (preferences),
                                              TD_TYPE_PREFERENCES_WINDOW, "pop3_spin");
  sync_row = gtk_widget_get_template_child (GTK_WIDGET (preferences),
                                            TD_TYPE_PREFERENCES_WINDOW, "accounts_group");

  /* How often: ten minutes unless changed, and the engine follows a change at once. */
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (check_row)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (sync_row)));   /* no IMAP account */
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (check_spin)), ==, 10.0);
  g_assert_cmpuint (td_account_manager_get_check_interval (manager), ==, 600);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (check_spin), 30);
  g_assert_cmpuint (g_settings_get_uint (settings, "pop3-check-interval"), ==, 1800);
  g_assert_cmpuint (td_account_manager_get_check_interval (manager), ==, 1800);
  g_settings_set_uint (settings, "pop3-check-interval", 120);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (check_spin)), ==, 2.0);
  g_assert_cmpuint (td_account_manager_get_check_interval (manager), ==, 120);

  /* What stays on the server: the default, delete after 14 days. */
  policy = td_preferences_window_get_pop3_policy_row (preferences, run->account_id);
  days = td_preferences_window_get_pop3_days_spin (preferences, run->account_id);
  deleted_here = td_preferences_window_get_pop3_deleted_here_switch (preferences, run->account_id);
  g_assert_nonnull (policy);
  g_assert_null (td_preferences_window_get_sync_row (preferences, run->account_id));
  choices = adw_combo_row_get_model (policy);
  g_assert_cmpuint (g_list_model_get_n_items (choices), ==, 3);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (choices), 0), ==, "Keep Them");
  g_assert_cmpuint (adw_combo_row_get_selected (policy), ==, 1);
  g_assert_cmpfloat (gtk_spin_button_get_value (days), ==, 14.0);
  g_assert_true (gtk_widget_get_visible (gtk_widget_get_ancestor (GTK_WIDGET (days),
                                                                  ADW_TYPE_ACTION_ROW)));
  g_assert_false (gtk_switch_get_active (deleted_here));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (preferences), "preferences-pop3.png");

  /* Changed: saved with the account; the days are not asked for any more. */
  adw_combo_row_set_selected (policy, 2);
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_ancestor (GTK_WIDGET (days),
                                                                   ADW_TYPE_ACTION_ROW)));
  td_test_ui_wait_until (stored_policy_is, &wait, TIMEOUT_MS, "the POP3 choice saved");
  gtk_switch_set_active (deleted_here, TRUE);
  wait.deleted_here = TRUE;
  td_test_ui_wait_until (stored_policy_is, &wait, TIMEOUT_MS, "delete-when-deleted-here saved");

  gtk_window_close (GTK_WINDOW (preferences));
  td_test_ui_wait_no_toplevel (TD_TYPE_PREFERENCES_WINDOW);
  g_settings_reset (settings, "pop3-check-interval");
}

static gboolean
no_accounts (gpointer data)
{
  return g_list_model_get_n_items (td_account_manager_get_accounts (data)) == 0;
}

/* The dialog the remove button opens: its heading and body, then @response. */
static void
answer_remove (TdPreferencesWindow *preferences,
               gint64               account_id,
               const char          *response,
               const char          *screenshot)
{
  GtkWidget *button = td_preferences_window_get_remove_button (preferences, account_id);
  GtkWidget *dialog;

  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  dialog = td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Remove “Alice POP3”?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)),
                            "Its 4 messages are kept on this computer and may no longer be on "
                            "the server: they will be deleted."));
  if (screenshot != NULL)
    {
      td_test_ui_spin (300);
      td_test_ui_save_screenshot (dialog, screenshot);
    }
  button = td_test_ui_find_button (dialog, response);
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_activate (button));
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);
}

static void
check_remove (TdWindow *window,
              Run      *run)
{
  TdAccountManager *manager = td_window_get_manager (window);
  TdPreferencesWindow *preferences;
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *password;

  account = g_list_model_get_item (td_account_manager_get_accounts (manager), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL));
  preferences = TD_PREFERENCES_WINDOW (td_test_ui_wait_toplevel (TD_TYPE_PREFERENCES_WINDOW));
  adw_preferences_window_set_visible_page (
    ADW_PREFERENCES_WINDOW (preferences),
    ADW_PREFERENCES_PAGE (gtk_widget_get_template_child (GTK_WIDGET (preferences),
                                                         TD_TYPE_PREFERENCES_WINDOW,
                                                         "accounts_page")));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (preferences), "preferences-accounts.png");

  /* asked, and cancelled: nothing happens */
  answer_remove (preferences, run->account_id, "_Cancel", "remove-account.png");
  td_test_ui_spin (300);
  g_assert_cmpuint (g_list_model_get_n_items (td_account_manager_get_accounts (manager)), ==, 1);

  /* removed: the account, its mail here and its password go; the page follows */
  answer_remove (preferences, run->account_id, "_Remove", NULL);
  td_test_ui_wait_until (no_accounts, manager, TIMEOUT_MS, "the account to be removed");
  g_assert_null (td_preferences_window_get_remove_button (preferences, run->account_id));
  g_assert_null (td_preferences_window_get_pop3_policy_row (preferences, run->account_id));
  gtk_window_close (GTK_WINDOW (preferences));
  td_test_ui_wait_no_toplevel (TD_TYPE_PREFERENCES_WINDOW);
  g_assert_cmpstr (td_window_get_page (window), ==, "welcome");

  td_credentials_lookup_async (td_account_manager_get_credentials (manager), account, NULL,
                               td_test_store_result, &result);
  password = td_credentials_lookup_finish (td_account_manager_get_credentials (manager),
                                           td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_null (password);
  g_assert_error (error, TD_ERROR, TD_ERROR_NO_PASSWORD);
}

static void
pop3_body (TdApplication *app,
           gpointer       data)
{
  Run *run = data;
  TdWindow *window = td_test_ui_wait_window (app);
  TdAccountManager *manager = td_application_get_manager (app);
  TdStore *store = td_account_manager_get_store (manager);
  TdSidebar *sidebar = td_window_get_sidebar (window);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) target = NULL;
  TdFolder *selected;
  gint64 inbox, archive;

  /* The check on start downloads the Inbox; the server keeps it (14 days). */
  td_test_ui_wait_until (list_has_three, window, TIMEOUT_MS, "the POP3 Inbox to be listed");
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the check on start to end");
  /* the window was looked at: the list shows the mail, no notification */
  g_assert_true (gtk_window_is_active (GTK_WINDOW (window)));
  g_assert_cmpstr (td_application_get_last_notification (app), ==, "");
  g_assert_cmpuint (server_count (run->dovecot), ==, 3);
  inbox = folder_with_role (store, run->account_id, TD_FOLDER_ROLE_INBOX);
  archive = folder_with_role (store, run->account_id, TD_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpint (inbox, >, 0);
  g_assert_cmpint (archive, >, 0);
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "pop3-window.png");

  check_preferences (window, run);

  /* The window is not looked at when new mail arrives (the preferences had the focus, and
   * under Xvfb no window manager gives it back); the next check, at the interval, brings it,
   * applies the changed choice on the server and announces it. */
  g_assert_false (gtk_window_is_active (GTK_WINDOW (window)));
  g_assert_true (td_sidebar_select_folder (sidebar, archive));
  td_account_manager_set_check_interval (manager, 1);   /* the window offers minutes */
  td_test_dovecot_save_generated (run->dovecot, "alice", "INBOX", "Arrived", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (td_application_get_last_notification (app), ==, "");
  td_test_ui_wait_until (server_empty, run, TIMEOUT_MS,
                         "the check to delete what it downloaded");
  g_assert_true (td_sidebar_select_folder (sidebar, inbox));
  td_test_ui_wait_until (list_has_four, window, TIMEOUT_MS, "the new message to be listed");
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the check to end");
  g_assert_cmpstr (td_application_get_last_notification (app), ==, "1 New Message\nAlice POP3");

  /* The notification's action shows the account's Inbox. */
  g_assert_true (td_sidebar_select_folder (sidebar, archive));
  target = g_variant_ref_sink (g_variant_new_int64 (run->account_id));
  g_action_group_activate_action (G_ACTION_GROUP (app), "show-inbox", target);
  selected = td_sidebar_get_selected_folder (sidebar);
  g_assert_nonnull (selected);
  g_assert_cmpint (td_folder_get_id (selected), ==, inbox);

  td_account_manager_set_check_interval (manager, 600);
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the last check to end");
  check_remove (window, run);
}

static void
build_profile (const char *profile_dir,
               Run        *run)
{
  g_autofree char *path = g_build_filename (profile_dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(TdCredentials) credentials = td_secret_credentials_new ();
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  td_store_open_async (store, NULL, td_test_store_result, &result);
  td_store_open_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  account = td_account_new (TD_ACCOUNT_KIND_POP3, "alice@localhost", "localhost",
                            td_test_dovecot_get_port (run->dovecot, "pop3s"), TD_SECURITY_TLS,
                            "alice");
  td_account_set_name (account, "Alice POP3");
  td_account_set_pinned_fingerprint (account, td_test_dovecot_get_fingerprint (run->dovecot));
  td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  run->account_id = td_account_get_id (account);

  td_credentials_store_async (credentials, account, td_test_dovecot_get_password (run->dovecot),
                              NULL, td_test_store_result, &result);
  td_credentials_store_finish (credentials, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  td_store_close (store);
}

static void
test_pop3 (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("pop3");
  g_autoptr(GError) error = NULL;
  Run run = { 0 };

  td_test_ui_restore_session_dirs ();
  run.dovecot = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (run.dovecot, "alice", "INBOX", "Downloaded", 3, &error);
  g_assert_no_error (error);
  build_profile (profile_dir, &run);

  td_test_ui_run_app (profile_dir, pop3_body, &run);
  td_test_dovecot_free (run.dovecot);
}

int
main (int   argc,
      char *argv[])
{
  td_test_ui_save_session_dirs ();
  td_test_init (&argc, &argv);

  g_test_add_func ("/ui/window-pop3/check", test_pop3);

  return g_test_run ();
}
