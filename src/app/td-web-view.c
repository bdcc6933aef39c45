/* td-web-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-web-view.h"

#include <glib/gi18n-lib.h>

struct _TdWebView
{
  WebKitWebView  parent_instance;

  TdMimeMessage *message;
  gboolean       allow_remote;
};

G_DEFINE_FINAL_TYPE (TdWebView, td_web_view, WEBKIT_TYPE_WEB_VIEW)

enum {
  PROP_0,
  PROP_ALLOW_REMOTE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Nothing but inline styles and the message's own images; scripts are off anyway. */
#define POLICY_BLOCKED \
  "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'; font-src data:"
#define POLICY_REMOTE \
  "default-src 'none'; img-src cid: data: http: https:; style-src 'unsafe-inline'; " \
  "font-src data:"

/* A readable default that the mail's own styles override. */
#define BASE_STYLE \
  "<style>html{color-scheme:light}body{margin:12px 18px;font-family:sans-serif;" \
  "overflow-wrap:break-word}img{max-width:100%;height:auto}</style>"

const char *
td_web_view_get_policy (gboolean allow_remote)
{
  return allow_remote ? POLICY_REMOTE : POLICY_BLOCKED;
}

char *
td_web_view_wrap_html (const char *html,
                       gboolean    allow_remote)
{
  /* A <meta> before anything else ends up first in <head> (the HTML parser creates the
   * html and head elements for it), so the policy covers the whole document. */
  return g_strconcat ("<meta http-equiv=\"Content-Security-Policy\" content=\"",
                      td_web_view_get_policy (allow_remote), "\">",
                      BASE_STYLE,
                      html != NULL ? html : "",
                      NULL);
}

static void
cid_request_cb (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  WebKitWebView *view = webkit_uri_scheme_request_get_web_view (request);
  const char *path = webkit_uri_scheme_request_get_path (request);
  g_autofree char *content_id = NULL;
  g_autofree char *content_type = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  if (TD_IS_WEB_VIEW (view) && TD_WEB_VIEW (view)->message != NULL && path != NULL)
    {
      /* RFC 2392: a cid: URL is the Content-ID, URL-escaped, without the < >. */
      content_id = g_uri_unescape_string (path, NULL);
      if (content_id != NULL)
        bytes = td_mime_message_get_part_by_cid (TD_WEB_VIEW (view)->message, content_id,
                                                 &content_type);
    }

  if (bytes == NULL)
    {
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The message has no part “%s”"), path != NULL ? path : "");
      webkit_uri_scheme_request_finish_error (request, error);
      return;
    }

  stream = g_memory_input_stream_new_from_bytes (bytes);
  webkit_uri_scheme_request_finish (request, stream, g_bytes_get_size (bytes),
                                    content_type != NULL ? content_type
                                                         : "application/octet-stream");
}

