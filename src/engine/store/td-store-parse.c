/* td-store-parse.c: the parse thread, and what it makes of headers and bodies
 *
 * The store keeps of a message's header and body what td-mime parses out of them, cleaned
 * and bounded. A store job hands its batch to the parse thread when it is queued and waits
 * for the result when it runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-store.h"
#include "td-store-private.h"

#include "td-mime.h"

/* Bounds on what one header field may put into a row, and on the text we index. */
#define MAX_LONG_FIELD    (32 * 1024)
#define MAX_INDEXED_TEXT  (1024 * 1024)
#define PREVIEW_CHARS     200

void
_td_store_parsed_header_free (ParsedHeader *parsed)
{
  g_free (parsed->subject);
  g_free (parsed->from_name);
  g_free (parsed->from_address);
  g_free (parsed->to);
  g_free (parsed->cc);
  g_free (parsed->message_id);
  g_free (parsed->in_reply_to);
  g_free (parsed->refs);
  g_free (parsed);
}

void
_td_store_parsed_body_free (ParsedBody *parsed)
{
  g_free (parsed->text);
  g_free (parsed->preview);
  g_free (parsed);
}

/* Headers and bodies are parsed (MIME, charsets, RFC 2047, HTML to text) on the parse thread
 * while the store thread writes the batch before: measured on the 10,000-message benchmark,
 * parsing bodies is about a third of the store thread's time, and parsing headers a third of
 * a header batch's. A store job waits for its batch's parse; the parse thread takes batches
 * in the order they were queued, so jobs still run in that order. Shared by the job and the
 * parse thread. */
struct _ParseState
{
  GMutex          mutex;
  GCond           cond;
  gboolean        done;
  ParseFunc       parse;
  GDestroyNotify  parsed_free;
  GPtrArray      *items;      /* a reference to the job's */
  GPtrArray      *parsed;     /* one per item, set by the parse thread */
};

static void
parse_state_clear (ParseState *state)
{
  g_mutex_clear (&state->mutex);
  g_cond_clear (&state->cond);
  g_clear_pointer (&state->items, g_ptr_array_unref);
  g_clear_pointer (&state->parsed, g_ptr_array_unref);
}

void
_td_store_parse_state_unref (ParseState *state)
{
  g_atomic_rc_box_release_full (state, (GDestroyNotify) parse_state_clear);
}

/* The parse thread: parses a batch and hands it to the waiting store job. */
static void
parse_thread_func (gpointer data,
                   gpointer user_data)
{
  ParseState *state = data;
  GPtrArray *parsed = g_ptr_array_new_full (state->items->len, state->parsed_free);

  for (guint i = 0; i < state->items->len; i++)
    g_ptr_array_add (parsed, state->parse (g_ptr_array_index (state->items, i)));

  g_mutex_lock (&state->mutex);
  state->parsed = parsed;
  state->done = TRUE;
  g_cond_signal (&state->cond);
  g_mutex_unlock (&state->mutex);
  _td_store_parse_state_unref (state);
}

/* Hands @items to the parse thread; returns the state the job keeps. */
ParseState *
_td_store_start_parse (TdStore        *self,
                       GPtrArray      *items,
                       ParseFunc       parse,
                       GDestroyNotify  parsed_free)
{
  ParseState *state = g_atomic_rc_box_new0 (ParseState);
  ParseState *ref;

  g_mutex_init (&state->mutex);
  g_cond_init (&state->cond);
  state->parse = parse;
  state->parsed_free = parsed_free;
  state->items = g_ptr_array_ref (items);
  if (self->parse_pool == NULL)
    self->parse_pool = g_thread_pool_new (parse_thread_func, NULL, 1, FALSE, NULL);
  ref = g_atomic_rc_box_acquire (state);
  if (self->parse_pool == NULL || !g_thread_pool_push (self->parse_pool, ref, NULL))
    parse_thread_func (ref, NULL);  /* no thread: parse here */
  return state;
}

/* On the store thread: the parsed items, one per item. */
GPtrArray *
_td_store_wait_parse (ParseState *state)
{
  g_mutex_lock (&state->mutex);
  while (!state->done)
    g_cond_wait (&state->cond, &state->mutex);
  g_mutex_unlock (&state->mutex);
  return state->parsed;
}

/* On the parse thread. */
gpointer
_td_store_parse_header (gpointer item)
{
  TdMessageSpec *spec = item;
  ParsedHeader *parsed = g_new0 (ParsedHeader, 1);
  g_autoptr(TdMimeHeaders) headers = NULL;

  if (spec->header != NULL && g_bytes_get_size (spec->header) > 0)
    headers = td_mime_headers_parse (spec->header);
  if (headers == NULL)
    return parsed;

  parsed->subject = _td_store_clean_text (headers->subject, MAX_SHORT_FIELD);
  parsed->from_name = _td_store_clean_text (headers->from_name, MAX_SHORT_FIELD);
  parsed->from_address = _td_store_clean_text (headers->from_address, MAX_SHORT_FIELD);
  parsed->to = _td_store_clean_text (headers->to, MAX_LONG_FIELD);
  parsed->cc = _td_store_clean_text (headers->cc, MAX_LONG_FIELD);
  parsed->message_id = _td_store_clean_text (headers->message_id, MAX_SHORT_FIELD);
  parsed->in_reply_to = _td_store_clean_text (headers->in_reply_to, MAX_SHORT_FIELD);
  parsed->refs = _td_store_clean_text (headers->references, MAX_LONG_FIELD);
  parsed->date = headers->date;
  return parsed;
}

/* On the parse thread. */
gpointer
_td_store_parse_body (gpointer item)
{
  TdBodySpec *spec = item;
  ParsedBody *parsed = g_new0 (ParsedBody, 1);
  g_autoptr(TdMimeMessage) mime = NULL;
  g_autoptr(GError) error = NULL;
  const char *body_text;

  mime = td_mime_message_new (spec->raw, &error);
  if (mime == NULL)
    {
      g_debug ("uid %u does not parse: %s", spec->uid, error->message);
      return parsed;
    }
  body_text = td_mime_message_get_text (mime);
  parsed->text = _td_store_clean_text (body_text != NULL ? body_text : "", MAX_INDEXED_TEXT);
  parsed->preview = td_mime_make_preview (parsed->text, PREVIEW_CHARS);
  parsed->attachment = td_mime_message_has_attachment (mime);
  return parsed;
}
