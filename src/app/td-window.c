/* td-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-window-private.h"

#include <glib/gi18n-lib.h>

#include "td-add-account-dialog.h"
#include "td-error.h"
#include "td-message-row.h"
#include "td-preferences-window.h"

/* How far from its old position a message is looked for when the list is reloaded. */
#define RESELECT_WINDOW 50

G_DEFINE_FINAL_TYPE (TdWindow, td_window, ADW_TYPE_APPLICATION_WINDOW)

/* --- Pages --- */

static void
update_page (TdWindow *self)
{
  guint n;

  if (self->manager == NULL)
    return;

  n = g_list_model_get_n_items (td_account_manager_get_accounts (self->manager));
  gtk_stack_set_visible_child_name (self->main_stack, n == 0 ? "welcome" : "mail");
}

static void
accounts_changed_cb (TdWindow   *self,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GListModel *model)
{
  update_page (self);
}

/* --- The message list --- */

static void
update_list_stack (TdWindow *self)
{
  if (self->list == NULL)
    gtk_stack_set_visible_child_name (self->list_stack, "none");
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->list)) == 0)
    gtk_stack_set_visible_child_name (self->list_stack, "empty");
  else
    gtk_stack_set_visible_child_name (self->list_stack, "list");
}

static void
selection_changed_cb (TdWindow           *self,
                      GParamSpec         *pspec,
                      GtkSingleSelection *selection)
{
  TdMessage *message = gtk_single_selection_get_selected_item (selection);

  if (message != NULL)
    {
      gboolean opened = td_message_get_id (message) != self->current_id;

      self->current_id = td_message_get_id (message);
      self->current_position = gtk_single_selection_get_selected (selection);
      td_message_view_set_message (self->message_view, message);
      /* Not when the list was reloaded and the same message found again (a newer snapshot):
       * the user may just have marked it unread. */
      if (opened)
        _td_window_message_opened (self, message);
    }
  else if (!self->reloading)
    {
      self->current_id = 0;
      td_message_view_set_message (self->message_view, NULL);
    }
  /* else: the list is being reloaded (the store changed the folder) and the selection
   * went with the old rows; list_items_changed_cb finds the message again. Until then the
   * actions stay as they are (an open Move To menu stays open). */
  if (!self->reloading)
    _td_window_actions_update (self);
}

/* Connected before the selection model's own handler. */
static void
list_items_changing_cb (TdWindow   *self,
                        guint       position,
                        guint       removed,
                        guint       added,
                        GListModel *model)
{
  self->reloading = TRUE;
}

/* Connected after the selection model's own handler. */
static void
list_items_changed_cb (TdWindow   *self,
                       guint       position,
                       guint       removed,
                       guint       added,
                       GListModel *model)
{
  guint n = g_list_model_get_n_items (model);
  guint from;
  guint to;

  self->reloading = FALSE;
  update_list_stack (self);

  if (self->current_id == 0 ||
      gtk_single_selection_get_selected (self->selection) != GTK_INVALID_LIST_POSITION)
    {
      _td_window_actions_update (self);
      return;
    }

  /* The selected message was in the reloaded range: find it near where it was. */
  from = self->current_position > RESELECT_WINDOW ? self->current_position - RESELECT_WINDOW : 0;
  to = MIN (n, self->current_position + RESELECT_WINDOW);
  for (guint i = from; i < to; i++)
    {
      g_autoptr(TdMessage) message = g_list_model_get_item (model, i);

      if (message != NULL && td_message_get_id (message) == self->current_id)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }

  /* Gone (expunged, moved): show nothing. */
  self->current_id = 0;
  td_message_view_set_message (self->message_view, NULL);
  _td_window_actions_update (self);
}

