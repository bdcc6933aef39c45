/* td-smtp-parser.c: a push parser for SMTP replies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-smtp"

#include "config.h"

#include "td-smtp-parser.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

struct _TdSmtpParser
{
  GString     *line;      /* the line being read, without its end */
  TdSmtpReply *current;   /* the reply whose lines are being read */
  GQueue       done;      /* complete replies */
  gboolean     failed;
};

void
td_smtp_reply_free (TdSmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->enhanced);
  g_ptr_array_unref (reply->lines);
  g_free (reply);
}

char *
td_smtp_reply_text (const TdSmtpReply *reply)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (reply != NULL, NULL);

  for (guint i = 0; i < reply->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);

      /* the enhanced code is for programs; it starts each line when there is one */
      if (reply->enhanced != NULL && g_str_has_prefix (line, reply->enhanced))
        line += strlen (reply->enhanced);
      while (*line == ' ')
        line++;
      if (*line == '\0')
        continue;
      if (text->len > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, line);
    }
  return g_string_free (text, FALSE);
}

TdSmtpParser *
td_smtp_parser_new (void)
{
  TdSmtpParser *self = g_new0 (TdSmtpParser, 1);

  self->line = g_string_new (NULL);
  g_queue_init (&self->done);
  return self;
}

void
td_smtp_parser_free (TdSmtpParser *self)
{
  if (self == NULL)
    return;
  g_string_free (self->line, TRUE);
  td_smtp_reply_free (self->current);
  g_queue_clear_full (&self->done, (GDestroyNotify) td_smtp_reply_free);
  g_free (self);
}

/* "X.Y.Z" of RFC 3463 at the start of @text, matching the reply's class; NULL if none. */
static char *
parse_enhanced (guint       code,
                const char *text)
{
  const char *p = text;
  gsize n;

  if (*p < '2' || *p > '5' || (guint) (*p - '0') != code / 100 || p[1] != '.')
    return NULL;
  p += 2;
  for (int part = 0; part < 2; part++)
    {
      n = strspn (p, "0123456789");
      if (n == 0 || n > 3)
        return NULL;
      p += n;
      if (part == 0 && *p++ != '.')
        return NULL;
    }
  if (*p != '\0' && *p != ' ')
    return NULL;
  return g_strndup (text, p - text);
}

static gboolean
fail (TdSmtpParser  *self,
      GError       **error,
      TdError        code,
      const char    *message)
{
  self->failed = TRUE;
  g_set_error_literal (error, TD_ERROR, code, message);
  return FALSE;
}

static gboolean
take_line (TdSmtpParser  *self,
           GError       **error)
{
  const char *s = self->line->str;
  gboolean last;
  guint code;

  if (self->line->len > 0 && s[self->line->len - 1] == '\r')
    g_string_truncate (self->line, self->line->len - 1);
  if (self->line->len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
      !g_ascii_isdigit (s[2]) || (s[3] != '\0' && s[3] != ' ' && s[3] != '-'))
    return fail (self, error, TD_ERROR_PARSE,
                 _("The mail server sent something that is not an SMTP reply."));
  code = (guint) ((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
  last = s[3] != '-';

  if (self->current == NULL)
    {
      self->current = g_new0 (TdSmtpReply, 1);
      self->current->code = code;
      self->current->lines = g_ptr_array_new_with_free_func (g_free);
    }
  else if (self->current->code != code)
    return fail (self, error, TD_ERROR_PARSE,
                 _("The mail server sent a reply whose lines have different codes."));
  if (self->current->lines->len >= TD_SMTP_MAX_REPLY_LINES)
    return fail (self, error, TD_ERROR_LIMIT,
                 _("The mail server sent a reply with more lines than is safe to accept."));

  g_ptr_array_add (self->current->lines, g_utf8_make_valid (s[3] != '\0' ? s + 4 : "", -1));
  g_string_truncate (self->line, 0);

  if (last)
    {
      TdSmtpReply *reply = g_steal_pointer (&self->current);

      reply->enhanced = parse_enhanced (reply->code, g_ptr_array_index (reply->lines, 0));
      g_queue_push_tail (&self->done, reply);
    }
  return TRUE;
}

gboolean
td_smtp_parser_feed (TdSmtpParser  *self,
                     const char    *data,
                     gsize          len,
                     GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->failed)
    return fail (self, error, TD_ERROR_WRONG_STATE,
                 _("The SMTP reply parser failed earlier and takes no more input."));

  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      gsize take = nl != NULL ? (gsize) (nl - data) : len;
      /* the first byte that would pass the bound; what comes first of it and a NUL decides,
       * so that any chunking of the input gives the same error */
      gsize room = TD_SMTP_MAX_LINE - self->line->len;
      const char *nul = memchr (data, '\0', MIN (take, room + 1));

      if (nul != NULL)
        return fail (self, error, TD_ERROR_PARSE,
                     _("The mail server sent a NUL byte in a reply."));
      if (take > room)
        return fail (self, error, TD_ERROR_LIMIT,
                     _("The mail server sent a reply line longer than is safe to accept."));
      g_string_append_len (self->line, data, take);
      data += take;
      len -= take;
      if (nl != NULL)
        {
          data++;
          len--;
          if (!take_line (self, error))
            return FALSE;
        }
    }
  return TRUE;
}

TdSmtpReply *
td_smtp_parser_pop (TdSmtpParser *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_queue_pop_head (&self->done);
}

gboolean
td_smtp_parser_has_buffered (TdSmtpParser *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->current != NULL || self->line->len > 0 || !g_queue_is_empty (&self->done);
}
