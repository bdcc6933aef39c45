/* test-window.c: the Tidings window on a real store, under Xvfb
 *
 * The store is built through the store API (no server): an account, its folders, 503
 * messages in the inbox, bodies for three of them (plain text, HTML with a remote image and
 * a cid: image, an attachment). The real TdApplication opens it and the tests look at what
 * the window shows. A loopback HTTP server counts every request, so "nothing remote is
 * loaded" is checked where it happens, not assumed.
 *
 * Run by ui-session.sh (Xvfb, a private D-Bus, an unlocked gnome-keyring).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "td-account-manager.h"
#include "td-add-account-dialog.h"
#include "td-format.h"
#include "td-message-list.h"
#include "td-test-dovecot.h"
#include "td-test-ui.h"
#include "td-test-util.h"
#include "td-web-view.h"

#define N_GENERATED 500
#define N_INBOX (N_GENERATED + 3)
#define TIMEOUT_MS TD_TEST_UI_TIMEOUT_MS

/* A 1x1 PNG. */
static const guint8 png_pixel[] = {
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
  0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
  0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
  0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
  0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static const char attachment_bytes[] =
  "%PDF-1.4\n% Tidings test attachment\n1 0 obj << >> endobj\n";

/* --- A loopback HTTP server that counts what it is asked for --- */

typedef struct
{
  GSocketService *service;
  guint16         port;
  GMutex          lock;
  GPtrArray      *requests;   /* request lines */
} HttpServer;

static gboolean
http_run_cb (GThreadedSocketService *service,
             GSocketConnection      *connection,
             GObject                *source,
             gpointer                user_data)
{
  HttpServer *server = user_data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  char buffer[4096];
  gsize len = 0;
  g_autofree char *line = NULL;
  g_autofree char *head = NULL;

  while (len < sizeof buffer - 1)
    {
      gssize n = g_input_stream_read (in, buffer + len, sizeof buffer - 1 - len, NULL, NULL);

      if (n <= 0)
        break;
      len += n;
      buffer[len] = '\0';
      if (strstr (buffer, "\r\n\r\n") != NULL)
        break;
    }
  buffer[len] = '\0';
  line = g_strndup (buffer, strcspn (buffer, "\r\n"));

  g_mutex_lock (&server->lock);
  g_ptr_array_add (server->requests, g_strdup (line));
  g_mutex_unlock (&server->lock);

  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n", sizeof png_pixel);
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, png_pixel, sizeof png_pixel, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static HttpServer *
http_server_new (void)
{
  HttpServer *server = g_new0 (HttpServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&server->lock);
  server->requests = g_ptr_array_new_with_free_func (g_free);
  server->service = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (server->service, "run", G_CALLBACK (http_run_cb), server);
  g_socket_service_start (server->service);
  return server;
}

static guint
http_server_count (HttpServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->requests->len;
  g_mutex_unlock (&server->lock);
  return n;
}

static void
http_server_free (HttpServer *server)
{
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_clear_object (&server->service);
  g_ptr_array_unref (server->requests);
  g_mutex_clear (&server->lock);
  g_free (server);
}

/* A loopback port where nothing listens: syncs against it fail at once. */
static guint16
dead_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* --- Waiting --- */

static gboolean
revealer_shows_child (gpointer data)
{
  return gtk_revealer_get_child_revealed (GTK_REVEALER (data));
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

/* --- Building a profile through the store API --- */

typedef struct
{
  gint64 account_id;
  gint64 inbox_id;
  gint64 sent_id;
  gint64 projects_id;
  gint64 sub_id;
  guint  inbox_unread;
} Profile;

static GDateTime *
base_time (void)
{
  /* Now, but at least at 01:00 so that the three newest messages are today. */
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (g_date_time_get_hour (now) >= 1)
    return g_date_time_ref (now);
  return g_date_time_add_hours (now, 1 - g_date_time_get_hour (now));
}

static char *
rfc2822_date (gint64 unix_time)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");
}

static GBytes *
plain_message (gint64 date)
{
  g_autofree char *d = rfc2822_date (date);

  char *text = g_strdup_printf (
    "From: Ann Example <ann@example.org>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: Plain hello\r\n"
    "Date: %s\r\n"
    "Message-ID: <plain@tidings.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "\r\n"
    "This is the plain text body, with a link to https://example.org/tidings and\r\n"
    "a few words in other scripts: caf\xc3\xa9, \xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc"
    "\xce\xad\xcf\x81\xce\xb1.\r\n"
    "\r\n"
    "Ann\r\n", d);

  return g_bytes_new_take (text, strlen (text));
}

static GBytes *
html_message (gint64  date,
              guint16 http_port)
{
  g_autofree char *d = rfc2822_date (date);
  g_autofree char *png = g_base64_encode (png_pixel, sizeof png_pixel);
  char *text = g_strdup_printf (
    "From: News <news@example.com>\r\n"
    "To: ann@example.org\r\n"
    "Cc: Carol <carol@example.org>\r\n"
    "Subject: Newsletter with pictures\r\n"
    "Date: %s\r\n"
    "Message-ID: <html@tidings.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/related; boundary=\"REL\"\r\n"
    "\r\n"
    "--REL\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><head><link rel=\"stylesheet\" href=\"http://127.0.0.1:%u/style.css\">"
    "<script>document.title = 'script-ran';</script></head>"
    "<body><h1>Monthly News</h1>"
    "<p>An HTML message with a tracking pixel and an inline logo.</p>"
    "<p><img src=\"cid:logo@tidings.test\" width=\"64\" height=\"64\" alt=\"logo\"></p>"
    "<p><img src=\"http://127.0.0.1:%u/pixel.png\" width=\"1\" height=\"1\"></p>"
    "<p style=\"background: url(http://127.0.0.1:%u/background.png)\">Styled</p>"
    "<p><a href=\"https://example.org/read-more\">Read more</a></p>"
    "</body></html>\r\n"
    "--REL\r\n"
    "Content-Type: image/png\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-ID: <logo@tidings.test>\r\n"
    "Content-Disposition: inline; filename=\"logo.png\"\r\n"
    "\r\n"
    "%s\r\n"
    "--REL--\r\n", d, http_port, http_port, http_port, png);

  return g_bytes_new_take (text, strlen (text));
}

static GBytes *
attachment_message (gint64 date)
{
  g_autofree char *d = rfc2822_date (date);
  g_autofree char *pdf = g_base64_encode ((const guchar *) attachment_bytes,
                                          strlen (attachment_bytes));
  char *text = g_strdup_printf (
    "From: Dan <dan@example.net>\r\n"
    "To: ann@example.org\r\n"
    "Subject: The report\r\n"
    "Date: %s\r\n"
    "Message-ID: <attachment@tidings.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"MIX\"\r\n"
    "\r\n"
    "--MIX\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Here is the report you asked for.\r\n"
    "--MIX\r\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    "\r\n"
    "%s\r\n"
    "--MIX--\r\n", d, pdf);

  return g_bytes_new_take (text, strlen (text));
}

static GBytes *
generated_header (guint  n,
                  gint64 date)
{
  g_autofree char *d = rfc2822_date (date);
  char *text = g_strdup_printf ("From: Sender %u <sender%u@example.com>\r\n"
                                "To: ann@example.org\r\n"
                                "Subject: Generated message %u\r\n"
                                "Date: %s\r\n"
                                "Message-ID: <gen%u@tidings.test>\r\n"
                                "\r\n", n, n, n, d, n);

  return g_bytes_new_take (text, strlen (text));
}

static gint64
folder_id (TdStore    *store,
           gint64      account_id,
           const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TdFolder) folder = td_store_find_folder (store, account_id, path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  return td_folder_get_id (folder);
}

static void
build_profile (const char *profile_dir,
               guint16     imap_port,
               guint16     http_port,
               Profile    *out)
{
  g_autofree char *path = g_build_filename (profile_dir, "tidings.db", NULL);
  g_autoptr(TdStore) store = td_store_new (path);
  g_autoptr(TdAccount) account = NULL;
  g_autoptr(GPtrArray) folders =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_folder_spec_free);
  g_autoptr(GPtrArray) specs =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_message_spec_free);
  g_autoptr(GPtrArray) bodies =
    g_ptr_array_new_with_free_func ((GDestroyNotify) td_body_spec_free);
  g_autoptr(GDateTime) base = base_time ();
  gint64 now = g_date_time_to_unix (base);
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  struct { guint32 uid; GBytes *raw; TdFlags flags; } special[3];

  td_store_open_async (store, NULL, td_test_store_result, &result);
  td_store_open_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, "ann@example.org", "127.0.0.1", imap_port,
                            TD_SECURITY_TLS, "ann");
  td_account_set_name (account, "Ann Example");
  td_store_add_account_async (store, account, NULL, td_test_store_result, &result);
  td_store_add_account_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  out->account_id = td_account_get_id (account);
  g_assert_cmpint (out->account_id, >, 0);

  g_ptr_array_add (folders, td_folder_spec_new ("INBOX", '/', TD_FOLDER_ROLE_INBOX, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Drafts", '/', TD_FOLDER_ROLE_DRAFTS, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Sent", '/', TD_FOLDER_ROLE_SENT, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Archive", '/', TD_FOLDER_ROLE_ARCHIVE, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Junk", '/', TD_FOLDER_ROLE_JUNK, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Trash", '/', TD_FOLDER_ROLE_TRASH, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Projects", '/', TD_FOLDER_ROLE_NONE, TRUE));
  g_ptr_array_add (folders, td_folder_spec_new ("Projects/Tidings", '/', TD_FOLDER_ROLE_NONE,
                                                TRUE));
  td_store_sync_folders_async (store, out->account_id, folders, NULL, td_test_store_result,
                               &result);
  td_store_sync_folders_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  out->inbox_id = folder_id (store, out->account_id, "INBOX");
  out->sent_id = folder_id (store, out->account_id, "Sent");
  out->projects_id = folder_id (store, out->account_id, "Projects");
  out->sub_id = folder_id (store, out->account_id, "Projects/Tidings");

  /* 500 older messages with headers only; every third one unread. */
  out->inbox_unread = 0;
  for (guint i = 1; i <= N_GENERATED; i++)
    {
      gint64 date = now - 86400 - (gint64) (N_GENERATED - i) * 3 * 3600;
      g_autoptr(GBytes) header = generated_header (i, date);
      TdFlags flags = i % 3 == 0 ? 0 : TD_FLAG_SEEN;

      if (flags == 0)
        out->inbox_unread++;
      g_ptr_array_add (specs, td_message_spec_new (i, flags, date, 2000 + i, header));
    }

  /* The three newest: plain (unread), HTML (read, starred), attachment (unread). */
  special[0].uid = N_GENERATED + 3;
  special[0].raw = plain_message (now - 60);
  special[0].flags = 0;
  special[1].uid = N_GENERATED + 2;
  special[1].raw = html_message (now - 120, http_port);
  special[1].flags = TD_FLAG_SEEN | TD_FLAG_FLAGGED;
  special[2].uid = N_GENERATED + 1;
  special[2].raw = attachment_message (now - 180);
  special[2].flags = 0;
  out->inbox_unread += 2;

  for (guint i = 0; i < G_N_ELEMENTS (special); i++)
    {
      g_ptr_array_add (specs, td_message_spec_new (special[i].uid, special[i].flags,
                                                   now - 60 * (i + 1),
                                                   g_bytes_get_size (special[i].raw),
                                                   special[i].raw));
      g_ptr_array_add (bodies, td_body_spec_new (special[i].uid, special[i].raw));
      g_bytes_unref (special[i].raw);
    }

  td_store_add_messages_async (store, out->inbox_id, specs, NULL, td_test_store_result, &result);
  td_store_add_messages_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  td_store_set_bodies_async (store, out->inbox_id, bodies, NULL, td_test_store_result, &result);
  td_store_set_bodies_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_cmpuint (td_store_count_messages (store, out->inbox_id), ==, N_INBOX);
  td_store_close (store);
}