static void
set_folder (TdWindow *self,
            TdFolder *folder)
{
  g_autoptr(TdMessageList) list = NULL;
  TdAccount *account = NULL;

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);

  self->current_id = 0;
  self->reloading = FALSE;

  if (folder != NULL && self->store != NULL)
    {
      g_autofree char *account_id = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                     td_folder_get_account_id (folder));

      list = td_message_list_new (self->store, td_folder_get_id (folder));
      account = td_account_manager_find_account (self->manager, account_id);
    }

  g_set_object (&self->list, list);
  g_set_object (&self->folder, folder);
  /* One handler before the selection model's and one after it: see selection_changed_cb. */
  if (list != NULL)
    g_signal_connect_object (list, "items-changed", G_CALLBACK (list_items_changing_cb), self,
                             G_CONNECT_SWAPPED);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (list));
  if (list != NULL)
    g_signal_connect_object (list, "items-changed", G_CALLBACK (list_items_changed_cb), self,
                             G_CONNECT_SWAPPED);
  td_message_view_set_message (self->message_view, NULL);

  adw_window_title_set_title (self->list_title, folder != NULL ? td_folder_get_name (folder) : "");
  adw_window_title_set_subtitle (self->list_title,
                                 account != NULL ? td_account_get_name (account) : "");
  update_list_stack (self);
  /* The folder looked at is kept watched (IDLE) as well as the Inbox. */
  if (self->manager != NULL)
    td_account_manager_set_viewed_folder (self->manager, folder);
  _td_window_actions_folders_changed (self);
  _td_window_actions_update (self);
}

static void
folder_selected_cb (TdWindow  *self,
                    TdFolder  *folder,
                    TdSidebar *sidebar)
{
  set_folder (self, folder);
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              TdWindow                 *self)
{
  gtk_list_item_set_child (item, td_message_row_new ());
  _td_window_actions_setup_row (self, item);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  user_data)
{
  td_message_row_set_message (TD_MESSAGE_ROW (gtk_list_item_get_child (item)),
                              gtk_list_item_get_item (item));
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  td_message_row_set_message (TD_MESSAGE_ROW (gtk_list_item_get_child (item)), NULL);
}

/* --- Sync status --- */

static void
add_toast (TdWindow   *self,
           const char *text,
           gboolean    retry)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (escaped);

  /* The default timeout: the status line under the folders keeps the error. */
  if (retry)
    {
      adw_toast_set_button_label (toast, _("_Retry"));
      adw_toast_set_action_name (toast, "win.refresh");
      g_set_weak_pointer (&self->error_toast, toast);
    }
  _td_window_add_toast (self, toast, text);
}

/* Longer than AdwToastOverlay's show, hide and replace animations (at most 500 ms). */
#define TOAST_ANIMATION_MS 700

static void
toast_dismissed_cb (AdwToast *toast,
                    gpointer  user_data)
{
  g_object_set_data (G_OBJECT (toast), "td-dismissed", GINT_TO_POINTER (TRUE));
}

static gboolean
dismiss_later_cb (gpointer data)
{
  AdwToast *toast = data;

  if (g_object_get_data (G_OBJECT (toast), "td-dismissed") == NULL)
    adw_toast_dismiss (toast);
  return G_SOURCE_REMOVE;
}

void
_td_window_dismiss_toast (AdwToast *toast)
{
  /* libadwaita 1.2 crashes when a shown toast is dismissed while the next one comes in
   * (its hide animation ends on freed data). The toast that replaces this one comes with
   * a high priority, which moves this one back into the queue at once; it is taken out of
   * the queue once the overlay's animations are over. A toast already gone (timed out,
   * closed) is left alone. */
  if (toast == NULL || g_object_get_data (G_OBJECT (toast), "td-dismissed") != NULL)
    return;
  g_timeout_add_full (G_PRIORITY_DEFAULT, TOAST_ANIMATION_MS, dismiss_later_cb,
                      g_object_ref (toast), g_object_unref);
}

void
_td_window_dismiss_error_toast (TdWindow *self)
{
  _td_window_dismiss_toast (self->error_toast);
  g_clear_weak_pointer (&self->error_toast);
}

