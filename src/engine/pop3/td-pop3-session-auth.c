/* td-pop3-session-auth.c: logging in to a POP3 server
 *
 * USER and PASS, APOP (RFC 1939) and AUTH PLAIN (RFC 5034), never over a connection that is
 * not TLS; once logged in, CAPA again (RFC 2449 3).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-pop3"

#include "config.h"

#include "td-pop3-session.h"
#include "td-pop3-session-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

/* RFC 2449 4: a command line is at most 255 octets, its CRLF included */
#define COMMAND_LINE_MAX  255

/* ------------------------------------------------------------------------------------------ */
/* USER and PASS */

static void
login_capa_done (TdPop3Session     *self,
                 Command           *cmd,
                 const TdPop3Event *status)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

  /* the capabilities of the TRANSACTION state; without a good answer the old ones stay */
  if (status->ok && cmd->error == NULL)
    _td_pop3_session_take_capabilities (self, cmd, status);
  if (task != NULL)
    _td_pop3_session_task_return_boolean (task, TRUE);
}

/* The server refused USER, PASS, APOP or AUTH: not logged in. */
static void
login_refused (TdPop3Session     *self,
               GTask             *task,
               const TdPop3Event *status)
{
  if (self->state == ST_AUTHENTICATING)
    self->state = ST_AUTHORIZATION;
  if (task != NULL)
    _td_pop3_session_task_return_error (task, _td_pop3_session_refused_error (status,
                                                                              TD_ERROR_AUTH,
                                                                              _("log in")));
}

/* The answer to PASS, APOP or AUTH. */
static void
login_answer (TdPop3Session     *self,
              Command           *cmd,
              const TdPop3Event *status)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);

  if (!status->ok)
    {
      login_refused (self, task, status);
      return;
    }

  if (self->state == ST_AUTHENTICATING)
    self->state = ST_TRANSACTION;
  if (task == NULL)
    return;
  /* RFC 2449 3: the capabilities may change once logged in */
  if (self->capa_supported && self->state == ST_TRANSACTION)
    _td_pop3_session_queue (self, _td_pop3_session_capa_command_new (login_capa_done, task));
  else
    _td_pop3_session_task_return_boolean (task, TRUE);
}

static void
user_done (TdPop3Session     *self,
           Command           *cmd,
           const TdPop3Event *status)
{
  g_autoptr(GTask) task = _td_pop3_session_command_detach (cmd);
  g_autofree char *line = NULL;
  Command *pass;
  Op *op;

  if (!status->ok)
    {
      login_refused (self, task, status);
      return;
    }
  if (task == NULL || self->state != ST_AUTHENTICATING)
    {
      /* cancelled, or no longer logging in: no PASS */
      if (self->state == ST_AUTHENTICATING)
        self->state = ST_AUTHORIZATION;
      if (task != NULL)
        _td_pop3_session_task_return_error (task,
                                            _td_pop3_session_wrong_state_error (self,
                                                                                _("log in")));
      return;
    }

  op = _td_pop3_session_task_op (task);
  pass = _td_pop3_session_command_new (CMD_PASS, TD_POP3_EXPECT_STATUS, login_answer, task);
  pass->secret = TRUE;
  line = g_strconcat ("PASS ", op->password, NULL);
  _td_pop3_session_command_add_line (pass, line);
  _td_pop3_session_secure_clear (line, strlen (line));
  _td_pop3_session_queue (self, pass);
}

/* Refuses (through the task) what cannot be sent: credentials over plaintext, line breaks. */
static gboolean
check_credentials (TdPop3Session *self,
                   GTask         *task,
                   gboolean       no_spaces)
{
  Op *op = _td_pop3_session_task_op (task);

  if (self->connection != NULL && !td_connection_is_tls (self->connection))
    {
      _td_pop3_session_task_return_error (task, g_error_new_literal (TD_ERROR,
                                                                     TD_ERROR_TLS_REQUIRED,
                                                                     _("The connection is not "
                                                                       "encrypted, so the "
                                                                       "password was not sent. "
                                                                       "Check the security "
                                                                       "settings of the "
                                                                       "account.")));
      return FALSE;
    }
  if (strpbrk (op->username, "\r\n") != NULL || strpbrk (op->password, "\r\n") != NULL ||
      (no_spaces && strpbrk (op->username, " \t") != NULL))
    {
      _td_pop3_session_task_return_error (task, g_error_new_literal (TD_ERROR, TD_ERROR_INVALID,
                                                                     _("The user name or "
                                                                       "password contains a "
                                                                       "character that POP3 "
                                                                       "cannot send here. Check "
                                                                       "them in the account "
                                                                       "settings.")));
      return FALSE;
    }
  return TRUE;
}

void
_td_pop3_session_handle_login (TdPop3Session *self,
                               EventData     *data)
{
  Op *op = _td_pop3_session_task_op (data->task);
  g_autofree char *line = NULL;

  if (!check_credentials (self, data->task, FALSE))
    return;
  line = g_strconcat ("USER ", op->username, NULL);
  self->state = ST_AUTHENTICATING;
  _td_pop3_session_queue_line (self, CMD_USER, TD_POP3_EXPECT_STATUS, user_done, data->task,
                               line);
}

/* ------------------------------------------------------------------------------------------ */
/* APOP */

