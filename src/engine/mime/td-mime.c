/* td-mime.c: charsets, headers, previews and format=flowed
 *
 * GMime parses and decodes; this file chooses charsets the way browsers do (lying and
 * missing labels included), decodes the header fields the store keeps, and makes list
 * previews. Every function here is bounded and linear in its input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-mime"

#include "config.h"

#include "td-mime.h"

#include <errno.h>
#include <string.h>

#include "td-mime-private.h"

/* ---------------------------------------------------------------------------------------- */
/* Parser options                                                                            */

static gpointer
make_parser_options (gpointer data)
{
  static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
  GMimeParserOptions *options = g_mime_parser_options_new ();

  g_mime_parser_options_set_fallback_charsets (options, fallback);
  g_mime_parser_options_set_rfc2047_compliance_mode (options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode (options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode (options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain (options, TRUE);
  return options;
}

GMimeParserOptions *
_td_mime_parser_options (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, make_parser_options, NULL);
  return once.retval;
}

/* ---------------------------------------------------------------------------------------- */
/* Charsets                                                                                  */

/* windows-1252 bytes 0x80..0x9F (WHATWG); 0 where the byte is undefined. The rest of the
 * code page is ISO-8859-1, i.e. byte == code point. */
static const gunichar cp1252_high[32] = {
  0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
  0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static inline gunichar
cp1252_to_unichar (guchar c)
{
  if (c >= 0x80 && c <= 0x9F)
    return cp1252_high[c - 0x80] != 0 ? cp1252_high[c - 0x80] : 0xFFFD;
  return c;
}

gunichar
_td_mime_cp1252_to_unichar (guchar c)
{
  return cp1252_to_unichar (c);
}

typedef enum
{
  CHARSET_GUESS,   /* undeclared, ASCII or Latin-1 family: UTF-8 if valid, else windows-1252 */
  CHARSET_UTF8,    /* UTF-8, with windows-1252 for the bytes that are not */
  CHARSET_ICONV,   /* anything else, by iconv */
} CharsetKind;

/* Labels as mail really uses them -> what to decode with (NULL: guess). The targets follow
 * the WHATWG encoding standard where glibc's iconv has a name for them. */
static const struct
{
  const char *label;
  const char *target;
} charset_aliases[] = {
  { "us-ascii", NULL }, { "ascii", NULL }, { "ansi_x3.4-1968", NULL }, { "iso646-us", NULL },
  { "us", NULL }, { "cp367", NULL }, { "ibm367", NULL }, { "unknown", NULL },
  { "unknown-8bit", NULL }, { "x-unknown", NULL }, { "default", NULL }, { "8bit", NULL },
  { "7bit", NULL }, { "binary", NULL }, { "none", NULL }, { "x-user-defined", NULL },
  { "iso-8859-1", NULL }, { "iso8859-1", NULL }, { "iso_8859-1", NULL }, { "iso88591", NULL },
  { "iso_8859-1:1987", NULL }, { "latin1", NULL }, { "latin-1", NULL }, { "l1", NULL },
  { "cp819", NULL }, { "ibm819", NULL }, { "csisolatin1", NULL }, { "iso-ir-100", NULL },
  { "windows-1252", NULL }, { "cp1252", NULL }, { "x-cp1252", NULL }, { "win-1252", NULL },
  { "utf-8", "UTF-8" }, { "utf8", "UTF-8" }, { "utf_8", "UTF-8" },
  { "unicode-1-1-utf-8", "UTF-8" }, { "unicode-2-0-utf-8", "UTF-8" },
  { "x-unicode20utf8", "UTF-8" },
  { "iso-8859-9", "WINDOWS-1254" }, { "iso8859-9", "WINDOWS-1254" }, { "latin5", "WINDOWS-1254" },
  { "iso_8859-9", "WINDOWS-1254" }, { "windows-1254", "WINDOWS-1254" },
  { "iso-8859-11", "WINDOWS-874" }, { "tis-620", "WINDOWS-874" }, { "windows-874", "WINDOWS-874" },
  { "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "gb_2312-80", "GB18030" },
  { "euc-cn", "GB18030" }, { "x-euc-cn", "GB18030" }, { "x-gbk", "GB18030" },
  { "cp936", "GB18030" }, { "ms936", "GB18030" }, { "windows-936", "GB18030" },
  { "chinese", "GB18030" }, { "csgb2312", "GB18030" }, { "iso-ir-58", "GB18030" },
  { "gb18030", "GB18030" },
  { "ks_c_5601-1987", "CP949" }, { "ks_c_5601-1989", "CP949" }, { "ks_c_5601", "CP949" },
  { "ksc5601", "CP949" }, { "ksc_5601", "CP949" }, { "euc-kr", "CP949" }, { "x-euc-kr", "CP949" },
  { "korean", "CP949" }, { "cp949", "CP949" }, { "windows-949", "CP949" },
  { "iso-ir-149", "CP949" }, { "csksc56011987", "CP949" },
  { "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "sjis", "CP932" }, { "x-sjis", "CP932" },
  { "ms_kanji", "CP932" }, { "csshiftjis", "CP932" }, { "windows-31j", "CP932" },
  { "cp932", "CP932" }, { "ms932", "CP932" }, { "x-ms-cp932", "CP932" },
  { "euc-jp", "EUC-JP-MS" }, { "x-euc-jp", "EUC-JP-MS" }, { "cseucpkdfmtjapanese", "EUC-JP-MS" },
  { "iso-2022-jp", "ISO-2022-JP-2" }, { "csiso2022jp", "ISO-2022-JP-2" },
  { "iso-2022-jp-2", "ISO-2022-JP-2" },
  { "big5", "BIG5-HKSCS" }, { "big5-hkscs", "BIG5-HKSCS" }, { "cn-big5", "BIG5-HKSCS" },
  { "x-x-big5", "BIG5-HKSCS" }, { "csbig5", "BIG5-HKSCS" }, { "x-big5", "BIG5-HKSCS" },
  { "koi8-r", "KOI8-R" }, { "koi8r", "KOI8-R" }, { "koi", "KOI8-R" }, { "koi8", "KOI8-R" },
  { "cskoi8r", "KOI8-R" }, { "koi8-u", "KOI8-U" }, { "koi8-ru", "KOI8-U" },
};

/* Lower-cases and trims @label into @buf (which has room for 64 bytes). */
static gboolean
normalize_label (const char *label,
                 char       *buf,
                 gsize       size)
{
  gsize n = 0;

  if (label == NULL)
    return FALSE;
  while (*label == ' ' || *label == '\t' || *label == '"' || *label == '\'')
    label++;
  for (; *label != '\0' && n + 1 < size; label++)
    {
      if (*label == '"' || *label == '\'' || *label == ';' || g_ascii_isspace (*label))
        break;
      buf[n++] = g_ascii_tolower (*label);
    }
  buf[n] = '\0';
  return n > 0;
}

#define CHARSET_NAME_SIZE 64

/* What to decode @label with; for CHARSET_ICONV, @name receives the iconv name. */
static CharsetKind
classify_charset (const char *label,
                  char        name[CHARSET_NAME_SIZE])
{
  char buf[CHARSET_NAME_SIZE];

  name[0] = '\0';
  if (!normalize_label (label, buf, sizeof buf))
    return CHARSET_GUESS;

  for (guint i = 0; i < G_N_ELEMENTS (charset_aliases); i++)
    {
      if (strcmp (buf, charset_aliases[i].label) == 0)
        {
          if (charset_aliases[i].target == NULL)
            return CHARSET_GUESS;
          if (strcmp (charset_aliases[i].target, "UTF-8") == 0)
            return CHARSET_UTF8;
          g_strlcpy (name, charset_aliases[i].target, CHARSET_NAME_SIZE);
          return CHARSET_ICONV;
        }
    }

  /* anything else goes to iconv as it is (glibc knows most labels) */
  g_strlcpy (name, buf, CHARSET_NAME_SIZE);
  return CHARSET_ICONV;
}

static inline void
append_unichar (GString  *out,
                gunichar  c)
{
  if (c < 0x80)
    g_string_append_c (out, (char) c);
  else
    g_string_append_unichar (out, c);
}

static void
decode_cp1252 (const char *data,
               gsize       len,
               GString    *out)
{
  for (gsize i = 0; i < len; i++)
    append_unichar (out, cp1252_to_unichar ((guchar) data[i]));
}

/* UTF-8 where it is valid, each other byte read as windows-1252. */
static void
decode_utf8_lenient (const char *data,
                     gsize       len,
                     GString    *out)
{
  const char *p = data;
  const char *end = data + len;

  while (p < end)
    {
      const char *valid_end = NULL;

      g_utf8_validate_len (p, end - p, &valid_end);
      g_string_append_len (out, p, valid_end - p);
      p = valid_end;
      if (p < end)
        {
          /* a NUL stops validation too; it is dropped later */
          append_unichar (out, cp1252_to_unichar ((guchar) *p));
          p++;
        }
    }
}

static gboolean
decode_iconv (const char *name,
              const char *data,
              gsize       len,
              GString    *out)
{
  GIConv cd = g_iconv_open ("UTF-8", name);
  char buf[4096];
  gchar *in = (gchar *) data;
  gsize inleft = len;
  gchar *o;
  gsize oleft;

  if (cd == (GIConv) -1)
    {
      /* GMime knows a few more spellings ("iso8859_2", "x-mac-..."), */
      const char *mapped = g_mime_charset_iconv_name (name);

      if (mapped != NULL && g_ascii_strcasecmp (mapped, name) != 0)
        cd = g_iconv_open ("UTF-8", mapped);
    }
  if (cd == (GIConv) -1)
    return FALSE;

  while (inleft > 0)
    {
      gsize r;
      int saved;

      o = buf;
      oleft = sizeof buf;
      r = g_iconv (cd, &in, &inleft, &o, &oleft);
      saved = errno;
      g_string_append_len (out, buf, o - buf);
      if (r != (gsize) -1)
        break;
      if (saved == E2BIG)
        continue;
      /* EILSEQ: one bad byte; EINVAL: a sequence cut at the end */
      g_string_append (out, "\xEF\xBF\xBD");
      if (saved == EILSEQ)
        {
          in++;
          inleft--;
        }
      else
        break;
    }

  o = buf;
  oleft = sizeof buf;
  g_iconv (cd, NULL, NULL, &o, &oleft);
  g_string_append_len (out, buf, o - buf);
  g_iconv_close (cd);
  return TRUE;
}

/* An undeclared HTML part may say <meta charset="..."> near its top. */
static gboolean
sniff_html_charset (const char *data,
                    gsize       len,
                    char        label[CHARSET_NAME_SIZE])
{
  static const char needle[] = "charset";
  gsize limit = MIN (len, 4096);

  for (gsize i = 0; i + sizeof needle - 1 < limit; i++)
    {
      gsize j, n = 0;

      if (g_ascii_strncasecmp (data + i, needle, sizeof needle - 1) != 0)
        continue;
      j = i + sizeof needle - 1;
      while (j < limit && (data[j] == ' ' || data[j] == '\t'))
        j++;
      if (j >= limit || data[j] != '=')
        continue;
      j++;
      while (j < limit && (data[j] == ' ' || data[j] == '\t' || data[j] == '"' || data[j] == '\''))
        j++;
      while (j < limit && n + 1 < CHARSET_NAME_SIZE &&
             (g_ascii_isalnum (data[j]) || strchr ("-_:.", data[j]) != NULL))
        label[n++] = data[j++];
      label[n] = '\0';
      return n > 0;
    }
  return FALSE;
}

char *
_td_mime_decode_charset (const char *data,
                         gsize       len,
                         const char *label,
                         gboolean    is_html)
{
  g_autoptr(GString) out = NULL;
  char iconv_name[CHARSET_NAME_SIZE];
  CharsetKind kind;

  if (data == NULL || len == 0)
    return g_strdup ("");

  kind = classify_charset (label, iconv_name);
  if (kind == CHARSET_GUESS && is_html && !g_utf8_validate_len (data, len, NULL))
    {
      char meta[CHARSET_NAME_SIZE];

      if (sniff_html_charset (data, len, meta))
        kind = classify_charset (meta, iconv_name);
    }

  /* the common case: already UTF-8, and nothing said otherwise */
  if (kind != CHARSET_ICONV && g_utf8_validate_len (data, len, NULL))
    return _td_mime_clean_utf8 (data, len);

  out = g_string_sized_new (len + 16);
  switch (kind)
    {
    case CHARSET_ICONV:
      if (decode_iconv (iconv_name, data, len, out))
        break;
      g_string_truncate (out, 0);
      G_GNUC_FALLTHROUGH;
    case CHARSET_GUESS:
    default:
      /* Browsers and Thunderbird: 8-bit text that is valid UTF-8 is UTF-8 whatever an
       * ASCII or Latin-1 label says; otherwise windows-1252 (which ISO-8859-1 means). */
      if (g_utf8_validate_len (data, len, NULL))
        g_string_append_len (out, data, len);
      else
        decode_cp1252 (data, len, out);
      break;
    case CHARSET_UTF8:
      decode_utf8_lenient (data, len, out);
      break;
    }

  return _td_mime_clean_utf8 (out->str, out->len);
}

char *
_td_mime_clean_utf8 (const char *data,
                     gsize       len)
{
  GString *out;
  const char *p = data;
  const char *end = data + len;

  if (data == NULL)
    return g_strdup ("");

  out = g_string_sized_new (len + 1);
  while (p < end)
    {
      guchar c = (guchar) *p;
      gunichar ch;

      if (c >= 0x20 && c < 0x7F)
        {
          const char *run = p;

          while (p < end && (guchar) *p >= 0x20 && (guchar) *p < 0x7F)
            p++;
          g_string_append_len (out, run, p - run);
          continue;
        }
      if (c < 0x80)
        {
          if (c == '\r')
            {
              g_string_append_c (out, '\n');
              if (p + 1 < end && p[1] == '\n')
                p++;
            }
          else if (c == '\n' || c == '\t')
            g_string_append_c (out, (char) c);
          /* NUL, DEL and the other control characters are dropped */
          p++;
          continue;
        }

      ch = g_utf8_get_char_validated (p, end - p);
      if (ch == (gunichar) -1 || ch == (gunichar) -2)
        {
          g_string_append (out, "\xEF\xBF\xBD");
          p++;
          continue;
        }
      if (ch >= 0x80 && ch <= 0x9F)
        g_string_append_unichar (out, cp1252_to_unichar ((guchar) ch));
      else if (ch != 0xFEFF)
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }

  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------------------- */
/* Header fields                                                                             */

/* Collapses every run of white space to one space and trims; takes @str. */
static char *
fold_whitespace (char *str)
{
  char *r = str;
  char *w = str;
  gboolean space = FALSE;

  for (; *r != '\0'; r++)
    {
      if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
        {
          space = TRUE;
          continue;
        }
      if (space && w != str)
        *w++ = ' ';
      space = FALSE;
      *w++ = *r;
    }
  *w = '\0';
  return str;
}

/* An encoded word's charset as GMime should see it. The ASCII and Latin-1 family and UTF-8
 * become names GMime does not know, so that it uses the fallback charsets (UTF-8 if valid,
 * else windows-1252), which is what a lying label needs. */
static void
append_header_charset (GString    *out,
                       const char *label)
{
  char iconv_name[CHARSET_NAME_SIZE];

  switch (classify_charset (label, iconv_name))
    {
    case CHARSET_GUESS:
      g_string_append (out, "x-td-guess-latin");
      break;
    case CHARSET_UTF8:
      g_string_append (out, "x-td-guess-utf8");
      break;
    case CHARSET_ICONV:
    default:
      g_string_append (out, iconv_name);
      break;
    }
}

static void
append_q_encoded (GString      *out,
                  const guchar *data,
                  gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_isalnum (data[i]))
        g_string_append_c (out, (char) data[i]);
      else
        g_string_append_printf (out, "=%02X", data[i]);
    }
}

/* Rewrites the RFC 2047 words of @s so that GMime decodes them as mail really needs:
 * charset labels mapped (gb2312 -> GB18030, lying us-ascii -> guessed, ...) and B words
 * re-encoded as Q, so that a multibyte character split across two words joins again. This
 * only rewrites the words; GMime does the decoding. Linear in the length of @s. */
static char *
normalize_encoded_words (const char *s)
{
  GString *out;
  const char *p = s;

  if (strstr (s, "=?") == NULL)
    return g_strdup (s);

  out = g_string_sized_new (strlen (s) + 16);
  while (*p != '\0')
    {
      const char *ew = strstr (p, "=?");
      const char *q, *text, *tend;
      g_autofree char *charset = NULL;
      char *star;
      char enc;

      if (ew == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, ew - p);

      q = ew + 2;
      while (*q != '\0' && *q != '?' && !g_ascii_isspace (*q) && q - (ew + 2) < 64)
        q++;
      if (*q != '?' || q == ew + 2 ||
          !(q[1] == 'b' || q[1] == 'B' || q[1] == 'q' || q[1] == 'Q') || q[2] != '?')
        {
          g_string_append (out, "=?");
          p = ew + 2;
          continue;
        }
      enc = g_ascii_toupper (q[1]);
      text = q + 3;
      tend = strstr (text, "?=");
      if (tend == NULL)
        {
          /* no word can end after this point either */
          g_string_append (out, ew);
          break;
        }

      charset = g_strndup (ew + 2, q - (ew + 2));
      star = strchr (charset, '*');   /* RFC 2231 language: =?utf-8*en?Q?...?= */
      if (star != NULL)
        *star = '\0';

      g_string_append (out, "=?");
      append_header_charset (out, charset);
      if (enc == 'B')
        {
          gsize inlen = tend - text;
          g_autofree guchar *decoded = g_malloc (inlen * 3 / 4 + 4);
          int state = 0;
          guint32 save = 0;
          gsize n = g_mime_encoding_base64_decode_step ((const guchar *) text, inlen, decoded,
                                                        &state, &save);

          g_string_append (out, "?Q?");
          append_q_encoded (out, decoded, n);
        }
      else
        {
          g_string_append (out, "?Q?");
          g_string_append_len (out, text, tend - text);
        }
      g_string_append (out, "?=");
      p = tend + 2;
    }

  return g_string_free (out, FALSE);
}

/* A raw header value, ready for GMime's decoders: bounded, unfolded, valid UTF-8 (raw 8-bit
 * bytes read as UTF-8 or windows-1252), encoded words normalized. */
static char *
prepare_raw_value (const char *raw)
{
  gsize len = strnlen (raw, TD_MIME_MAX_HEADER_VALUE);
  g_autoptr(GString) utf8 = g_string_sized_new (len + 1);

  if (g_utf8_validate_len (raw, len, NULL))
    g_string_append_len (utf8, raw, len);
  else
    decode_utf8_lenient (raw, len, utf8);

  /* unfold: line breaks become spaces */
  for (gsize i = 0; i < utf8->len; i++)
    if (utf8->str[i] == '\r' || utf8->str[i] == '\n')
      utf8->str[i] = ' ';

  return normalize_encoded_words (utf8->str);
}

/* Cleans a decoded string for output; NULL when nothing is left. Takes @str. */
static char *
clean_folded (char *str)
{
  char *clean;

  if (str == NULL)
    return NULL;
  clean = _td_mime_clean_utf8 (str, strlen (str));
  fold_whitespace (clean);
  g_free (str);
  if (*clean == '\0')
    g_clear_pointer (&clean, g_free);
  return clean;
}

char *
_td_mime_decode_header_text (const char *raw)
{
  g_autofree char *prepared = NULL;

  if (raw == NULL)
    return NULL;
  prepared = prepare_raw_value (raw);
  return clean_folded (g_mime_utils_header_decode_text (_td_mime_parser_options (), prepared));
}

InternetAddressList *
_td_mime_parse_addresses (const char *raw)
{
  g_autofree char *prepared = NULL;
  InternetAddressList *list;

  if (raw == NULL)
    return internet_address_list_new ();
  prepared = prepare_raw_value (raw);
  list = internet_address_list_parse (_td_mime_parser_options (), prepared);
  return list != NULL ? list : internet_address_list_new ();
}

static void
format_address (GString         *out,
                InternetAddress *address,
                int              depth)
{
  g_autofree char *name = clean_folded (g_strdup (internet_address_get_name (address)));

  if (INTERNET_ADDRESS_IS_GROUP (address))
    {
      InternetAddressList *members =
        internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));
      int n = members != NULL ? internet_address_list_length (members) : 0;

      if (n == 0 || depth > 0)
        {
          if (name != NULL)
            {
              if (out->len > 0)
                g_string_append (out, ", ");
              g_string_append (out, name);
            }
          return;
        }
      for (int i = 0; i < n; i++)
        format_address (out, internet_address_list_get_address (members, i), depth + 1);
    }
  else if (INTERNET_ADDRESS_IS_MAILBOX (address))
    {
      g_autofree char *addr = clean_folded (g_strdup (internet_address_mailbox_get_addr (
        INTERNET_ADDRESS_MAILBOX (address))));

      if (addr == NULL && name == NULL)
        return;
      if (out->len > 0)
        g_string_append (out, ", ");
      if (name != NULL && addr != NULL && g_strcmp0 (name, addr) != 0)
        g_string_append_printf (out, "%s <%s>", name, addr);
      else
        g_string_append (out, addr != NULL ? addr : name);
    }
}

char *
_td_mime_format_addresses (InternetAddressList *list)
{
  GString *out = g_string_new (NULL);
  int n = list != NULL ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n; i++)
    format_address (out, internet_address_list_get_address (list, i), 0);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* The first mailbox of a list, looking into groups. */
static InternetAddressMailbox *
first_mailbox (InternetAddressList *list)
{
  int n = internet_address_list_length (list);

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        return INTERNET_ADDRESS_MAILBOX (address);
      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members =
            internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));

          for (int j = 0; members != NULL && j < internet_address_list_length (members); j++)
            {
              InternetAddress *member = internet_address_list_get_address (members, j);

              if (INTERNET_ADDRESS_IS_MAILBOX (member))
                return INTERNET_ADDRESS_MAILBOX (member);
            }
        }
    }
  return NULL;
}

