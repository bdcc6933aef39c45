/* td-discovery-probe.c: guessed host names, probed with a real CAPABILITY, CAPA or EHLO
 *
 * imap., mail. and the domain for IMAP; pop., pop3., mail. and the domain for POP3; smtp.,
 * mail. and the domain for SMTP; each on its implicit-TLS port and its STARTTLS port, all at
 * once. IMAP and POP3 are probed by their sessions' connect (greeting, capabilities and, on
 * the STARTTLS port, the upgrade); SMTP by a small EHLO exchange here. No command beyond that
 * is sent, and never a password.
 *
 * What a probe finds: the protocol answered (probed = TRUE) over TLS or STARTTLS; on the
 * STARTTLS port a server without STARTTLS (PLAIN: flagged, never chosen); or a certificate
 * that does not verify (the candidate carries it, so the user can be asked to trust it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-discovery"

#include "config.h"

#include "td-discovery-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"
#include "td-imap-session.h"
#include "td-pop3-session.h"

#define SMTP_MAX_REPLY   16384
#define SMTP_READ_CHUNK  4096

static const struct
{
  TdServerProtocol  protocol;
  const char       *prefix;
} hosts[] = {
  { TD_SERVER_PROTOCOL_IMAP, "imap." },
  { TD_SERVER_PROTOCOL_IMAP, "mail." },
  { TD_SERVER_PROTOCOL_IMAP, "" },
  { TD_SERVER_PROTOCOL_POP3, "pop." },
  { TD_SERVER_PROTOCOL_POP3, "pop3." },
  { TD_SERVER_PROTOCOL_POP3, "mail." },
  { TD_SERVER_PROTOCOL_POP3, "" },
  { TD_SERVER_PROTOCOL_SMTP, "smtp." },
  { TD_SERVER_PROTOCOL_SMTP, "mail." },
  { TD_SERVER_PROTOCOL_SMTP, "" },
};

typedef struct _Probe Probe;

typedef enum
{
  SMTP_GREETING,
  SMTP_EHLO,
  SMTP_STARTTLS,
  SMTP_EHLO_TLS,
} SmtpStep;

typedef struct
{
  Probe              *probe;
  guint               index;
  TdServerProtocol    protocol;
  char               *host;
  guint16             port;
  TdSecurity          security;
  TdConnection       *connection;
  TdImapSession      *imap;
  TdPop3Session      *pop3;
  /* SMTP */
  SmtpStep            smtp_step;
  GByteArray         *reply;
  guint8              chunk[SMTP_READ_CHUNK];
} Job;

struct _Probe
{
  TdDiscovery  *discovery;
  GCancellable *cancellable;
  GPtrArray    *jobs;        /* Job* */
  GPtrArray    *results;     /* TdServerCandidate* or NULL, by job index */
  guint         pending;
};

static void
job_free (gpointer data)
{
  Job *job = data;

  if (job->imap != NULL)
    td_imap_session_close (job->imap);
  if (job->pop3 != NULL)
    td_pop3_session_close (job->pop3);
  g_clear_object (&job->imap);
  g_clear_object (&job->pop3);
  if (job->connection != NULL)
    td_connection_close (job->connection);
  g_clear_object (&job->connection);
  g_clear_pointer (&job->reply, g_byte_array_unref);
  g_free (job->host);
  g_free (job);
}

static void
probe_finish (Probe *probe)
{
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);

  for (guint i = 0; i < probe->results->len; i++)
    {
      TdServerCandidate *c = g_ptr_array_index (probe->results, i);

      if (c != NULL)
        g_ptr_array_add (found, td_server_candidate_copy (c));
    }
  _td_discovery_source_done (probe->discovery, TD_DISCOVERY_SOURCE_PROBE, found,
                             TD_DISCOVERY_STATE_FAILED, NULL);

  g_ptr_array_unref (probe->jobs);
  g_ptr_array_unref (probe->results);
  g_object_unref (probe->cancellable);
  g_object_unref (probe->discovery);
  g_free (probe);
}