void
_td_window_add_toast (TdWindow   *self,
                      AdwToast   *toast,
                      const char *text)
{
  g_free (self->last_toast);
  self->last_toast = g_strdup (text);
  g_signal_connect (toast, "dismissed", G_CALLBACK (toast_dismissed_cb), NULL);
  /* shown at once: one it replaces goes back into the queue (see _td_window_dismiss_toast) */
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_td_window_show_toast (TdWindow   *self,
                       const char *text)
{
  add_toast (self, text, FALSE);
}

static void
show_status (TdWindow   *self,
             const char *text,
             gboolean    is_error)
{
  g_clear_handle_id (&self->hide_status_id, g_source_remove);
  gtk_label_set_text (self->status_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
  gtk_widget_set_visible (self->status_icon, is_error);
  gtk_widget_set_visible (GTK_WIDGET (self->status_spinner), !is_error);
  gtk_spinner_set_spinning (self->status_spinner, !is_error);
  gtk_widget_set_visible (GTK_WIDGET (self->status_progress), !is_error);
  gtk_revealer_set_reveal_child (self->status_revealer, TRUE);
}

static gboolean
hide_status_cb (gpointer user_data)
{
  TdWindow *self = user_data;

  self->hide_status_id = 0;
  gtk_revealer_set_reveal_child (self->status_revealer, FALSE);
  gtk_spinner_set_spinning (self->status_spinner, FALSE);
  gtk_label_set_text (self->status_label, "");
  return G_SOURCE_REMOVE;
}

typedef struct
{
  TdWindow  *self;
  TdAccount *account;
  char      *fingerprint;
} TrustData;

static void
trust_data_free (TrustData *data)
{
  g_object_unref (data->self);
  g_object_unref (data->account);
  g_free (data->fingerprint);
  g_free (data);
}

static void
trust_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  TrustData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (td_account_manager_trust_certificate_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    td_window_sync (data->self, data->account);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf (_("Could not trust the certificate: %s"),
                                               error->message);

      add_toast (data->self, text, FALSE);
    }
  trust_data_free (data);
}

static void
certificate_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         TrustData        *data)
{
  TdWindow *self = data->self;

  if (g_strcmp0 (response, "trust") == 0 && self->manager != NULL)
    {
      td_account_manager_trust_certificate_async (self->manager, data->account, data->fingerprint,
                                                  self->cancellable, trust_done_cb, data);
      return;
    }
  trust_data_free (data);
}

static void
show_certificate_dialog (TdWindow                *self,
                         TdAccount               *account,
                         const TdCertificateInfo *info)
{
  g_autofree char *details = td_certificate_info_to_string (info);
  g_autofree char *body = NULL;
  GtkWidget *label;
  TrustData *data;
  GtkWidget *dialog;

  body = g_strdup_printf (_("The identity of %s could not be verified. Someone may be "
                            "pretending to be your mail server, or the server uses a "
                            "certificate that this computer does not know. Trust it only if "
                            "its fingerprint is the one your provider gave you."),
                          td_account_get_host (account));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Untrusted Certificate"), NULL);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), body);

  label = gtk_label_new (details);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "certificate-details");
  gtk_widget_add_css_class (label, "card");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), label);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "trust", _("_Trust This Certificate"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "trust",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  data = g_new0 (TrustData, 1);
  data->self = g_object_ref (self);
  data->account = g_object_ref (account);
  data->fingerprint = g_strdup (info->fingerprint);
  g_signal_connect (dialog, "response", G_CALLBACK (certificate_response_cb), data);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- The password dialog (no password in the keyring, or the server refused it) --- */

typedef struct
{
  TdWindow  *self;
  TdAccount *account;
  GtkWidget *entry;
  gboolean   saved;
} PasswordData;

static void
password_data_free (PasswordData *data)
{
  g_object_unref (data->self);
  g_object_unref (data->account);
  g_free (data);
}

typedef struct
{
  TdWindow  *self;
  TdAccount *account;
} StoreData;

static void
password_stored_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  StoreData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (td_credentials_store_finish (TD_CREDENTIALS (source), result, &error))
    td_window_sync (data->self, data->account);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf (_("Could not save the password: %s"),
                                               error->message);

      add_toast (data->self, text, FALSE);
    }
  g_object_unref (data->self);
  g_object_unref (data->account);
  g_free (data);
}