char *
td_pop3_apop_digest (const char *timestamp,
                     const char *secret)
{
  g_autoptr(GChecksum) md5 = NULL;

  g_return_val_if_fail (timestamp != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_checksum_update (md5, (const guchar *) timestamp, -1);
  g_checksum_update (md5, (const guchar *) secret, -1);
  return g_strdup (g_checksum_get_string (md5));
}

void
_td_pop3_session_handle_apop (TdPop3Session *self,
                              EventData     *data)
{
  Op *op = _td_pop3_session_task_op (data->task);
  g_autofree char *digest = NULL;
  g_autofree char *line = NULL;
  Command *cmd;

  if (self->timestamp == NULL)
    {
      _td_pop3_session_task_return_error (data->task,
                                          g_error_new_literal (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                                               _("The server does not offer APOP "
                                                                 "(its greeting has no "
                                                                 "timestamp). Log in with a "
                                                                 "password instead.")));
      return;
    }
  if (!check_credentials (self, data->task, TRUE))
    return;

  digest = td_pop3_apop_digest (self->timestamp, op->password);
  line = g_strdup_printf ("APOP %s %s", op->username, digest);
  cmd = _td_pop3_session_command_new (CMD_APOP, TD_POP3_EXPECT_STATUS, login_answer, data->task);
  cmd->secret = TRUE;
  _td_pop3_session_command_add_line (cmd, line);
  _td_pop3_session_secure_clear (digest, strlen (digest));
  _td_pop3_session_secure_clear (line, strlen (line));
  self->state = ST_AUTHENTICATING;
  _td_pop3_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* AUTH PLAIN */

static gboolean
has_word (const char *list,
          const char *word)
{
  g_auto(GStrv) words = g_strsplit_set (list, " \t", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], word) == 0)
      return TRUE;
  return FALSE;
}

void
_td_pop3_session_handle_auth (TdPop3Session *self,
                              EventData     *data)
{
  Op *op = _td_pop3_session_task_op (data->task);
  const char *mechanisms = self->caps != NULL ? g_hash_table_lookup (self->caps, "SASL") : NULL;
  gsize ulen, plen, len;
  g_autofree guint8 *raw = NULL;
  char *b64;
  g_autofree char *line = NULL;
  Command *cmd;

  if (self->capa_supported && (mechanisms == NULL || !has_word (mechanisms, "PLAIN")))
    {
      _td_pop3_session_task_return_error (data->task,
                                          g_error_new_literal (TD_ERROR, TD_ERROR_UNSUPPORTED,
                                                               _("The server does not offer AUTH "
                                                                 "PLAIN. Log in with USER and "
                                                                 "PASS instead.")));
      return;
    }
  if (!check_credentials (self, data->task, FALSE))
    return;

  /* RFC 4616: authzid NUL authcid NUL passwd, the authzid empty */
  ulen = strlen (op->username);
  plen = strlen (op->password);
  len = ulen + plen + 2;
  raw = g_malloc (len);
  raw[0] = '\0';
  memcpy (raw + 1, op->username, ulen);
  raw[1 + ulen] = '\0';
  memcpy (raw + 2 + ulen, op->password, plen);
  b64 = g_base64_encode (raw, len);
  _td_pop3_session_secure_clear (raw, len);

  cmd = _td_pop3_session_command_new (CMD_AUTH, TD_POP3_EXPECT_SASL, login_answer, data->task);
  cmd->secret = TRUE;
  line = g_strconcat ("AUTH PLAIN ", b64, NULL);
  /* RFC 5034 4: the initial response on the line, unless that makes it too long */
  if (strlen (line) + 2 <= COMMAND_LINE_MAX)
    _td_pop3_session_command_add_line (cmd, line);
  else
    {
      _td_pop3_session_command_add_line (cmd, "AUTH PLAIN");
      _td_pop3_session_command_add_line (cmd, b64);
    }
  _td_pop3_session_secure_clear (line, strlen (line));
  _td_pop3_session_secure_free (b64);
  self->state = ST_AUTHENTICATING;
  _td_pop3_session_queue (self, cmd);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API */

static void
login_operation (TdPop3Session       *self,
                 Event                event,
                 gpointer             source_tag,
                 const char          *username,
                 const char          *password,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = _td_pop3_session_op_task_new (self, source_tag, cancellable, callback,
                                                        user_data);
  Op *op = _td_pop3_session_task_op (task);

  op->username = g_strdup (username);
  op->password = g_strdup (password);
  _td_pop3_session_run_operation (self, event, task);
}

void
td_pop3_session_login_async (TdPop3Session       *self,
                             const char          *username,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_LOGIN, td_pop3_session_login_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_login_finish (TdPop3Session  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_apop_async (TdPop3Session       *self,
                            const char          *username,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_APOP, td_pop3_session_apop_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_apop_finish (TdPop3Session  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
td_pop3_session_auth_plain_async (TdPop3Session       *self,
                                  const char          *username,
                                  const char          *password,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (TD_IS_POP3_SESSION (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  login_operation (self, EV_AUTH, td_pop3_session_auth_plain_async, username, password,
                   cancellable, callback, user_data);
}

gboolean
td_pop3_session_auth_plain_finish (TdPop3Session  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