static char *
decode_message_id (const char *raw)
{
  g_autofree char *prepared = NULL;
  char *id;

  if (raw == NULL)
    return NULL;
  prepared = g_strndup (raw, 2048);
  id = g_mime_utils_decode_message_id (prepared);
  if (id == NULL)
    {
      /* no <...>: keep the first word */
      char *start = g_strstrip (prepared);
      gsize n = strcspn (start, " \t\r\n");

      id = g_strndup (start, n);
    }
  g_strdelimit (id, "<>", ' ');
  return clean_folded (id);
}

/* Space-separated ids; a hostile list keeps its first id and its last 99. */
static char *
decode_references (const char *raw)
{
  g_autofree char *prepared = NULL;
  GMimeReferences *refs;
  GString *out;
  int n;

  if (raw == NULL)
    return NULL;
  prepared = g_strndup (raw, TD_MIME_MAX_HEADER_VALUE);
  refs = g_mime_references_parse (_td_mime_parser_options (), prepared);
  if (refs == NULL)
    return NULL;

  out = g_string_new (NULL);
  n = g_mime_references_length (refs);
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && i < n - 99)
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, g_mime_references_get_message_id (refs, i));
    }
  g_mime_references_free (refs);
  return clean_folded (g_string_free (out, FALSE));
}