/* Keeps the password in the keyring, then syncs the account again. */
static void
save_password (PasswordData *data)
{
  TdWindow *self = data->self;
  char *password;
  StoreData *store;

  if (data->saved || self->manager == NULL)
    return;
  password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (data->entry)));
  if (password[0] == '\0')
    {
      td_credentials_free_password (password);
      return;
    }
  data->saved = TRUE;

  store = g_new0 (StoreData, 1);
  store->self = g_object_ref (self);
  store->account = g_object_ref (data->account);
  /* The credentials keep their own copy for as long as they need it. */
  td_credentials_store_async (td_account_manager_get_credentials (self->manager), data->account,
                              password, self->cancellable, password_stored_cb, store);
  td_credentials_free_password (password);
  gtk_editable_set_text (GTK_EDITABLE (data->entry), "");
}

static void
password_response_cb (AdwMessageDialog *dialog,
                      const char       *response,
                      PasswordData     *data)
{
  if (g_strcmp0 (response, "save") == 0)
    save_password (data);
  else
    gtk_editable_set_text (GTK_EDITABLE (data->entry), "");
  /* GTK 4.8's password entry hears its text lose the focus after it is gone when the dialog
   * is destroyed with the focus in it: move the focus away first. */
  gtk_window_set_focus (GTK_WINDOW (dialog), NULL);

  if (data->self->password_dialog == GTK_WIDGET (dialog))
    g_clear_weak_pointer (&data->self->password_dialog);
}

static void
password_changed_cb (GtkEditable      *entry,
                     AdwMessageDialog *dialog)
{
  adw_message_dialog_set_response_enabled (dialog, "save",
                                           gtk_editable_get_text (entry)[0] != '\0');
}

/* Enter in the entry: "Save and Retry", when it is enabled. */
static void
password_activate_cb (GtkPasswordEntry *entry,
                      PasswordData     *data)
{
  GtkWidget *dialog = gtk_widget_get_ancestor (GTK_WIDGET (entry), ADW_TYPE_MESSAGE_DIALOG);

  if (dialog == NULL ||
      !adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "save"))
    return;
  save_password (data);
  gtk_window_close (GTK_WINDOW (dialog));
}

/* Returns FALSE when a password dialog is already open (then the toast says it). */
static gboolean
show_password_dialog (TdWindow     *self,
                      TdAccount    *account,
                      const GError *error)
{
  g_autofree char *body = NULL;
  PasswordData *data;
  GtkWidget *dialog;
  GtkWidget *entry;
  const char *heading;

  if (self->password_dialog != NULL)
    return FALSE;

  if (g_error_matches (error, TD_ERROR, TD_ERROR_AUTH))
    {
      heading = _("Password Refused");
      /* Translators: the first argument is an address, the second the server's message */
      body = g_strdup_printf (_("The server refused the password for %s. It said: “%s”\n\n"
                                "Enter the right password to try again. It will be kept in "
                                "your keyring."),
                              td_account_get_address (account), error->message);
    }
  else
    {
      heading = _("Password Needed");
      /* Translators: the argument is an account's address */
      body = g_strdup_printf (_("Tidings has no password for %s. Enter it to sync this account; "
                                "it will be kept in your keyring."),
                              td_account_get_address (account));
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, NULL);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), body);

  entry = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Password"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "save", _("_Save and Retry"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "save", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  data = g_new0 (PasswordData, 1);
  data->self = g_object_ref (self);
  data->account = g_object_ref (account);
  data->entry = entry;
  g_object_set_data_full (G_OBJECT (dialog), "td-password-data", data,
                          (GDestroyNotify) password_data_free);
  g_signal_connect (entry, "changed", G_CALLBACK (password_changed_cb), dialog);
  g_signal_connect (entry, "activate", G_CALLBACK (password_activate_cb), data);
  g_signal_connect (dialog, "response", G_CALLBACK (password_response_cb), data);

  g_set_weak_pointer (&self->password_dialog, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
  return TRUE;
}

