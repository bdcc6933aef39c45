/* fuzz-driver.c: runs a libFuzzer entry point without libFuzzer
 *
 *   fuzz-driver [--mutations N] [--seed S] CORPUS_DIR_OR_FILE...
 *
 * Every corpus file is run as it is, then N inputs made by deterministic random mutations of
 * the corpus (bit flips, byte edits, deletions, duplications, IMAP tokens, splices). Exits
 * non-zero if no input could be read; a broken invariant in the target aborts. This is how
 * the fuzz targets run as ordinary tests (also under ASan) on every `make check`.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define DRIVER_MAX_INPUT (64 * 1024)

/* Pieces that steer a mutation into the interesting parts of the grammar. */
static const char * const tokens[] = {
  "\r\n", "\n", " ", "* ", "+ ", "A1 ", "(", ")", "((((((((", "))))", "[", "]", "\"", "\\\"",
  "\\\\", "{0}\r\n", "{1}\r\n", "{5}\r\n", "{5+}\r\n", "~{3}\r\n", "{4294967296}\r\n",
  "{99999999999999999999}\r\n", "{", "}", "NIL", "OK ", "NO ", "BAD ", "BYE ", "PREAUTH ",
  "[CAPABILITY IMAP4rev1 IDLE] ", "[UIDVALIDITY 1] ", "[ALERT] ", "* 1 FETCH (", "UID 5 ",
  "FLAGS (\\Seen $Forwarded kw) ", "INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" ",
  "RFC822.SIZE 44 ", "MODSEQ (7) ", "BODY[HEADER.FIELDS (FROM TO)] ", "BODY[]<0> ", "BODY[] ",
  "RFC822 ", "RFC822.HEADER ", "* LIST (\\HasNoChildren \\Sent) \"/\" ", "\"/\" ", "INBOX",
  "Entw&APw-rfe", "&U,BTFw-", "&-", "&", "* CAPABILITY ", "* 3 EXISTS\r\n", "* SEARCH 1 2\r\n",
  "* VANISHED (EARLIER) 1:5\r\n", "\0", "\xff", "\xc3\xbc", "4294967295", "4294967296",
};

static void
add_file (GPtrArray  *inputs,
          const char *path)
{
  char *contents = NULL;
  gsize len = 0;
  GError *error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      fprintf (stderr, "fuzz-driver: %s\n", error->message);
      g_error_free (error);
      return;
    }
  if (len > DRIVER_MAX_INPUT)
    len = DRIVER_MAX_INPUT;
  g_ptr_array_add (inputs, g_bytes_new_take (contents, len));
}

static void
add_path (GPtrArray  *inputs,
          const char *path)
{
  GDir *dir;
  GPtrArray *names;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      add_file (inputs, path);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    return;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_dir_close (dir);

  /* sorted, so that runs are reproducible */
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    add_file (inputs, names->pdata[i]);
  g_ptr_array_unref (names);
}

/* @data must not point into @buf */
static void
insert_bytes (GByteArray   *buf,
              guint         pos,
              const guint8 *data,
              guint         n)
{
  guint old_len = buf->len;

  g_byte_array_set_size (buf, old_len + n);
  memmove (buf->data + pos + n, buf->data + pos, old_len - pos);
  memcpy (buf->data + pos, data, n);
}

