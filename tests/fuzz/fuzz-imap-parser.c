/* fuzz-imap-parser.c: libFuzzer entry point for the IMAP parser and its response helpers
 *
 * Each input is parsed with the default limits and with small ones, each time fed whole, in
 * random chunks (sizes drawn from a hash of the input) and, for small inputs, one byte at a
 * time. The three feeds must agree exactly: the same responses and the same error. Every
 * parsed response then goes through all typed helpers. A disagreement or a broken invariant
 * aborts, so the fuzzer (or fuzz-driver.c) reports it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td-error.h"
#include "td-imap-response.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define BYTEWISE_MAX 8192

static void
fail (const char *what)
{
  fprintf (stderr, "fuzz-imap-parser: invariant broken: %s\n", what);
  abort ();
}

static gboolean
values_equal (const TdImapValue *a,
              const TdImapValue *b);

static gboolean
arrays_equal (const GPtrArray *a,
              const GPtrArray *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!values_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
values_equal (const TdImapValue *a,
              const TdImapValue *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case TD_IMAP_VALUE_ATOM:
      return strcmp (a->atom, b->atom) == 0;
    case TD_IMAP_VALUE_STRING:
      return g_bytes_equal (a->string, b->string);
    case TD_IMAP_VALUE_LIST:
      return arrays_equal (a->list, b->list);
    case TD_IMAP_VALUE_NIL:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
responses_equal (const TdImapResponse *a,
                 const TdImapResponse *b)
{
  return a->kind == b->kind && g_strcmp0 (a->tag, b->tag) == 0 && a->status == b->status &&
         g_strcmp0 (a->code, b->code) == 0 && arrays_equal (a->code_args, b->code_args) &&
         g_strcmp0 (a->text, b->text) == 0 && a->has_number == b->has_number &&
         a->number == b->number && g_strcmp0 (a->name, b->name) == 0 &&
         arrays_equal (a->values, b->values);
}

typedef struct
{
  GPtrArray *responses;
  int        code;   /* -1: no error */
} Outcome;

static void
outcome_clear (Outcome *o)
{
  g_clear_pointer (&o->responses, g_ptr_array_unref);
}

static guint32
hash_input (const uint8_t *data,
            size_t         size)
{
  guint32 h = 2166136261u;

  for (size_t i = 0; i < size; i++)
    h = (h ^ data[i]) * 16777619u;
  return h != 0 ? h : 1;
}

/* @chunking: 0 whole, 1 random chunks, 2 byte-wise */
static Outcome
run_parser (const uint8_t *data,
            size_t         size,
            gboolean       small_limits,
            int            chunking,
            guint32        seed)
{
  TdImapParser *parser = td_imap_parser_new ();
  GError *error = NULL;
  Outcome o = { g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_response_free), -1 };
  size_t pos = 0;
  guint32 x = seed;

  if (small_limits)
    td_imap_parser_set_limits (parser, 256, 256, 6, 64);

  while (pos < size)
    {
      size_t n;

      if (chunking == 0)
        {
          n = size;
        }
      else if (chunking == 2)
        {
          n = 1;
        }
      else
        {
          x ^= x << 13;
          x ^= x >> 17;
          x ^= x << 5;
          n = 1 + x % ((x >> 8) % 4 == 0 ? 2048 : 24);
        }
      n = MIN (n, size - pos);
      if (!td_imap_parser_feed (parser, data + pos, n, o.responses, &error))
        break;
      pos += n;
    }

  if (error != NULL)
    {
      if (error->domain != TD_ERROR ||
          (error->code != TD_ERROR_PARSE && error->code != TD_ERROR_LIMIT))
        fail ("unexpected error domain or code");
      o.code = error->code;
      g_clear_error (&error);

      /* poisoned: it stays failed, with the same code */
      if (td_imap_parser_feed (parser, (const guint8 *) "* OK\r\n", 6, o.responses, &error) ||
          error == NULL || error->code != o.code)
        fail ("parser not poisoned after an error");
      g_clear_error (&error);
    }
  else if (td_imap_parser_get_pending (parser) > size)
    {
      fail ("more bytes pending than fed");
    }

  td_imap_parser_free (parser);
  return o;
}

