/* td-window-folders.c: what a user does to folders
 *
 * win.new-folder((xx): account id, parent folder id or 0), win.rename-folder(x),
 * win.delete-folder(x), win.subscribe-folder(x), win.unsubscribe-folder(x) and
 * win.empty-folder(x), from the context menu of the sidebar (td-sidebar.c). Names are asked
 * for and destructive changes confirmed in message dialogs; each change is applied to the store
 * and journaled by the engine, then sent to the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-window-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct
{
  TdWindow  *self;
  TdAccount *account;
  TdFolder  *folder;      /* the folder acted on, or the parent of a new one (NULL: top) */
  GtkWidget *entry;       /* for a name, or NULL */
  char       delimiter;   /* between the parts of a path; 0: a flat namespace */
} FolderData;

static void
folder_data_free (FolderData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->account);
  g_clear_object (&data->folder);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FolderData, folder_data_free)

static FolderData *
folder_data_new (TdWindow *self,
                 gint64    account_id,
                 gint64    folder_id)
{
  g_autoptr(FolderData) data = g_new0 (FolderData, 1);
  TdAccount *account;

  if (self->manager == NULL)
    return NULL;
  data->self = g_object_ref (self);
  if (folder_id != 0)
    {
      data->folder = td_store_get_folder (self->store, folder_id, NULL);
      if (data->folder == NULL)
        return NULL;
      account_id = td_folder_get_account_id (data->folder);
      data->delimiter = td_folder_get_delimiter (data->folder);
    }
  account = _td_window_find_account (self, account_id);
  if (account == NULL)
    return NULL;
  data->account = g_object_ref (account);

  if (data->delimiter == '\0')
    {
      g_autoptr(GPtrArray) folders = td_store_list_folders (self->store, account_id, NULL);

      /* A new top folder: the separator the server uses for the others. */
      for (guint i = 0; folders != NULL && i < folders->len && data->delimiter == '\0'; i++)
        data->delimiter = td_folder_get_delimiter (g_ptr_array_index (folders, i));
    }
  return g_steal_pointer (&data);
}

static void
folder_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FolderData) data = user_data;
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_action_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _td_window_show_toast (data->self, error->message);
      return;
    }
  _td_window_send_changes (data->self, data->account);
}

/* --- Dialogs --- */

/* A name the server can take as one part of a path. */
static gboolean
name_is_valid (FolderData *data,
               const char *name)
{
  return name[0] != '\0' && (data->delimiter == '\0' || strchr (name, data->delimiter) == NULL);
}

static char *
entry_name (FolderData *data)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (data->entry))));
}

static void
name_changed_cb (GtkEditable      *entry,
                 AdwMessageDialog *dialog)
{
  FolderData *data = g_object_get_data (G_OBJECT (dialog), "td-folder-data");
  g_autofree char *name = entry_name (data);
  const char *response = g_object_get_data (G_OBJECT (dialog), "td-response");

  adw_message_dialog_set_response_enabled (dialog, response, name_is_valid (data, name));
}

static void
name_activate_cb (GtkEntry         *entry,
                  AdwMessageDialog *dialog)
{
  const char *response = g_object_get_data (G_OBJECT (dialog), "td-response");

  if (adw_message_dialog_get_response_enabled (dialog, response))
    {
      adw_message_dialog_response (dialog, response);
      gtk_window_close (GTK_WINDOW (dialog));
    }
}

/* A dialog asking @heading with @body; @response (destructive or not) does @callback. With
 * @name, it has an entry with that text. Takes @data. */
static void
present_dialog (FolderData *data,
                const char *heading,
                const char *body,
                const char *response,
                const char *response_label,
                gboolean    destructive,
                const char *name,
                GCallback   callback)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (data->self), heading, body);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    response, response_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), response,
                                              destructive ? ADW_RESPONSE_DESTRUCTIVE
                                                          : ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog),
                                           destructive ? "cancel" : response);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "td-response", (gpointer) g_intern_string (response));
  g_object_set_data_full (G_OBJECT (dialog), "td-folder-data", data,
                          (GDestroyNotify) folder_data_free);

  if (name != NULL)
    {
      data->entry = gtk_entry_new ();
      gtk_editable_set_text (GTK_EDITABLE (data->entry), name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (data->entry),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Folder name"), -1);
      adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), data->entry);
      g_signal_connect (data->entry, "changed", G_CALLBACK (name_changed_cb), dialog);
      g_signal_connect (data->entry, "activate", G_CALLBACK (name_activate_cb), dialog);
      name_changed_cb (GTK_EDITABLE (data->entry), ADW_MESSAGE_DIALOG (dialog));
    }

  g_signal_connect (dialog, "response", callback, data);
  gtk_window_present (GTK_WINDOW (dialog));
  if (data->entry != NULL)
    gtk_widget_grab_focus (data->entry);
}