static void
report_sync_error (TdWindow     *self,
                   TdAccount    *account,
                   const GError *error)
{
  g_autofree char *text = NULL;

  self->errors_shown++;

  if (account != NULL)
    /* Translators: the first argument is an account, the second an error message */
    text = g_strdup_printf (_("Could not sync %s: %s"), td_account_get_name (account),
                            error->message);
  else
    text = g_strdup_printf (_("Could not sync: %s"), error->message);
  show_status (self, text, TRUE);

  if (account != NULL && g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
    {
      const TdCertificateInfo *info;

      info = td_account_manager_get_refused_certificate (self->manager, account);
      if (info != NULL && info->fingerprint != NULL)
        {
          show_certificate_dialog (self, account, info);
          return;
        }
    }

  if (account != NULL &&
      (g_error_matches (error, TD_ERROR, TD_ERROR_NO_PASSWORD) ||
       g_error_matches (error, TD_ERROR, TD_ERROR_AUTH)) &&
      show_password_dialog (self, account, error))
    return;

  /* A server that asked to wait (a POP3 login delay): the status line says until when, and
   * the checks wait by themselves; a toast at every check would only nag. */
  if (g_error_matches (error, TD_ERROR, TD_ERROR_TRY_LATER))
    return;

  add_toast (self, text, TRUE);
}

static void
sync_started_cb (TdWindow         *self,
                 TdAccount        *account,
                 TdAccountManager *manager)
{
  g_autofree char *text = g_strdup_printf (_("Syncing %s…"), td_account_get_name (account));

  show_status (self, text, FALSE);
  gtk_progress_bar_set_fraction (self->status_progress, 0.0);
  gtk_progress_bar_pulse (self->status_progress);
}

static void
sync_progress_cb (TdWindow         *self,
                  TdAccount        *account,
                  const char       *what,
                  guint             done,
                  guint             total,
                  TdAccountManager *manager)
{
  g_autofree char *text = NULL;

  if (total > 0)
    /* Translators: sync progress: "Downloading messages in Inbox 120/300" */
    text = g_strdup_printf (_("%s %u/%u"), what, MIN (done, total), total);
  else
    text = g_strdup (what);

  show_status (self, text, FALSE);
  if (total > 0)
    gtk_progress_bar_set_fraction (self->status_progress, (double) MIN (done, total) / total);
  else
    gtk_progress_bar_pulse (self->status_progress);
}

static void
sync_finished_cb (TdWindow         *self,
                  TdAccount        *account,
                  const GError     *error,
                  TdAccountManager *manager)
{
  if (_td_window_online_sync_finished (self, account, error))
    return;
  report_sync_error (self, account, error);
}

static void
syncing_changed_cb (TdWindow         *self,
                    GParamSpec       *pspec,
                    TdAccountManager *manager)
{
  gboolean syncing = td_account_manager_is_syncing (manager);

  gtk_stack_set_visible_child_name (self->refresh_stack, syncing ? "spinner" : "button");
  gtk_spinner_set_spinning (self->refresh_spinner, syncing);

  if (syncing)
    {
      self->errors_shown = 0;
      return;
    }

  gtk_spinner_set_spinning (self->status_spinner, FALSE);
  /* A failure stays visible until the next sync; success fades out. */
  if (self->errors_shown == 0 && self->hide_status_id == 0)
    self->hide_status_id = g_timeout_add (1500, hide_status_cb, self);
}

static void
sync_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TdWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_sync_finish (TD_ACCOUNT_MANAGER (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Errors of an account were reported by "sync-finished"; this is for the others. */
      if (self->errors_shown == 0)
        report_sync_error (self, NULL, error);
      else
        g_debug ("Sync failed: %s", error->message);
    }
}

void
td_window_sync (TdWindow  *self,
                TdAccount *account)
{
  g_return_if_fail (TD_IS_WINDOW (self));
  g_return_if_fail (account == NULL || TD_IS_ACCOUNT (account));

  if (self->manager == NULL)
    return;
  if (account == NULL &&
      g_list_model_get_n_items (td_account_manager_get_accounts (self->manager)) == 0)
    return;

  if (!td_account_manager_is_syncing (self->manager))
    self->errors_shown = 0;
  td_account_manager_sync_async (self->manager, account, self->cancellable, sync_done_cb,
                                 g_object_ref (self));
}

/* --- Actions --- */

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  td_window_sync (TD_WINDOW (widget), NULL);
}

