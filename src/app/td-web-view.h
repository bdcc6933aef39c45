/* td-web-view.h: a WebKitWebView that shows one HTML mail safely
 *
 * JavaScript off (also in markup), no plugins, no storage, an ephemeral network session,
 * and a Content-Security-Policy both as the view's default policy and as a <meta> in the
 * loaded document: only cid: and data: images load, unless the view was made with
 * @allow_remote, which also allows http: and https: images. Links open in the browser,
 * never in the view; cid: URLs are answered from the message's own parts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <webkit/webkit.h>

#include "td-mime.h"

G_BEGIN_DECLS

#define TD_TYPE_WEB_VIEW (td_web_view_get_type ())

G_DECLARE_FINAL_TYPE (TdWebView, td_web_view, TD, WEB_VIEW, WebKitWebView)

/* The default-content-security-policy is construct-only: a view is either blocked or
 * allowing remote images for its whole life. */
GtkWidget  *td_web_view_new              (gboolean       allow_remote);
gboolean    td_web_view_get_allow_remote (TdWebView     *self);
/* Loads the HTML part of @message (which answers the view's cid: requests). */
void        td_web_view_load_message     (TdWebView     *self,
                                          TdMimeMessage *message);
/* The policy a view uses, and @html with that policy prepended as a <meta> (exposed for
 * tests). */
const char *td_web_view_get_policy       (gboolean       allow_remote);
char       *td_web_view_wrap_html        (const char    *html,
                                          gboolean       allow_remote);

G_END_DECLS