static char *
decode_in_reply_to (const char *raw)
{
  GMimeReferences *refs;
  char *id = NULL;

  if (raw == NULL)
    return NULL;
  refs = g_mime_references_parse (_td_mime_parser_options (), raw);
  if (refs != NULL && g_mime_references_length (refs) > 0)
    id = clean_folded (g_strdup (g_mime_references_get_message_id (refs, 0)));
  if (refs != NULL)
    g_mime_references_free (refs);
  return id != NULL ? id : decode_message_id (raw);
}

static gint64
decode_date (const char *raw)
{
  g_autofree char *copy = NULL;
  g_autoptr(GDateTime) date = NULL;

  if (raw == NULL)
    return 0;
  copy = g_strndup (raw, 256);
  date = g_mime_utils_header_decode_date (g_strstrip (copy));
  return date != NULL ? g_date_time_to_unix (date) : 0;
}

const char *
_td_mime_object_raw_header (GMimeObject *object,
                            const char  *name)
{
  GMimeHeaderList *list = g_mime_object_get_header_list (object);
  int n = list != NULL ? g_mime_header_list_get_count (list) : 0;

  for (int i = 0; i < n; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (list, i);

      if (g_ascii_strcasecmp (g_mime_header_get_name (header), name) == 0)
        return g_mime_header_get_raw_value (header);
    }
  return NULL;
}