/* --- The view's state --- */

typedef struct
{
  gboolean finished;
  GPtrArray *resources;   /* URIs of loads started */
  guint      cid_finished;
} WebWatch;

static void
load_changed_cb (WebKitWebView   *view,
                 WebKitLoadEvent  event,
                 WebWatch        *watch)
{
  if (event == WEBKIT_LOAD_FINISHED)
    watch->finished = TRUE;
}

static void
resource_finished_cb (WebKitWebResource *resource,
                      WebWatch          *watch)
{
  if (g_str_has_prefix (webkit_web_resource_get_uri (resource), "cid:"))
    watch->cid_finished++;
}

static void
resource_started_cb (WebKitWebView     *view,
                     WebKitWebResource *resource,
                     WebKitURIRequest  *request,
                     WebWatch          *watch)
{
  g_ptr_array_add (watch->resources, g_strdup (webkit_uri_request_get_uri (request)));
  g_signal_connect (resource, "finished", G_CALLBACK (resource_finished_cb), watch);
}

static void
watch_web_view (WebKitWebView *view,
                WebWatch      *watch)
{
  g_signal_connect (view, "load-changed", G_CALLBACK (load_changed_cb), watch);
  g_signal_connect (view, "resource-load-started", G_CALLBACK (resource_started_cb), watch);
}

