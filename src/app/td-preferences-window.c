/* td-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-preferences-window.h"

#include <glib/gi18n-lib.h>

struct _TdPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  TdAccountManager     *manager;
  GHashTable           *sync_rows;     /* account id -> AdwComboRow */
  GHashTable           *pop3_groups;   /* account id -> AdwPreferencesGroup */

  GtkSwitch            *mark_read_switch;
  GtkSpinButton        *poll_spin;
  GtkLabel             *minutes_label;
  AdwActionRow         *pop3_check_row;
  GtkSpinButton        *pop3_spin;
  GtkLabel             *pop3_minutes_label;
  AdwPreferencesPage   *general_page;
  AdwPreferencesGroup  *accounts_group;
  AdwPreferencesPage   *accounts_page;
  AdwPreferencesGroup  *account_list_group;
  GPtrArray            *account_rows;  /* AdwActionRow, one per account */
  gulong                accounts_changed_id;
};

/* The server-copy choices of a POP3 account, in the order the row offers them. */
static const TdPop3Policy pop3_choices[] = {
  TD_POP3_POLICY_KEEP,
  TD_POP3_POLICY_DELETE_AFTER_DAYS,
  TD_POP3_POLICY_DELETE_AFTER_DOWNLOAD,
};

/* The sync windows offered, in days (0: all mail). */
static const guint sync_choices[] = { 0, 7, 30, 90, 365 };

G_DEFINE_FINAL_TYPE (TdPreferencesWindow, td_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* "poll-interval" is in seconds; the window shows minutes. */
static gboolean
seconds_to_minutes (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_uint32 (variant) / 60.0);
  return TRUE;
}

static GVariant *
minutes_to_seconds (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  double minutes = CLAMP (g_value_get_double (value), 1.0, 60.0);

  return g_variant_new_uint32 ((guint32) (minutes * 60.0 + 0.5));
}

static gboolean
seconds_to_minutes_day (GValue   *value,
                        GVariant *variant,
                        gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_uint32 (variant) / 60.0);
  return TRUE;
}

static GVariant *
minutes_day_to_seconds (const GValue       *value,
                        const GVariantType *expected_type,
                        gpointer            user_data)
{
  double minutes = CLAMP (g_value_get_double (value), 1.0, 1440.0);

  return g_variant_new_uint32 ((guint32) (minutes * 60.0 + 0.5));
}

static void
poll_value_changed_cb (TdPreferencesWindow *self,
                       GtkSpinButton       *spin)
{
  gulong minutes = (gulong) gtk_spin_button_get_value_as_int (spin);

  /* Translators: after a number, in "Check for New Mail Every [5] minutes" */
  gtk_label_set_text (self->minutes_label,
                      g_dngettext (GETTEXT_PACKAGE, "minute", "minutes", minutes));
}

static void
pop3_value_changed_cb (TdPreferencesWindow *self,
                       GtkSpinButton       *spin)
{
  gulong minutes = (gulong) gtk_spin_button_get_value_as_int (spin);

  /* Translators: after a number, in "Check POP3 Accounts Every [10] minutes" */
  gtk_label_set_text (self->pop3_minutes_label,
                      g_dngettext (GETTEXT_PACKAGE, "minute", "minutes", minutes));
}

/* --- Offline reading: the sync window of each IMAP account --- */

static char *
sync_choice_label (guint days)
{
  switch (days)
    {
    case 0: return g_strdup (_("All Messages"));
    case 7: return g_strdup (_("Last Week"));
    case 30: return g_strdup (_("Last Month"));
    case 90: return g_strdup (_("Last 3 Months"));
    case 365: return g_strdup (_("Last Year"));
    default:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Last %u Day", "Last %u Days", days),
                              days);
    }
}

static void
account_saved_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TdAccount) account = user_data;
  TdAccountManager *manager = TD_ACCOUNT_MANAGER (source);
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_update_account_finish (manager, result, &error))
    {
      g_warning ("Could not save the settings of %s: %s", td_account_get_address (account),
                 error->message);
      return;
    }
  /* a wider window has bodies to download: the sync brings them (its errors show in the
   * window's status, as for any sync) */
  td_account_manager_sync_async (manager, account, NULL, NULL, NULL);
}