TdMimeHeaders *
_td_mime_headers_from_object (GMimeObject *object)
{
  enum { SUBJECT, FROM, TO, CC, MESSAGE_ID, IN_REPLY_TO, REFERENCES, DATE, N_FIELDS };
  static const char * const names[N_FIELDS] = {
    "Subject", "From", "To", "Cc", "Message-ID", "In-Reply-To", "References", "Date",
  };
  const char *raw[N_FIELDS] = { NULL, };
  TdMimeHeaders *headers = g_new0 (TdMimeHeaders, 1);
  GMimeHeaderList *list = g_mime_object_get_header_list (object);
  int n = list != NULL ? g_mime_header_list_get_count (list) : 0;

  /* one pass; the first of duplicated headers wins */
  for (int i = 0; i < n; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (list, i);
      const char *name = g_mime_header_get_name (header);

      for (guint f = 0; f < N_FIELDS; f++)
        if (raw[f] == NULL && g_ascii_strcasecmp (name, names[f]) == 0)
          raw[f] = g_mime_header_get_raw_value (header);
    }

  headers->subject = _td_mime_decode_header_text (raw[SUBJECT]);
  if (raw[FROM] != NULL)
    {
      InternetAddressList *from = _td_mime_parse_addresses (raw[FROM]);
      InternetAddressMailbox *mailbox = first_mailbox (from);

      if (mailbox != NULL)
        {
          headers->from_name =
            clean_folded (g_strdup (internet_address_get_name (INTERNET_ADDRESS (mailbox))));
          headers->from_address =
            clean_folded (g_strdup (internet_address_mailbox_get_addr (mailbox)));
        }
      g_object_unref (from);
    }
  if (raw[TO] != NULL)
    {
      InternetAddressList *to = _td_mime_parse_addresses (raw[TO]);

      headers->to = _td_mime_format_addresses (to);
      g_object_unref (to);
    }
  if (raw[CC] != NULL)
    {
      InternetAddressList *cc = _td_mime_parse_addresses (raw[CC]);

      headers->cc = _td_mime_format_addresses (cc);
      g_object_unref (cc);
    }
  headers->message_id = decode_message_id (raw[MESSAGE_ID]);
  headers->in_reply_to = decode_in_reply_to (raw[IN_REPLY_TO]);
  headers->references = decode_references (raw[REFERENCES]);
  headers->date = decode_date (raw[DATE]);
  return headers;
}

