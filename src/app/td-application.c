/* td-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-application.h"

#include <glib/gi18n-lib.h>

#include "td-secret-credentials.h"
#include "td-sidebar.h"
#include "td-window.h"

struct _TdApplication
{
  AdwApplication    parent_instance;

  char             *profile_dir;
  TdStore          *store;
  TdAccountManager *manager;
  GCancellable     *cancellable;
  /* account id -> guint: messages announced since the window was last looked at */
  GHashTable       *unseen_counts;
  char             *last_notification;   /* "title\nbody", for tests */
};

G_DEFINE_FINAL_TYPE (TdApplication, td_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_PROFILE_DIR,
  PROP_MANAGER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static TdWindow *
get_window (TdApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (TD_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static gboolean
want_sync_on_start (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, "sync-on-start"))
    return TRUE;
  settings = g_settings_new_full (schema, NULL, NULL);
  return g_settings_get_boolean (settings, "sync-on-start");
}

/* --- New mail notifications ---
 * A check that downloaded mail while the window is not looked at (not the active window, or
 * none) is announced; the count adds up until the window is looked at again, which
 * withdraws the notifications. Clicking one shows that account's Inbox. */

static char *
notification_id (gint64 account_id)
{
  return g_strdup_printf ("new-mail-%" G_GINT64_FORMAT, account_id);
}

static void
withdraw_notifications (TdApplication *self)
{
  GHashTableIter iter;
  gpointer key;

  if (g_application_get_application_id (G_APPLICATION (self)) == NULL)
    {
      g_hash_table_remove_all (self->unseen_counts);
      return;
    }
  g_hash_table_iter_init (&iter, self->unseen_counts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autofree char *id = notification_id (*(gint64 *) key);

      g_application_withdraw_notification (G_APPLICATION (self), id);
    }
  g_hash_table_remove_all (self->unseen_counts);
}

static void
window_active_cb (TdApplication *self,
                  GParamSpec    *pspec,
                  GtkWindow     *window)
{
  if (gtk_window_is_active (window))
    withdraw_notifications (self);
}

static void
new_mail_cb (TdApplication    *self,
             TdAccount        *account,
             guint             count,
             TdAccountManager *manager)
{
  TdWindow *window = get_window (self);
  gint64 account_id = td_account_get_id (account);
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GIcon) icon = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;
  gint64 *key;
  guint total;

  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window)))
    return;                             /* the message list shows it */

  total = count + GPOINTER_TO_UINT (g_hash_table_lookup (self->unseen_counts, &account_id));
  key = g_new (gint64, 1);
  *key = account_id;
  g_hash_table_replace (self->unseen_counts, key, GUINT_TO_POINTER (total));

  /* Translators: the title of the notification of new mail */
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u New Message", "%u New Messages",
                                        total), total);
  notification = g_notification_new (title);
  g_notification_set_body (notification, td_account_get_name (account));
  icon = g_themed_icon_new (APP_ID);
  g_notification_set_icon (notification, icon);
  g_notification_set_default_action_and_target (notification, "app.show-inbox", "x",
                                                account_id);
  g_free (self->last_notification);
  self->last_notification = g_strconcat (title, "\n", td_account_get_name (account), NULL);
  /* an instance without an application id (the UI tests run so) has no one to notify */
  if (g_application_get_application_id (G_APPLICATION (self)) == NULL)
    return;
  id = notification_id (account_id);
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
show_inbox_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  TdApplication *self = TD_APPLICATION (user_data);
  gint64 account_id = g_variant_get_int64 (parameter);
  g_autoptr(GPtrArray) folders = NULL;
  TdWindow *window;

  g_application_activate (G_APPLICATION (self));
  window = get_window (self);
  if (window == NULL || self->store == NULL)
    return;
  folders = td_store_list_folders (self->store, account_id, NULL);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    {
      TdFolder *folder = g_ptr_array_index (folders, i);

      if (td_folder_get_role (folder) == TD_FOLDER_ROLE_INBOX)
        td_sidebar_select_folder (td_window_get_sidebar (window), td_folder_get_id (folder));
    }
}

static void
store_open_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TdApplication) self = user_data;
  g_autoptr(TdCredentials) credentials = NULL;
  g_autoptr(GError) error = NULL;
  TdWindow *window;

  window = get_window (self);
  if (!td_store_open_finish (TD_STORE (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("Could not open %s: %s", td_store_get_path (TD_STORE (source)), error->message);
      if (window != NULL)
        td_window_show_error (window, _("Could Not Open Your Mail"), error->message);
      return;
    }

  credentials = td_secret_credentials_new ();
  self->manager = td_account_manager_new (self->store, credentials);
  g_signal_connect_object (self->manager, "new-mail", G_CALLBACK (new_mail_cb), self,
                           G_CONNECT_SWAPPED);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MANAGER]);

  if (window != NULL)
    {
      td_window_set_manager (window, self->manager);
      if (want_sync_on_start ())
        td_window_sync (window, NULL);
    }
  /* New mail shows by itself, and what changed while offline comes in when the network is
   * back (IMAP IDLE on each Inbox and on the folder being viewed). */
  td_account_manager_start_push (self->manager);
}

static void
open_store (TdApplication *self)
{
  g_autofree char *path = NULL;

  if (self->store != NULL)
    return;

  path = g_build_filename (self->profile_dir, "tidings.db", NULL);
  g_debug ("Opening %s", path);
  self->store = td_store_new (path);
  td_store_open_async (self->store, self->cancellable, store_open_cb, g_object_ref (self));
}

