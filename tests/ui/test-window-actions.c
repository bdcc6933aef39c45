/* test-window-actions.c: what a user does in the window reaches a real Dovecot
 *
 * The real TdApplication syncs an account of a throwaway Dovecot; the tests then act the way
 * the window's buttons, menus and dialogs do (its win.* actions, the dialogs' buttons) and
 * check the server with doveadm: opening a message marks it read (or not, as the setting
 * says), stars, junk, move, delete with Undo, archive, folders made, renamed, deleted,
 * unsubscribed, Trash emptied. Then the quota under the account, and what the window says
 * when the server goes away. A second case opens a message whose body was never downloaded,
 * offline and then online, and changes the preferences.
 *
 * Run by ui-session.sh (Xvfb, a private D-Bus, an unlocked gnome-keyring).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include <string.h>

#include "td-account-manager.h"
#include "td-message-row.h"
#include "td-preferences-window.h"
#include "td-secret-credentials.h"
#include "td-test-dovecot.h"
#include "td-test-ui.h"
#include "td-test-util.h"

#define TIMEOUT_MS TD_TEST_UI_TIMEOUT_MS
#define N_MESSAGES 8

/* --- The server's side, through doveadm --- */

/* How many messages of @path have the subject @subject (any, when NULL); the flags of the
 * last one go to @flags ("flags: \Seen ..."). A mailbox that is not there has none. */
static guint
server_count (TdTestDovecot  *dovecot,
              const char     *path,
              const char     *subject,
              char          **flags)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) records = NULL;
  guint n = 0;

  out = td_test_dovecot_doveadm_output (dovecot, NULL, "fetch", "-u", "alice",
                                        "uid flags hdr.subject", "mailbox", path, "all", NULL);
  if (out == NULL)
    return 0;
  records = g_strsplit (out, "\f\n", -1);
  for (guint i = 0; records[i] != NULL; i++)
    {
      g_auto(GStrv) lines = g_strsplit (records[i], "\n", -1);
      const char *record_flags = "flags:";
      gboolean has_uid = FALSE;
      gboolean match = subject == NULL;

      for (guint j = 0; lines[j] != NULL; j++)
        {
          if (g_str_has_prefix (lines[j], "uid: "))
            has_uid = TRUE;
          else if (g_str_has_prefix (lines[j], "flags:"))
            record_flags = lines[j];
          else if (subject != NULL && g_str_has_prefix (lines[j], "hdr.subject: "))
            match = g_strcmp0 (lines[j] + strlen ("hdr.subject: "), subject) == 0;
        }
      if (has_uid && match)
        {
          n++;
          if (flags != NULL)
            {
              g_free (*flags);
              *flags = g_strdup (record_flags);
            }
        }
    }
  return n;
}

static gboolean
server_has_flag (TdTestDovecot *dovecot,
                 const char    *path,
                 const char    *subject,
                 const char    *flag)
{
  g_autofree char *flags = NULL;
  g_autofree char *padded = NULL;
  g_autofree char *needle = g_strconcat (" ", flag, " ", NULL);

  if (server_count (dovecot, path, subject, &flags) != 1)
    return FALSE;
  padded = g_strconcat (flags, " ", NULL);
  return strstr (padded, needle) != NULL;
}

/* "doveadm mailbox list" (with @subscribed, only the subscribed ones), one per line. */
static gboolean
server_has_mailbox (TdTestDovecot *dovecot,
                    const char    *path,
                    gboolean       subscribed)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;

  if (subscribed)
    out = td_test_dovecot_doveadm_output (dovecot, NULL, "mailbox", "list", "-s", "-u", "alice",
                                          NULL);
  else
    out = td_test_dovecot_doveadm_output (dovecot, NULL, "mailbox", "list", "-u", "alice", NULL);
  g_assert_nonnull (out);
  lines = g_strsplit (out, "\n", -1);
  return g_strv_contains ((const char * const *) lines, path);
}

/* The server catches up when the window has sent the journal: poll it. */
static void
wait_server (TdTestDovecot *dovecot,
             gboolean     (*check) (TdTestDovecot *dovecot, gpointer data),
             gpointer       data,
             const char    *what)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * (gint64) 1000;

  while (!check (dovecot, data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the server: %s", what);
      td_test_ui_spin (150);
    }
  g_test_message ("server: %s", what);
}

typedef struct
{
  const char *path;
  const char *subject;
  const char *flag;
  gboolean    has;
  guint       count;
} Expect;

static gboolean
check_flag (TdTestDovecot *dovecot,
            gpointer       data)
{
  Expect *e = data;

  return server_count (dovecot, e->path, e->subject, NULL) == 1 &&
         server_has_flag (dovecot, e->path, e->subject, e->flag) == e->has;
}