/* Where the header block ends (just after its empty line), or @len. */
static gsize
header_block_length (const char *data,
                     gsize       len)
{
  const char *p = data;
  const char *end = data + len;

  if (len > 0 && data[0] == '\n')
    return 1;
  if (len > 1 && data[0] == '\r' && data[1] == '\n')
    return 2;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);

      if (nl == NULL)
        break;
      if (nl + 1 < end && nl[1] == '\n')
        return nl + 2 - data;
      if (nl + 2 < end && nl[1] == '\r' && nl[2] == '\n')
        return nl + 3 - data;
      p = nl + 1;
    }
  return len;
}

/* The end of the header field (a line and its continuation lines) that starts at @p. */
static const char *
field_end (const char *p,
           const char *end)
{
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);

      if (nl == NULL)
        return end;
      p = nl + 1;
      if (p >= end || (*p != ' ' && *p != '\t'))
        return p;
    }
  return end;
}

/* Does the header block end its lines with something other than LF or CR LF: a bare CR (old
 * Mac files) or CR CR LF (a CR LF converted once more on the way)? GMime reads neither. */
static gboolean
has_broken_line_ends (const char *data,
                      gsize       header_len)
{
  for (const char *p = memchr (data, '\r', header_len); p != NULL;
       p = memchr (p + 1, '\r', header_len - (gsize) (p + 1 - data)))
    if ((gsize) (p + 1 - data) >= header_len || p[1] != '\n')
      return TRUE;
  return FALSE;
}