static void
sync_row_selected_cb (AdwComboRow         *row,
                      GParamSpec          *pspec,
                      TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (row), "td-account");
  GArray *days = g_object_get_data (G_OBJECT (row), "td-days");
  guint selected = adw_combo_row_get_selected (row);
  guint wanted;

  if (self->manager == NULL || selected >= days->len)
    return;
  wanted = g_array_index (days, guint, selected);
  if (wanted == td_account_get_sync_days (account))
    return;
  td_account_set_sync_days (account, wanted);
  td_account_manager_update_account_async (self->manager, account, NULL, account_saved_cb,
                                           g_object_ref (account));
}

static void
add_sync_row (TdPreferencesWindow *self,
              TdAccount           *account)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  GArray *days = g_array_new (FALSE, FALSE, sizeof (guint));
  guint current = td_account_get_sync_days (account);
  guint selected = G_MAXUINT;
  AdwComboRow *row;
  gint64 *key;

  for (guint i = 0; i < G_N_ELEMENTS (sync_choices); i++)
    {
      g_autofree char *label = NULL;

      /* a window set elsewhere (the command line) is offered as it is, in order */
      if (selected == G_MAXUINT && current != 0 && current < sync_choices[i])
        {
          g_autofree char *own = sync_choice_label (current);

          selected = days->len;
          g_array_append_val (days, current);
          gtk_string_list_append (labels, own);
        }
      if (sync_choices[i] == current)
        selected = days->len;
      label = sync_choice_label (sync_choices[i]);
      g_array_append_val (days, sync_choices[i]);
      gtk_string_list_append (labels, label);
    }
  if (selected == G_MAXUINT)
    {
      g_autofree char *own = sync_choice_label (current);

      selected = days->len;
      g_array_append_val (days, current);
      gtk_string_list_append (labels, own);
    }

  row = ADW_COMBO_ROW (adw_combo_row_new ());
  if (td_account_get_name (account) != NULL && *td_account_get_name (account) != '\0')
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), td_account_get_name (account));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), td_account_get_address (account));
    }
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), td_account_get_address (account));
  adw_combo_row_set_model (row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (row, selected);
  g_object_set_data_full (G_OBJECT (row), "td-account", g_object_ref (account), g_object_unref);
  g_object_set_data_full (G_OBJECT (row), "td-days", days, (GDestroyNotify) g_array_unref);
  g_signal_connect (row, "notify::selected", G_CALLBACK (sync_row_selected_cb), self);
  adw_preferences_group_add (self->accounts_group, GTK_WIDGET (row));

  key = g_new (gint64, 1);
  *key = td_account_get_id (account);
  g_hash_table_insert (self->sync_rows, key, row);
}

/* --- What a POP3 account leaves on the server --- */

static void
pop3_days_label_update (GtkSpinButton *spin,
                        GtkLabel      *label)
{
  gulong days = (gulong) gtk_spin_button_get_value_as_int (spin);

  /* Translators: after a number, in "Delete Them After [14] days" */
  gtk_label_set_text (label, g_dngettext (GETTEXT_PACKAGE, "day", "days", days));
}

static void
pop3_saved_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TdAccount) account = user_data;
  g_autoptr(GError) error = NULL;

  /* the next check applies it */
  if (!td_account_manager_update_account_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    g_warning ("Could not save the settings of %s: %s", td_account_get_address (account),
               error->message);
}

static void
save_pop3 (TdPreferencesWindow *self,
           TdAccount           *account)
{
  if (self->manager != NULL)
    td_account_manager_update_account_async (self->manager, account, NULL, pop3_saved_cb,
                                             g_object_ref (account));
}

