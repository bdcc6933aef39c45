/* td-cli-send.c: tidings-cli's sending: `send`, `outbox`, and the SMTP defaults of `account add`
 *
 * `send` builds the message (td-mime-compose.h), puts it in the outbox and, unless --offline,
 * runs the sender for its account at once; a message the server could not take now stays in
 * the outbox for `outbox --send`. `outbox` lists what waits or failed, and why.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-cli"

#include "config.h"

#include "td-cli-send.h"

#include "td-cli-private.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "td-error.h"
#include "td-mime-compose.h"
#include "td-sender.h"
#include "td-store-outbox.h"

char *
td_cli_guess_smtp_host (const char *host)
{
  static const char * const incoming[] = { "imap.", "imaps.", "pop3.", "pop.", "pop3s." };

  g_return_val_if_fail (host != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (incoming); i++)
    if (g_ascii_strncasecmp (host, incoming[i], strlen (incoming[i])) == 0 &&
        host[strlen (incoming[i])] != '\0')
      return g_strconcat ("smtp.", host + strlen (incoming[i]), NULL);
  return g_strdup (host);
}


/* --- SMTP options of account add and account set --- */

struct _TdCliSmtpOptions
{
  char     *host;
  int       port;
  char     *security;
  char     *user;
  int       saved;     /* -1: not given */
  gboolean  password_stdin;
};

TdCliSmtpOptions *
td_cli_smtp_options_new (void)
{
  TdCliSmtpOptions *options = g_new0 (TdCliSmtpOptions, 1);

  options->port = -1;
  options->saved = -1;
  return options;
}

void
td_cli_smtp_options_free (TdCliSmtpOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->host);
  g_free (options->security);
  g_free (options->user);
  g_free (options);
}

static gboolean
parse_saved (const char  *name,
             const char  *value,
             gpointer     data,
             GError     **error)
{
  TdCliSmtpOptions *options = data;

  if (value == NULL || g_strcmp0 (value, "yes") == 0)
    options->saved = 1;
  else if (g_strcmp0 (value, "no") == 0)
    options->saved = 0;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--sent-saved-by-server takes “yes” or “no”"));
      return FALSE;
    }
  return TRUE;
}

GOptionGroup *
td_cli_smtp_options_group (TdCliSmtpOptions *options)
{
  GOptionEntry entries[] = {
    { "smtp-host", 0, 0, G_OPTION_ARG_STRING, &options->host, N_("SMTP server for sending (default: the host with “smtp.” for “imap.” or “pop.”)"), "H" },
    { "smtp-port", 0, 0, G_OPTION_ARG_INT, &options->port, N_("SMTP port (default 587 for starttls, 465 for tls)"), "N" },
    { "smtp-security", 0, 0, G_OPTION_ARG_STRING, &options->security, N_("starttls (default) or tls"), "S" },
    { "smtp-user", 0, 0, G_OPTION_ARG_STRING, &options->user, N_("SMTP user name (default: the incoming one)"), "U" },
    { "smtp-username", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &options->user, NULL, "U" },
    { "smtp-password-stdin", 0, 0, G_OPTION_ARG_NONE, &options->password_stdin, N_("Read an SMTP password of its own from standard input (after the incoming one when adding); without it the incoming password is used"), NULL },
    { "sent-saved-by-server", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_saved, N_("The SMTP server saves sent mail in Sent itself (no copy is saved)"), "yes|no" },
    { NULL }
  };
  GOptionGroup *group = g_option_group_new ("smtp", _("Sending:"),
                                            _("Show the options for sending"),
                                            options, NULL);

  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  return group;
}

gboolean
td_cli_smtp_options_given (TdCliSmtpOptions *options)
{
  return options->host != NULL || options->port != -1 || options->security != NULL ||
         options->user != NULL || options->saved != -1 || options->password_stdin;
}