/* Connects the watch as soon as the view shows HTML, before WebKit reports anything. */
static void
body_state_notify_cb (TdMessageView *view,
                      GParamSpec    *pspec,
                      WebWatch      *watch)
{
  WebKitWebView *web_view = td_message_view_get_web_view (view);

  if (g_strcmp0 (td_message_view_get_body_state (view), "html") == 0 && web_view != NULL &&
      g_object_get_data (G_OBJECT (web_view), "test-watched") == NULL)
    {
      g_object_set_data (G_OBJECT (web_view), "test-watched", GINT_TO_POINTER (1));
      watch_web_view (web_view, watch);
    }
}

static gboolean
status_is_error (gpointer data)
{
  return g_str_has_prefix (td_window_get_status_text (data), "Could not sync");
}

typedef struct
{
  HttpServer *server;
  guint       at_least;
} CountWait;

static gboolean
server_count_reached (gpointer data)
{
  CountWait *wait = data;

  return http_server_count (wait->server) >= wait->at_least;
}

static gboolean
chooser_has_folder (gpointer data)
{
  g_autoptr(GFile) folder = gtk_file_chooser_get_current_folder (data);

  return folder != NULL;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static gboolean
async_done (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static void
select_message (TdWindow    *window,
                guint        position,
                const char  *subject)
{
  GtkSingleSelection *selection = td_window_get_selection (window);
  g_autoptr(TdMessage) message = g_list_model_get_item (G_LIST_MODEL (selection), position);

  g_assert_nonnull (message);
  g_assert_cmpstr (td_message_get_subject (message), ==, subject);
  gtk_single_selection_set_selected (selection, position);
  g_assert_true (td_message_view_get_message (td_window_get_message_view (window)) == message);
  g_assert_cmpstr (td_message_view_get_subject_text (td_window_get_message_view (window)), ==,
                   subject);
}

static gboolean
counter_reached (gpointer data)
{
  return *(guint *) data > 0;
}

static guint
count_message_dialogs (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* not ours */
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) widget = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (widget) && gtk_widget_get_visible (widget))
        n++;
    }
  return n;
}

static gboolean
not_syncing (gpointer data)
{
  return !td_account_manager_is_syncing (data);
}

static void
count_sync_started_cb (TdAccountManager *manager,
                       TdAccount        *account,
                       guint            *count)
{
  (*count)++;
}

/* The password dialog is up with @heading, about @address; returns its entry. */
static GtkEditable *
check_password_dialog (GtkWidget  *dialog,
                       const char *heading,
                       const char *address)
{
  GtkWidget *entry = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));

  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==, heading);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), address));
  g_assert_true (GTK_IS_PASSWORD_ENTRY (entry));
  g_assert_true (gtk_password_entry_get_show_peek_icon (GTK_PASSWORD_ENTRY (entry)));
  g_assert_nonnull (td_test_ui_find_button (dialog, "_Cancel"));
  g_assert_nonnull (td_test_ui_find_button (dialog, "_Save and Retry"));
  /* Nothing to save yet. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "save"));
  g_assert_false (gtk_widget_get_sensitive (td_test_ui_find_button (dialog, "_Save and Retry")));
  return GTK_EDITABLE (entry);
}

static char *
keyring_password (TdAccountManager *manager,
                  TdAccount        *account)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  char *password;

  td_credentials_lookup_async (td_account_manager_get_credentials (manager), account, NULL,
                               td_test_store_result, &result);
  password = td_credentials_lookup_finish (td_account_manager_get_credentials (manager),
                                           td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  return password;
}

/* --- Tests --- */

typedef struct
{
  HttpServer *server;
  Profile     profile;
} SyncedStore;