static void
wait_server_flag (TdTestDovecot *dovecot,
                  const char    *path,
                  const char    *subject,
                  const char    *flag,
                  gboolean       has)
{
  Expect e = { path, subject, flag, has, 0 };
  g_autofree char *what = g_strdup_printf ("%s/%s %s %s", path, subject,
                                           has ? "has" : "has no", flag);

  wait_server (dovecot, check_flag, &e, what);
}

static gboolean
check_count (TdTestDovecot *dovecot,
             gpointer       data)
{
  Expect *e = data;

  return server_count (dovecot, e->path, e->subject, NULL) == e->count;
}

static void
wait_server_count (TdTestDovecot *dovecot,
                   const char    *path,
                   const char    *subject,
                   guint          count)
{
  Expect e = { path, subject, NULL, FALSE, count };
  g_autofree char *what = g_strdup_printf ("%u × “%s” in %s", count,
                                           subject != NULL ? subject : "any", path);

  wait_server (dovecot, check_count, &e, what);
}

static gboolean
check_mailbox (TdTestDovecot *dovecot,
               gpointer       data)
{
  Expect *e = data;

  return server_has_mailbox (dovecot, e->path, e->flag != NULL) == e->has;
}

static void
wait_server_mailbox (TdTestDovecot *dovecot,
                     const char    *path,
                     gboolean       subscribed,
                     gboolean       has)
{
  Expect e = { path, NULL, subscribed ? "subscribed" : NULL, has, 0 };
  g_autofree char *what = g_strdup_printf ("mailbox %s %s%s", path, has ? "exists" : "is gone",
                                           subscribed ? " (subscribed)" : "");

  wait_server (dovecot, check_mailbox, &e, what);
}

/* --- The window's side --- */

static TdMessage *
list_message (TdWindow   *window,
              const char *subject)
{
  guint position = td_test_ui_find_subject (window, subject);

  return g_list_model_get_item (G_LIST_MODEL (td_window_get_selection (window)), position);
}

/* Opens @subject the way a click does. */
static gint64
open_message (TdWindow   *window,
              const char *subject)
{
  g_autoptr(TdMessage) message = list_message (window, subject);

  gtk_single_selection_set_selected (td_window_get_selection (window),
                                     td_test_ui_find_subject (window, subject));
  g_assert_cmpstr (td_message_view_get_subject_text (td_window_get_message_view (window)), ==,
                   subject);
  return td_message_get_id (message);
}

static TdFlags
local_flags (TdStore *store,
             gint64   message_id)
{
  g_autoptr(TdMessage) message = td_store_get_message (store, message_id, NULL);

  g_assert_nonnull (message);
  return td_message_get_flags (message);
}

static gint64
local_folder (TdStore    *store,
              gint64      account_id,
              const char *path)
{
  g_autoptr(TdFolder) folder = td_store_find_folder (store, account_id, path, NULL);

  return folder != NULL ? td_folder_get_id (folder) : 0;
}

typedef struct
{
  TdStore    *store;
  gint64      account_id;
  const char *path;
} FolderWait;

static gboolean
folder_is_there (gpointer data)
{
  FolderWait *wait = data;

  return local_folder (wait->store, wait->account_id, wait->path) != 0;
}

static gboolean
list_has_items (gpointer data)
{
  GListModel *model = gtk_single_selection_get_model (td_window_get_selection (data));

  return model != NULL && g_list_model_get_n_items (model) > 0;
}

static gboolean
not_syncing (gpointer data)
{
  return !td_account_manager_is_syncing (data);
}

static gboolean
counter_reached (gpointer data)
{
  return *(guint *) data > 0;
}

static gboolean
popover_shown (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

static gboolean
is_offline (gpointer data)
{
  return td_window_get_offline_text (data)[0] != '\0';
}

static gboolean
is_online (gpointer data)
{
  return td_window_get_offline_text (data)[0] == '\0';
}

/* The dialog that a folder action opens: its heading, then @response clicked. */
static GtkWidget *
wait_dialog (const char *heading)
{
  GtkWidget *dialog = td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==, heading);
  return dialog;
}

static void
click (GtkWidget  *dialog,
       const char *label)
{
  GtkWidget *button = td_test_ui_find_button (dialog, label);

  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));
  g_assert_true (gtk_widget_activate (button));
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);
}

static void
type_name (GtkWidget  *dialog,
           const char *name)
{
  GtkWidget *entry = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));

  g_assert_true (GTK_IS_EDITABLE (entry));
  gtk_editable_set_text (GTK_EDITABLE (entry), name);
}