/* Line ends made LF: a run of CRs before an LF is one line end, a run of bare CRs is one line
 * end per CR. */
static GByteArray *
normalize_line_ends (const char *data,
                     gsize       len)
{
  GByteArray *out = g_byte_array_sized_new ((guint) len);
  const char *end = data + len;
  const char *p = data;

  while (p < end)
    {
      const char *cr = memchr (p, '\r', (gsize) (end - p));
      const char *q;

      if (cr == NULL)
        {
          g_byte_array_append (out, (const guint8 *) p, (guint) (end - p));
          break;
        }
      g_byte_array_append (out, (const guint8 *) p, (guint) (cr - p));
      for (q = cr; q < end && *q == '\r'; q++)
        ;
      if (q < end && *q == '\n')
        {
          g_byte_array_append (out, (const guint8 *) "\n", 1);
          q++;
        }
      else
        for (const char *r = cr; r < q; r++)
          g_byte_array_append (out, (const guint8 *) "\n", 1);
      p = q;
    }
  return out;
}

GMimeStream *
_td_mime_stream_new (const char *data,
                     gsize       len,
                     gboolean    header_only)
{
  gsize header_len = header_block_length (data, len);
  const char *header_end = data + header_len;
  const char *p = data;
  GByteArray *copy = NULL;

  if (has_broken_line_ends (data, header_len))
    {
      g_autoptr(GByteArray) normal = normalize_line_ends (data, len);

      /* the stream copies the buffer */
      return _td_mime_stream_new ((const char *) normal->data, normal->len, header_only);
    }

  /* GMime grows its buffer for one header field a few bytes at a time, which costs
   * quadratic time on a field of megabytes (only ever hostile, but then a reader waits).
   * Fields of the top-level header block are cut at TD_MIME_MAX_HEADER_VALUE. */
  while (p < header_end)
    {
      const char *next = field_end (p, header_end);

      if (next - p > TD_MIME_MAX_HEADER_VALUE)
        {
          gsize keep = TD_MIME_MAX_HEADER_VALUE;

          if (copy == NULL)
            {
              copy = g_byte_array_sized_new (header_only ? header_len : len);
              g_byte_array_append (copy, (const guint8 *) data, p - data);
            }

          /* the cut field must still end in exactly one line break */
          while (keep > 0 && (p[keep - 1] == '\n' || p[keep - 1] == '\r'))
            keep--;
          g_byte_array_append (copy, (const guint8 *) p, keep);
          g_byte_array_append (copy, (const guint8 *) "\n", 1);
        }
      else if (copy != NULL)
        g_byte_array_append (copy, (const guint8 *) p, next - p);
      p = next;
    }

  if (copy == NULL)
    return g_mime_stream_mem_new_with_buffer (data, header_only ? header_len : len);
  if (!header_only)
    g_byte_array_append (copy, (const guint8 *) header_end, len - header_len);
  return g_mime_stream_mem_new_with_byte_array (copy);
}