static void
check_utf7 (const char *maybe_mutf7)
{
  char *decoded = td_imap_utf7_decode (maybe_mutf7);

  if (decoded != NULL)
    {
      char *encoded, *again;

      if (!g_utf8_validate (decoded, -1, NULL))
        fail ("utf7 decode gave invalid UTF-8");
      encoded = td_imap_utf7_encode (decoded);
      if (encoded == NULL)
        fail ("utf7 encode refused a decoded name");
      again = td_imap_utf7_decode (encoded);
      if (g_strcmp0 (again, decoded) != 0)
        fail ("utf7 round trip");
      g_free (again);
      g_free (encoded);
    }
  g_free (decoded);
}

static void
exercise_value (const TdImapValue *v,
                guint              depth)
{
  char *s;

  if (v->type == TD_IMAP_VALUE_LIST)
    {
      g_autoptr(GPtrArray) keywords = g_ptr_array_new_with_free_func (g_free);
      TdFlags flags = td_imap_flags_parse (v, keywords);
      char *str = td_imap_flags_to_string (flags);

      g_free (str);
      for (guint i = 0; i < v->list->len && depth < 16; i++)
        exercise_value (v->list->pdata[i], depth + 1);
      return;
    }

  s = td_imap_value_dup_string (v);
  if (s != NULL)
    {
      char *quoted = td_imap_quote (s);

      g_free (quoted);
      check_utf7 (s);
      if (g_utf8_validate (s, -1, NULL))
        (void) td_imap_guess_role (s, '/');
    }
  g_free (s);

  {
    guint32 u32;
    guint64 u64;

    if (td_imap_value_get_uint32 (v, &u32) && !td_imap_value_get_uint64 (v, &u64))
      fail ("uint32 but not uint64");
  }
}

static void
exercise_response (const TdImapResponse *r)
{
  GHashTable *caps = td_imap_capabilities_parse (r);
  TdImapListEntry *entry;
  TdImapFetch *fetch;
  GError *error = NULL;

  if (r->values == NULL)
    fail ("values is NULL");
  if (r->text != NULL && !g_utf8_validate (r->text, -1, NULL))
    fail ("text is not UTF-8");
  if (caps != NULL)
    g_hash_table_unref (caps);

  entry = td_imap_list_entry_parse (r, &error);
  if ((entry == NULL) == (error == NULL))
    fail ("list_entry_parse: result and error disagree");
  if (entry != NULL)
    {
      char *encoded;

      if (!g_utf8_validate (entry->path, -1, NULL))
        fail ("list path is not UTF-8");
      (void) td_imap_guess_role (entry->path, entry->delimiter);
      encoded = td_imap_utf7_encode (entry->path);
      if (encoded == NULL)
        fail ("cannot encode a list path");
      check_utf7 (encoded);
      g_free (encoded);
      td_imap_list_entry_free (entry);
    }
  g_clear_error (&error);

  fetch = td_imap_fetch_parse (r, &error);
  if ((fetch == NULL) == (error == NULL))
    fail ("fetch_parse: result and error disagree");
  if (fetch != NULL && fetch->keywords == NULL)
    fail ("fetch without keywords array");
  td_imap_fetch_free (fetch);
  g_clear_error (&error);

  for (guint i = 0; i < r->values->len; i++)
    exercise_value (r->values->pdata[i], 0);
  for (guint i = 0; r->code_args != NULL && i < r->code_args->len; i++)
    exercise_value (r->code_args->pdata[i], 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint32 seed = hash_input (data, size);

  for (int small = 0; small <= 1; small++)
    {
      Outcome whole = run_parser (data, size, small, 0, seed);

      for (int chunking = 1; chunking <= 2; chunking++)
        {
          Outcome other;

          if (chunking == 2 && size > BYTEWISE_MAX)
            continue;
          other = run_parser (data, size, small, chunking, seed);
          if (other.code != whole.code)
            fail ("chunking changed the error");
          if (other.responses->len != whole.responses->len)
            fail ("chunking changed the number of responses");
          for (guint i = 0; i < whole.responses->len; i++)
            if (!responses_equal (whole.responses->pdata[i], other.responses->pdata[i]))
              fail ("chunking changed a response");
          outcome_clear (&other);
        }

      for (guint i = 0; i < whole.responses->len; i++)
        exercise_response (whole.responses->pdata[i]);
      outcome_clear (&whole);
    }

  return 0;
}