/* Does the menu (with its sections) have an item for @action? */
static gboolean
menu_has_action (GMenuModel *menu,
                 const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *name = NULL;
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &name) &&
          g_strcmp0 (name, action) == 0)
        return TRUE;
      if (section != NULL && menu_has_action (section, action))
        return TRUE;
    }
  return FALSE;
}

/* The same, in the submenu labelled @label. */
static gboolean
submenu_has_action (GMenuModel *menu,
                    const char *label,
                    const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *item_label = NULL;
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
      g_autoptr(GMenuModel) submenu = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SUBMENU);

      if (submenu != NULL &&
          g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &item_label) &&
          g_strcmp0 (item_label, label) == 0 && menu_has_action (submenu, action))
        return TRUE;
      if (section != NULL && submenu_has_action (section, label, action))
        return TRUE;
    }
  return FALSE;
}

/* The row of the list that shows @subject. */
static GtkWidget *
find_message_row (GtkWidget  *root,
                  const char *subject)
{
  if (TD_IS_MESSAGE_ROW (root) && td_message_row_get_message (TD_MESSAGE_ROW (root)) != NULL &&
      g_strcmp0 (td_message_get_subject (td_message_row_get_message (TD_MESSAGE_ROW (root))),
                 subject) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_message_row (child, subject);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkGesture *
find_click_gesture (GtkWidget *widget,
                    guint      button)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == button)
        return GTK_GESTURE (controller);
    }
  return NULL;
}

static GtkPopover *
find_child_popover (GtkWidget *parent)
{
  for (GtkWidget *child = gtk_widget_get_first_child (parent); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_POPOVER (child))
      return GTK_POPOVER (child);
  return NULL;
}

static gboolean
status_is_error (gpointer data)
{
  return g_str_has_prefix (td_window_get_status_text (data), "Could not sync");
}

/* --- A synced account: actions on messages and folders, quota, offline --- */

typedef struct
{
  TdTestDovecot *dovecot;
  TdTestProxy   *proxy;         /* the account connects through it, so the test can cut it */
  guint          synced;
} ServerRun;

static void
sync_finished_cb (TdAccountManager *manager,
                  TdAccount        *account,
                  const GError     *error,
                  ServerRun        *run)
{
  if (error == NULL)
    run->synced++;
}

static void
check_accels (TdApplication *app)
{
  static const struct { const char *action; const char *accel; } expected[] = {
    { "win.mark-read", "<Control>i" },
    { "win.mark-unread", "<Control>u" },
    { "win.toggle-flag", "<Control>d" },
    { "win.archive", "<Control>e" },
    { "win.show-move-menu", "<Control>m" },
    { "win.mark-junk", "<Control>j" },
    { "win.preferences", "<Control>comma" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                    expected[i].action);

      g_assert_nonnull (accels);
      g_assert_cmpstr (accels[0], ==, expected[i].accel);
    }
}

