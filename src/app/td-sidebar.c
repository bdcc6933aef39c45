/* td-sidebar.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-sidebar.h"

#include <glib/gi18n-lib.h>

#include "td-error.h"

struct _TdSidebar
{
  GtkWidget         parent_instance;

  TdAccountManager *manager;
  TdStore          *store;
  GHashTable       *folder_rows;     /* folder id -> TdFolderRow (owned by the list box) */
  GHashTable       *account_labels;  /* account id -> GtkLabel */
  gint64            selected_id;     /* 0: none */
  guint             rebuild_id;
  gboolean          rebuilding;
  gboolean          selected_once;

  GtkListBox       *list_box;
};

G_DEFINE_FINAL_TYPE (TdSidebar, td_sidebar, GTK_TYPE_WIDGET)

enum {
  SIGNAL_FOLDER_SELECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
clear_rows (TdSidebar *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->folder_rows);
  g_hash_table_remove_all (self->account_labels);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list_box))) != NULL)
    gtk_list_box_remove (self->list_box, child);
}

static GtkWidget *
account_row_new (TdAccount *account,
                 gboolean   first)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (td_account_get_name (account));

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_tooltip_text (label, td_account_get_address (account));
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  gtk_widget_add_css_class (row, "account-row");
  if (!first)
    gtk_widget_add_css_class (row, "account-row-spaced");
  return row;
}

static void
rebuild (TdSidebar *self)
{
  GListModel *accounts;
  TdFolderRow *selected_row = NULL;
  TdFolderRow *first_inbox = NULL;
  guint n;

  g_clear_handle_id (&self->rebuild_id, g_source_remove);

  self->rebuilding = TRUE;
  clear_rows (self);

  if (self->manager == NULL)
    {
      self->rebuilding = FALSE;
      return;
    }

  accounts = td_account_manager_get_accounts (self->manager);
  n = g_list_model_get_n_items (accounts);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);
      g_autoptr(GPtrArray) folders = NULL;
      g_autoptr(GError) error = NULL;
      GtkWidget *row = account_row_new (account, i == 0);
      gint64 *key = g_new (gint64, 1);

      *key = td_account_get_id (account);
      g_hash_table_insert (self->account_labels, key,
                           gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row)));
      gtk_list_box_append (self->list_box, row);

      folders = td_store_list_folders (self->store, td_account_get_id (account), &error);
      if (folders == NULL)
        {
          g_warning ("Could not list the folders of %s: %s",
                     td_account_get_address (account), error->message);
          continue;
        }

      if (folders->len == 0)
        {
          GtkWidget *placeholder = gtk_label_new (_("No folders yet: they appear after a sync"));
          GtkWidget *placeholder_row = gtk_list_box_row_new ();

          gtk_label_set_xalign (GTK_LABEL (placeholder), 0);
          gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
          gtk_widget_add_css_class (placeholder, "dim-label");
          gtk_widget_add_css_class (placeholder, "caption");
          gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (placeholder_row), placeholder);
          gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (placeholder_row), FALSE);
          gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (placeholder_row), FALSE);
          gtk_widget_set_focusable (placeholder_row, FALSE);
          gtk_widget_add_css_class (placeholder_row, "placeholder-row");
          gtk_list_box_append (self->list_box, placeholder_row);
        }

      for (guint j = 0; j < folders->len; j++)
        {
          TdFolder *folder = g_ptr_array_index (folders, j);
          GtkWidget *folder_row = td_folder_row_new (folder);
          gint64 *fkey = g_new (gint64, 1);

          *fkey = td_folder_get_id (folder);
          g_hash_table_insert (self->folder_rows, fkey, folder_row);
          gtk_list_box_append (self->list_box, folder_row);

          if (td_folder_get_id (folder) == self->selected_id)
            selected_row = TD_FOLDER_ROW (folder_row);
          if (first_inbox == NULL && td_folder_get_role (folder) == TD_FOLDER_ROLE_INBOX &&
              td_folder_get_selectable (folder))
            first_inbox = TD_FOLDER_ROW (folder_row);
        }
    }

  /* On the first fill, open the first inbox, as mail apps do. */
  if (selected_row == NULL && self->selected_id == 0 && !self->selected_once)
    selected_row = first_inbox;

  if (selected_row != NULL)
    gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (selected_row));
  self->rebuilding = FALSE;

  if (selected_row == NULL && self->selected_id != 0)
    {
      /* The selected folder is gone. */
      self->selected_id = 0;
      g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0, NULL);
    }
  else if (selected_row != NULL &&
           td_folder_get_id (td_folder_row_get_folder (selected_row)) != self->selected_id)
    {
      self->selected_id = td_folder_get_id (td_folder_row_get_folder (selected_row));
      self->selected_once = TRUE;
      g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0,
                     td_folder_row_get_folder (selected_row));
    }
}

static gboolean
rebuild_idle_cb (gpointer user_data)
{
  TdSidebar *self = user_data;

  self->rebuild_id = 0;
  rebuild (self);
  return G_SOURCE_REMOVE;
}

static void
queue_rebuild (TdSidebar *self)
{
  if (self->rebuild_id == 0)
    self->rebuild_id = g_idle_add_full (G_PRIORITY_DEFAULT, rebuild_idle_cb, self, NULL);
}

static void
accounts_items_changed_cb (TdSidebar  *self,
                           guint       position,
                           guint       removed,
                           guint       added,
                           GListModel *model)
{
  queue_rebuild (self);
}