/* --- New folder --- */

static void
new_folder_response_cb (AdwMessageDialog *dialog,
                        const char       *response,
                        FolderData       *data)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  FolderData *job;

  if (g_strcmp0 (response, "create") != 0 || data->self->manager == NULL)
    return;
  name = entry_name (data);
  if (!name_is_valid (data, name))
    return;
  if (data->folder != NULL)
    path = g_strdup_printf ("%s%c%s", td_folder_get_path (data->folder), data->delimiter, name);
  else
    path = g_steal_pointer (&name);

  job = g_new0 (FolderData, 1);
  job->self = g_object_ref (data->self);
  job->account = g_object_ref (data->account);
  td_account_manager_create_folder_async (data->self->manager, data->account, path,
                                          data->self->cancellable, folder_done_cb, job);
}

static void
new_folder_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  gint64 account_id = 0, parent_id = 0;
  g_autofree char *body = NULL;
  FolderData *data;

  g_variant_get (parameter, "(xx)", &account_id, &parent_id);
  data = folder_data_new (self, account_id, parent_id);
  if (data == NULL)
    return;
  /* A folder inside a flat namespace cannot be: make it beside. */
  if (data->folder != NULL && data->delimiter == '\0')
    g_clear_object (&data->folder);

  if (data->folder != NULL)
    /* Translators: the argument is a folder */
    body = g_strdup_printf (_("The new folder will be inside “%s”."),
                            td_folder_get_name (data->folder));
  else
    /* Translators: the argument is an account */
    body = g_strdup_printf (_("The new folder will be at the top of %s."),
                            td_account_get_name (data->account));
  present_dialog (data, _("New Folder"), body, "create", _("_Create"), FALSE, "",
                  G_CALLBACK (new_folder_response_cb));
}

/* --- Rename --- */

static void
rename_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    FolderData       *data)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  const char *old_path = td_folder_get_path (data->folder);
  const char *last = data->delimiter != '\0' ? strrchr (old_path, data->delimiter) : NULL;
  FolderData *job;

  if (g_strcmp0 (response, "rename") != 0 || data->self->manager == NULL)
    return;
  name = entry_name (data);
  if (!name_is_valid (data, name) || g_strcmp0 (name, td_folder_get_name (data->folder)) == 0)
    return;
  /* Same parent, new last part. */
  if (last != NULL)
    path = g_strdup_printf ("%.*s%s", (int) (last - old_path + 1), old_path, name);
  else
    path = g_steal_pointer (&name);

  job = g_new0 (FolderData, 1);
  job->self = g_object_ref (data->self);
  job->account = g_object_ref (data->account);
  td_account_manager_rename_folder_async (data->self->manager, td_folder_get_id (data->folder),
                                          path, data->self->cancellable, folder_done_cb, job);
}

static void
rename_folder_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  FolderData *data = folder_data_new (self, 0, g_variant_get_int64 (parameter));
  g_autofree char *heading = NULL;

  if (data == NULL)
    return;
  /* Translators: the argument is a folder */
  heading = g_strdup_printf (_("Rename “%s”"), td_folder_get_name (data->folder));
  present_dialog (data, heading, _("Other mail apps will see the new name too."), "rename",
                  _("_Rename"), FALSE, td_folder_get_name (data->folder),
                  G_CALLBACK (rename_response_cb));
}

/* --- Delete and empty --- */

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    FolderData       *data)
{
  FolderData *job;

  if (g_strcmp0 (response, "delete") != 0 || data->self->manager == NULL)
    return;
  job = g_new0 (FolderData, 1);
  job->self = g_object_ref (data->self);
  job->account = g_object_ref (data->account);
  td_account_manager_delete_folder_async (data->self->manager, td_folder_get_id (data->folder),
                                          data->self->cancellable, folder_done_cb, job);
}

static gboolean
has_subfolders (TdWindow *self,
                TdFolder *folder)
{
  g_autoptr(GPtrArray) folders = NULL;
  g_autofree char *prefix = NULL;

  if (td_folder_get_delimiter (folder) == '\0')
    return FALSE;
  prefix = g_strdup_printf ("%s%c", td_folder_get_path (folder), td_folder_get_delimiter (folder));
  folders = td_store_list_folders (self->store, td_folder_get_account_id (folder), NULL);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    if (g_str_has_prefix (td_folder_get_path (g_ptr_array_index (folders, i)), prefix))
      return TRUE;
  return FALSE;
}