static void
synced_store_body (TdApplication *app,
                   gpointer       data)
{
  SyncedStore *ctx = data;
  HttpServer *server = ctx->server;
  Profile profile = ctx->profile;
  TdWindow *window;
  TdSidebar *sidebar;
  TdFolderRow *row;
  TdMessageView *view;
  GtkSingleSelection *selection;
  GListModel *model;
  WebWatch watch = { FALSE, NULL, 0 };
  CountWait count_wait;
  g_autofree char *text = NULL;
  GtkListBox *attachments;
  GtkWidget *attachment_row;
  g_autofree char *save_dir = td_test_make_tempdir ("save");
  g_autofree char *save_path = g_build_filename (save_dir, "saved.pdf", NULL);
  g_autoptr(GFile) save_file = g_file_new_for_path (save_path);
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;
  gsize saved_len = 0;
  const char *title;

  watch.resources = g_ptr_array_new_with_free_func (g_free);
  window = td_test_ui_wait_window (app);
  g_assert_cmpstr (td_window_get_page (window), ==, "mail");

  /* The sync on start fails (nothing listens, no password in the keyring); it says so and
   * everything below still reads from the store. */
  td_test_ui_wait_until (status_is_error, window, TIMEOUT_MS, "the sync error in the status line");
  g_test_message ("sync status: %s", td_window_get_status_text (window));
  /* No password in the keyring: the window asks for it; not now. */
  check_password_dialog (td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG), "Password Needed",
                         "ann@example.org");
  gtk_window_close (GTK_WINDOW (td_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG)));
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  /* The sidebar: the account, its folders by role and depth, the unread count. */
  sidebar = td_window_get_sidebar (window);
  g_assert_cmpstr (td_sidebar_get_account_title (sidebar, profile.account_id), ==, "Ann Example");
  row = td_sidebar_get_folder_row (sidebar, profile.inbox_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (td_folder_row_get_name_text (row), ==, "Inbox");
  g_assert_cmpstr (td_folder_row_get_icon_name (row), ==, "tidings-inbox-symbolic");
  text = g_strdup_printf ("%u", profile.inbox_unread);
  g_assert_cmpstr (td_folder_row_get_count_text (row), ==, text);
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (row), "unread"));
  g_clear_pointer (&text, g_free);

  row = td_sidebar_get_folder_row (sidebar, profile.sent_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (td_folder_row_get_icon_name (row), ==, "mail-send-symbolic");
  g_assert_cmpstr (td_folder_row_get_count_text (row), ==, "");
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (row), "unread"));

  row = td_sidebar_get_folder_row (sidebar, profile.sub_id);
  g_assert_nonnull (row);
  g_assert_cmpstr (td_folder_row_get_name_text (row), ==, "Tidings");
  g_assert_cmpstr (td_folder_row_get_icon_name (row), ==, "folder-symbolic");

  /* The inbox is opened on start; choose another folder and come back to it. */
  g_assert_true (td_sidebar_select_folder (sidebar, profile.sent_id));
  selection = td_window_get_selection (window);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (selection)), ==, 0);
  g_assert_true (td_sidebar_select_folder (sidebar, profile.inbox_id));
  g_assert_cmpint (td_folder_get_id (td_sidebar_get_selected_folder (sidebar)), ==,
                   profile.inbox_id);

  /* The list: every message counted, but only the rows on screen read from the store. */
  model = gtk_single_selection_get_model (selection);
  g_assert_true (TD_IS_MESSAGE_LIST (model));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, N_INBOX);
  td_test_ui_spin (500);
  g_test_message ("rows loaded: %u of %u",
                  td_message_list_get_rows_loaded (TD_MESSAGE_LIST (model)), N_INBOX);
  g_assert_cmpuint (td_message_list_get_rows_loaded (TD_MESSAGE_LIST (model)), <, N_INBOX);
  g_assert_cmpuint (td_message_list_get_rows_loaded (TD_MESSAGE_LIST (model)), >, 0);

  /* The plain text message. */
  view = td_window_get_message_view (window);
  g_signal_connect (view, "notify::body-state", G_CALLBACK (body_state_notify_cb), &watch);
  select_message (window, 0, "Plain hello");
  td_test_ui_wait_body_state (view, "text");
  text = td_test_ui_text_view_text (td_message_view_get_text_view (view));
  g_assert_nonnull (strstr (text, "This is the plain text body"));
  g_assert_nonnull (strstr (text, "caf\xc3\xa9"));
  g_assert_false (gtk_text_view_get_editable (td_message_view_get_text_view (view)));
  g_assert_false (td_message_view_get_remote_blocked (view));
  g_assert_null (td_message_view_get_web_view (view));
  g_clear_pointer (&text, g_free);
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-plain.png");

  /* The HTML message: loaded, its remote parts blocked, its cid: image shown, no script. */
  select_message (window, 1, "Newsletter with pictures");
  td_test_ui_wait_body_state (view, "html");
  g_assert_nonnull (td_message_view_get_web_view (view));
  td_test_ui_wait_until (flag_is_set, &watch.finished, TIMEOUT_MS, "the HTML to load");
  g_assert_true (td_message_view_get_remote_blocked (view));
  g_assert_true (gtk_widget_get_visible (td_message_view_get_remote_banner (view)));
  g_assert_true (gtk_revealer_get_reveal_child (
      GTK_REVEALER (td_message_view_get_remote_banner (view))));
  td_test_ui_spin (1000);
  for (guint i = 0; i < watch.resources->len; i++)
    g_test_message ("resource: %s", (char *) g_ptr_array_index (watch.resources, i));
  g_assert_cmpuint (watch.cid_finished, >=, 1);
  g_assert_cmpuint (http_server_count (server), ==, 0);
  title = webkit_web_view_get_title (td_message_view_get_web_view (view));
  g_assert_cmpstr (title != NULL ? title : "", !=, "script-ran");
  g_assert_false (webkit_settings_get_enable_javascript (
      webkit_web_view_get_settings (td_message_view_get_web_view (view))));
  g_assert_cmpstr (webkit_web_view_get_default_content_security_policy (
                     td_message_view_get_web_view (view)), ==, td_web_view_get_policy (FALSE));
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-html.png");

  /* "Show Remote Content": this display of this message loads the pictures. */
  watch.finished = FALSE;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "message.show-remote-content",
                                             NULL));
  g_assert_false (td_message_view_get_remote_blocked (view));
  watch_web_view (td_message_view_get_web_view (view), &watch);
  td_test_ui_wait_until (flag_is_set, &watch.finished, TIMEOUT_MS, "the HTML to load again");
  count_wait.server = server;
  count_wait.at_least = 1;
  td_test_ui_wait_until (server_count_reached, &count_wait, TIMEOUT_MS, "the remote image request");
  for (guint i = 0; i < server->requests->len; i++)
    g_test_message ("remote request: %s", (char *) g_ptr_array_index (server->requests, i));
  g_assert_false (gtk_widget_get_visible (td_message_view_get_remote_banner (view)));

  /* The message with an attachment: listed by name, saved byte for byte. */
  select_message (window, 2, "The report");
  td_test_ui_wait_body_state (view, "text");
  g_assert_null (td_message_view_get_web_view (view));
  attachments = td_message_view_get_attachment_list (view);
  attachment_row = gtk_widget_get_first_child (GTK_WIDGET (attachments));
  g_assert_true (ADW_IS_ACTION_ROW (attachment_row));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (attachment_row)), ==,
                   "report.pdf");
  g_assert_null (gtk_widget_get_next_sibling (attachment_row));
  /* ... and actually on screen once the revealer has slid in. */
  td_test_ui_wait_until (revealer_shows_child,
                         gtk_widget_get_ancestor (GTK_WIDGET (attachments), GTK_TYPE_REVEALER),
                         TIMEOUT_MS, "the attachment list to be revealed");
  g_assert_true (gtk_widget_is_drawable (attachment_row));
  g_assert_cmpint (gtk_widget_get_height (attachment_row), >, 0);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-attachment.png");

  td_message_view_save_attachment_async (view, 0, save_file, NULL, td_test_store_result,
                                         &result);
  td_test_ui_wait_until (async_done, &result, TIMEOUT_MS, "the attachment to be saved");
  g_assert_true (td_message_view_save_attachment_finish (view, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_file_get_contents (save_path, &saved, &saved_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (saved, saved_len, attachment_bytes, strlen (attachment_bytes));
  g_clear_pointer (&saved, g_free);


  /* The store changes under the open message (a sync set its flags): the list reloads, the
   * same message stays open without reloading its body, the counts follow. */
  {
    TdStore *store = td_account_manager_get_store (td_application_get_manager (app));
    g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (TdUidFlags));
    TdUidFlags change = { N_GENERATED + 1, TD_FLAG_SEEN | TD_FLAG_FLAGGED };
    TdMessage *shown = td_message_view_get_message (view);
    gint64 shown_id = td_message_get_id (shown);
    g_autofree char *count = g_strdup_printf ("%u", profile.inbox_unread - 1);
    guint state_changes = 0;
    gulong handler;

    handler = g_signal_connect (view, "notify::body-state", G_CALLBACK (count_notify_cb),
                                &state_changes);
    g_array_append_val (changes, change);
    td_store_update_flags_async (store, profile.inbox_id, changes, NULL, td_test_store_result,
                                 &result);
    td_store_update_flags_finish (store, td_test_wait_result (&result, TIMEOUT_MS), &error);
    g_assert_no_error (error);
    g_clear_object (&result);
    td_test_ui_spin (300);

    shown = td_message_view_get_message (view);
    g_assert_nonnull (shown);
    g_assert_cmpint (td_message_get_id (shown), ==, shown_id);
    g_assert_cmpuint (td_message_get_flags (shown) & TD_FLAG_FLAGGED, !=, 0);
    g_assert_cmpuint (gtk_single_selection_get_selected (selection), ==, 2);
    g_assert_cmpstr (td_message_view_get_body_state (view), ==, "text");
    g_assert_cmpuint (state_changes, ==, 0);   /* the body was not loaded again */
    g_assert_true (gtk_widget_get_first_child (GTK_WIDGET (attachments)) == attachment_row);
    row = td_sidebar_get_folder_row (sidebar, profile.inbox_id);
    g_assert_cmpstr (td_folder_row_get_count_text (row), ==, count);
    g_signal_handler_disconnect (view, handler);
  }

  /* A message whose body was never downloaded says so. */
  select_message (window, 3, "Generated message 500");
  td_test_ui_wait_body_state (view, "missing");

  /* Nothing selected: the view is empty again. */
  gtk_single_selection_set_selected (selection, GTK_INVALID_LIST_POSITION);
  td_test_ui_spin (100);
  g_assert_null (td_message_view_get_message (view));

  /* Only the requests allowed by the user reached the network. */
  g_test_message ("%u remote requests in all", http_server_count (server));

  g_signal_handlers_disconnect_by_data (view, &watch);
  g_ptr_array_unref (watch.resources);
}

static void
test_window_synced_store (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("profile");
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  SyncedStore ctx = { 0 };

  /* What is shown, with the flags the store has: opening a message here changes nothing
   * (marking read on open is tested in test-window-actions). */
  g_settings_set_boolean (settings, "mark-read-on-open", FALSE);
  td_test_ui_restore_session_dirs ();
  ctx.server = http_server_new ();
  build_profile (profile_dir, dead_port (), ctx.server->port, &ctx.profile);
  td_test_ui_run_app (profile_dir, synced_store_body, &ctx);
  http_server_free (ctx.server);
  g_settings_reset (settings, "mark-read-on-open");
}

static GtkWidget *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* not ours */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) widget = g_list_model_get_item (toplevels, i);

      if (TD_IS_ADD_ACCOUNT_DIALOG (widget))
        return widget;
    }
  return NULL;
}