static void
store_accounts_changed_cb (TdSidebar *self,
                           TdStore   *store)
{
  queue_rebuild (self);
}

static void
store_folders_changed_cb (TdSidebar *self,
                          gint64     account_id,
                          TdStore   *store)
{
  queue_rebuild (self);
}

static void
store_folder_changed_cb (TdSidebar *self,
                         gint64     folder_id,
                         TdStore   *store)
{
  TdFolderRow *row = g_hash_table_lookup (self->folder_rows, &folder_id);
  g_autoptr(TdFolder) folder = NULL;
  g_autoptr(GError) error = NULL;

  if (row == NULL)
    return;

  folder = td_store_get_folder (self->store, folder_id, &error);
  if (folder == NULL)
    {
      if (!g_error_matches (error, TD_ERROR, TD_ERROR_NOT_FOUND))
        g_warning ("Could not read folder %" G_GINT64_FORMAT ": %s", folder_id, error->message);
      queue_rebuild (self);
      return;
    }
  td_folder_row_set_folder (row, folder);
}

static void
row_selected_cb (TdSidebar     *self,
                 GtkListBoxRow *row,
                 GtkListBox    *list_box)
{
  TdFolder *folder;

  if (self->rebuilding || !TD_IS_FOLDER_ROW (row))
    return;

  folder = td_folder_row_get_folder (TD_FOLDER_ROW (row));
  if (td_folder_get_id (folder) == self->selected_id)
    return;

  self->selected_id = td_folder_get_id (folder);
  self->selected_once = TRUE;
  g_signal_emit (self, signals[SIGNAL_FOLDER_SELECTED], 0, folder);
}

static void
disconnect_manager (TdSidebar *self)
{
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (td_account_manager_get_accounts (self->manager), self);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->manager);
  g_clear_object (&self->store);
}

static void
td_sidebar_dispose (GObject *object)
{
  TdSidebar *self = TD_SIDEBAR (object);
  GtkWidget *child;

  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  disconnect_manager (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TD_TYPE_SIDEBAR);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (td_sidebar_parent_class)->dispose (object);
}

static void
td_sidebar_finalize (GObject *object)
{
  TdSidebar *self = TD_SIDEBAR (object);

  g_hash_table_unref (self->folder_rows);
  g_hash_table_unref (self->account_labels);

  G_OBJECT_CLASS (td_sidebar_parent_class)->finalize (object);
}

static void
td_sidebar_class_init (TdSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = td_sidebar_dispose;
  object_class->finalize = td_sidebar_finalize;

  signals[SIGNAL_FOLDER_SELECTED] =
    g_signal_new ("folder-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, TD_TYPE_FOLDER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/tidings/Tidings/td-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, TdSidebar, list_box);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sidebar");
}

static void
td_sidebar_init (TdSidebar *self)
{
  self->folder_rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->account_labels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->list_box, "row-selected", G_CALLBACK (row_selected_cb), self,
                           G_CONNECT_SWAPPED);
}

GtkWidget *
td_sidebar_new (void)
{
  return g_object_new (TD_TYPE_SIDEBAR, NULL);
}

void
td_sidebar_set_manager (TdSidebar        *self,
                        TdAccountManager *manager)
{
  g_return_if_fail (TD_IS_SIDEBAR (self));
  g_return_if_fail (manager == NULL || TD_IS_ACCOUNT_MANAGER (manager));

  if (self->manager == manager)
    return;

  disconnect_manager (self);

  if (manager != NULL)
    {
      self->manager = g_object_ref (manager);
      self->store = g_object_ref (td_account_manager_get_store (manager));
      g_signal_connect_object (td_account_manager_get_accounts (manager), "items-changed",
                               G_CALLBACK (accounts_items_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "accounts-changed",
                               G_CALLBACK (store_accounts_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "folders-changed",
                               G_CALLBACK (store_folders_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->store, "folder-changed",
                               G_CALLBACK (store_folder_changed_cb), self, G_CONNECT_SWAPPED);
    }

  rebuild (self);
}

TdFolder *
td_sidebar_get_selected_folder (TdSidebar *self)
{
  TdFolderRow *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  row = g_hash_table_lookup (self->folder_rows, &self->selected_id);
  return row != NULL ? td_folder_row_get_folder (row) : NULL;
}

gboolean
td_sidebar_select_folder (TdSidebar *self,
                          gint64     folder_id)
{
  TdFolderRow *row;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), FALSE);

  if (self->rebuild_id != 0)
    rebuild (self);

  row = g_hash_table_lookup (self->folder_rows, &folder_id);
  if (row == NULL || !gtk_list_box_row_get_selectable (GTK_LIST_BOX_ROW (row)))
    return FALSE;

  gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (row));
  return TRUE;
}

TdFolderRow *
td_sidebar_get_folder_row (TdSidebar *self,
                           gint64     folder_id)
{
  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  if (self->rebuild_id != 0)
    rebuild (self);
  return g_hash_table_lookup (self->folder_rows, &folder_id);
}

const char *
td_sidebar_get_account_title (TdSidebar *self,
                              gint64     account_id)
{
  GtkLabel *label;

  g_return_val_if_fail (TD_IS_SIDEBAR (self), NULL);

  if (self->rebuild_id != 0)
    rebuild (self);
  label = g_hash_table_lookup (self->account_labels, &account_id);
  return label != NULL ? gtk_label_get_text (label) : NULL;
}