TdMimeHeaders *
td_mime_headers_parse (GBytes *header)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  const char *data;
  gsize len = 0;

  g_return_val_if_fail (header != NULL, NULL);

  data = g_bytes_get_data (header, &len);
  if (data == NULL || len == 0)
    return g_new0 (TdMimeHeaders, 1);

  /* only the header block: a whole message's body is not parsed for nothing */
  stream = _td_mime_stream_new (data, len, TRUE);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, _td_mime_parser_options ());
  if (message == NULL)
    return g_new0 (TdMimeHeaders, 1);
  return _td_mime_headers_from_object (GMIME_OBJECT (message));
}

void
td_mime_headers_free (TdMimeHeaders *headers)
{
  if (headers == NULL)
    return;
  g_free (headers->subject);
  g_free (headers->from_name);
  g_free (headers->from_address);
  g_free (headers->to);
  g_free (headers->cc);
  g_free (headers->message_id);
  g_free (headers->in_reply_to);
  g_free (headers->references);
  g_free (headers);
}

void
td_attachment_free (TdAttachment *attachment)
{
  if (attachment == NULL)
    return;
  g_free (attachment->filename);
  g_free (attachment->content_type);
  g_free (attachment->content_id);
  g_free (attachment);
}

/* ---------------------------------------------------------------------------------------- */
/* format=flowed (RFC 3676)                                                                  */