static void
pop3_policy_selected_cb (AdwComboRow         *row,
                         GParamSpec          *pspec,
                         TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (row), "td-account");
  GtkWidget *days_row = g_object_get_data (G_OBJECT (row), "td-days-row");
  guint selected = adw_combo_row_get_selected (row);
  TdPop3Policy policy;

  if (selected >= G_N_ELEMENTS (pop3_choices))
    return;
  policy = pop3_choices[selected];
  gtk_widget_set_visible (days_row, policy == TD_POP3_POLICY_DELETE_AFTER_DAYS);
  if (policy == td_account_get_pop3_policy (account))
    return;
  td_account_set_pop3_policy (account, policy);
  save_pop3 (self, account);
}

static void
pop3_days_changed_cb (GtkSpinButton       *spin,
                      TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (spin), "td-account");
  guint days = (guint) gtk_spin_button_get_value_as_int (spin);

  if (days == td_account_get_pop3_delete_days (account))
    return;
  td_account_set_pop3_delete_days (account, days);
  save_pop3 (self, account);
}

static void
pop3_deleted_here_cb (GtkSwitch           *toggle,
                      GParamSpec          *pspec,
                      TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (toggle), "td-account");
  gboolean active = gtk_switch_get_active (toggle);

  if (active == td_account_get_pop3_delete_when_deleted_here (account))
    return;
  td_account_set_pop3_delete_when_deleted_here (account, active);
  save_pop3 (self, account);
}

static void
add_pop3_group (TdPreferencesWindow *self,
                TdAccount           *account)
{
  g_autoptr(GtkStringList) labels = NULL;
  AdwPreferencesGroup *group;
  AdwComboRow *policy_row;
  AdwActionRow *days_row;
  AdwActionRow *deleted_row;
  GtkSpinButton *days_spin;
  GtkWidget *days_label;
  GtkSwitch *deleted_switch;
  guint selected = 0;
  gint64 *key;

  group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  /* Translators: the title of the settings of one POP3 account; the argument is its name */
  {
    g_autofree char *title = g_strdup_printf (_("Copies on the Server — %s"),
                                              td_account_get_name (account));

    adw_preferences_group_set_title (group, title);
  }
  adw_preferences_group_set_description (group,
      _("This POP3 account downloads mail to this computer. Messages kept on the server can "
        "still be read elsewhere; deleting them frees space on the server."));

  labels = gtk_string_list_new (NULL);
  gtk_string_list_append (labels, _("Keep Them"));
  gtk_string_list_append (labels, _("Delete After Some Days"));
  gtk_string_list_append (labels, _("Delete Right After Downloading"));
  for (guint i = 0; i < G_N_ELEMENTS (pop3_choices); i++)
    if (pop3_choices[i] == td_account_get_pop3_policy (account))
      selected = i;

  policy_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (policy_row),
                                 _("Messages on the Server"));
  adw_combo_row_set_model (policy_row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (policy_row, selected);

  days_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (days_row), _("Delete Them After"));
  days_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, TD_POP3_DELETE_DAYS_MAX, 1));
  gtk_widget_set_valign (GTK_WIDGET (days_spin), GTK_ALIGN_CENTER);
  gtk_spin_button_set_value (days_spin, MAX (td_account_get_pop3_delete_days (account), 1));
  gtk_accessible_update_property (GTK_ACCESSIBLE (days_spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Days after which downloaded messages are deleted from "
                                    "the server"), -1);
  days_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (days_label, "dim-label");
  adw_action_row_add_suffix (days_row, GTK_WIDGET (days_spin));
  adw_action_row_add_suffix (days_row, days_label);
  adw_action_row_set_activatable_widget (days_row, GTK_WIDGET (days_spin));
  gtk_widget_set_visible (GTK_WIDGET (days_row),
                          pop3_choices[selected] == TD_POP3_POLICY_DELETE_AFTER_DAYS);
  g_object_set_data (G_OBJECT (days_spin), "td-days-label", days_label);

  deleted_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (deleted_row),
                                 _("Also Delete From the Server When Deleted Here"));
  adw_action_row_set_subtitle (deleted_row, _("When a message is deleted from the Trash"));
  deleted_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_widget_set_valign (GTK_WIDGET (deleted_switch), GTK_ALIGN_CENTER);
  gtk_switch_set_active (deleted_switch, td_account_get_pop3_delete_when_deleted_here (account));
  adw_action_row_add_suffix (deleted_row, GTK_WIDGET (deleted_switch));
  adw_action_row_set_activatable_widget (deleted_row, GTK_WIDGET (deleted_switch));

  g_object_set_data_full (G_OBJECT (policy_row), "td-account", g_object_ref (account),
                          g_object_unref);
  g_object_set_data (G_OBJECT (policy_row), "td-days-row", days_row);
  g_object_set_data_full (G_OBJECT (days_spin), "td-account", g_object_ref (account),
                          g_object_unref);
  g_object_set_data_full (G_OBJECT (deleted_switch), "td-account", g_object_ref (account),
                          g_object_unref);
  g_object_set_data (G_OBJECT (group), "td-policy-row", policy_row);
  g_object_set_data (G_OBJECT (group), "td-days-spin", days_spin);
  g_object_set_data (G_OBJECT (group), "td-deleted-switch", deleted_switch);
  pop3_days_label_update (days_spin, GTK_LABEL (days_label));
  g_signal_connect (days_spin, "value-changed", G_CALLBACK (pop3_days_label_update),
                    days_label);
  g_signal_connect_object (policy_row, "notify::selected", G_CALLBACK (pop3_policy_selected_cb),
                           self, 0);
  g_signal_connect_object (days_spin, "value-changed", G_CALLBACK (pop3_days_changed_cb), self,
                           0);
  g_signal_connect_object (deleted_switch, "notify::active", G_CALLBACK (pop3_deleted_here_cb),
                           self, 0);

  adw_preferences_group_add (group, GTK_WIDGET (policy_row));
  adw_preferences_group_add (group, GTK_WIDGET (days_row));
  adw_preferences_group_add (group, GTK_WIDGET (deleted_row));
  adw_preferences_page_add (self->general_page, group);

  key = g_new (gint64, 1);
  *key = td_account_get_id (account);
  g_hash_table_insert (self->pop3_groups, key, group);
}

