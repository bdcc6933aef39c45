/* td-imap-utf7.c: modified UTF-7 for mailbox names (RFC 3501 section 5.1.3)
 *
 * Printable US-ASCII except "&" stands for itself, "&" is "&-", everything else is UTF-16BE
 * in base64 (with "," for "/", no padding) between "&" and "-". Decoding is strict: anything
 * an encoder must not produce (bytes outside printable ASCII, printable ASCII inside base64,
 * an unterminated or badly padded run, a lone surrogate, NUL) makes it return NULL, and the
 * caller decides what to show instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-response.h"

#include <string.h>

static const char mutf7_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static inline gboolean
is_direct (guint8 c)
{
  return c >= 0x20 && c <= 0x7e;
}

static int
base64_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == ',')
    return 63;
  return -1;
}

/* One base64 run after "&", up to and including "-"; appends UTF-8 to @out. */
static gboolean
decode_run (const char **pp,
            GString     *out)
{
  const char *p = *pp;
  guint32 bits = 0;
  guint nbits = 0;
  gunichar2 high = 0;
  guint units = 0;

  for (; *p != '\0' && *p != '-'; p++)
    {
      int v = base64_value (*p);

      if (v < 0)
        return FALSE;
      bits = (bits << 6) | (guint32) v;
      nbits += 6;
      if (nbits >= 16)
        {
          gunichar2 unit;

          nbits -= 16;
          unit = (gunichar2) ((bits >> nbits) & 0xffff);
          bits &= (1u << nbits) - 1;
          units++;

          if (high != 0)
            {
              if (unit < 0xdc00 || unit > 0xdfff)
                return FALSE;
              g_string_append_unichar (out, 0x10000 + (((gunichar) high - 0xd800) << 10) +
                                       ((gunichar) unit - 0xdc00));
              high = 0;
            }
          else if (unit >= 0xd800 && unit <= 0xdbff)
            {
              high = unit;
            }
          else if (unit >= 0xdc00 && unit <= 0xdfff)
            {
              return FALSE;
            }
          else
            {
              /* NUL is never a name; printable ASCII must be sent as itself. */
              if (unit == 0 || (unit >= 0x20 && unit <= 0x7e))
                return FALSE;
              g_string_append_unichar (out, unit);
            }
        }
    }

  if (*p != '-' || high != 0 || units == 0 || nbits >= 6 || bits != 0)
    return FALSE;

  *pp = p + 1;
  return TRUE;
}

char *
td_imap_utf7_decode (const char *mutf7)
{
  g_autoptr(GString) out = NULL;
  const char *p;

  g_return_val_if_fail (mutf7 != NULL, NULL);

  out = g_string_sized_new (strlen (mutf7) + 8);
  p = mutf7;
  while (*p != '\0')
    {
      if (!is_direct ((guint8) *p))
        return NULL;

      if (*p != '&')
        {
          g_string_append_c (out, *p);
          p++;
        }
      else if (p[1] == '-')
        {
          g_string_append_c (out, '&');
          p += 2;
        }
      else
        {
          p++;
          if (!decode_run (&p, out))
            return NULL;
        }
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
encode_unit (GString   *out,
             gunichar2  unit,
             guint32   *bits,
             guint     *nbits)
{
  *bits = (*bits << 16) | unit;
  *nbits += 16;
  while (*nbits >= 6)
    {
      *nbits -= 6;
      g_string_append_c (out, mutf7_alphabet[(*bits >> *nbits) & 0x3f]);
    }
  *bits &= (1u << *nbits) - 1;
}

char *
td_imap_utf7_encode (const char *utf8)
{
  g_autoptr(GString) out = NULL;
  const char *p;

  g_return_val_if_fail (utf8 != NULL, NULL);

  if (!g_utf8_validate (utf8, -1, NULL))
    return NULL;

  out = g_string_sized_new (strlen (utf8) + 8);
  p = utf8;
  while (*p != '\0')
    {
      guint32 bits = 0;
      guint nbits = 0;

      if (is_direct ((guint8) *p))
        {
          if (*p == '&')
            g_string_append (out, "&-");
          else
            g_string_append_c (out, *p);
          p++;
          continue;
        }

      g_string_append_c (out, '&');
      while (*p != '\0' && !is_direct ((guint8) *p))
        {
          gunichar c = g_utf8_get_char (p);

          p = g_utf8_next_char (p);
          if (c >= 0x10000)
            {
              c -= 0x10000;
              encode_unit (out, (gunichar2) (0xd800 + (c >> 10)), &bits, &nbits);
              encode_unit (out, (gunichar2) (0xdc00 + (c & 0x3ff)), &bits, &nbits);
            }
          else
            {
              encode_unit (out, (gunichar2) c, &bits, &nbits);
            }
        }
      if (nbits > 0)
        g_string_append_c (out, mutf7_alphabet[(bits << (6 - nbits)) & 0x3f]);
      g_string_append_c (out, '-');
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}