static void
delete_folder_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  FolderData *data = folder_data_new (self, 0, g_variant_get_int64 (parameter));
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  guint total;

  if (data == NULL)
    return;
  total = td_folder_get_total (data->folder);
  /* Translators: the argument is a folder */
  heading = g_strdup_printf (_("Delete “%s”?"), td_folder_get_name (data->folder));
  if (has_subfolders (self, data->folder))
    body = g_strdup (_("The folder, its subfolders and all the messages in them will be "
                       "deleted here and on the server. This cannot be undone."));
  else if (total > 0)
    /* Translators: the argument is a number of messages */
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "The folder and the %u message in it will be deleted "
                                         "here and on the server. This cannot be undone.",
                                         "The folder and the %u messages in it will be deleted "
                                         "here and on the server. This cannot be undone.",
                                         total), total);
  else
    body = g_strdup (_("The folder will be deleted here and on the server. This cannot be "
                       "undone."));
  present_dialog (data, heading, body, "delete", _("_Delete"), TRUE, NULL,
                  G_CALLBACK (delete_response_cb));
}

static void
empty_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   FolderData       *data)
{
  FolderData *job;

  if (g_strcmp0 (response, "empty") != 0 || data->self->manager == NULL)
    return;
  job = g_new0 (FolderData, 1);
  job->self = g_object_ref (data->self);
  job->account = g_object_ref (data->account);
  td_account_manager_empty_folder_async (data->self->manager, td_folder_get_id (data->folder),
                                         data->self->cancellable, folder_done_cb, job);
}

static void
empty_folder_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TdWindow *self = TD_WINDOW (widget);
  FolderData *data = folder_data_new (self, 0, g_variant_get_int64 (parameter));
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  const char *label;
  guint total;

  if (data == NULL)
    return;
  total = td_folder_get_total (data->folder);
  if (total == 0)
    {
      /* Nothing to lose: nothing to ask. */
      td_account_manager_empty_folder_async (self->manager, td_folder_get_id (data->folder),
                                             self->cancellable, folder_done_cb, data);
      return;
    }
  switch (td_folder_get_role (data->folder))
    {
    case TD_FOLDER_ROLE_TRASH:
      heading = g_strdup (_("Empty Trash?"));
      label = _("_Empty Trash");
      break;
    case TD_FOLDER_ROLE_JUNK:
      heading = g_strdup (_("Empty Junk?"));
      label = _("_Empty Junk");
      break;
    default:
      /* Translators: the argument is a folder */
      heading = g_strdup_printf (_("Empty “%s”?"), td_folder_get_name (data->folder));
      label = _("_Empty");
      break;
    }
  /* Translators: the arguments are a number of messages and a folder */
  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "The %u message in %s will be deleted for good, here and "
                                       "on the server. This cannot be undone.",
                                       "All %u messages in %s will be deleted for good, here "
                                       "and on the server. This cannot be undone.", total),
                          total, td_folder_get_name (data->folder));
  present_dialog (data, heading, body, "empty", label, TRUE, NULL,
                  G_CALLBACK (empty_response_cb));
}

/* --- Subscriptions --- */

static void
subscribe (TdWindow *self,
           gint64    folder_id,
           gboolean  subscribed)
{
  FolderData *data = folder_data_new (self, 0, folder_id);

  if (data == NULL)
    return;
  td_account_manager_subscribe_folder_async (self->manager, folder_id, subscribed,
                                             self->cancellable, folder_done_cb, data);
}

static void
subscribe_folder_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  subscribe (TD_WINDOW (widget), g_variant_get_int64 (parameter), TRUE);
}

static void
unsubscribe_folder_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  subscribe (TD_WINDOW (widget), g_variant_get_int64 (parameter), FALSE);
}

void
_td_window_folders_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.new-folder", "(xx)", new_folder_action);
  gtk_widget_class_install_action (widget_class, "win.rename-folder", "x",
                                   rename_folder_action);
  gtk_widget_class_install_action (widget_class, "win.delete-folder", "x",
                                   delete_folder_action);
  gtk_widget_class_install_action (widget_class, "win.subscribe-folder", "x",
                                   subscribe_folder_action);
  gtk_widget_class_install_action (widget_class, "win.unsubscribe-folder", "x",
                                   unsubscribe_folder_action);
  gtk_widget_class_install_action (widget_class, "win.empty-folder", "x", empty_folder_action);
}