gboolean
td_cli_smtp_options_store_password (TdCliSmtpOptions *options,
                                    TdAccountManager *manager,
                                    TdAccount        *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GString *line;
  char *password;
  int c;

  if (!options->password_stdin)
    return TRUE;
  line = g_string_new (NULL);
  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (line, (char) c);
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  password = g_string_free (line, FALSE);
  if (*password == '\0')
    {
      td_credentials_free_password (password);
      g_printerr (_("tidings-cli: The SMTP password is empty; the incoming one is used.\n"));
      return FALSE;
    }
  td_credentials_store_for_async (td_account_manager_get_credentials (manager), account,
                                  TD_CREDENTIALS_SMTP, password, NULL, td_cli_store_result_cb, &result);
  td_credentials_free_password (password);
  if (!td_credentials_store_finish (td_account_manager_get_credentials (manager),
                                    td_cli_wait_result (&result), &error))
    {
      g_printerr ("tidings-cli: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
td_cli_smtp_options_apply (TdCliSmtpOptions *options,
                           TdAccount        *account,
                           gboolean          adding)
{
  TdSecurity security = adding ? TD_SECURITY_STARTTLS : td_account_get_smtp_security (account);
  g_autofree char *host = NULL;
  guint16 port;

  if (options->security != NULL && !td_security_from_string (options->security, &security))
    {
      td_cli_usage_error (_("--smtp-security must be “tls” or “starttls”"));
      return FALSE;
    }
  if (options->port < -1 || options->port > 65535)
    {
      td_cli_usage_error (_("--smtp-port must be between 1 and 65535"));
      return FALSE;
    }
  if (options->host != NULL)
    host = g_strdup (options->host);
  else if (adding || td_account_get_smtp_host (account) == NULL)
    host = td_cli_guess_smtp_host (td_account_get_host (account));
  else
    host = g_strdup (td_account_get_smtp_host (account));
  /* 0: the port of the security; a new security without a port gets its port */
  if (options->port != -1)
    port = (guint16) options->port;
  else if (adding || options->security != NULL)
    port = 0;
  else
    port = td_account_get_smtp_port (account);

  td_account_set_smtp (account, host, port, security,
                       options->user != NULL ? options->user :
                       adding ? NULL : td_account_get_smtp_username (account));
  if (options->saved != -1)
    td_account_set_sent_saved_by_server (account, options->saved == 1);
  return TRUE;
}

/* --- helpers --- */

static char *
read_stdin (void)
{
  GString *text = g_string_new (NULL);
  char buffer[4096];
  size_t n;

  while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
    g_string_append_len (text, buffer, (gssize) n);
  return g_string_free (text, FALSE);
}

/* The raw message of row @id, fetched from the server when it is not stored yet. */
static GBytes *
original_message (TdCli   *ctx,
                  gint64   id,
                  GError **error)
{
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GAsyncResult) r3 = NULL;
  g_autoptr(GError) local = NULL;
  GBytes *raw;

  td_store_get_body_async (ctx->store, id, NULL, td_cli_store_result_cb, &r1);
  raw = td_store_get_body_finish (ctx->store, td_cli_wait_result (&r1), &local);
  if (raw != NULL || !g_error_matches (local, TD_ERROR, TD_ERROR_NOT_FOUND) || ctx->offline)
    {
      if (raw == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return raw;
    }
  td_account_manager_fetch_body_async (ctx->manager, id, NULL, td_cli_store_result_cb, &r2);
  if (!td_account_manager_fetch_body_finish (ctx->manager, td_cli_wait_result (&r2), error))
    return NULL;
  td_store_get_body_async (ctx->store, id, NULL, td_cli_store_result_cb, &r3);
  return td_store_get_body_finish (ctx->store, td_cli_wait_result (&r3), error);
}

static void
progress_cb (TdSender   *sender,
             const char *what,
             gpointer    user_data)
{
  g_printerr ("%s\n", what);
}

static void
after_send_failed_cb (TdSender     *sender,
                      gint64        id,
                      const GError *error,
                      gpointer      user_data)
{
  g_printerr (_("tidings-cli: %s (it is tried again by “tidings-cli outbox --send”)\n"),
              error->message);
}

/* Runs the sender for @account; FALSE when the store failed. */
static gboolean
run_sender (TdCli     *ctx,
            TdAccount *account,
            gboolean   force)
{
  g_autoptr(TdSender) sender = td_sender_new (ctx->store,
                                              td_account_manager_get_credentials (ctx->manager));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (sender, "progress", G_CALLBACK (progress_cb), NULL);
  g_signal_connect (sender, "after-send-failed", G_CALLBACK (after_send_failed_cb), NULL);
  td_sender_run_async (sender, account, force, NULL, td_cli_store_result_cb, &result);
  if (!td_sender_run_finish (sender, td_cli_wait_result (&result), NULL, NULL, &error))
    {
      g_printerr (_("tidings-cli: The outbox could not be read: %s\n"), error->message);
      return FALSE;
    }
  return TRUE;
}

static GPtrArray *
list_outbox (TdCli  *ctx,
             gint64  account_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  td_store_outbox_list_async (ctx->store, account_id, FALSE, NULL, td_cli_store_result_cb, &result);
  items = td_store_outbox_list_finish (ctx->store, td_cli_wait_result (&result), &error);
  if (items == NULL)
    g_printerr (_("tidings-cli: The outbox could not be read: %s\n"), error->message);
  return items;
}

static TdOutboxItem *
find_item (GPtrArray *items,
           gint64     id)
{
  for (guint i = 0; items != NULL && i < items->len; i++)
    if (((TdOutboxItem *) g_ptr_array_index (items, i))->id == id)
      return g_ptr_array_index (items, i);
  return NULL;
}

/* Sends the journal (the original's new flag) to an IMAP server now; later when it cannot. */
static void
send_flag_change (TdCli     *ctx,
                  TdAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (ctx->offline || td_account_get_kind (account) != TD_ACCOUNT_KIND_IMAP)
    return;
  td_account_manager_send_changes_async (ctx->manager, account, NULL, td_cli_store_result_cb,
                                         &result);
  if (!td_account_manager_send_changes_finish (ctx->manager, td_cli_wait_result (&result), &error))
    g_printerr (_("tidings-cli: The original is marked here; the server learns it with the "
                  "next sync (%s).\n"), error->message);
}

/* --- send --- */

static gboolean
add_recipients (TdMimeCompose        *compose,
                TdMimeRecipientKind   kind,
                char                **lists)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; lists != NULL && lists[i] != NULL; i++)
    if (!td_mime_compose_add_recipients (compose, kind, lists[i], &error))
      {
        td_cli_usage_error (error->message);
        return FALSE;
      }
  return TRUE;
}

static gboolean
add_attachments (TdMimeCompose  *compose,
                 char          **files)
{
  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      g_autofree char *name = g_path_get_basename (files[i]);
      gsize len;

      if (!g_file_get_contents (files[i], &contents, &len, &error))
        {
          g_printerr (_("tidings-cli: Could not attach %s: %s\n"), files[i], error->message);
          return FALSE;
        }
      {
        g_autoptr(GBytes) data = g_bytes_new_take (g_steal_pointer (&contents), len);

        td_mime_compose_add_attachment (compose, name, NULL, data);
      }
    }
  return TRUE;
}