static const char *
protocol_name (TdServerProtocol protocol)
{
  switch (protocol)
    {
    case TD_SERVER_PROTOCOL_IMAP:
      return "IMAP";
    case TD_SERVER_PROTOCOL_POP3:
      return "POP3";
    case TD_SERVER_PROTOCOL_SMTP:
    default:
      return "SMTP";
    }
}

/* The probe of @job is over: @error NULL when the protocol answered (over TLS, or upgraded
 * with STARTTLS). Closes the connection; the last job ends the source. */
static void
job_done (Job    *job,
          GError *error)
{
  Probe *probe = job->probe;
  g_autoptr(GError) owned = error;
  TdServerCandidate *candidate = NULL;
  TdCandidateSecurity security = job->security == TD_SECURITY_TLS ? TD_CANDIDATE_SECURITY_TLS
                                                                  : TD_CANDIDATE_SECURITY_STARTTLS;
  g_autofree char *origin = g_strdup_printf ("%s:%u", job->host, job->port);
  const TdCertificateInfo *info = td_connection_get_certificate_info (job->connection);
  gboolean answered = FALSE;

  if (error == NULL)
    answered = TRUE;
  else if (g_error_matches (error, TD_ERROR, TD_ERROR_TLS_REQUIRED))
    {
      /* it answered, but will not encrypt: listed as insecure, never chosen */
      answered = TRUE;
      security = TD_CANDIDATE_SECURITY_PLAIN;
    }

  if (answered || g_error_matches (error, TD_ERROR, TD_ERROR_CERTIFICATE))
    {
      g_autofree char *detail = NULL;

      candidate = _td_server_candidate_new (job->protocol, job->host, job->port, security,
                                            td_discovery_get_address (probe->discovery),
                                            TD_DISCOVERY_SOURCE_PROBE, origin);
      /* on the STARTTLS port the protocol answered before the certificate was seen */
      candidate->probed = answered || job->security == TD_SECURITY_STARTTLS;
      if (info != NULL && info->errors != 0)
        candidate->certificate = td_certificate_info_copy (info);

      if (security == TD_CANDIDATE_SECURITY_PLAIN)
        detail = g_strdup_printf (_("%s answers %s, but without encryption (insecure, not "
                                    "used)"), origin, protocol_name (job->protocol));
      else if (!answered)
        detail = g_strdup_printf (_("%s has a certificate that could not be verified "
                                    "(SHA-256 %s)"), origin,
                                  info != NULL && info->fingerprint != NULL ? info->fingerprint
                                                                            : _("unknown"));
      else
        detail = g_strdup_printf (_("%s answers %s over %s"), origin,
                                  protocol_name (job->protocol),
                                  job->security == TD_SECURITY_TLS ? _("TLS") : _("STARTTLS"));
      _td_discovery_report (probe->discovery, TD_DISCOVERY_SOURCE_PROBE,
                            TD_DISCOVERY_STATE_RUNNING, detail);
    }
  else
    g_debug ("Probe %s (%s): %s", origin, protocol_name (job->protocol), error->message);

  g_ptr_array_index (probe->results, job->index) = candidate;
  if (job->imap != NULL)
    td_imap_session_close (job->imap);
  if (job->pop3 != NULL)
    td_pop3_session_close (job->pop3);
  td_connection_close (job->connection);

  if (--probe->pending == 0)
    probe_finish (probe);
}

/* --- IMAP and POP3: the sessions' connect --- */

static void
imap_connected_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  td_imap_session_connect_finish (TD_IMAP_SESSION (source), result, &error);
  job_done (job, error);
}

static void
pop3_connected_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  td_pop3_session_connect_finish (TD_POP3_SESSION (source), result, &error);
  job_done (job, error);
}

/* --- SMTP: greeting, EHLO, STARTTLS, EHLO --- */

static void smtp_read (Job *job);

static void
smtp_written_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      job_done (job, td_connection_translate_error (job->connection, error));
      return;
    }
  smtp_read (job);
}