static void
server_body (TdApplication *app,
             gpointer       data)
{
  ServerRun *run = data;
  TdTestDovecot *dovecot = run->dovecot;
  TdWindow *window = td_test_ui_wait_window (app);
  GtkWidget *widget = GTK_WIDGET (window);
  TdAccountManager *manager = td_application_get_manager (app);
  TdStore *store = td_account_manager_get_store (manager);
  TdSidebar *sidebar = td_window_get_sidebar (window);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(TdAccount) account = NULL;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  GObject *move_button;
  GtkPopover *popover;
  GtkWidget *dialog;
  FolderWait folder_wait;
  const char *quota;
  gboolean warning = TRUE;
  gint64 account_id, projects_id, trash_id, reports_id, id;

  g_signal_connect (manager, "sync-finished", G_CALLBACK (sync_finished_cb), run);
  check_accels (app);

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                            td_test_proxy_get_port (run->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_name (account, "Alice");
  td_account_set_pinned_fingerprint (account, td_test_dovecot_get_fingerprint (dovecot));
  td_account_manager_add_account_async (manager, account, td_test_dovecot_get_password (dovecot),
                                        NULL, td_test_store_result, &result);
  td_account_manager_add_account_finish (manager, td_test_wait_result (&result, TIMEOUT_MS),
                                         &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  account_id = td_account_get_id (account);

  td_window_sync (window, NULL);
  td_test_ui_wait_until (counter_reached, &run->synced, TIMEOUT_MS, "the first sync");
  td_test_ui_wait_until (list_has_items, window, TIMEOUT_MS, "the inbox to be listed");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (td_window_get_selection (window))),
                    ==, N_MESSAGES);
  projects_id = local_folder (store, account_id, "Projects");
  trash_id = local_folder (store, account_id, "Trash");
  g_assert_cmpint (projects_id, !=, 0);
  g_assert_cmpint (trash_id, !=, 0);

  /* Nothing selected: nothing to act on. */
  g_assert_false (gtk_widget_is_sensitive (GTK_WIDGET (gtk_widget_get_template_child (
                      widget, TD_TYPE_WINDOW, "read_button"))));

  /* Opening an unread message marks it read, here and on the server. */
  g_assert_false (server_has_flag (dovecot, "INBOX", "Message 1", "\\Seen"));
  id = open_message (window, "Message 1");
  wait_server_flag (dovecot, "INBOX", "Message 1", "\\Seen", TRUE);
  g_assert_cmpuint (local_flags (store, id) & TD_FLAG_SEEN, !=, 0);
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (gtk_widget_get_template_child (
                     widget, TD_TYPE_WINDOW, "read_button"))));

  /* Not when the user said so. */
  g_settings_set_boolean (settings, "mark-read-on-open", FALSE);
  id = open_message (window, "Message 2");
  td_test_ui_spin (1500);
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the syncs to end");
  g_assert_cmpuint (local_flags (store, id) & TD_FLAG_SEEN, ==, 0);
  g_assert_false (server_has_flag (dovecot, "INBOX", "Message 2", "\\Seen"));

  /* The star button's action. */
  g_assert_true (gtk_widget_activate_action (widget, "win.toggle-flag", NULL));
  wait_server_flag (dovecot, "INBOX", "Message 2", "\\Flagged", TRUE);
  g_assert_cmpuint (local_flags (store, id) & TD_FLAG_FLAGGED, !=, 0);
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (gtk_widget_get_template_child (
                       widget, TD_TYPE_WINDOW, "flag_button"))), ==, "starred-symbolic");
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (widget, "actions-message.png");

  /* Read and unread, and junk (keywords $Junk and $NotJunk on the server). */
  open_message (window, "Message 1");
  g_assert_true (gtk_widget_activate_action (widget, "win.mark-unread", NULL));
  wait_server_flag (dovecot, "INBOX", "Message 1", "\\Seen", FALSE);
  open_message (window, "Message 3");
  g_assert_true (gtk_widget_activate_action (widget, "win.mark-junk", NULL));
  wait_server_flag (dovecot, "INBOX", "Message 3", "$Junk", TRUE);
  g_assert_true (gtk_widget_activate_action (widget, "win.mark-not-junk", NULL));
  wait_server_flag (dovecot, "INBOX", "Message 3", "$NotJunk", TRUE);
  wait_server_flag (dovecot, "INBOX", "Message 3", "$Junk", FALSE);

  /* A right click on a row selects it and opens its menu. */
  {
    GtkWidget *row = find_message_row (GTK_WIDGET (td_window_get_message_list_view (window)),
                                       "Message 6");
    GtkGesture *gesture;
    GMenuModel *model;

    g_assert_nonnull (row);
    gesture = find_click_gesture (row, GDK_BUTTON_SECONDARY);
    g_assert_nonnull (gesture);
    popover = find_child_popover (GTK_WIDGET (gtk_widget_get_template_child (widget,
                                                                            TD_TYPE_WINDOW,
                                                                            "list_pane")));
    g_assert_nonnull (popover);
    g_signal_emit_by_name (gesture, "pressed", 1, 40.0, 20.0);
    g_assert_cmpstr (td_message_view_get_subject_text (td_window_get_message_view (window)), ==,
                     "Message 6");
    td_test_ui_wait_until (popover_shown, popover, TIMEOUT_MS, "the message menu");
    model = gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover));
    g_assert_true (menu_has_action (model, "win.delete"));
    g_assert_true (menu_has_action (model, "win.archive"));
    g_assert_true (menu_has_action (model, "win.mark-read"));
    g_assert_true (submenu_has_action (model, "_Move To", "win.move-to"));
    g_assert_true (submenu_has_action (model, "_Copy To", "win.copy-to"));
    td_test_ui_spin (300);
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (popover)));
    td_test_ui_save_screenshot (GTK_WIDGET (popover), "actions-row-menu.png");
    gtk_popover_popdown (popover);
  }

  /* The Move To button lists the other folders. */
  open_message (window, "Message 4");
  move_button = gtk_widget_get_template_child (widget, TD_TYPE_WINDOW, "move_button");
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (move_button)));
  g_assert_true (gtk_widget_activate_action (widget, "win.show-move-menu", NULL));
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (move_button));
  td_test_ui_wait_until (popover_shown, popover, TIMEOUT_MS, "the Move To menu");
  g_assert_true (menu_has_action (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (move_button)),
                                  "win.move-to"));
  td_test_ui_spin (300);
  /* Still open: the list reloading behind it (the flags came back from the server) does not
   * close it. */
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (popover)));
  td_test_ui_save_screenshot (GTK_WIDGET (popover), "actions-move-popover.png");
  gtk_popover_popdown (popover);

  /* Move to Projects. */
  g_assert_true (gtk_widget_activate_action (widget, "win.move-to", "x", projects_id));
  wait_server_count (dovecot, "Projects", "Message 4", 1);
  wait_server_count (dovecot, "INBOX", "Message 4", 0);
  g_assert_cmpstr (td_window_get_last_toast (window), ==, "Message moved to Projects");

  /* Copy to Projects: there too, still here. */
  open_message (window, "Message 2");
  g_assert_true (gtk_widget_activate_action (widget, "win.copy-to", "x", projects_id));
  wait_server_count (dovecot, "Projects", "Message 2", 1);
  wait_server_count (dovecot, "INBOX", "Message 2", 1);
  g_assert_cmpstr (td_window_get_last_toast (window), ==, "Message copied to Projects");

  /* Delete moves to Trash, and Undo brings it back. */
  open_message (window, "Message 5");
  g_assert_true (gtk_widget_activate_action (widget, "win.delete", NULL));
  wait_server_count (dovecot, "Trash", "Message 5", 1);
  wait_server_count (dovecot, "INBOX", "Message 5", 0);
  g_assert_cmpstr (td_window_get_last_toast (window), ==, "Message moved to Trash");
  g_assert_true (td_window_can_undo (window));
  td_test_ui_save_screenshot (widget, "actions-toast.png");
  g_assert_true (gtk_widget_activate_action (widget, "win.undo", NULL));
  g_assert_false (td_window_can_undo (window));
  wait_server_count (dovecot, "INBOX", "Message 5", 1);
  wait_server_count (dovecot, "Trash", "Message 5", 0);

  open_message (window, "Message 6");
  g_assert_true (gtk_widget_activate_action (widget, "win.delete", NULL));
  wait_server_count (dovecot, "Trash", "Message 6", 1);

  /* Archive. */
  open_message (window, "Message 7");
  g_assert_true (gtk_widget_activate_action (widget, "win.archive", NULL));
  wait_server_count (dovecot, "Archive", "Message 7", 1);
  wait_server_count (dovecot, "INBOX", "Message 7", 0);
  g_assert_cmpstr (td_window_get_last_toast (window), ==, "Message moved to Archive");

  /* The context menu of a folder: Trash can be emptied, Projects renamed. */
  g_assert_true (td_sidebar_popup_folder_menu (sidebar, trash_id));
  popover = td_sidebar_get_menu_popover (sidebar);
  td_test_ui_wait_until (popover_shown, popover, TIMEOUT_MS, "the folder menu");
  g_assert_true (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                  "win.empty-folder"));
  g_assert_true (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                  "win.new-folder"));
  g_assert_false (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                   "win.delete-folder"));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (popover), "folder-menu.png");
  gtk_popover_popdown (popover);
  g_assert_true (td_sidebar_popup_folder_menu (sidebar, projects_id));
  g_assert_true (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                  "win.rename-folder"));
  g_assert_false (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                   "win.empty-folder"));
  gtk_popover_popdown (popover);

  /* New Folder… inside Projects. */
  g_assert_true (gtk_widget_activate_action (widget, "win.new-folder", "(xx)", account_id,
                                             projects_id));
  dialog = wait_dialog ("New Folder");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog),
                                                           "create"));
  type_name (dialog, "Reports/2026");   /* the separator is not a name */
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog),
                                                           "create"));
  type_name (dialog, "Reports");
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (dialog, "folder-new-dialog.png");
  click (dialog, "_Create");
  wait_server_mailbox (dovecot, "Projects/Reports", FALSE, TRUE);

  /* Rename… */
  folder_wait = (FolderWait) { store, account_id, "Projects/Reports" };
  td_test_ui_wait_until (folder_is_there, &folder_wait, TIMEOUT_MS, "the new folder here");
  reports_id = local_folder (store, account_id, "Projects/Reports");
  g_assert_true (gtk_widget_activate_action (widget, "win.rename-folder", "x", reports_id));
  dialog = wait_dialog ("Rename “Reports”");
  type_name (dialog, "Reports 2026");
  click (dialog, "_Rename");
  wait_server_mailbox (dovecot, "Projects/Reports 2026", FALSE, TRUE);
  wait_server_mailbox (dovecot, "Projects/Reports", FALSE, FALSE);

  /* Delete… asks first, with a destructive button. */
  g_assert_true (gtk_widget_activate_action (widget, "win.delete-folder", "x", reports_id));
  dialog = wait_dialog ("Delete “Reports 2026”?");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                                               "delete"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (dialog, "folder-delete-dialog.png");
  click (dialog, "_Delete");
  wait_server_mailbox (dovecot, "Projects/Reports 2026", FALSE, FALSE);

  /* Unsubscribe, and the menu then offers Subscribe. */
  g_assert_true (server_has_mailbox (dovecot, "Projects", TRUE));
  g_assert_true (gtk_widget_activate_action (widget, "win.unsubscribe-folder", "x", projects_id));
  wait_server_mailbox (dovecot, "Projects", TRUE, FALSE);
  g_assert_true (server_has_mailbox (dovecot, "Projects", FALSE));
  g_assert_true (td_sidebar_popup_folder_menu (sidebar, projects_id));
  g_assert_true (menu_has_action (gtk_popover_menu_get_menu_model (GTK_POPOVER_MENU (popover)),
                                  "win.subscribe-folder"));
  gtk_popover_popdown (popover);
  g_assert_true (gtk_widget_activate_action (widget, "win.subscribe-folder", "x", projects_id));
  wait_server_mailbox (dovecot, "Projects", TRUE, TRUE);

  /* Empty Trash, after asking. */
  g_assert_cmpuint (server_count (dovecot, "Trash", NULL, NULL), ==, 3);
  g_assert_true (gtk_widget_activate_action (widget, "win.empty-folder", "x", trash_id));
  dialog = wait_dialog ("Empty Trash?");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (ADW_MESSAGE_DIALOG (dialog),
                                                               "empty"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  td_test_ui_save_screenshot (dialog, "empty-trash-dialog.png");
  click (dialog, "_Empty Trash");
  wait_server_count (dovecot, "Trash", NULL, 0);

  /* Dovecot has a quota of 100 MiB: shown under the account. */
  quota = td_sidebar_get_quota_text (sidebar, account_id, &warning);
  g_assert_nonnull (quota);
  g_test_message ("quota: %s", quota);
  {
    g_autofree char *limit = g_format_size (100 * 1024 * 1024);
    g_autofree char *suffix = g_strdup_printf (" of %s used", limit);

    g_assert_true (g_str_has_suffix (quota, suffix));
  }
  g_assert_false (warning);

  /* The server goes out of reach (its pooled connections too): the window says the account
   * is offline. */
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the syncs to end");
  td_test_proxy_set_down (run->proxy, TRUE);
  td_test_ui_wait_until (is_offline, window, TIMEOUT_MS, "the offline bar");
  g_test_message ("offline: %s", td_window_get_offline_text (window));
  g_assert_cmpstr (td_window_get_offline_text (window), ==,
                   "Offline — changes will be sent when the connection is back");
  g_assert_true (td_sidebar_get_account_offline (sidebar, account_id));

  /* Offline, an action still works here and waits in the journal, without an error. */
  id = open_message (window, "Message 8");
  g_assert_true (gtk_widget_activate_action (widget, "win.toggle-flag", NULL));
  td_test_ui_spin (500);
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the send to fail");
  g_assert_cmpuint (local_flags (store, id) & TD_FLAG_FLAGGED, !=, 0);
  g_assert_cmpuint (td_store_count_journal (store, account_id), >, 0);
  g_assert_false (status_is_error (window));

  /* Almost full: a warning (the store says what a sync would have read). */
  td_store_set_account_quota_async (store, account_id, 1950 * 1024, 2000 * 1024, NULL,
                                    td_test_store_result, &result);
  td_store_set_account_quota_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  td_test_ui_spin (200);
  quota = td_sidebar_get_quota_text (sidebar, account_id, &warning);
  g_test_message ("quota: %s", quota);
  {
    g_autofree char *used = g_format_size ((guint64) 1950 * 1024 * 1024);
    g_autofree char *limit = g_format_size ((guint64) 2000 * 1024 * 1024);
    g_autofree char *expected = g_strdup_printf ("%s of %s used", used, limit);

    g_assert_cmpstr (quota, ==, expected);
  }
  g_assert_true (warning);
  td_test_ui_spin (500);
  td_test_ui_save_screenshot (widget, "offline-quota-warning.png");

  g_settings_reset (settings, "mark-read-on-open");
  g_signal_handlers_disconnect_by_data (manager, run);
}