int
td_cli_send (TdCli  *ctx,
             int     argc,
             char  **argv)
{
  g_autofree char *account_name = NULL;
  g_autofree char *subject = NULL;
  g_auto(GStrv) to = NULL;
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) bcc = NULL;
  g_auto(GStrv) attach = NULL;
  gint64 reply_to = 0;
  gint64 forward = 0;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_name, N_("The account to send from"), "A" },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, N_("A recipient (more than once for more)"), "X" },
    { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cc, N_("A copy to"), "Y" },
    { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bcc, N_("A blind copy to (not shown to the others)"), "Z" },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, N_("The subject"), "S" },
    { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &attach, N_("Attach a file (more than once for more)"), "FILE" },
    { "reply-to-message", 0, 0, G_OPTION_ARG_INT64, &reply_to, N_("Reply to this message (an id as “ls” prints it)"), "ID" },
    { "forward-message", 0, 0, G_OPTION_ARG_INT64, &forward, N_("Forward this message as an attachment"), "ID" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("< body"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TdMimeCompose) compose = td_mime_compose_new ();
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(TdOutboxItem) item = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_auto(GStrv) recipients = NULL;
  g_autofree char *body = NULL;
  TdOutboxItem *row;
  TdAccount *account;
  const char *name;
  gint64 id;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return td_cli_usage_error (error->message);
  if (argc != 1)
    return td_cli_usage_error (_("Usage: send --account A --to X [--cc Y] [--bcc Z] --subject S "
                          "[--attach FILE]… [--reply-to-message ID] < body"));
  if (reply_to != 0 && forward != 0)
    return td_cli_usage_error (_("Choose one of --reply-to-message and --forward-message"));
  if (to == NULL && cc == NULL && bcc == NULL && reply_to == 0)
    return td_cli_usage_error (_("Say who gets the message with --to, --cc or --bcc"));
  if (subject == NULL && reply_to == 0 && forward == 0)
    return td_cli_usage_error (_("Give the message a subject with --subject"));

  if ((account = td_cli_find_account (ctx, account_name)) == NULL)
    return 1;
  if (td_account_get_smtp_host (account) == NULL)
    {
      g_printerr (_("tidings-cli: The account %s has no outgoing (SMTP) server. Add the account "
                    "again with --smtp-host.\n"), td_account_get_address (account));
      return 1;
    }

  name = td_account_get_name (account);
  if (!td_mime_compose_set_from (compose,
                                 g_strcmp0 (name, td_account_get_address (account)) != 0 ? name
                                                                                         : NULL,
                                 td_account_get_address (account), &error))
    {
      g_printerr ("tidings-cli: %s\n", error->message);
      return 1;
    }
  if (!add_recipients (compose, TD_MIME_TO, to) || !add_recipients (compose, TD_MIME_CC, cc) ||
      !add_recipients (compose, TD_MIME_BCC, bcc))
    return 2;
  if (subject != NULL)
    td_mime_compose_set_subject (compose, subject);
  if (reply_to != 0 || forward != 0)
    {
      g_autoptr(GBytes) original = original_message (ctx, reply_to != 0 ? reply_to : forward,
                                                     &error);

      if (original == NULL)
        {
          g_printerr (_("tidings-cli: Could not read message %" G_GINT64_FORMAT ": %s\n"),
                      reply_to != 0 ? reply_to : forward, error->message);
          return 1;
        }
      if (reply_to != 0 ? !td_mime_compose_set_reply_to (compose, original, &error)
                        : !td_mime_compose_set_forward_of (compose, original, &error))
        {
          g_printerr ("tidings-cli: %s\n", error->message);
          return 1;
        }
    }
  if (!add_attachments (compose, attach))
    return 1;
  body = read_stdin ();
  td_mime_compose_set_body (compose, body);

  raw = td_mime_compose_build (compose, &error);
  if (raw == NULL)
    return td_cli_usage_error (error->message);

  recipients = td_mime_compose_get_recipients (compose);
  item = td_outbox_item_new (td_account_get_id (account),
                             td_mime_compose_get_from_address (compose),
                             (const char * const *) recipients, raw);
  item->subject = g_strdup (td_mime_compose_get_subject (compose));
  item->message_id_header = g_strdup (td_mime_compose_get_message_id (compose));
  item->original_id = reply_to != 0 ? reply_to : forward;
  item->original_kind = reply_to != 0 ? TD_OUTBOX_ORIGINAL_REPLY :
                        forward != 0 ? TD_OUTBOX_ORIGINAL_FORWARD : TD_OUTBOX_ORIGINAL_NONE;
  td_store_outbox_add_async (ctx->store, item, NULL, td_cli_store_result_cb, &result);
  id = td_store_outbox_add_finish (ctx->store, td_cli_wait_result (&result), &error);
  if (id == 0)
    {
      g_printerr (_("tidings-cli: Could not put the message in the outbox: %s\n"),
                  error->message);
      return 1;
    }
  g_print ("%" G_GINT64_FORMAT "\n", id);

  if (ctx->offline)
    {
      g_printerr (_("The message waits in the outbox; send it with “tidings-cli outbox "
                    "--send”.\n"));
      return 0;
    }
  if (!run_sender (ctx, account, FALSE))
    return 1;

  after = list_outbox (ctx, td_account_get_id (account));
  if (after == NULL)
    return 1;
  row = find_item (after, id);
  if (row == NULL || row->state == TD_OUTBOX_SENT)
    {
      g_printerr ("%s\n", _("Sent."));
      if (row != NULL && row->last_error != NULL)
        g_printerr ("%s\n", row->last_error);   /* who did not get it */
      if (item->original_kind != TD_OUTBOX_ORIGINAL_NONE)
        send_flag_change (ctx, account);
      return 0;
    }
  if (row->state == TD_OUTBOX_FAILED)
    {
      g_printerr (_("tidings-cli: The message was not sent: %s\n"),
                  row->last_error != NULL ? row->last_error : "");
      g_printerr (_("It stays in the outbox; fix the problem, then “tidings-cli outbox --retry "
                    "%" G_GINT64_FORMAT "”, or remove it with “--remove %" G_GINT64_FORMAT
                    "”.\n"), id, id);
      return 1;
    }
  g_printerr (_("tidings-cli: The message could not be sent now: %s\n"),
              row->last_error != NULL ? row->last_error : "");
  g_printerr (_("It waits in the outbox and is sent by “tidings-cli outbox --send”.\n"));
  return 1;
}