static void
smtp_send (Job        *job,
           const char *command)
{
  g_output_stream_write_all_async (td_connection_get_output_stream (job->connection), command,
                                   strlen (command), G_PRIORITY_DEFAULT,
                                   job->probe->cancellable, smtp_written_cb, job);
}

static void
smtp_tls_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  if (!td_connection_start_tls_finish (TD_CONNECTION (source), result, &error))
    {
      job_done (job, error);
      return;
    }
  job->smtp_step = SMTP_EHLO_TLS;
  smtp_send (job, "EHLO [127.0.0.1]\r\n");
}

/* The reply in job->reply is complete: its code and the text of its lines. */
static void
smtp_reply (Job        *job,
            guint       code,
            GPtrArray  *lines)
{
  gboolean starttls = FALSE;

  switch (job->smtp_step)
    {
    case SMTP_GREETING:
      if (code != 220)
        {
          job_done (job, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                      _("The server greeted with %u, not 220"), code));
          return;
        }
      job->smtp_step = SMTP_EHLO;
      smtp_send (job, "EHLO [127.0.0.1]\r\n");
      return;

    case SMTP_EHLO:
      if (code != 250)
        {
          job_done (job, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                      _("The server answered EHLO with %u"), code));
          return;
        }
      if (job->security == TD_SECURITY_TLS)
        {
          job_done (job, NULL);
          return;
        }
      for (guint i = 1; i < lines->len; i++)
        {
          const char *line = g_ptr_array_index (lines, i);

          if (g_ascii_strncasecmp (line, "STARTTLS", 8) == 0 &&
              (line[8] == '\0' || line[8] == ' '))
            starttls = TRUE;
        }
      if (!starttls)
        {
          job_done (job, g_error_new_literal (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                              _("The server does not offer STARTTLS")));
          return;
        }
      job->smtp_step = SMTP_STARTTLS;
      smtp_send (job, "STARTTLS\r\n");
      return;

    case SMTP_STARTTLS:
      if (code != 220)
        {
          job_done (job, g_error_new (TD_ERROR, TD_ERROR_TLS_REQUIRED,
                                      _("The server refused STARTTLS (%u)"), code));
          return;
        }
      td_connection_start_tls_async (job->connection, job->probe->cancellable, smtp_tls_cb, job);
      return;

    case SMTP_EHLO_TLS:
      if (code != 250)
        {
          job_done (job, g_error_new (TD_ERROR, TD_ERROR_PROTOCOL,
                                      _("The server answered EHLO with %u"), code));
          return;
        }
      job_done (job, NULL);
      return;

    default:
      g_assert_not_reached ();
    }
}

/* Parses job->reply when it holds a whole reply ("250-a" lines, then "250 b"); TRUE when it
 * was handled (jobs live until the whole probe ends, so @job is still valid after). */
static gboolean
smtp_try_reply (Job     *job,
                GError **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char *data = (const char *) job->reply->data;
  gsize len = job->reply->len;
  gsize start = 0;
  guint code = 0;

  for (gsize i = 0; i < len; i++)
    {
      g_autofree char *line = NULL;
      gsize end = i;

      if (data[i] != '\n')
        continue;
      if (end > start && data[end - 1] == '\r')
        end--;
      line = g_strndup (data + start, end - start);
      start = i + 1;

      if (strlen (line) < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
          !g_ascii_isdigit (line[2]) || (line[3] != '\0' && line[3] != ' ' && line[3] != '-'))
        {
          g_set_error_literal (error, TD_ERROR, TD_ERROR_PROTOCOL,
                               _("The server does not speak SMTP"));
          return FALSE;
        }
      code = (guint) ((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
      g_ptr_array_add (lines, g_strdup (line[3] != '\0' ? line + 4 : ""));
      if (line[3] != '-')
        {
          if (start != len)
            {
              /* nothing may come before our next command (and none before STARTTLS's TLS) */
              g_set_error_literal (error, TD_ERROR, TD_ERROR_PROTOCOL,
                                   _("The server sent more than was asked"));
              return FALSE;
            }
          g_byte_array_set_size (job->reply, 0);
          smtp_reply (job, code, lines);
          return TRUE;
        }
    }
  return FALSE;
}

static void
smtp_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0)
    {
      job_done (job, td_connection_translate_error (job->connection, error));
      return;
    }
  if (n == 0)
    {
      job_done (job, g_error_new_literal (TD_ERROR, TD_ERROR_CONNECTION,
                                          _("The server closed the connection")));
      return;
    }
  if (job->reply->len + (gsize) n > SMTP_MAX_REPLY)
    {
      job_done (job, g_error_new_literal (TD_ERROR, TD_ERROR_LIMIT,
                                          _("The server’s answer is too long")));
      return;
    }
  g_byte_array_append (job->reply, job->chunk, (guint) n);
  if (smtp_try_reply (job, &error))
    return;
  if (error != NULL)
    {
      job_done (job, error);
      return;
    }
  smtp_read (job);
}