static gboolean
has_account (gpointer data)
{
  TdAccountManager *manager = data;

  return g_list_model_get_n_items (td_account_manager_get_accounts (manager)) == 1;
}

static gboolean
no_dialog (gpointer data)
{
  return find_dialog () == NULL;
}

static void
css_error_cb (GtkCssProvider *provider,
              GtkCssSection  *section,
              const GError   *error,
              guint          *count)
{
  g_autofree char *where = gtk_css_section_to_string (section);

  g_test_message ("style.css: %s: %s", where, error->message);
  (*count)++;
}

static GtkEditable *
dialog_row (GtkWidget  *dialog,
            const char *name)
{
  GObject *row = gtk_widget_get_template_child (dialog, TD_TYPE_ADD_ACCOUNT_DIALOG, name);

  g_assert_true (GTK_IS_EDITABLE (row));
  return GTK_EDITABLE (row);
}

static void
first_run_body (TdApplication *app,
                gpointer       data)
{
  g_autofree char *port = g_strdup_printf ("%u", dead_port ());
  TdWindow *window;
  TdAccountManager *manager;
  GtkWidget *dialog;
  GtkWidget *add_button;
  g_autoptr(TdAccount) account = NULL;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  char *password;
  GtkWidget *password_dialog;
  GtkEditable *entry;
  guint started = 0;

  window = td_test_ui_wait_window (app);
  manager = td_application_get_manager (app);

  /* No account: the welcome page, and no sync was tried. */
  g_assert_cmpstr (td_window_get_page (window), ==, "welcome");
  g_assert_false (td_account_manager_is_syncing (manager));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-welcome.png");

  /* The style sheet parses without an error. */
  {
    g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();
    guint css_errors = 0;

    g_signal_connect (provider, "parsing-error", G_CALLBACK (css_error_cb), &css_errors);
    gtk_css_provider_load_from_resource (provider, "/org/tidings/Tidings/style.css");
    g_assert_cmpuint (css_errors, ==, 0);
  }

  /* The shortcuts: Ctrl+R and F5 sync, Ctrl+Q quits; the shortcuts and about windows open. */
  {
    g_auto(GStrv) refresh = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                     "win.refresh");
    g_auto(GStrv) quit = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                  "app.quit");
    GtkWindow *help;
    GtkWindow *about = NULL;
    GListModel *toplevels = gtk_window_get_toplevels ();   /* not ours */

    g_assert_true (g_strv_contains ((const char * const *) refresh, "<Control>r"));
    g_assert_true (g_strv_contains ((const char * const *) refresh, "F5"));
    g_assert_true (g_strv_contains ((const char * const *) quit, "<Control>q"));

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay",
                                               NULL));
    help = GTK_WINDOW (gtk_application_window_get_help_overlay (
        GTK_APPLICATION_WINDOW (window)));
    g_assert_true (GTK_IS_SHORTCUTS_WINDOW (help));
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (help)));
    gtk_window_close (help);

    g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
    for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
      {
        g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);

        if (ADW_IS_ABOUT_WINDOW (toplevel))
          about = toplevel;
      }
    g_assert_nonnull (about);
    g_assert_cmpstr (adw_about_window_get_application_name (ADW_ABOUT_WINDOW (about)), ==,
                     "Tidings");
    gtk_window_destroy (about);
  }

  /* "Add Account…" opens the dialog; Add stays off until the account is complete. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.add-account", NULL));
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  add_button = GTK_WIDGET (gtk_widget_get_template_child (dialog, TD_TYPE_ADD_ACCOUNT_DIALOG,
                                                          "add_button"));
  g_assert_false (gtk_widget_get_sensitive (add_button));

  gtk_editable_set_text (dialog_row (dialog, "name_row"), "Zoë Example");
  gtk_editable_set_text (dialog_row (dialog, "address_row"), "zoe@example.org");
  /* The user name follows the address until it is typed. */
  g_assert_cmpstr (gtk_editable_get_text (dialog_row (dialog, "username_row")), ==,
                   "zoe@example.org");
  gtk_editable_set_text (dialog_row (dialog, "host_row"), "127.0.0.1");
  g_assert_false (td_add_account_dialog_is_valid (TD_ADD_ACCOUNT_DIALOG (dialog)));
  gtk_editable_set_text (dialog_row (dialog, "password_row"), "s3cret-pass");
  g_assert_true (td_add_account_dialog_is_valid (TD_ADD_ACCOUNT_DIALOG (dialog)));
  g_assert_true (gtk_widget_get_sensitive (add_button));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (gtk_widget_get_template_child (
                                 dialog, TD_TYPE_ADD_ACCOUNT_DIALOG, "port_spin")),
                             g_ascii_strtod (port, NULL));
  td_test_ui_spin (200);
  td_test_ui_save_screenshot (dialog, "add-account.png");

  g_signal_emit_by_name (add_button, "clicked");
  td_test_ui_wait_until (has_account, manager, TIMEOUT_MS, "the account to be added");
  td_test_ui_wait_until (no_dialog, NULL, TIMEOUT_MS, "the dialog to close");
  g_assert_cmpstr (td_window_get_page (window), ==, "mail");

  account = g_list_model_get_item (td_account_manager_get_accounts (manager), 0);
  g_assert_cmpstr (td_account_get_address (account), ==, "zoe@example.org");
  g_assert_cmpstr (td_account_get_name (account), ==, "Zoë Example");
  g_assert_cmpstr (td_account_get_host (account), ==, "127.0.0.1");
  g_assert_cmpuint (td_account_get_port (account), ==, g_ascii_strtoull (port, NULL, 10));
  g_assert_cmpint (td_account_get_security (account), ==, TD_SECURITY_TLS);
  g_assert_cmpstr (td_account_get_username (account), ==, "zoe@example.org");
  g_assert_cmpstr (td_sidebar_get_account_title (td_window_get_sidebar (window),
                                                 td_account_get_id (account)), ==,
                   "Zoë Example");

  /* The password went to the keyring. */
  td_credentials_lookup_async (td_account_manager_get_credentials (manager), account, NULL,
                               td_test_store_result, &result);
  password = td_credentials_lookup_finish (td_account_manager_get_credentials (manager),
                                           td_test_wait_result (&result, TIMEOUT_MS), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "s3cret-pass");
  td_credentials_free_password (password);
  g_clear_object (&result);

  /* Adding syncs the account at once; nothing listens there, so it fails visibly (and the
   * password is not what failed: no dialog). */
  td_test_ui_wait_until (status_is_error, window, TIMEOUT_MS, "the sync error");
  g_test_message ("sync status: %s", td_window_get_status_text (window));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-first-account.png");
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the first sync to end");
  g_assert_null (td_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));

  /* The keyring loses the password: F5 asks for it. */
  td_credentials_clear_async (td_account_manager_get_credentials (manager), account, NULL,
                              td_test_store_result, &result);
  g_assert_true (td_credentials_clear_finish (td_account_manager_get_credentials (manager),
                                              td_test_wait_result (&result, TIMEOUT_MS),
                                              &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_signal_connect (manager, "sync-started", G_CALLBACK (count_sync_started_cb), &started);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL));
  password_dialog = td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  entry = check_password_dialog (password_dialog, "Password Needed", "zoe@example.org");
  g_assert_true (status_is_error (window));
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the failed sync to end");

  /* Another failure while it is open: still one dialog. */
  started = 0;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL));
  td_test_ui_wait_until (counter_reached, &started, TIMEOUT_MS, "the second sync");
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the second failed sync to end");
  td_test_ui_spin (200);
  g_assert_cmpuint (count_message_dialogs (), ==, 1);
  g_assert_true (td_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == password_dialog);

  /* Typing enables "Save and Retry". */
  gtk_editable_set_text (entry, "n3w-pass");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (password_dialog),
                                                          "save"));
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (password_dialog, "password-dialog.png");
  gtk_editable_set_text (entry, "");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (password_dialog),
                                                           "save"));
  gtk_editable_set_text (entry, "n3w-pass");

  /* "Save and Retry": into the keyring, and a new sync of the account. */
  started = 0;
  g_assert_true (gtk_widget_activate (td_test_ui_find_button (password_dialog, "_Save and Retry")));
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  td_test_ui_wait_until (counter_reached, &started, TIMEOUT_MS, "the sync after saving");
  password = keyring_password (manager, account);
  g_assert_cmpstr (password, ==, "n3w-pass");
  td_credentials_free_password (password);
  /* That sync fails for the dead port, not the password: no dialog again. */
  td_test_ui_wait_until (not_syncing, manager, TIMEOUT_MS, "the sync after saving to end");
  g_assert_true (status_is_error (window));
  td_test_ui_spin (200);
  g_assert_null (td_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_signal_handlers_disconnect_by_data (manager, &started);

}