/* --- outbox --- */

static void
print_item (TdOutboxItem *item)
{
  g_autofree char *to = g_strjoinv (", ", item->recipients);

  g_print ("%" G_GINT64_FORMAT "\t%s\t%u\t%s\t%s\n", item->id,
           td_outbox_state_to_string (item->state), item->attempts,
           item->subject != NULL ? item->subject : "", to);
  if (item->last_error != NULL)
    g_print ("\t%s\n", item->last_error);
}

int
td_cli_outbox (TdCli  *ctx,
               int     argc,
               char  **argv)
{
  g_autofree char *account_name = NULL;
  gboolean send = FALSE;
  gint64 retry = 0;
  gint64 remove = 0;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_name, N_("Only this account"), "A" },
    { "send", 0, 0, G_OPTION_ARG_NONE, &send, N_("Send what waits now"), NULL },
    { "retry", 0, 0, G_OPTION_ARG_INT64, &retry, N_("Send a failed message again"), "ID" },
    { "remove", 0, 0, G_OPTION_ARG_INT64, &remove, N_("Remove a message that was not sent"), "ID" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  TdAccount *only = NULL;
  GListModel *accounts;
  int status = 0;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return td_cli_usage_error (error->message);
  if (argc != 1)
    return td_cli_usage_error (_("Usage: outbox [--account A] [--send] [--retry ID] [--remove ID]"));
  if (account_name != NULL && (only = td_cli_find_account (ctx, account_name)) == NULL)
    return 1;

  if (remove != 0 || retry != 0)
    {
      g_autoptr(GAsyncResult) result = NULL;

      if (remove != 0)
        td_store_outbox_remove_async (ctx->store, remove, NULL, td_cli_store_result_cb, &result);
      else
        td_store_outbox_retry_async (ctx->store, retry, NULL, td_cli_store_result_cb, &result);
      if (!td_store_outbox_op_finish (ctx->store, td_cli_wait_result (&result), &error))
        {
          g_printerr ("tidings-cli: %s\n", error->message);
          return 1;
        }
      send = send || retry != 0;
    }

  if (send && ctx->offline)
    g_printerr (_("tidings-cli: --offline: nothing is sent.\n"));
  else if (send)
    {
      accounts = td_account_manager_get_accounts (ctx->manager);
      for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
        {
          g_autoptr(TdAccount) account = g_list_model_get_item (accounts, i);

          if (only != NULL && account != only)
            continue;
          if (!run_sender (ctx, account, TRUE))
            return 1;
          /* the flags of originals answered or forwarded */
          if (td_store_count_journal (ctx->store, td_account_get_id (account)) > 0)
            send_flag_change (ctx, account);
        }
    }

  items = list_outbox (ctx, only != NULL ? td_account_get_id (only) : 0);
  if (items == NULL)
    return 1;
  for (guint i = 0; i < items->len; i++)
    {
      TdOutboxItem *item = g_ptr_array_index (items, i);

      print_item (item);
      if (send && item->state != TD_OUTBOX_SENT)
        status = 1;   /* asked to send, and something did not go */
    }
  if (items->len == 0)
    g_printerr ("%s\n", _("The outbox is empty."));
  return status;
}