/* One context and one ephemeral (memory-only) network session for every mail view. */
static WebKitWebContext *
get_web_context (void)
{
  static WebKitWebContext *context;

  if (context == NULL)
    {
      context = webkit_web_context_new ();
      webkit_web_context_set_cache_model (context, WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
      webkit_web_context_register_uri_scheme (context, "cid", cid_request_cb, NULL, NULL);
    }
  return context;
}

static WebKitNetworkSession *
get_network_session (void)
{
  static WebKitNetworkSession *session;

  if (session == NULL)
    session = webkit_network_session_new_ephemeral ();
  return session;
}

static WebKitSettings *
new_settings (void)
{
  WebKitSettings *settings = webkit_settings_new ();

  webkit_settings_set_enable_javascript (settings, FALSE);
  webkit_settings_set_enable_javascript_markup (settings, FALSE);
  webkit_settings_set_javascript_can_open_windows_automatically (settings, FALSE);
  webkit_settings_set_javascript_can_access_clipboard (settings, FALSE);
  webkit_settings_set_enable_html5_local_storage (settings, FALSE);
  webkit_settings_set_enable_html5_database (settings, FALSE);
  webkit_settings_set_enable_page_cache (settings, FALSE);
  webkit_settings_set_enable_webgl (settings, FALSE);
  webkit_settings_set_enable_webaudio (settings, FALSE);
  webkit_settings_set_enable_webrtc (settings, FALSE);
  webkit_settings_set_enable_media (settings, FALSE);
  webkit_settings_set_enable_media_stream (settings, FALSE);
  webkit_settings_set_enable_mediasource (settings, FALSE);
  webkit_settings_set_enable_encrypted_media (settings, FALSE);
  webkit_settings_set_enable_fullscreen (settings, FALSE);
  webkit_settings_set_enable_developer_extras (settings, FALSE);
  webkit_settings_set_allow_file_access_from_file_urls (settings, FALSE);
  webkit_settings_set_allow_universal_access_from_file_urls (settings, FALSE);
  webkit_settings_set_allow_top_navigation_to_data_urls (settings, FALSE);
  webkit_settings_set_allow_modal_dialogs (settings, FALSE);
  webkit_settings_set_auto_load_images (settings, TRUE);   /* cid: and data:; CSP does the rest */
  webkit_settings_set_print_backgrounds (settings, TRUE);
  return settings;
}

static gboolean
is_external_uri (const char *uri)
{
  g_autofree char *scheme = g_uri_parse_scheme (uri);

  return scheme != NULL &&
         (g_ascii_strcasecmp (scheme, "http") == 0 ||
          g_ascii_strcasecmp (scheme, "https") == 0 ||
          g_ascii_strcasecmp (scheme, "mailto") == 0);
}

static void
open_externally (TdWebView  *self,
                 const char *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!is_external_uri (uri))
    {
      g_debug ("Not opening %s: not http, https or mailto", uri);
      return;
    }
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static gboolean
td_web_view_decide_policy (WebKitWebView            *view,
                           WebKitPolicyDecision     *decision,
                           WebKitPolicyDecisionType  type)
{
  TdWebView *self = TD_WEB_VIEW (view);
  WebKitNavigationAction *action;
  WebKitURIRequest *request;
  const char *uri;

  if (type == WEBKIT_POLICY_DECISION_TYPE_RESPONSE)
    {
      /* Only our own document is ever navigated to; never download anything. */
      if (!webkit_response_policy_decision_is_main_frame_main_resource (
              WEBKIT_RESPONSE_POLICY_DECISION (decision)) ||
          webkit_response_policy_decision_is_mime_type_supported (
              WEBKIT_RESPONSE_POLICY_DECISION (decision)))
        webkit_policy_decision_use (decision);
      else
        webkit_policy_decision_ignore (decision);
      return TRUE;
    }

  action = webkit_navigation_policy_decision_get_navigation_action (
      WEBKIT_NAVIGATION_POLICY_DECISION (decision));
  request = webkit_navigation_action_get_request (action);
  uri = webkit_uri_request_get_uri (request);

  if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION &&
      webkit_navigation_action_get_navigation_type (action) == WEBKIT_NAVIGATION_TYPE_OTHER &&
      g_strcmp0 (uri, "about:blank") == 0)
    {
      /* webkit_web_view_load_html() with no base URI: the message itself. */
      webkit_policy_decision_use (decision);
      return TRUE;
    }

  if (webkit_navigation_action_get_navigation_type (action) ==
        WEBKIT_NAVIGATION_TYPE_LINK_CLICKED &&
      webkit_navigation_action_is_user_gesture (action))
    open_externally (self, uri);
  else
    g_debug ("Blocked a navigation to %s", uri);

  webkit_policy_decision_ignore (decision);
  return TRUE;
}