static void
test_window_first_run (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("first-run");
  g_autofree char *db = g_build_filename (profile_dir, "tidings.db", NULL);

  td_test_ui_restore_session_dirs ();
  td_test_ui_run_app (profile_dir, first_run_body, NULL);
  /* The store was made where --profile said. */
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
}

/* --- A real server: untrusted certificate, trust, sync, read, then offline --- */

typedef struct
{
  TdTestDovecot *dovecot;
  TdTestProxy   *proxy;         /* the account connects through it, so the test can cut it */
  guint          synced;        /* syncs that finished without an error */
  guint          failed;
  GPtrArray     *progress;      /* the status line at each "sync-progress" */
  guint          spinning;      /* progress seen while the refresh button was a spinner */
  TdWindow      *window;
} ServerRun;

static void
server_sync_finished_cb (TdAccountManager *manager,
                         TdAccount        *account,
                         const GError     *error,
                         ServerRun        *run)
{
  if (error == NULL)
    run->synced++;
  else
    run->failed++;
}

static void
server_sync_progress_cb (TdAccountManager *manager,
                         TdAccount        *account,
                         const char       *what,
                         guint             done,
                         guint             total,
                         ServerRun        *run)
{
  GObject *refresh = gtk_widget_get_template_child (GTK_WIDGET (run->window), TD_TYPE_WINDOW,
                                                    "refresh_stack");

  g_ptr_array_add (run->progress, g_strdup (td_window_get_status_text (run->window)));
  if (g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (refresh)), "spinner") == 0)
    run->spinning++;
}

static gboolean
list_has_items (gpointer data)
{
  GListModel *model = gtk_single_selection_get_model (td_window_get_selection (data));

  return model != NULL && g_list_model_get_n_items (model) > 0;
}