static void
test_actions_server (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("server");
  g_autoptr(GError) error = NULL;
  ServerRun run = { 0 };

  td_test_ui_restore_session_dirs ();
  run.dovecot = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (run.dovecot, "alice", "INBOX", "Message", N_MESSAGES, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (run.dovecot, "alice", "Trash", "Old", 2, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      td_test_dovecot_create_folder (run.dovecot, "alice",
                                     (const char *[]) { "Archive", "Junk", "Projects" }[i],
                                     &error);
      g_assert_no_error (error);
    }
  run.proxy = td_test_proxy_new (td_test_dovecot_get_port (run.dovecot, "imaps"), 0);

  td_test_ui_run_app (profile_dir, server_body, &run);
  td_test_proxy_free (run.proxy);
  td_test_dovecot_free (run.dovecot);
}

/* --- A body never downloaded: offline, then online; the preferences --- */

static const char far_message[] =
  "From: Far Away <far@localhost>\r\n"
  "To: alice@localhost\r\n"
  "Subject: Outside the sync window\r\n"
  "Date: Tue, 3 Mar 2026 09:00:00 +0000\r\n"
  "Message-ID: <far@tidings.test>\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "\r\n"
  "This body came from the server when the message was opened.\r\n";

typedef struct
{
  TdTestDovecot *dovecot;
  TdTestProxy   *proxy;
} DownloadRun;

/* Key "KEY=VALUE" of doveadm's "mailbox status". */
static guint32
mailbox_status (TdTestDovecot *dovecot,
                const char    *key)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = td_test_dovecot_doveadm_output (dovecot, &error, "mailbox", "status",
                                                         "-u", "alice", key, "INBOX", NULL);
  const char *eq;

  g_assert_no_error (error);
  eq = strchr (out, '=');
  g_assert_nonnull (eq);
  return (guint32) g_ascii_strtoull (eq + 1, NULL, 10);
}