static gboolean
context_menu_cb (WebKitWebView       *view,
                 WebKitContextMenu   *menu,
                 WebKitHitTestResult *hit,
                 gpointer             user_data)
{
  static const WebKitContextMenuAction allowed[] = {
    WEBKIT_CONTEXT_MENU_ACTION_COPY,
    WEBKIT_CONTEXT_MENU_ACTION_COPY_LINK_TO_CLIPBOARD,
    WEBKIT_CONTEXT_MENU_ACTION_COPY_IMAGE_TO_CLIPBOARD,
    WEBKIT_CONTEXT_MENU_ACTION_SELECT_ALL,
  };
  GList *items = g_list_copy (webkit_context_menu_get_items (menu));

  /* Keep copying; drop everything that would navigate, reload, download or inspect. */
  for (GList *l = items; l != NULL; l = l->next)
    {
      WebKitContextMenuItem *item = l->data;
      WebKitContextMenuAction action = webkit_context_menu_item_get_stock_action (item);
      gboolean keep = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
        keep |= action == allowed[i];
      if (!keep)
        webkit_context_menu_remove (menu, item);
    }
  g_list_free (items);

  return webkit_context_menu_get_n_items (menu) == 0;  /* TRUE: no menu at all */
}

static gboolean
permission_request_cb (WebKitWebView           *view,
                       WebKitPermissionRequest *request,
                       gpointer                 user_data)
{
  webkit_permission_request_deny (request);
  return TRUE;
}

static void
td_web_view_finalize (GObject *object)
{
  TdWebView *self = TD_WEB_VIEW (object);

  g_clear_object (&self->message);

  G_OBJECT_CLASS (td_web_view_parent_class)->finalize (object);
}

static void
td_web_view_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TdWebView *self = TD_WEB_VIEW (object);

  switch (prop_id)
    {
    case PROP_ALLOW_REMOTE:
      g_value_set_boolean (value, self->allow_remote);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_web_view_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  TdWebView *self = TD_WEB_VIEW (object);

  switch (prop_id)
    {
    case PROP_ALLOW_REMOTE:
      self->allow_remote = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_web_view_class_init (TdWebViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WebKitWebViewClass *view_class = WEBKIT_WEB_VIEW_CLASS (klass);

  object_class->finalize = td_web_view_finalize;
  object_class->get_property = td_web_view_get_property;
  object_class->set_property = td_web_view_set_property;

  view_class->decide_policy = td_web_view_decide_policy;

  properties[PROP_ALLOW_REMOTE] =
    g_param_spec_boolean ("allow-remote", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_web_view_init (TdWebView *self)
{
  g_signal_connect (self, "context-menu", G_CALLBACK (context_menu_cb), NULL);
  g_signal_connect (self, "permission-request", G_CALLBACK (permission_request_cb), NULL);
}

GtkWidget *
td_web_view_new (gboolean allow_remote)
{
  g_autoptr(WebKitSettings) settings = new_settings ();

  return g_object_new (TD_TYPE_WEB_VIEW,
                       "web-context", get_web_context (),
                       "network-session", get_network_session (),
                       "settings", settings,
                       "default-content-security-policy", td_web_view_get_policy (allow_remote),
                       "allow-remote", allow_remote,
                       "hexpand", TRUE,
                       "vexpand", TRUE,
                       NULL);
}

gboolean
td_web_view_get_allow_remote (TdWebView *self)
{
  g_return_val_if_fail (TD_IS_WEB_VIEW (self), FALSE);
  return self->allow_remote;
}

void
td_web_view_load_message (TdWebView     *self,
                          TdMimeMessage *message)
{
  g_autofree char *html = NULL;

  g_return_if_fail (TD_IS_WEB_VIEW (self));
  g_return_if_fail (TD_IS_MIME_MESSAGE (message));

  g_set_object (&self->message, message);
  html = td_web_view_wrap_html (td_mime_message_get_html (message), self->allow_remote);
  webkit_web_view_load_html (WEBKIT_WEB_VIEW (self), html, NULL);
}