static void
server_body (TdApplication *app,
             gpointer       data)
{
  ServerRun *run = data;
  TdWindow *window = td_test_ui_wait_window (app);
  TdAccountManager *manager;
  TdMessageView *view;
  GtkWidget *dialog;
  g_autoptr(TdAccount) account = NULL;
  TdAccount *stored;
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *fingerprint = td_test_dovecot_get_fingerprint (run->dovecot);
  guint position;
  GtkEditable *entry;

  run->window = window;
  manager = td_application_get_manager (app);
  view = td_window_get_message_view (window);
  g_signal_connect (manager, "sync-finished", G_CALLBACK (server_sync_finished_cb), run);
  g_signal_connect (manager, "sync-progress", G_CALLBACK (server_sync_progress_cb), run);

  account = td_account_new (TD_ACCOUNT_KIND_IMAP, "alice@localhost", "localhost",
                            td_test_proxy_get_port (run->proxy), TD_SECURITY_TLS,
                            "alice");
  td_account_set_name (account, "Alice");
  /* A wrong password first: the server refuses it after the certificate is trusted. */
  td_account_manager_add_account_async (manager, account, "not-the-password", NULL,
                                        td_test_store_result, &result);
  td_account_manager_add_account_finish (manager, td_test_wait_result (&result, TIMEOUT_MS),
                                         &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  stored = td_account_manager_find_account (manager, "alice@localhost");
  g_assert_nonnull (stored);

  /* F5: the self-signed certificate is refused and shown, with its fingerprint. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL));
  dialog = td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_true (GTK_IS_LABEL (adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog))));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (adw_message_dialog_get_extra_child (
                                ADW_MESSAGE_DIALOG (dialog)))), fingerprint));
  g_assert_cmpuint (run->synced, ==, 0);
  g_assert_cmpuint (run->failed, ==, 1);
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (dialog, "certificate-dialog.png");

  /* "Trust This Certificate": pinned, and the sync runs again and succeeds. */
  g_assert_nonnull (td_test_ui_find_button (dialog, "_Cancel"));
  g_assert_true (gtk_widget_activate (td_test_ui_find_button (dialog, "_Trust This Certificate")));
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  /* The wrong password is refused and the dialog says so, with the server's words. */
  dialog = td_test_ui_wait_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  entry = check_password_dialog (dialog, "Password Refused", "alice@localhost");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)),
                            "refused the user name or password"));
  g_assert_cmpuint (run->synced, ==, 0);
  g_assert_cmpuint (run->failed, ==, 2);
  g_assert_cmpuint (count_message_dialogs (), ==, 1);
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (dialog, "password-refused-dialog.png");

  /* The right one, then Enter: saved, and the sync runs again and succeeds. */
  gtk_editable_set_text (entry, td_test_dovecot_get_password (run->dovecot));
  g_signal_emit_by_name (entry, "activate");
  td_test_ui_wait_no_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  td_test_ui_wait_until (counter_reached, &run->synced, TIMEOUT_MS, "the sync after trusting");
  {
    char *password = keyring_password (manager, stored);

    g_assert_cmpstr (password, ==, td_test_dovecot_get_password (run->dovecot));
    td_credentials_free_password (password);
  }
  stored = td_account_manager_find_account (manager, "alice@localhost");
  g_assert_cmpstr (td_account_get_pinned_fingerprint (stored), ==, fingerprint);
  /* Progress was shown as it came: "WHAT DONE/TOTAL", with a spinner for the button. */
  g_assert_cmpuint (run->progress->len, >, 0);
  g_assert_cmpuint (run->spinning, ==, run->progress->len);
  {
    gboolean counted = FALSE;

    for (guint i = 0; i < run->progress->len; i++)
      {
        const char *line = g_ptr_array_index (run->progress, i);

        g_test_message ("progress: %s", line);
        g_assert_cmpstr (line, !=, "");
        counted |= g_regex_match_simple ("^Downloading .* [0-9]+/[0-9]+$", line, 0, 0);
      }
    g_assert_true (counted);
  }

  /* The inbox opens by itself with what the server had. */
  td_test_ui_wait_until (list_has_items, window, TIMEOUT_MS, "the inbox to be listed");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (td_window_get_selection (window))),
                    ==, 6);
  position = td_test_ui_find_subject (window, "Hello from the server");
  gtk_single_selection_set_selected (td_window_get_selection (window), position);
  td_test_ui_wait_body_state (view, "text");
  text = td_test_ui_text_view_text (td_message_view_get_text_view (view));
  g_assert_nonnull (strstr (text, "Synced for real"));
  g_clear_pointer (&text, g_free);
  td_test_ui_spin (500);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-synced.png");

  /* The server goes out of reach (its pooled connection too): a sync fails and says so;
   * every message still opens. */
  td_test_proxy_set_down (run->proxy, TRUE);
  run->failed = 0;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.refresh", NULL));
  td_test_ui_wait_until (counter_reached, &run->failed, TIMEOUT_MS, "the sync to fail");
  td_test_ui_wait_until (status_is_error, window, TIMEOUT_MS, "the sync error");
  g_test_message ("offline: %s", td_window_get_status_text (window));
  g_assert_null (td_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));

  position = td_test_ui_find_subject (window, "Generated 3");
  gtk_single_selection_set_selected (td_window_get_selection (window), position);
  td_test_ui_wait_body_state (view, "text");
  position = td_test_ui_find_subject (window, "Hello from the server");
  gtk_single_selection_set_selected (td_window_get_selection (window), position);
  td_test_ui_wait_body_state (view, "text");
  text = td_test_ui_text_view_text (td_message_view_get_text_view (view));
  g_assert_nonnull (strstr (text, "Synced for real"));
  td_test_ui_spin (500);
  td_test_ui_save_screenshot (GTK_WIDGET (window), "window-offline.png");

  g_signal_handlers_disconnect_by_data (manager, run);
}

static void
test_window_server (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("server");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = NULL;
  ServerRun run = { 0 };
  const char *raw =
    "From: Server Test <test@localhost>\r\n"
    "To: alice@localhost\r\n"
    "Subject: Hello from the server\r\n"
    "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
    "Message-ID: <server@tidings.test>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Synced for real, then read without the server.\r\n";

  td_test_ui_restore_session_dirs ();
  run.dovecot = td_test_dovecot_start (&error);
  g_assert_no_error (error);
  message = g_bytes_new_static (raw, strlen (raw));
  td_test_dovecot_save (run.dovecot, "alice", "INBOX", message, &error);
  g_assert_no_error (error);
  td_test_dovecot_save_generated (run.dovecot, "alice", "INBOX", "Generated", 5, &error);
  g_assert_no_error (error);
  td_test_dovecot_create_folder (run.dovecot, "alice", "Archive", &error);
  g_assert_no_error (error);
  run.progress = g_ptr_array_new_with_free_func (g_free);
  run.proxy = td_test_proxy_new (td_test_dovecot_get_port (run.dovecot, "imaps"), 0);

  td_test_ui_run_app (profile_dir, server_body, &run);

  g_ptr_array_unref (run.progress);
  td_test_proxy_free (run.proxy);
  td_test_dovecot_free (run.dovecot);
}