/* The account and the message's header as a sync would have left them, without its body. */
static void
build_profile (const char  *profile_dir,
               DownloadRun *run)
{
  g_autofree char *path = g_build_filename (profile_dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(TdCredentials) credentials = td_secret_credentials_new ();
  g_autoptr(GPtrArray) folders =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GPtrArray) specs =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  const char *body = strstr (far_message, "\r\n\r\n") + 4;
  g_autoptr(GBytes) header = g_bytes_new_static (far_message, body - far_message);
  TdFolderState state = { 0 };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 inbox;

  td_store_open_async (store, NULL, td_test_store_result, &result);
  td_store_open_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                            td_test_proxy_get_port (run->proxy), TD_SECURITY_TLS, "alice");
  td_account_set_name (account, "Alice");
  td_account_set_pinned_fingerprint (account, td_test_dovecot_get_fingerprint (run->dovecot));
  td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  td_credentials_store_async (credentials, account, td_test_dovecot_get_password (run->dovecot),
                              NULL, td_test_store_result, &result);
  td_credentials_store_finish (credentials, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  g_ptr_array_add (folders, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  td_store_sync_folders_async (store, td_account_get_id (account), folders, NULL,
                               td_test_store_result, &result);
  td_store_sync_folders_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  inbox = local_folder (store, td_account_get_id (account), "INBOX");

  /* The server's UIDVALIDITY: the next sync keeps the row instead of starting over. */
  state.uidvalidity = mailbox_status (run->dovecot, "uidvalidity");
  state.uidnext = mailbox_status (run->dovecot, "uidnext");
  td_store_set_folder_state_async (store, inbox, &state, NULL, td_test_store_result, &result);
  td_store_set_folder_state_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  g_ptr_array_add (specs, td_message_spec_new (state.uidnext - 1, 0, 1772528400,
                                               strlen (far_message), header));
  td_store_add_messages_async (store, inbox, specs, NULL, td_test_store_result, &result);
  td_store_add_messages_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  td_store_close (store);
}

typedef struct
{
  TdStore *store;
  gint64   account_id;
  guint    days;
} SyncDaysWait;

static gboolean
stored_sync_days_is (gpointer data)
{
  SyncDaysWait *wait = data;
  g_autoptr(TdAccount) stored = td_store_get_account (wait->store, wait->account_id, NULL);

  return stored != NULL && td_account_get_sync_days (stored) == wait->days;
}

static void
check_preferences (TdWindow *window)
{
  TdAccountManager *manager = td_window_get_manager (window);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  GtkWidget *preferences;
  GObject *mark_read;
  GObject *poll;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.preferences", NULL));
  preferences = td_test_ui_wait_toplevel (TD_TYPE_PREFERENCES_WINDOW);
  mark_read = gtk_widget_get_template_child (preferences, TD_TYPE_PREFERENCES_WINDOW,
                                             "mark_read_switch");
  poll = gtk_widget_get_template_child (preferences, TD_TYPE_PREFERENCES_WINDOW, "poll_spin");

  /* What the settings say, both ways, and the engine follows the interval at once. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (mark_read)));
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (poll)), ==, 5.0);
  g_assert_cmpuint (td_account_manager_get_poll_interval (manager), ==, 300);
  gtk_switch_set_active (GTK_SWITCH (mark_read), FALSE);
  g_assert_false (g_settings_get_boolean (settings, "mark-read-on-open"));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (poll), 10);
  g_assert_cmpuint (g_settings_get_uint (settings, "poll-interval"), ==, 600);
  g_assert_cmpuint (td_account_manager_get_poll_interval (manager), ==, 600);
  g_settings_set_uint (settings, "poll-interval", 120);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (poll)), ==, 2.0);
  g_assert_cmpuint (td_account_manager_get_poll_interval (manager), ==, 120);
  /* Offline reading: the account's sync window, saved with the account. */
  {
    g_autoptr(TdAccount) account = g_list_model_get_item (td_account_manager_get_accounts (manager),
                                                          0);
    AdwComboRow *row = td_preferences_window_get_sync_row (TD_PREFERENCES_WINDOW (preferences),
                                                           td_account_get_id (account));
    GListModel *choices;
    SyncDaysWait wait = { td_account_manager_get_store (manager), td_account_get_id (account), 30 };

    g_assert_nonnull (row);
    choices = adw_combo_row_get_model (row);
    g_assert_cmpuint (g_list_model_get_n_items (choices), ==, 5);
    g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (choices), 0), ==,
                     "All Messages");
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (choices), 2), ==,
                     "Last Month");
    td_test_ui_spin (300);
    td_test_ui_save_screenshot (preferences, "preferences.png");
    adw_combo_row_set_selected (row, 2);
    g_assert_cmpuint (td_account_get_sync_days (account), ==, 30);
    td_test_ui_wait_until (stored_sync_days_is, &wait, TIMEOUT_MS, "the sync window saved");
    adw_combo_row_set_selected (row, 0);
    wait.days = 0;
    td_test_ui_wait_until (stored_sync_days_is, &wait, TIMEOUT_MS, "the sync window saved");
  }

  gtk_window_close (GTK_WINDOW (preferences));
  td_test_ui_wait_no_toplevel (TD_TYPE_PREFERENCES_WINDOW);
  g_settings_reset (settings, "mark-read-on-open");
  g_settings_reset (settings, "poll-interval");
}

