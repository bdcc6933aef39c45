/* td-add-account-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-add-account-dialog.h"

#include <glib/gi18n-lib.h>

#define TLS_PORT 993
#define STARTTLS_PORT 143

struct _TdAddAccountDialog
{
  AdwWindow         parent_instance;

  TdAccountManager *manager;
  GCancellable     *cancellable;
  TdAccount        *pending;         /* being added */
  gboolean          username_edited;
  gboolean          filling_username;
  gboolean          busy;
  guint             last_security;

  GtkWidget        *add_button;
  GtkSpinner       *spinner;
  GtkRevealer      *error_revealer;
  GtkLabel         *error_label;
  GtkWidget        *page;
  GtkEditable      *name_row;
  GtkEditable      *address_row;
  GtkEditable      *host_row;
  AdwComboRow      *security_row;
  GtkSpinButton    *port_spin;
  GtkEditable      *username_row;
  GtkEditable      *password_row;
};

G_DEFINE_FINAL_TYPE (TdAddAccountDialog, td_add_account_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_ACCOUNT_ADDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static TdSecurity
get_security (TdAddAccountDialog *self)
{
  return adw_combo_row_get_selected (self->security_row) == 1 ? TD_SECURITY_STARTTLS
                                                              : TD_SECURITY_TLS;
}

static gboolean
is_address (const char *text)
{
  const char *at = strrchr (text, '@');

  return at != NULL && at != text && at[1] != '\0' && strchr (text, ' ') == NULL;
}

gboolean
td_add_account_dialog_is_valid (TdAddAccountDialog *self)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (TD_IS_ADD_ACCOUNT_DIALOG (self), FALSE);

  host = g_strstrip (g_strdup (gtk_editable_get_text (self->host_row)));
  return is_address (gtk_editable_get_text (self->address_row)) &&
         *host != '\0' && strchr (host, ' ') == NULL &&
         *gtk_editable_get_text (self->username_row) != '\0' &&
         *gtk_editable_get_text (self->password_row) != '\0';
}

static void
update_sensitivity (TdAddAccountDialog *self)
{
  gtk_widget_set_sensitive (self->add_button, !self->busy && td_add_account_dialog_is_valid (self));
  gtk_widget_set_sensitive (self->page, !self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->busy);
}

static void
show_error (TdAddAccountDialog *self,
            const char         *text)
{
  gtk_label_set_text (self->error_label, text != NULL ? text : "");
  gtk_revealer_set_reveal_child (self->error_revealer, text != NULL);
}

static void
address_changed_cb (TdAddAccountDialog *self)
{
  /* The user name is most often the address; follow it until the user types their own. */
  if (!self->username_edited)
    {
      self->filling_username = TRUE;
      gtk_editable_set_text (self->username_row, gtk_editable_get_text (self->address_row));
      self->filling_username = FALSE;
    }
  update_sensitivity (self);
}

static void
username_changed_cb (TdAddAccountDialog *self)
{
  if (!self->filling_username)
    self->username_edited = *gtk_editable_get_text (self->username_row) != '\0';
  update_sensitivity (self);
}

static void
security_changed_cb (TdAddAccountDialog *self)
{
  guint security = adw_combo_row_get_selected (self->security_row);
  int port = gtk_spin_button_get_value_as_int (self->port_spin);
  int old_default = self->last_security == 1 ? STARTTLS_PORT : TLS_PORT;

  if (port == old_default)
    gtk_spin_button_set_value (self->port_spin, security == 1 ? STARTTLS_PORT : TLS_PORT);
  self->last_security = security;
}

static void
add_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TdAddAccountDialog) self = user_data;
  g_autoptr(TdAccount) account = g_steal_pointer (&self->pending);
  g_autoptr(GError) error = NULL;

  if (!td_account_manager_add_account_finish (TD_ACCOUNT_MANAGER (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self->busy = FALSE;
      update_sensitivity (self);
      show_error (self, error->message);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_ACCOUNT_ADDED], 0, account);
  gtk_window_close (GTK_WINDOW (self));
}

static void
add_account (TdAddAccountDialog *self)
{
  g_autoptr(TdAccount) account = NULL;
  g_autofree char *address = NULL;
  g_autofree char *host = NULL;
  g_autofree char *username = NULL;
  g_autofree char *name = NULL;

  if (self->busy || !td_add_account_dialog_is_valid (self))
    return;

  address = g_strstrip (g_strdup (gtk_editable_get_text (self->address_row)));
  host = g_strstrip (g_strdup (gtk_editable_get_text (self->host_row)));
  username = g_strstrip (g_strdup (gtk_editable_get_text (self->username_row)));
  name = g_strstrip (g_strdup (gtk_editable_get_text (self->name_row)));

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, address, host,
                            (guint16) gtk_spin_button_get_value_as_int (self->port_spin),
                            get_security (self), username);
  if (*name != '\0')
    td_account_set_name (account, name);

  self->busy = TRUE;
  show_error (self, NULL);
  update_sensitivity (self);

  g_set_object (&self->pending, account);
  td_account_manager_add_account_async (self->manager, account,
                                        gtk_editable_get_text (self->password_row),
                                        self->cancellable, add_done_cb, g_object_ref (self));
}

static void
td_add_account_dialog_dispose (GObject *object)
{
  TdAddAccountDialog *self = TD_ADD_ACCOUNT_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->manager);
  g_clear_object (&self->pending);
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_ADD_ACCOUNT_DIALOG);

  G_OBJECT_CLASS (td_add_account_dialog_parent_class)->dispose (object);
}

static void
td_add_account_dialog_class_init (TdAddAccountDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_add_account_dialog_dispose;

  signals[SIGNAL_ACCOUNT_ADDED] =
    g_signal_new ("account-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, TD_TYPE_ACCOUNT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-add-account-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, page);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, host_row);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, security_row);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, port_spin);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, username_row);
  gtk_widget_class_bind_template_child (widget_class, TdAddAccountDialog, password_row);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
td_add_account_dialog_init (TdAddAccountDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  g_signal_connect_swapped (self->add_button, "clicked", G_CALLBACK (add_account), self);
  g_signal_connect_swapped (self->address_row, "changed", G_CALLBACK (address_changed_cb), self);
  g_signal_connect_swapped (self->host_row, "changed", G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->username_row, "changed", G_CALLBACK (username_changed_cb), self);
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->password_row, "entry-activated", G_CALLBACK (add_account), self);
  g_signal_connect_swapped (self->security_row, "notify::selected",
                            G_CALLBACK (security_changed_cb), self);
  update_sensitivity (self);
}

GtkWidget *
td_add_account_dialog_new (TdAccountManager *manager)
{
  TdAddAccountDialog *self;

  g_return_val_if_fail (TD_IS_ACCOUNT_MANAGER (manager), NULL);

  self = g_object_new (TD_TYPE_ADD_ACCOUNT_DIALOG, NULL);
  self->manager = g_object_ref (manager);
  return GTK_WIDGET (self);
}