static void
td_application_activate (GApplication *app)
{
  TdApplication *self = TD_APPLICATION (app);
  TdWindow *window = get_window (self);

  if (window == NULL)
    {
      window = td_window_new (GTK_APPLICATION (self), self->manager);
      g_signal_connect_object (window, "notify::is-active", G_CALLBACK (window_active_cb), self,
                               G_CONNECT_SWAPPED);
    }
  gtk_window_present (GTK_WINDOW (window));

  open_store (self);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  TdApplication *self = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
  g_application_quit (G_APPLICATION (self));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  TdApplication *self = user_data;
  static const char *developers[] = { "The Tidings developers", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", parent,
                        "modal", TRUE,
                        "application-name", _("Tidings"),
                        "application-icon", APP_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Read your mail, online and offline"),
                        "developers", developers,
                        "copyright", _("© The Tidings developers"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: replace with your names, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_action },
  { .name = "about", .activate = about_action },
  { .name = "show-inbox", .activate = show_inbox_action, .parameter_type = "x" },
};

static void
td_application_startup (GApplication *app)
{
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *refresh_accels[] = { "<Control>r", "F5", NULL };
  /* Keys with a modifier only: a plain key (Delete) is a binding of the window, so that a text
   * entry with the focus keeps it. */
  static const struct { const char *action; const char *accels[3]; } window_accels[] = {
    { "win.preferences", { "<Control>comma", NULL } },
    { "win.mark-read", { "<Control>i", NULL } },
    { "win.mark-unread", { "<Control>u", NULL } },
    { "win.toggle-flag", { "<Control>d", NULL } },
    { "win.mark-junk", { "<Control>j", NULL } },
    { "win.mark-not-junk", { "<Control><Shift>j", NULL } },
    { "win.archive", { "<Control>e", NULL } },
    { "win.show-move-menu", { "<Control>m", NULL } },
  };

  G_APPLICATION_CLASS (td_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  /* Also as application accels so that F5 works while the message view has the focus. */
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.refresh", refresh_accels);
  for (guint i = 0; i < G_N_ELEMENTS (window_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), window_accels[i].action,
                                           window_accels[i].accels);
  gtk_window_set_default_icon_name (APP_ID);
}

static void
td_application_shutdown (GApplication *app)
{
  TdApplication *self = TD_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);

  G_APPLICATION_CLASS (td_application_parent_class)->shutdown (app);

  g_clear_object (&self->manager);
  if (self->store != NULL)
    td_store_close (self->store);
}

static int
td_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  TdApplication *self = TD_APPLICATION (app);
  const char *profile = NULL;

  if (g_variant_dict_lookup (options, "profile", "^&ay", &profile) && profile != NULL &&
      *profile != '\0')
    {
      g_autofree char *absolute = g_canonicalize_filename (profile, NULL);

      td_application_set_profile_dir (self, absolute);
      /* Another profile is another mailbox: do not hand this over to a running Tidings. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }

  return -1;
}

static void
td_application_finalize (GObject *object)
{
  TdApplication *self = TD_APPLICATION (object);

  g_clear_object (&self->manager);
  if (self->store != NULL)
    td_store_close (self->store);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->unseen_counts, g_hash_table_unref);
  g_free (self->last_notification);
  g_free (self->profile_dir);

  G_OBJECT_CLASS (td_application_parent_class)->finalize (object);
}

static void
td_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TdApplication *self = TD_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TdApplication *self = TD_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      td_application_set_profile_dir (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_application_class_init (TdApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = td_application_finalize;
  object_class->get_property = td_application_get_property;
  object_class->set_property = td_application_set_property;

  app_class->activate = td_application_activate;
  app_class->startup = td_application_startup;
  app_class->shutdown = td_application_shutdown;
  app_class->handle_local_options = td_application_handle_local_options;

  properties[PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, TD_TYPE_ACCOUNT_MANAGER,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_application_init (TdApplication *self)
{
  static const GOptionEntry entries[] = {
    { "profile", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
      N_("The directory of the profile to open (default: ~/.local/share/tidings)"), N_("DIR") },
    { NULL }
  };

  self->cancellable = g_cancellable_new ();
  self->unseen_counts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->profile_dir = g_build_filename (g_get_user_data_dir (), "tidings", NULL);
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
}

TdApplication *
td_application_new (void)
{
  return g_object_new (TD_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/tidings/Tidings",
                       NULL);
}

const char *
td_application_get_profile_dir (TdApplication *self)
{
  g_return_val_if_fail (TD_IS_APPLICATION (self), NULL);
  return self->profile_dir;
}

void
td_application_set_profile_dir (TdApplication *self,
                                const char    *profile_dir)
{
  g_return_if_fail (TD_IS_APPLICATION (self));
  g_return_if_fail (profile_dir != NULL);

  if (self->store != NULL)
    {
      g_warning ("The profile cannot change once the store is open");
      return;
    }
  if (g_strcmp0 (self->profile_dir, profile_dir) == 0)
    return;

  g_free (self->profile_dir);
  self->profile_dir = g_strdup (profile_dir);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROFILE_DIR]);
}

TdAccountManager *
td_application_get_manager (TdApplication *self)
{
  g_return_val_if_fail (TD_IS_APPLICATION (self), NULL);
  return self->manager;
}

const char *
td_application_get_last_notification (TdApplication *self)
{
  g_return_val_if_fail (TD_IS_APPLICATION (self), NULL);
  return self->last_notification != NULL ? self->last_notification : "";
}