static void
mutate (GByteArray *buf,
        GPtrArray  *inputs,
        GRand      *rand)
{
  guint n_steps = (guint) g_rand_int_range (rand, 1, 9);

  for (guint step = 0; step < n_steps; step++)
    {
      guint len = buf->len;
      guint pos = len > 0 ? (guint) g_rand_int_range (rand, 0, (gint32) len) : 0;

      switch (g_rand_int_range (rand, 0, 8))
        {
        case 0: /* flip a bit */
          if (len > 0)
            buf->data[pos] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
          break;
        case 1: /* set a byte */
          if (len > 0)
            buf->data[pos] = (guint8) g_rand_int_range (rand, 0, 256);
          break;
        case 2: /* insert a byte */
          {
            guint8 b = (guint8) g_rand_int_range (rand, 0, 256);

            insert_bytes (buf, pos, &b, 1);
          }
          break;
        case 3: /* delete a range */
          if (len > 0)
            {
              guint n = (guint) g_rand_int_range (rand, 1, 64);

              g_byte_array_remove_range (buf, pos, MIN (len - pos, n));
            }
          break;
        case 4: /* duplicate a range */
          if (len > 0 && len < DRIVER_MAX_INPUT / 2)
            {
              guint want = (guint) g_rand_int_range (rand, 1, 256);
              guint n = MIN (len - pos, want);
              guint8 *copy = g_memdup2 (buf->data + pos, n);
              guint at = (guint) g_rand_int_range (rand, 0, (gint32) len + 1);

              insert_bytes (buf, at, copy, n);
              g_free (copy);
            }
          break;
        case 5: /* truncate */
          g_byte_array_set_size (buf, pos);
          break;
        case 6: /* splice in a piece of another input */
          {
            GBytes *other = inputs->pdata[g_rand_int_range (rand, 0, (gint32) inputs->len)];
            gsize olen;
            const guint8 *odata = g_bytes_get_data (other, &olen);

            if (olen > 0)
              {
                guint start = (guint) g_rand_int_range (rand, 0, (gint32) olen);
                guint want = (guint) g_rand_int_range (rand, 1, 512);
                guint n = MIN ((guint) olen - start, want);

                insert_bytes (buf, pos, odata + start, n);
              }
          }
          break;
        default: /* insert a token */
          {
            guint t = (guint) g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens));
            /* "\0" is one NUL byte, not an empty string */
            guint n = tokens[t][0] == '\0' ? 1 : (guint) strlen (tokens[t]);

            insert_bytes (buf, pos, (const guint8 *) tokens[t], n);
          }
          break;
        }

      if (buf->len > DRIVER_MAX_INPUT)
        g_byte_array_set_size (buf, DRIVER_MAX_INPUT);
    }
}

int
main (int   argc,
      char *argv[])
{
  GPtrArray *inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint mutations = 3000;
  guint32 seed = 1;
  GRand *rand;
  gint64 start = g_get_monotonic_time ();
  guint n_seeds;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--mutations") == 0 && i + 1 < argc)
        mutations = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--seed") == 0 && i + 1 < argc)
        seed = (guint32) g_ascii_strtoull (argv[++i], NULL, 10);
      else
        add_path (inputs, argv[i]);
    }

  if (inputs->len == 0)
    {
      fprintf (stderr, "usage: %s [--mutations N] [--seed S] CORPUS_DIR_OR_FILE...\n"
               "no input found\n", argv[0]);
      return 1;
    }
  n_seeds = inputs->len;

  for (guint i = 0; i < n_seeds; i++)
    {
      GBytes *input = inputs->pdata[i];

      LLVMFuzzerTestOneInput (g_bytes_get_data (input, NULL), g_bytes_get_size (input));
    }

  rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < mutations; i++)
    {
      GBytes *base = inputs->pdata[g_rand_int_range (rand, 0, (gint32) n_seeds)];
      GByteArray *buf = g_byte_array_new ();

      g_byte_array_append (buf, g_bytes_get_data (base, NULL), (guint) g_bytes_get_size (base));
      mutate (buf, inputs, rand);
      LLVMFuzzerTestOneInput (buf->data, buf->len);
      g_byte_array_unref (buf);
    }
  g_rand_free (rand);

  printf ("fuzz-driver: %u corpus inputs and %u mutations (seed %u) in %.2f s, no failure\n",
          n_seeds, mutations, seed, (g_get_monotonic_time () - start) / 1e6);
  g_ptr_array_unref (inputs);
  return 0;
}