static void
download_body (TdApplication *app,
               gpointer       data)
{
  DownloadRun *run = data;
  TdWindow *window = td_test_ui_wait_window (app);
  TdMessageView *view = td_window_get_message_view (window);
  g_autofree char *text = NULL;

  /* Every connection is cut: the sync on start fails, the window says it is offline. */
  td_test_ui_wait_until (list_has_items, window, TIMEOUT_MS, "the inbox to be listed");
  td_test_ui_wait_until (is_offline, window, TIMEOUT_MS, "the offline bar");

  /* Opening the message asks the server for its body; offline, the view says so. */
  open_message (window, "Outside the sync window");
  g_assert_cmpstr (td_message_view_get_body_state (view), ==, "downloading");
  td_test_ui_wait_body_state (view, "missing");
  g_assert_cmpstr (td_message_view_get_missing_text (view), ==,
                   "This message has not been downloaded yet. It will be downloaded when "
                   "Tidings is online.");
  td_test_ui_spin (500);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "download-offline.png");

  check_preferences (window);

  /* The connection is back: the body comes without the user doing anything. */
  td_test_proxy_set_cut_after (run->proxy, 0);
  td_test_ui_wait_body_state (view, "text");
  text = td_test_ui_text_view_text (td_message_view_get_text_view (view));
  g_assert_nonnull (strstr (text, "This body came from the server when the message was opened"));
  td_test_ui_wait_until (is_online, window, TIMEOUT_MS, "the offline bar to go");
  td_test_ui_spin (500);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "download-done.png");
}

static void
test_actions_download (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("download");
  g_autoptr(GBytes) message = g_bytes_new_static (far_message, strlen (far_message));
  g_autoptr(GError) error = NULL;
  DownloadRun run = { 0 };

  td_test_ui_restore_session_dirs ();
  run.dovecot = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  td_test_dovecot_save (run.dovecot, "alice", "INBOX", message, &error);
  g_assert_no_error (error);
  /* Every connection is dropped at the server's first byte until the test says otherwise. */
  run.proxy = td_test_proxy_new (td_test_dovecot_get_port (run.dovecot, "imaps"), 1);
  build_profile (profile_dir, &run);

  td_test_ui_run_app (profile_dir, download_body, &run);
  td_test_proxy_free (run.proxy);
  td_test_dovecot_free (run.dovecot);
}

int
main (int   argc,
      char *argv[])
{
  td_test_ui_save_session_dirs ();
  td_test_init (&argc, &argv);

  g_test_add_func ("/ui/window-actions/server", test_actions_server);
  g_test_add_func ("/ui/window-actions/download", test_actions_download);

  return g_test_run ();
}