/* --- Dates and the HTML wrapper, without a window --- */

static void
test_format_dates (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_local (2026, 11, 23, 18, 30, 0);
  g_autoptr(GDateTime) today = g_date_time_new_local (2026, 11, 23, 9, 5, 0);
  g_autoptr(GDateTime) this_year = g_date_time_new_local (2026, 3, 12, 23, 59, 0);
  g_autoptr(GDateTime) older = g_date_time_new_local (2021, 3, 12, 8, 0, 0);
  g_autoptr(GDateTime) future = g_date_time_new_local (2027, 1, 2, 8, 0, 0);
  g_autofree char *a = td_format_list_date (g_date_time_to_unix (today), now);
  g_autofree char *b = td_format_list_date (g_date_time_to_unix (this_year), now);
  g_autofree char *c = td_format_list_date (g_date_time_to_unix (older), now);
  g_autofree char *d = td_format_list_date (g_date_time_to_unix (future), now);
  g_autofree char *e = td_format_list_date (0, now);
  g_autofree char *f = td_format_full_date (g_date_time_to_unix (this_year));
  g_autofree char *g = td_format_address ("Ann", "ann@example.org");
  g_autofree char *h = td_format_address (NULL, "ann@example.org");
  g_autofree char *i = td_format_address ("ann@example.org", "ann@example.org");

  g_assert_cmpstr (a, ==, "09:05");
  g_assert_cmpstr (b, ==, "12 Mar");
  g_assert_cmpstr (c, ==, "12 Mar 2021");
  g_assert_cmpstr (d, ==, "2 Jan 2027");
  g_assert_cmpstr (e, ==, "");
  g_assert_cmpstr (f, ==, "Thursday, 12 March 2026, 23:59");
  g_assert_cmpstr (g, ==, "Ann <ann@example.org>");
  g_assert_cmpstr (h, ==, "ann@example.org");
  g_assert_cmpstr (i, ==, "ann@example.org");
}

static void
test_html_policy (void)
{
  g_autofree char *blocked = td_web_view_wrap_html ("<p>Hi</p>", FALSE);
  g_autofree char *remote = td_web_view_wrap_html ("<p>Hi</p>", TRUE);

  /* The policy comes before anything of the mail, so it covers all of it. */
  g_assert_true (g_str_has_prefix (blocked, "<meta http-equiv=\"Content-Security-Policy\""));
  g_assert_nonnull (strstr (blocked, td_web_view_get_policy (FALSE)));
  g_assert_true (g_str_has_suffix (blocked, "<p>Hi</p>"));
  g_assert_nonnull (strstr (td_web_view_get_policy (FALSE), "default-src 'none'"));
  g_assert_null (strstr (td_web_view_get_policy (FALSE), "http"));
  g_assert_null (strstr (td_web_view_get_policy (FALSE), "script-src"));
  g_assert_nonnull (strstr (td_web_view_get_policy (TRUE), "img-src cid: data: http: https:"));
  g_assert_null (strstr (td_web_view_get_policy (TRUE), "script-src"));
  g_assert_nonnull (strstr (remote, td_web_view_get_policy (TRUE)));
}

/* --- The Save button: a file chooser, then the write --- */

static void
save_body (TdApplication *app,
           gpointer       data)
{
  const char *save_dir = data;
  TdWindow *window = td_test_ui_wait_window (app);
  TdMessageView *view = td_window_get_message_view (window);
  g_autoptr(GFile) folder = g_file_new_for_path (save_dir);
  g_autofree char *chosen = g_build_filename (save_dir, "chosen.pdf", NULL);
  g_autofree char *saved = NULL;
  gsize saved_len = 0;
  g_autoptr(GError) error = NULL;
  GtkWidget *chooser;

  td_test_ui_wait_until (list_has_items, window, TIMEOUT_MS, "the inbox to be listed");
  select_message (window, 2, "The report");
  td_test_ui_wait_body_state (view, "text");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "message.save-attachment", "u",
                                             0));
  chooser = td_test_ui_wait_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_cmpstr (gtk_file_chooser_get_current_name (GTK_FILE_CHOOSER (chooser)), ==,
                   "report.pdf");
  /* Let the chooser settle in its first folder before choosing ours, as a user would. */
  td_test_ui_wait_until (chooser_has_folder, chooser, TIMEOUT_MS, "the chooser's first folder");
  td_test_ui_spin (300);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, &error);
  g_assert_no_error (error);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "chosen.pdf");
  td_test_ui_spin (300);
  td_test_ui_save_screenshot (chooser, "save-attachment.png");
  g_assert_true (gtk_widget_activate (td_test_ui_find_button (chooser, "_Save")));

  td_test_ui_wait_until (file_exists, chosen, TIMEOUT_MS, "the attachment to be written");
  td_test_ui_spin (200);
  g_file_get_contents (chosen, &saved, &saved_len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (saved, saved_len, attachment_bytes, strlen (attachment_bytes));
  g_assert_null (td_test_ui_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
}

/* Runs last: GTK's recent files list, which a saving file chooser creates, lives in this
 * test's isolated data dir (G_TEST_OPTION_ISOLATE_DIRS), and GLib removes that dir when the
 * test ends; a later test's main loop would see it go and warn. */
static void
test_window_save_attachment (void)
{
  g_autofree char *profile_dir = td_test_make_tempdir ("save-profile");
  g_autofree char *save_dir = td_test_make_tempdir ("save-chosen");
  HttpServer *server;
  Profile profile = { 0 };

  td_test_ui_restore_session_dirs ();
  server = http_server_new ();
  build_profile (profile_dir, dead_port (), server->port, &profile);
  td_test_ui_run_app (profile_dir, save_body, save_dir);
  g_assert_cmpuint (http_server_count (server), ==, 0);
  http_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  td_test_ui_save_session_dirs ();
  td_test_init (&argc, &argv);

  g_test_add_func ("/ui/format/dates", test_format_dates);
  g_test_add_func ("/ui/web-view/policy", test_html_policy);
  g_test_add_func ("/ui/window/synced-store", test_window_synced_store);
  g_test_add_func ("/ui/window/first-run", test_window_first_run);
  g_test_add_func ("/ui/window/server", test_window_server);
  /* Last, see the comment there. */
  g_test_add_func ("/ui/window/save-attachment", test_window_save_attachment);

  return g_test_run ();
}