/* --- The accounts page: each account, and removing one --- */

static void
removed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TdPreferencesWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  /* the list follows the manager's accounts by itself */
  if (!td_account_manager_remove_account_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                      adw_toast_new (error->message));
}

static void
remove_response_cb (AdwMessageDialog    *dialog,
                    const char          *response,
                    TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (dialog), "td-account");

  if (g_strcmp0 (response, "remove") != 0 || self->manager == NULL)
    return;
  td_account_manager_remove_account_async (self->manager, account, NULL, removed_cb,
                                           g_object_ref (self));
}

static guint
count_account_messages (TdPreferencesWindow *self,
                        TdAccount           *account)
{
  TdStore *store = td_account_manager_get_store (self->manager);
  g_autoptr(GPtrArray) folders = td_store_list_folders (store, td_account_get_id (account),
                                                        NULL);
  guint total = 0;

  for (guint i = 0; folders != NULL && i < folders->len; i++)
    total += td_folder_get_total (g_ptr_array_index (folders, i));
  return total;
}

static void
remove_clicked_cb (GtkButton           *button,
                   TdPreferencesWindow *self)
{
  TdAccount *account = g_object_get_data (G_OBJECT (button), "td-account");
  TdStore *store = td_account_manager_get_store (self->manager);
  guint n_changes = td_store_count_journal (store, td_account_get_id (account));
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  /* Translators: the argument is an account's name */
  heading = g_strdup_printf (_("Remove “%s”?"), td_account_get_name (account));
  if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3)
    {
      guint n = count_account_messages (self, account);

      body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Its %u message is kept on this computer and may no "
                                           "longer be on the server: it will be deleted. Its "
                                           "password is removed from the keyring. This cannot be "
                                           "undone.",
                                           "Its %u messages are kept on this computer and may no "
                                           "longer be on the server: they will be deleted. Its "
                                           "password is removed from the keyring. This cannot be "
                                           "undone.", n), n);
    }
  else if (n_changes > 0)
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%u change made here has not reached the server yet and "
                                         "will be lost. The mail on this computer and the "
                                         "password are removed; the mail on the server stays.",
                                         "%u changes made here have not reached the server yet "
                                         "and will be lost. The mail on this computer and the "
                                         "password are removed; the mail on the server stays.",
                                         n_changes), n_changes);
  else
    body = g_strdup (_("Its mail on this computer and its password are removed. The mail on the "
                       "server stays there; adding the account again downloads it again."));

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "td-account", g_object_ref (account),
                          g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_account_row (TdPreferencesWindow *self,
                 TdAccount           *account)
{
  AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
  GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");
  g_autofree char *subtitle = NULL;

  /* Translators: "IMAP · alice@example.com · imap.example.com" */
  subtitle = g_strdup_printf (_("%s · %s · %s"),
                              td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3 ? "POP3"
                                                                                    : "IMAP",
                              td_account_get_address (account), td_account_get_host (account));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), td_account_get_name (account));
  adw_action_row_set_subtitle (row, subtitle);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Remove Account"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remove Account"), -1);
  g_object_set_data_full (G_OBJECT (button), "td-account", g_object_ref (account),
                          g_object_unref);
  g_object_set_data (G_OBJECT (row), "td-remove-button", button);
  g_signal_connect_object (button, "clicked", G_CALLBACK (remove_clicked_cb), self, 0);
  adw_action_row_add_suffix (row, button);
  adw_preferences_group_add (self->account_list_group, GTK_WIDGET (row));
  g_ptr_array_add (self->account_rows, row);
}