static void
account_added_cb (TdWindow           *self,
                  TdAccount          *account,
                  TdAddAccountDialog *dialog)
{
  update_page (self);
  td_window_sync (self, account);
}

void
td_window_add_account (TdWindow *self)
{
  GtkWidget *dialog;

  g_return_if_fail (TD_IS_WINDOW (self));

  if (self->manager == NULL)
    return;

  dialog = td_add_account_dialog_new (self->manager);
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  g_signal_connect_object (dialog, "account-added", G_CALLBACK (account_added_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  td_window_add_account (TD_WINDOW (widget));
}

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);

  if (self->settings == NULL)
    return;
  if (self->preferences == NULL)
    {
      GtkWidget *preferences = td_preferences_window_new (GTK_WINDOW (self), self->settings,
                                                            self->manager);

      g_set_weak_pointer (&self->preferences, preferences);
    }
  gtk_window_present (GTK_WINDOW (self->preferences));
}

/* --- The store --- */

static void
store_folders_changed_cb (TdWindow *self,
                          gint64    account_id,
                          TdStore  *store)
{
  g_autoptr(TdFolder) folder = NULL;

  if (self->folder == NULL || td_folder_get_account_id (self->folder) != account_id)
    return;

  /* Renamed (same id, new path): the title follows. Removed: the sidebar says so. */
  folder = td_store_get_folder (store, td_folder_get_id (self->folder), NULL);
  if (folder != NULL)
    {
      g_set_object (&self->folder, folder);
      adw_window_title_set_title (self->list_title, td_folder_get_name (folder));
    }
  _td_window_actions_folders_changed (self);
  _td_window_actions_update (self);
}

/* --- GObject --- */

static void
disconnect_manager (TdWindow *self)
{
  if (self->manager != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->manager, self);
      g_signal_handlers_disconnect_by_data (td_account_manager_get_accounts (self->manager), self);
    }
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  g_clear_object (&self->list);
  g_clear_object (&self->folder);
  g_clear_object (&self->manager);
  g_clear_object (&self->store);
  g_hash_table_remove_all (self->offline);
  g_hash_table_remove_all (self->sending);
  gtk_revealer_set_reveal_child (self->offline_revealer, FALSE);
}

static gboolean
td_window_close_request (GtkWindow *window)
{
  TdWindow *self = TD_WINDOW (window);

  if (self->settings != NULL)
    {
      int width = 0;
      int height = 0;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized",
                              gtk_window_is_maximized (window));
    }

  return GTK_WINDOW_CLASS (td_window_parent_class)->close_request (window);
}

static void
td_window_dispose (GObject *object)
{
  TdWindow *self = TD_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->hide_status_id, g_source_remove);
  if (self->password_dialog != NULL)
    {
      GtkWidget *dialog = self->password_dialog;

      g_clear_weak_pointer (&self->password_dialog);
      gtk_window_set_focus (GTK_WINDOW (dialog), NULL);
      gtk_window_destroy (GTK_WINDOW (dialog));
    }
  if (self->preferences != NULL)
    {
      GtkWidget *preferences = self->preferences;

      g_clear_weak_pointer (&self->preferences);
      gtk_window_destroy (GTK_WINDOW (preferences));
    }
  _td_window_actions_dispose (self);
  g_clear_weak_pointer (&self->error_toast);
  disconnect_manager (self);
  if (self->selection != NULL)
    gtk_single_selection_set_model (self->selection, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_WINDOW);
  g_clear_object (&self->selection);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (td_window_parent_class)->dispose (object);
}

static void
td_window_finalize (GObject *object)
{
  TdWindow *self = TD_WINDOW (object);

  g_hash_table_unref (self->offline);
  g_hash_table_unref (self->sending);
  g_free (self->last_toast);

  G_OBJECT_CLASS (td_window_parent_class)->finalize (object);
}