char *
_td_mime_unflow (const char *text,
                 gboolean    delsp)
{
  GString *out = g_string_sized_new (strlen (text) + 1);
  const char *p = text;
  gboolean in_paragraph = FALSE;
  guint paragraph_depth = 0;

  while (*p != '\0')
    {
      const char *eol = strchr (p, '\n');
      const char *line_end = eol != NULL ? eol : p + strlen (p);
      const char *content = p;
      gsize content_len;
      guint depth = 0;
      gboolean is_signature;
      gboolean flowed;

      while (content < line_end && *content == '>')
        {
          content++;
          depth++;
        }
      if (content < line_end && *content == ' ')   /* space-stuffing */
        content++;
      content_len = line_end - content;

      is_signature = content_len == 3 && memcmp (content, "-- ", 3) == 0;
      flowed = content_len > 0 && content[content_len - 1] == ' ' && !is_signature;

      /* a flowed line must be followed by one of the same depth, and the signature
       * separator always starts a line of its own */
      if (in_paragraph && (depth != paragraph_depth || is_signature))
        {
          g_string_append_c (out, '\n');
          in_paragraph = FALSE;
        }
      if (!in_paragraph && depth > 0)
        {
          for (guint i = 0; i < depth; i++)
            g_string_append_c (out, '>');
          g_string_append_c (out, ' ');
        }

      if (flowed && delsp)
        content_len--;
      g_string_append_len (out, content, content_len);

      if (flowed)
        {
          in_paragraph = TRUE;
          paragraph_depth = depth;
        }
      else
        {
          in_paragraph = FALSE;
          if (eol != NULL)
            g_string_append_c (out, '\n');
        }

      if (eol == NULL)
        break;
      p = eol + 1;
    }

  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------------------- */
/* Previews                                                                                  */

static gboolean
line_is_quote (const char *line,
               gsize       len)
{
  gsize i = 0;

  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  /* ">From " is how mbox escapes a line, not a quote */
  if (i == 0 && len >= 6 && memcmp (line, ">From ", 6) == 0)
    return FALSE;
  return i < len && line[i] == '>';
}

static gboolean
line_is_blank (const char *line,
               gsize       len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (line[i]))
      return FALSE;
  return TRUE;
}

/* "On Tue, Ann wrote:" just before a quote */
static gboolean
line_is_attribution (const char *line,
                     gsize       len,
                     const char *next)
{
  while (len > 0 && g_ascii_isspace (line[len - 1]))
    len--;
  if (len < 6 || line[len - 1] != ':')
    return FALSE;
  if (!(len >= 6 && g_ascii_strncasecmp (line + len - 6, "wrote:", 6) == 0) &&
      !(len >= 7 && g_ascii_strncasecmp (line + len - 7, "writes:", 7) == 0))
    return FALSE;

  /* only when a quote follows (after blank lines) */
  while (*next != '\0')
    {
      const char *eol = strchr (next, '\n');
      gsize n = eol != NULL ? (gsize) (eol - next) : strlen (next);

      if (!line_is_blank (next, n))
        return line_is_quote (next, n);
      if (eol == NULL)
        break;
      next = eol + 1;
    }
  return FALSE;
}

char *
td_mime_make_preview (const char *text,
                      guint       max_chars)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;
  guint chars = 0;
  gboolean space = FALSE;
  gboolean cut = FALSE;

  if (text == NULL || max_chars == 0)
    return g_strdup ("");
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = _td_mime_clean_utf8 (text, strlen (text));
  p = text;

  out = g_string_sized_new (MIN (max_chars, 4096) * 2 + 4);
  while (*p != '\0' && !cut)
    {
      const char *eol = strchr (p, '\n');
      gsize n = eol != NULL ? (gsize) (eol - p) : strlen (p);
      const char *next = eol != NULL ? eol + 1 : p + n;

      if (n == 3 && memcmp (p, "-- ", 3) == 0)
        break;   /* the signature */
      if (line_is_quote (p, n) || line_is_attribution (p, n, next))
        {
          p = next;
          continue;
        }

      for (const char *c = p; c < p + n; c = g_utf8_next_char (c))
        {
          gunichar ch = g_utf8_get_char (c);

          if (g_unichar_isspace (ch) || ch == 0x00A0 || ch == 0x200B || ch == 0x200C ||
              ch == 0x2060 || ch == 0x034F || ch == 0x00AD)
            {
              space = TRUE;
              continue;
            }
          if (chars == max_chars)
            {
              cut = TRUE;
              break;
            }
          if (space && out->len > 0)
            {
              g_string_append_c (out, ' ');
              chars++;
              if (chars == max_chars)
                {
                  cut = TRUE;
                  break;
                }
            }
          space = FALSE;
          g_string_append_len (out, c, g_utf8_next_char (c) - c);
          chars++;
        }
      space = TRUE;
      p = next;
    }

  if (cut)
    {
      while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate (out, out->len - 1);
      g_string_append (out, "…");
    }
  {
    char *result = _td_mime_clean_utf8 (out->str, out->len);

    g_string_free (out, TRUE);
    return result;
  }
}

/* ---------------------------------------------------------------------------------------- */

void
_td_mime_html_escape (GString    *out,
                      const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '&': g_string_append (out, "&amp;"); break;
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        default: g_string_append_c (out, *p); break;
        }
    }
}