/* Takes out every row and group made for the accounts (before they are made again). */
static void
clear_accounts (TdPreferencesWindow *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sync_rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_signal_handlers_disconnect_by_data (value, self);
      adw_preferences_group_remove (self->accounts_group, value);
    }
  g_hash_table_remove_all (self->sync_rows);
  g_hash_table_iter_init (&iter, self->pop3_groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    adw_preferences_page_remove (self->general_page, value);
  g_hash_table_remove_all (self->pop3_groups);
  for (guint i = 0; i < self->account_rows->len; i++)
    adw_preferences_group_remove (self->account_list_group,
                                  g_ptr_array_index (self->account_rows, i));
  g_ptr_array_set_size (self->account_rows, 0);
}

static void
fill_accounts (TdPreferencesWindow *self)
{
  GListModel *accounts;
  guint n_rows = 0;
  guint n_pop3 = 0;

  if (self->manager != NULL)
    {
      accounts = td_account_manager_get_accounts (self->manager);
      for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
        {
          g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);

          add_account_row (self, account);
          /* a POP3 account downloads every message whole: what it keeps on the server */
          if (td_account_get_kind (account) == TD_ACCOUNT_KIND_POP3)
            {
              add_pop3_group (self, account);
              n_pop3++;
              continue;
            }
          add_sync_row (self, account);
          n_rows++;
        }
    }
  gtk_widget_set_visible (GTK_WIDGET (self->accounts_group), n_rows > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->pop3_check_row), n_pop3 > 0);
}

AdwComboRow *
td_preferences_window_get_sync_row (TdPreferencesWindow *self,
                                    gint64               account_id)
{
  g_return_val_if_fail (TD_IS_PREFERENCES_WINDOW (self), NULL);
  return g_hash_table_lookup (self->sync_rows, &account_id);
}

static void
accounts_changed_cb (TdPreferencesWindow *self)
{
  clear_accounts (self);
  fill_accounts (self);
}

GtkWidget *
td_preferences_window_get_remove_button (TdPreferencesWindow *self,
                                         gint64               account_id)
{
  g_return_val_if_fail (TD_IS_PREFERENCES_WINDOW (self), NULL);
  for (guint i = 0; i < self->account_rows->len; i++)
    {
      GtkWidget *button = g_object_get_data (g_ptr_array_index (self->account_rows, i),
                                             "td-remove-button");
      TdAccount *account = g_object_get_data (G_OBJECT (button), "td-account");

      if (td_account_get_id (account) == account_id)
        return button;
    }
  return NULL;
}