static void
smtp_read (Job *job)
{
  g_input_stream_read_async (td_connection_get_input_stream (job->connection), job->chunk,
                             sizeof job->chunk, G_PRIORITY_DEFAULT, job->probe->cancellable,
                             smtp_read_cb, job);
}

static void
smtp_connected_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  if (!td_connection_connect_finish (TD_CONNECTION (source), result, &error))
    {
      job_done (job, error);
      return;
    }
  job->smtp_step = SMTP_GREETING;
  job->reply = g_byte_array_new ();
  smtp_read (job);
}

/* --- Starting --- */

static void
job_start (Job *job)
{
  TdDiscovery *self = job->probe->discovery;

  job->connection = td_connection_new (job->host, job->port, job->security);
  td_connection_set_timeout (job->connection, _td_discovery_get_probe_timeout (self));
  td_connection_set_pinned_fingerprint (job->connection, _td_discovery_get_pinned (self));

  switch (job->protocol)
    {
    case TD_SERVER_PROTOCOL_IMAP:
      job->imap = td_imap_session_new (job->connection);
      td_imap_session_connect_async (job->imap, job->probe->cancellable, imap_connected_cb, job);
      break;
    case TD_SERVER_PROTOCOL_POP3:
      job->pop3 = td_pop3_session_new (job->connection);
      td_pop3_session_connect_async (job->pop3, job->probe->cancellable, pop3_connected_cb, job);
      break;
    case TD_SERVER_PROTOCOL_SMTP:
    default:
      td_connection_connect_async (job->connection, job->probe->cancellable, smtp_connected_cb,
                                   job);
      break;
    }
}

void
_td_discovery_run_probe (TdDiscovery  *self,
                         GCancellable *cancellable)
{
  Probe *probe = g_new0 (Probe, 1);
  const char *domain = td_discovery_get_domain (self);

  probe->discovery = g_object_ref (self);
  probe->cancellable = g_object_ref (cancellable);
  probe->jobs = g_ptr_array_new_with_free_func (job_free);
  probe->results = g_ptr_array_new_with_free_func ((GDestroyNotify) td_server_candidate_free);

  for (guint h = 0; h < G_N_ELEMENTS (hosts); h++)
    for (int tls = 1; tls >= 0; tls--)
      {
        guint16 port = _td_discovery_get_probe_port (self, hosts[h].protocol, tls);
        Job *job;

        if (port == 0)
          continue;
        job = g_new0 (Job, 1);
        job->probe = probe;
        job->index = probe->jobs->len;
        job->protocol = hosts[h].protocol;
        job->host = g_strconcat (hosts[h].prefix, domain, NULL);
        job->port = port;
        job->security = tls ? TD_SECURITY_TLS : TD_SECURITY_STARTTLS;
        g_ptr_array_add (probe->jobs, job);
        g_ptr_array_add (probe->results, NULL);
      }

  probe->pending = probe->jobs->len;
  if (probe->pending == 0)
    {
      probe_finish (probe);
      return;
    }
  for (guint i = 0; i < probe->jobs->len; i++)
    job_start (g_ptr_array_index (probe->jobs, i));
}