static void
td_window_class_init (TdWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = td_window_dispose;
  object_class->finalize = td_window_finalize;
  window_class->close_request = td_window_close_request;

  g_type_ensure (TD_TYPE_SIDEBAR);
  g_type_ensure (TD_TYPE_MESSAGE_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/tidings/Tidings/td-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TdWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, status_revealer);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, status_progress);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, list_title);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, refresh_stack);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, refresh_spinner);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, offline_revealer);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, offline_label);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, list_pane);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, message_list_view);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, message_view);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, read_button);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, flag_button);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, delete_button);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, move_button);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, more_button);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, message_menu);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, message_menu_folders);
  gtk_widget_class_bind_template_child (widget_class, TdWindow, more_menu_folders);

  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.add-account", NULL, add_account_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
                                       "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK,
                                       "win.preferences", NULL);

  _td_window_actions_class_init (widget_class);
  _td_window_folders_class_init (widget_class);
}

static GSettings *
load_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  /* Running from the build tree without the schema installed is fine: no saved size. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

static void
td_window_init (TdWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->offline = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->sending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), NULL);
  gtk_list_view_set_factory (self->message_list_view, factory);
  gtk_list_view_set_model (self->message_list_view, GTK_SELECTION_MODEL (self->selection));

  g_signal_connect_object (self->sidebar, "folder-selected", G_CALLBACK (folder_selected_cb),
                           self, G_CONNECT_SWAPPED);

  self->settings = load_settings ();
  if (self->settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.preferences", self->settings != NULL);

  _td_window_actions_init (self);
  _td_window_online_init (self);
  update_list_stack (self);
}

TdWindow *
td_window_new (GtkApplication   *application,
               TdAccountManager *manager)
{
  TdWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager), NULL);

  self = g_object_new (TD_TYPE_WINDOW, "application", application, NULL);
  if (manager != NULL)
    td_window_set_manager (self, manager);
  return self;
}

TdAccountManager *
td_window_get_manager (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->manager;
}

void
td_window_set_manager (TdWindow         *self,
                       TdAccountManager *manager)
{
  g_return_if_fail (TD_IS_WINDOW (self));
  g_return_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager));

  if (self->manager == manager)
    return;

  set_folder (self, NULL);
  disconnect_manager (self);

  if (manager != NULL)
    {
      self->manager = g_object_ref (manager);
      self->store = g_object_ref (td_account_manager_get_store (manager));

      g_signal_connect_object (manager, "sync-started", G_CALLBACK (sync_started_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "sync-progress", G_CALLBACK (sync_progress_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "sync-finished", G_CALLBACK (sync_finished_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (manager, "notify::syncing", G_CALLBACK (syncing_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (td_account_manager_get_accounts (manager), "items-changed",
                               G_CALLBACK (accounts_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "folders-changed",
                               G_CALLBACK (store_folders_changed_cb), self, G_CONNECT_SWAPPED);
      _td_window_online_set_manager (self, manager);
    }

  td_message_view_set_manager (self->message_view, manager);
  td_sidebar_set_manager (self->sidebar, manager);

  if (manager != NULL)
    {
      update_page (self);
      if (td_account_manager_is_syncing (manager))
        syncing_changed_cb (self, NULL, manager);
    }
  else
    gtk_stack_set_visible_child_name (self->main_stack, "loading");
}

void
td_window_show_error (TdWindow   *self,
                      const char *title,
                      const char *description)
{
  g_return_if_fail (TD_IS_WINDOW (self));

  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, description);
  gtk_stack_set_visible_child_name (self->main_stack, "error");
}

TdSidebar *
td_window_get_sidebar (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->sidebar;
}

GtkListView *
td_window_get_message_list_view (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->message_list_view;
}

GtkSingleSelection *
td_window_get_selection (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->selection;
}

TdMessageView *
td_window_get_message_view (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->message_view;
}

const char *
td_window_get_page (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->main_stack);
}

const char *
td_window_get_status_text (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->status_revealer))
    return "";
  return gtk_label_get_text (self->status_label);
}

const char *
td_window_get_offline_text (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->offline_revealer))
    return "";
  return gtk_label_get_text (self->offline_label);
}

const char *
td_window_get_last_toast (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), NULL);
  return self->last_toast != NULL ? self->last_toast : "";
}

gboolean
td_window_can_undo (TdWindow *self)
{
  g_return_val_if_fail (TD_IS_WINDOW (self), FALSE);
  return self->undo_ids != NULL;
}