/* What the POP3 group of the account keeps under @key, or NULL. */
static gpointer
pop3_group_data (TdPreferencesWindow *self,
                 gint64               account_id,
                 const char          *key)
{
  GObject *group = g_hash_table_lookup (self->pop3_groups, &account_id);

  return group != NULL ? g_object_get_data (group, key) : NULL;
}

AdwComboRow *
td_preferences_window_get_pop3_policy_row (TdPreferencesWindow *self,
                                           gint64               account_id)
{
  g_return_val_if_fail (TD_IS_PREFERENCES_WINDOW (self), NULL);
  return pop3_group_data (self, account_id, "td-policy-row");
}

GtkSpinButton *
td_preferences_window_get_pop3_days_spin (TdPreferencesWindow *self,
                                          gint64               account_id)
{
  g_return_val_if_fail (TD_IS_PREFERENCES_WINDOW (self), NULL);
  return pop3_group_data (self, account_id, "td-days-spin");
}

GtkSwitch *
td_preferences_window_get_pop3_deleted_here_switch (TdPreferencesWindow *self,
                                                    gint64               account_id)
{
  g_return_val_if_fail (TD_IS_PREFERENCES_WINDOW (self), NULL);
  return pop3_group_data (self, account_id, "td-deleted-switch");
}

static void
td_preferences_window_dispose (GObject *object)
{
  TdPreferencesWindow *self = TD_PREFERENCES_WINDOW (object);

  if (self->sync_rows != NULL)
    {
      GHashTableIter iter;
      gpointer row;

      g_hash_table_iter_init (&iter, self->sync_rows);
      while (g_hash_table_iter_next (&iter, NULL, &row))
        g_signal_handlers_disconnect_by_data (row, self);
    }
  if (self->manager != NULL && self->accounts_changed_id != 0)
    g_clear_signal_handler (&self->accounts_changed_id,
                            td_account_manager_get_accounts (self->manager));
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_PREFERENCES_WINDOW);
  g_clear_pointer (&self->sync_rows, g_hash_table_unref);
  g_clear_pointer (&self->pop3_groups, g_hash_table_unref);
  g_clear_pointer (&self->account_rows, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (td_preferences_window_parent_class)->dispose (object);
}

static void
td_preferences_window_class_init (TdPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, mark_read_switch);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, poll_spin);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, minutes_label);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, pop3_check_row);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, pop3_spin);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, pop3_minutes_label);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, general_page);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, accounts_group);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, accounts_page);
  gtk_widget_class_bind_template_child (widget_class, TdPreferencesWindow, account_list_group);
  gtk_widget_class_bind_template_callback (widget_class, poll_value_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, pop3_value_changed_cb);
}

static void
td_preferences_window_init (TdPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->sync_rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->pop3_groups = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->account_rows = g_ptr_array_new ();
  poll_value_changed_cb (self, self->poll_spin);
  pop3_value_changed_cb (self, self->pop3_spin);
}

GtkWidget *
td_preferences_window_new (GtkWindow        *parent,
                           GSettings        *settings,
                           TdAccountManager *manager)
{
  TdPreferencesWindow *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager), NULL);

  self = g_object_new (TD_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);
  self->settings = g_object_ref (settings);
  g_settings_bind (settings, "mark-read-on-open", self->mark_read_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "poll-interval",
                                gtk_spin_button_get_adjustment (self->poll_spin), "value",
                                G_SETTINGS_BIND_DEFAULT, seconds_to_minutes, minutes_to_seconds,
                                NULL, NULL);
  g_settings_bind_with_mapping (settings, "pop3-check-interval",
                                gtk_spin_button_get_adjustment (self->pop3_spin), "value",
                                G_SETTINGS_BIND_DEFAULT, seconds_to_minutes_day,
                                minutes_day_to_seconds, NULL, NULL);
  if (manager != NULL)
    {
      self->manager = g_object_ref (manager);
      self->accounts_changed_id =
        g_signal_connect_swapped (td_account_manager_get_accounts (manager), "items-changed",
                                  G_CALLBACK (accounts_changed_cb), self);
    }
  fill_accounts (self);
  return GTK_WIDGET (self);
}
