/* td-window-private.h: what the files of TdWindow share
 *
 * td-window.c         pages, the message list, sync status, online state, settings
 * td-window-actions.c what a user does to messages (win.mark-read, win.delete, ...), their
 *                     buttons, menus and shortcuts, Undo, mark-as-read on open
 * td-window-folders.c what a user does to folders (win.new-folder, win.empty-folder, ...)
 * td-window-online.c  push, online and offline, sending local changes, the poll interval
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-window.h"

#include "td-message-list.h"

G_BEGIN_DECLS

struct _TdWindow
{
  AdwApplicationWindow  parent_instance;

  TdAccountManager   *manager;
  TdStore            *store;
  TdMessageList      *list;
  TdFolder           *folder;          /* the folder listed, or NULL */
  GtkSingleSelection *selection;
  GCancellable       *cancellable;
  GSettings          *settings;

  gint64              current_id;      /* the message shown, 0 for none */
  guint               current_position;
  gboolean            reloading;       /* inside the list's items-changed */
  guint               errors_shown;    /* errors reported during the current sync */
  guint               hide_status_id;
  GtkWidget          *password_dialog; /* weak: the one password dialog open, if any */
  GtkWidget          *preferences;     /* weak: the preferences window, if open */
  char               *last_toast;      /* the text of the last toast (for tests) */
  AdwToast           *error_toast;     /* weak: the last sync error's toast */

  GHashTable         *offline;         /* account id -> 1 for accounts known offline */
  GHashTable         *sending;         /* account id -> sends of local changes in flight */

  /* td-window-actions.c */
  GMenu              *move_menu;       /* the account's other folders, for win.move-to */
  GMenu              *copy_menu;       /* the same for win.copy-to */
  GtkWidget          *row_popover;     /* the context menu of message rows */
  gint64              archive_id;      /* the account's Archive folder, 0 for none */
  gint64              trash_id;        /* the account's Trash folder, 0 for none */
  GArray             *undo_ids;        /* messages an Undo moves back, or NULL */
  gint64              undo_folder_id;  /* where to */
  AdwToast           *undo_toast;      /* weak: the toast that offers it */
  AdwToast           *action_toast;    /* weak: the toast of the last action */

  AdwToastOverlay    *toast_overlay;
  GtkStack           *main_stack;
  AdwStatusPage      *error_page;
  TdSidebar          *sidebar;
  GtkRevealer        *status_revealer;
  GtkSpinner         *status_spinner;
  GtkWidget          *status_icon;
  GtkLabel           *status_label;
  GtkProgressBar     *status_progress;
  AdwWindowTitle     *list_title;
  GtkStack           *refresh_stack;
  GtkSpinner         *refresh_spinner;
  GtkRevealer        *offline_revealer;
  GtkLabel           *offline_label;
  GtkWidget          *list_pane;
  GtkStack           *list_stack;
  GtkListView        *message_list_view;
  TdMessageView      *message_view;
  GtkButton          *read_button;
  GtkButton          *flag_button;
  GtkButton          *delete_button;
  GtkMenuButton      *move_button;
  GtkMenuButton      *more_button;
  GMenu              *message_menu;
  GMenu              *message_menu_folders;
  GMenu              *more_menu_folders;
};

/* td-window.c */
void        _td_window_show_toast            (TdWindow        *self,
                                              const char      *text);
/* A sync worked: its last error's toast, if still up, is stale. */
void        _td_window_dismiss_error_toast   (TdWindow        *self);
void        _td_window_dismiss_toast         (AdwToast        *toast);
/* Shows @toast (taken) and remembers its text. */
void        _td_window_add_toast             (TdWindow        *self,
                                              AdwToast        *toast,
                                              const char      *text);

/* td-window-online.c */
void        _td_window_online_init           (TdWindow        *self);
void        _td_window_online_set_manager    (TdWindow        *self,
                                              TdAccountManager *manager);
/* "sync-finished": TRUE when there is nothing to report (it worked, was cancelled, or only
 * could not send local changes while offline). */
gboolean    _td_window_online_sync_finished  (TdWindow        *self,
                                              TdAccount       *account,
                                              const GError    *error);
gboolean    _td_window_is_account_offline    (TdWindow        *self,
                                              gint64           account_id);
/* The account with this id, or NULL. */
TdAccount  *_td_window_find_account          (TdWindow        *self,
                                              gint64           account_id);
/* Sends the journal of @account to its server. Failing to reach the server is not an error
 * to show: the changes stay in the journal and the window says the account is offline. */
void        _td_window_send_changes          (TdWindow        *self,
                                              TdAccount       *account);

/* td-window-actions.c */
void        _td_window_actions_class_init    (GtkWidgetClass  *widget_class);
void        _td_window_actions_init          (TdWindow        *self);
void        _td_window_actions_dispose       (TdWindow        *self);
/* The selection or its message changed: which actions apply now. */
void        _td_window_actions_update        (TdWindow        *self);
/* Another folder is listed, or the account's folders changed: the Move and Copy menus. */
void        _td_window_actions_folders_changed (TdWindow      *self);
/* A message was opened (selected): marks it read if the user wants that. */
void        _td_window_message_opened        (TdWindow        *self,
                                              TdMessage       *message);
/* Gives a row of the message list its context menu (right click, long press). */
void        _td_window_actions_setup_row     (TdWindow        *self,
                                              GtkListItem     *item);

/* td-window-folders.c */
void        _td_window_folders_class_init    (GtkWidgetClass  *widget_class);

G_END_DECLS
