/* td-mime-html.c: HTML mail to readable text, and a check for remote content
 *
 * Not an HTML parser: a small tokenizer over tags that never looks back, so any input
 * (unterminated tags, comments, quotes, megabytes of "<<<<") costs linear time. What a
 * reader needs survives: paragraphs and lines, list bullets, quotes, preformatted text,
 * entities and the targets of links.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-mime"

#include "config.h"

#include "td-mime.h"

#include <string.h>

#include "td-mime-private.h"

/* ---------------------------------------------------------------------------------------- */
/* Entities                                                                                  */

/* HTML 4 names of U+00A0..U+00FF, in order. */
static const char * const latin1_entities[96] = {
  "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
  "uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
  "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
  "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
  "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil",
  "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml",
  "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times",
  "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig",
  "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
  "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml",
  "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide",
  "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};

static const struct
{
  const char *name;
  gunichar    c;
} other_entities[] = {
  { "quot", 0x22 }, { "amp", 0x26 }, { "apos", 0x27 }, { "lt", 0x3C }, { "gt", 0x3E },
  { "QUOT", 0x22 }, { "AMP", 0x26 }, { "LT", 0x3C }, { "GT", 0x3E }, { "COPY", 0xA9 },
  { "REG", 0xAE }, { "OElig", 0x152 }, { "oelig", 0x153 }, { "Scaron", 0x160 },
  { "scaron", 0x161 }, { "Yuml", 0x178 }, { "fnof", 0x192 }, { "circ", 0x2C6 },
  { "tilde", 0x2DC }, { "ensp", 0x2002 }, { "emsp", 0x2003 }, { "thinsp", 0x2009 },
  { "zwnj", 0x200C }, { "zwj", 0x200D }, { "lrm", 0x200E }, { "rlm", 0x200F },
  { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
  { "sbquo", 0x201A }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "bdquo", 0x201E },
  { "dagger", 0x2020 }, { "Dagger", 0x2021 }, { "bull", 0x2022 }, { "hellip", 0x2026 },
  { "permil", 0x2030 }, { "prime", 0x2032 }, { "Prime", 0x2033 }, { "lsaquo", 0x2039 },
  { "rsaquo", 0x203A }, { "oline", 0x203E }, { "frasl", 0x2044 }, { "euro", 0x20AC },
  { "trade", 0x2122 }, { "larr", 0x2190 }, { "uarr", 0x2191 }, { "rarr", 0x2192 },
  { "darr", 0x2193 }, { "harr", 0x2194 }, { "minus", 0x2212 }, { "infin", 0x221E },
  { "asymp", 0x2248 }, { "ne", 0x2260 }, { "le", 0x2264 }, { "ge", 0x2265 },
  { "loz", 0x25CA }, { "spades", 0x2660 }, { "clubs", 0x2663 }, { "hearts", 0x2665 },
  { "diams", 0x2666 }, { "Alpha", 0x391 }, { "Beta", 0x392 }, { "Gamma", 0x393 },
  { "Delta", 0x394 }, { "Omega", 0x3A9 }, { "alpha", 0x3B1 }, { "beta", 0x3B2 },
  { "gamma", 0x3B3 }, { "delta", 0x3B4 }, { "pi", 0x3C0 }, { "mu", 0x3BC },
  { "sigma", 0x3C3 }, { "omega", 0x3C9 }, { "lambda", 0x3BB }, { "theta", 0x3B8 },
};

/* Names a browser also accepts without the ';' (the common part of the legacy list). */
static const char * const legacy_entities[] = {
  "nbsp", "copy", "quot", "amp", "reg", "lt", "gt", "AMP", "COPY", "QUOT", "REG", "LT", "GT",
};

static gpointer
make_entity_table (gpointer data)
{
  GHashTable *table = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < G_N_ELEMENTS (latin1_entities); i++)
    g_hash_table_insert (table, (gpointer) latin1_entities[i], GUINT_TO_POINTER (0xA0 + i));
  for (guint i = 0; i < G_N_ELEMENTS (other_entities); i++)
    g_hash_table_insert (table, (gpointer) other_entities[i].name,
                         GUINT_TO_POINTER (other_entities[i].c));
  return table;
}

static gunichar
lookup_entity (const char *name)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, make_entity_table, NULL);
  return GPOINTER_TO_UINT (g_hash_table_lookup (once.retval, name));
}

static gunichar
numeric_entity_value (guint64 value)
{
  if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0xFFFD;
  if (value >= 0x80 && value <= 0x9F)
    return _td_mime_cp1252_to_unichar ((guchar) value);
  return (gunichar) value;
}

/* Decodes one entity at @s (which points at '&'); returns the bytes consumed, 0 when this
 * '&' is just an ampersand. */
static gsize
decode_entity (const char *s,
               gsize       len,
               gboolean    in_attribute,
               gunichar   *out)
{
  gsize i = 1;

  if (len < 2)
    return 0;

  if (s[1] == '#')
    {
      guint64 value = 0;
      gboolean hex = FALSE;
      gsize digits = 0;

      i = 2;
      if (i < len && (s[i] == 'x' || s[i] == 'X'))
        {
          hex = TRUE;
          i++;
        }
      while (i < len && (hex ? g_ascii_isxdigit (s[i]) : g_ascii_isdigit (s[i])))
        {
          if (value <= 0x10FFFF)
            value = value * (hex ? 16 : 10) + (hex ? g_ascii_xdigit_value (s[i]) : s[i] - '0');
          digits++;
          i++;
        }
      if (digits == 0)
        return 0;
      if (i < len && s[i] == ';')
        i++;
      *out = numeric_entity_value (value);
      return i;
    }
  else
    {
      char name[33];
      gsize n = 0;
      gunichar c;

      while (i < len && n < sizeof name - 1 && g_ascii_isalnum (s[i]))
        name[n++] = s[i++];
      name[n] = '\0';
      if (n == 0)
        return 0;

      if (i < len && s[i] == ';' && (c = lookup_entity (name)) != 0)
        {
          *out = c;
          return i + 1;
        }

      for (guint k = 0; k < G_N_ELEMENTS (legacy_entities); k++)
        {
          gsize l = strlen (legacy_entities[k]);
          char after;

          if (l > n || strncmp (name, legacy_entities[k], l) != 0)
            continue;
          after = 1 + l < len ? s[1 + l] : '\0';
          if (in_attribute && (g_ascii_isalnum (after) || after == '='))
            return 0;
          *out = lookup_entity (legacy_entities[k]);
          return 1 + l;
        }
      return 0;
    }
}

static void
decode_entities (const char *s,
                 gsize       len,
                 gboolean    in_attribute,
                 GString    *out)
{
  const char *end = s + len;

  while (s < end)
    {
      const char *amp = memchr (s, '&', end - s);
      gunichar c = 0;
      gsize used;

      if (amp == NULL)
        {
          g_string_append_len (out, s, end - s);
          break;
        }
      g_string_append_len (out, s, amp - s);
      used = decode_entity (amp, end - amp, in_attribute, &c);
      if (used == 0)
        {
          g_string_append_c (out, '&');
          s = amp + 1;
        }
      else
        {
          g_string_append_unichar (out, c);
          s = amp + used;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Tokenizer                                                                                 */

typedef enum
{
  TOKEN_EOF,
  TOKEN_TEXT,
  TOKEN_START,
  TOKEN_END,
  TOKEN_RAW,    /* the content of script, style, title... (name says which) */
} TokenType;

#define MAX_ATTRS 32
#define NAME_SIZE 16

typedef struct
{
  const char *name;
  gsize       name_len;
  const char *value;
  gsize       value_len;
} HtmlAttr;

typedef struct
{
  const char *p;
  const char *end;

  TokenType   type;
  const char *text;
  gsize       text_len;
  char        name[NAME_SIZE];   /* lower case; "" when unknown or too long */
  gboolean    self_closing;
  HtmlAttr    attrs[MAX_ATTRS];
  guint       n_attrs;

  char        raw_element[NAME_SIZE];  /* set after a start tag whose content is raw text */
} HtmlTokenizer;

/* Elements whose content is not markup and is never shown. */
static const char * const raw_elements[] = {
  "script", "style", "title", "noembed", "noframes", "template", "iframe", "xml",
};

static void
tokenizer_init (HtmlTokenizer *t,
                const char    *html,
                gsize          len)
{
  memset (t, 0, sizeof *t);
  t->p = html;
  t->end = html + len;
}

static inline gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static const char *
read_name (const char *p,
           const char *end,
           char        name[NAME_SIZE])
{
  gsize n = 0;
  gboolean too_long = FALSE;

  while (p < end && (g_ascii_isalnum (*p) || *p == '-' || *p == ':' || *p == '_'))
    {
      if (n < NAME_SIZE - 1)
        name[n++] = g_ascii_tolower (*p);
      else
        too_long = TRUE;
      p++;
    }
  name[too_long ? 0 : n] = '\0';
  return p;
}

/* The "</name" that ends raw text, or @end. */
static const char *
find_end_tag (const char *p,
              const char *end,
              const char *name)
{
  gsize n = strlen (name);

  while (p < end)
    {
      const char *lt = memchr (p, '<', end - p);

      if (lt == NULL)
        return end;
      if ((gsize) (end - lt) >= n + 2 && lt[1] == '/' &&
          g_ascii_strncasecmp (lt + 2, name, n) == 0 &&
          ((gsize) (end - lt) == n + 2 || !g_ascii_isalnum (lt[2 + n])))
        return lt;
      p = lt + 1;
    }
  return end;
}

/* Parses the start tag at t->p ('<' + letter). FALSE when it never ends. */
static gboolean
parse_start_tag (HtmlTokenizer *t)
{
  const char *q = read_name (t->p + 1, t->end, t->name);
  const char *end = t->end;

  t->n_attrs = 0;
  t->self_closing = FALSE;

  while (TRUE)
    {
      const char *name, *value = NULL;
      gsize name_len, value_len = 0;

      while (q < end && is_space (*q))
        q++;
      if (q >= end)
        return FALSE;
      if (*q == '>')
        {
          q++;
          break;
        }
      if (*q == '/')
        {
          q++;
          if (q < end && *q == '>')
            {
              t->self_closing = TRUE;
              q++;
              break;
            }
          continue;
        }

      name = q;
      if (*q == '=')
        q++;
      while (q < end && !is_space (*q) && *q != '>' && *q != '/' && *q != '=')
        q++;
      name_len = q - name;
      while (q < end && is_space (*q))
        q++;
      if (q < end && *q == '=')
        {
          q++;
          while (q < end && is_space (*q))
            q++;
          if (q >= end)
            return FALSE;
          if (*q == '"' || *q == '\'')
            {
              const char *close = memchr (q + 1, *q, end - (q + 1));

              if (close == NULL)
                return FALSE;
              value = q + 1;
              value_len = close - value;
              q = close + 1;
            }
          else
            {
              value = q;
              while (q < end && !is_space (*q) && *q != '>')
                q++;
              value_len = q - value;
            }
        }

      if (t->n_attrs < MAX_ATTRS)
        {
          HtmlAttr *attr = &t->attrs[t->n_attrs++];

          attr->name = name;
          attr->name_len = name_len;
          attr->value = value;
          attr->value_len = value_len;
        }
    }

  t->p = q;
  if (!t->self_closing)
    for (guint i = 0; i < G_N_ELEMENTS (raw_elements); i++)
      if (strcmp (t->name, raw_elements[i]) == 0)
        g_strlcpy (t->raw_element, t->name, NAME_SIZE);
  return TRUE;
}

static TokenType
tokenizer_next (HtmlTokenizer *t)
{
  while (TRUE)
    {
      const char *p = t->p;
      gsize rest = t->end - p;

      if (t->raw_element[0] != '\0')
        {
          const char *close = find_end_tag (p, t->end, t->raw_element);

          g_strlcpy (t->name, t->raw_element, NAME_SIZE);
          t->raw_element[0] = '\0';
          t->p = close;
          if (close > p)
            {
              t->text = p;
              t->text_len = close - p;
              return t->type = TOKEN_RAW;
            }
          continue;
        }

      if (rest == 0)
        return t->type = TOKEN_EOF;

      if (*p != '<' || rest == 1 ||
          !(g_ascii_isalpha (p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?'))
        {
          /* text, up to the next '<' (a lone '<' is text too) */
          const char *lt = memchr (p + 1, '<', rest - 1);

          t->text = p;
          t->text_len = (lt != NULL ? lt : t->end) - p;
          t->p = p + t->text_len;
          return t->type = TOKEN_TEXT;
        }

      if (p[1] == '!' && rest >= 4 && p[2] == '-' && p[3] == '-')
        {
          /* a comment: up to "-->" (or "<!-->"), else to the end */
          const char *q = p + 4;
          const char *close = NULL;

          if (q < t->end && *q == '>')
            close = q;
          else if (q + 1 < t->end && q[0] == '-' && q[1] == '>')
            close = q + 1;
          while (close == NULL && q < t->end)
            {
              const char *gt = memchr (q, '>', t->end - q);

              if (gt == NULL)
                break;
              if (gt - p >= 6 && gt[-1] == '-' && gt[-2] == '-')
                close = gt;
              q = gt + 1;
            }
          t->p = close != NULL ? close + 1 : t->end;
          continue;
        }

      if (p[1] == '!' || p[1] == '?')
        {
          const char *gt = memchr (p, '>', rest);

          t->p = gt != NULL ? gt + 1 : t->end;
          continue;
        }

      if (p[1] == '/')
        {
          const char *gt;

          if (rest < 3 || !g_ascii_isalpha (p[2]))
            {
              /* "</>" or "</ junk>": dropped like a comment */
              gt = memchr (p, '>', rest);
              t->p = gt != NULL ? gt + 1 : t->end;
              continue;
            }
          read_name (p + 2, t->end, t->name);
          gt = memchr (p, '>', rest);
          if (gt == NULL)
            {
              t->p = t->end;
              continue;
            }
          t->p = gt + 1;
          t->n_attrs = 0;
          return t->type = TOKEN_END;
        }

      if (parse_start_tag (t))
        return t->type = TOKEN_START;
      /* an unterminated tag eats the rest, as in a browser */
      t->p = t->end;
      t->raw_element[0] = '\0';
    }
}

static const HtmlAttr *
tokenizer_get_attr (HtmlTokenizer *t,
                    const char    *name)
{
  gsize n = strlen (name);

  for (guint i = 0; i < t->n_attrs; i++)
    if (t->attrs[i].name_len == n && g_ascii_strncasecmp (t->attrs[i].name, name, n) == 0)
      return &t->attrs[i];
  return NULL;
}

static char *
tokenizer_dup_attr (HtmlTokenizer *t,
                    const char    *name)
{
  const HtmlAttr *attr = tokenizer_get_attr (t, name);
  GString *value;

  if (attr == NULL || attr->value == NULL)
    return NULL;
  value = g_string_sized_new (attr->value_len + 1);
  decode_entities (attr->value, attr->value_len, TRUE, value);
  return g_string_free (value, FALSE);
}

static gboolean
name_in (const char         *name,
         const char * const *set,
         gsize               n)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (name, set[i]) == 0)
      return TRUE;
  return FALSE;
}

#define NAME_IN(name, set) name_in ((name), (set), G_N_ELEMENTS (set))

/* ---------------------------------------------------------------------------------------- */
/* HTML to text                                                                              */

typedef struct
{
  GString  *out;
  guint     pending_newlines;
  gboolean  pending_space;
  guint     pre;
  gboolean  pre_start;
  guint     quote;
  guint     list;
  gboolean  in_head;
  char     *href;
  gsize     link_start;
  GString  *scratch;
} TextWriter;

/* Quote markers and list indents stop growing here, so that deep nesting cannot make the
 * output grow faster than the input. */
#define MAX_SHOWN_LEVELS 16

/* Elements that end a line, and those that end a paragraph (a blank line). */
static const char * const line_elements[] = {
  "div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "nav", "aside",
  "main", "center", "caption", "figcaption", "details", "summary", "option", "legend",
  "thead", "tbody", "tfoot", "body", "html", "form", "noscript", "address", "fieldset",
  "menu", "dir", "frameset", "hgroup", "search",
};
static const char * const paragraph_elements[] = {
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "dl", "hr", "figure", "listing",
  "plaintext", "xmp",
};
/* What may be in <head>; anything else ends it. */
static const char * const head_elements[] = {
  "title", "meta", "link", "style", "script", "base", "noscript", "template", "head",
};

static inline gboolean
at_line_start (TextWriter *w)
{
  return w->out->len == 0 || w->out->str[w->out->len - 1] == '\n';
}

static void
flush_newlines (TextWriter *w)
{
  guint have = 0;

  if (w->pending_newlines == 0)
    return;
  if (w->out->len > 0)
    {
      while (w->out->len > 0 && w->out->str[w->out->len - 1] == ' ')
        g_string_truncate (w->out, w->out->len - 1);
      while (have < w->out->len && w->out->str[w->out->len - 1 - have] == '\n')
        have++;
      for (guint i = have; i < w->pending_newlines; i++)
        g_string_append_c (w->out, '\n');
    }
  w->pending_newlines = 0;
  w->pending_space = FALSE;
}

/* Before anything visible: the pending line breaks or space, and the quote prefix. */
static void
begin_text (TextWriter *w)
{
  flush_newlines (w);
  if (at_line_start (w))
    {
      for (guint i = 0; i < MIN (w->quote, MAX_SHOWN_LEVELS); i++)
        g_string_append_c (w->out, '>');
      if (w->quote > 0)
        g_string_append_c (w->out, ' ');
    }
  else if (w->pending_space && w->out->str[w->out->len - 1] != ' ')
    g_string_append_c (w->out, ' ');
  w->pending_space = FALSE;
}

static void
block (TextWriter *w,
       guint       newlines)
{
  w->pending_newlines = MAX (w->pending_newlines, newlines);
}

/* Zero-width padding (newsletters fill their preheaders with it) and soft hyphens. */
static inline gboolean
is_invisible (gunichar c)
{
  return c == 0x200B || c == 0x200C || c == 0x2060 || c == 0x034F || c == 0x00AD ||
         c == 0xFEFF;
}

static void
write_text (TextWriter *w,
            const char *text,
            gsize       len)
{
  const char *p, *end;

  if (w->in_head)
    {
      /* text cannot be in <head>: a browser starts the body here */
      for (gsize i = 0; i < len && w->in_head; i++)
        if (!is_space (text[i]))
          w->in_head = FALSE;
      if (w->in_head)
        return;
    }

  g_string_truncate (w->scratch, 0);
  decode_entities (text, len, FALSE, w->scratch);
  p = w->scratch->str;
  end = p + w->scratch->len;

  if (w->pre > 0)
    {
      for (; p < end; p++)
        {
          if (*p == '\r')
            continue;
          if (*p == '\n')
            {
              if (!w->pre_start)
                {
                  flush_newlines (w);
                  g_string_append_c (w->out, '\n');
                }
              w->pre_start = FALSE;
              continue;
            }
          w->pre_start = FALSE;
          begin_text (w);
          g_string_append_c (w->out, *p);
        }
      return;
    }

  while (p < end)
    {
      const char *run = p;

      if (is_space (*p))
        {
          w->pending_space = TRUE;
          p++;
          continue;
        }
      if ((guchar) *p >= 0x80)
        {
          gunichar c = g_utf8_get_char_validated (p, end - p);
          gsize n = c < 0x110000 ? (gsize) (g_utf8_next_char (p) - p) : 1;

          if (c == 0x00A0)
            {
              /* a space that does not collapse, but does not indent a line either */
              if (w->pending_newlines == 0 && !at_line_start (w))
                {
                  begin_text (w);
                  g_string_append_c (w->out, ' ');
                }
              p += n;
              continue;
            }
          if (is_invisible (c))
            {
              p += n;
              continue;
            }
          p += n;
        }
      while (p < end && !is_space (*p) && (guchar) *p < 0x80)
        p++;
      begin_text (w);
      g_string_append_len (w->out, run, p - run);
    }
}

static gboolean
href_is_shown (const char *href)
{
  static const char * const schemes[] = { "http:", "https:", "mailto:", "ftp:" };

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strncasecmp (href, schemes[i], strlen (schemes[i])) == 0)
      return TRUE;
  return FALSE;
}

/* Drops what a link text may leave out of its URL: the scheme, "www.", a final '/'. */
static void
strip_url (const char **s,
           gsize       *len)
{
  static const char * const prefixes[] = { "mailto:", "https://", "http://", "ftp://" };

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      gsize n = strlen (prefixes[i]);

      if (*len >= n && g_ascii_strncasecmp (*s, prefixes[i], n) == 0)
        {
          *s += n;
          *len -= n;
          break;
        }
    }
  if (*len > 4 && g_ascii_strncasecmp (*s, "www.", 4) == 0)
    {
      *s += 4;
      *len -= 4;
    }
  if (*len > 0 && (*s)[*len - 1] == '/')
    (*len)--;
}

/* Does the link text already say where the link goes? */
static gboolean
link_text_matches (const char *text,
                   gsize       len,
                   const char *href)
{
  gsize href_len = strlen (href);

  if (len == href_len && memcmp (text, href, len) == 0)
    return TRUE;
  strip_url (&text, &len);
  strip_url (&href, &href_len);
  return len == href_len && g_ascii_strncasecmp (text, href, len) == 0;
}

static void
finish_link (TextWriter *w)
{
  const char *text;
  gsize len;

  if (w->href == NULL)
    return;

  if (w->link_start <= w->out->len)
    {
      text = w->out->str + w->link_start;
      len = w->out->len - w->link_start;
      while (len > 0 && (is_space (*text) || *text == '>'))
        {
          text++;
          len--;
        }
      while (len > 0 && is_space (text[len - 1]))
        len--;
      if (len > 0 && !link_text_matches (text, len, w->href))
        g_string_append_printf (w->out, " <%s>", w->href);
    }
  g_clear_pointer (&w->href, g_free);
}

static void
handle_start (TextWriter    *w,
              HtmlTokenizer *t)
{
  const char *name = t->name;

  if (w->in_head && !NAME_IN (name, head_elements))
    w->in_head = FALSE;

  if (strcmp (name, "head") == 0)
    w->in_head = TRUE;
  else if (strcmp (name, "br") == 0)
    w->pending_newlines = MIN (w->pending_newlines + 1, 2);
  else if (strcmp (name, "li") == 0)
    {
      block (w, 1);
      begin_text (w);
      for (guint i = 1; i < MIN (w->list, MAX_SHOWN_LEVELS); i++)
        g_string_append (w->out, "  ");
      g_string_append (w->out, "• ");
    }
  else if (strcmp (name, "ul") == 0 || strcmp (name, "ol") == 0)
    {
      block (w, w->list == 0 ? 2 : 1);
      w->list++;
    }
  else if (strcmp (name, "blockquote") == 0)
    {
      block (w, 2);
      w->quote++;
    }
  else if (strcmp (name, "pre") == 0)
    {
      block (w, 2);
      w->pre++;
      w->pre_start = TRUE;
    }
  else if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
    {
      if (!at_line_start (w))
        w->pending_space = TRUE;
    }
  else if (strcmp (name, "a") == 0)
    {
      g_autofree char *href = NULL;

      finish_link (w);
      href = tokenizer_dup_attr (t, "href");
      if (href != NULL)
        {
          g_strstrip (href);
          if (href_is_shown (href) && strlen (href) <= 2048)
            {
              w->href = g_steal_pointer (&href);
              w->link_start = w->out->len;
            }
        }
    }
  else if (NAME_IN (name, paragraph_elements))
    block (w, 2);
  else if (NAME_IN (name, line_elements))
    block (w, 1);
}

static void
handle_end (TextWriter    *w,
            HtmlTokenizer *t)
{
  const char *name = t->name;

  if (strcmp (name, "head") == 0)
    w->in_head = FALSE;
  else if (strcmp (name, "li") == 0)
    block (w, 1);
  else if (strcmp (name, "ul") == 0 || strcmp (name, "ol") == 0)
    {
      if (w->list > 0)
        w->list--;
      block (w, w->list == 0 ? 2 : 1);
    }
  else if (strcmp (name, "blockquote") == 0)
    {
      if (w->quote > 0)
        w->quote--;
      block (w, 2);
    }
  else if (strcmp (name, "pre") == 0)
    {
      if (w->pre > 0)
        w->pre--;
      block (w, 2);
    }
  else if (strcmp (name, "a") == 0)
    finish_link (w);
  else if (NAME_IN (name, paragraph_elements))
    block (w, 2);
  else if (NAME_IN (name, line_elements))
    block (w, 1);
}

/* Last pass: trailing spaces of lines, U+00A0 as a space, invisible padding dropped, at most
 * one blank line in a row, no blank lines at either end. */
static char *
finish_text (GString *in)
{
  g_autofree char *clean = _td_mime_clean_utf8 (in->str, in->len);
  GString *out = g_string_sized_new (strlen (clean) + 1);
  guint newlines = 0;

  for (const char *p = clean; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_invisible (c))
        continue;
      if (c == 0x00A0)
        c = ' ';
      if (c == '\n')
        {
          while (out->len > 0 && out->str[out->len - 1] == ' ')
            g_string_truncate (out, out->len - 1);
          newlines++;
          continue;
        }
      if (newlines > 0 && out->len > 0)
        {
          g_string_append_c (out, '\n');
          if (newlines > 1)
            g_string_append_c (out, '\n');
        }
      newlines = 0;
      g_string_append_unichar (out, c);
    }
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, FALSE);
}

char *
td_mime_html_to_text (const char *html)
{
  HtmlTokenizer t;
  TextWriter w = { 0, };
  TokenType type;
  char *result;

  if (html == NULL)
    return g_strdup ("");

  tokenizer_init (&t, html, strlen (html));
  w.out = g_string_new (NULL);
  w.scratch = g_string_new (NULL);

  while ((type = tokenizer_next (&t)) != TOKEN_EOF)
    {
      switch (type)
        {
        case TOKEN_TEXT:
          write_text (&w, t.text, t.text_len);
          break;
        case TOKEN_START:
          handle_start (&w, &t);
          break;
        case TOKEN_END:
          handle_end (&w, &t);
          break;
        case TOKEN_RAW:
        case TOKEN_EOF:
        default:
          break;
        }
    }
  finish_link (&w);

  result = finish_text (w.out);
  g_string_free (w.out, TRUE);
  g_string_free (w.scratch, TRUE);
  return result;
}

/* ---------------------------------------------------------------------------------------- */
/* Remote content                                                                            */

/* http:, https: or protocol-relative (browsers read '\' as '/' here, and skip tabs and
 * newlines inside URLs). */
static gboolean
url_is_remote (const char *url,
               gsize       len)
{
  char head[8];
  gsize n = 0;
  gsize i = 0;

  while (i < len && ((guchar) url[i] <= 0x20 || url[i] == '"' || url[i] == '\''))
    i++;
  for (; i < len && n < sizeof head; i++)
    {
      if (url[i] == '\t' || url[i] == '\n' || url[i] == '\r')
        continue;
      head[n++] = g_ascii_tolower (url[i]);
    }

  if (n >= 2 && (head[0] == '/' || head[0] == '\\') && (head[1] == '/' || head[1] == '\\'))
    return TRUE;
  if (n >= 5 && memcmp (head, "http:", 5) == 0)
    return TRUE;
  return n >= 6 && memcmp (head, "https:", 6) == 0;
}

static gboolean
attr_value_is_remote (const HtmlAttr *attr)
{
  g_autoptr(GString) value = NULL;

  if (attr->value == NULL)
    return FALSE;
  value = g_string_sized_new (MIN (attr->value_len, 64) + 1);
  /* only the head matters, but entities may hide the scheme: decode a bounded prefix */
  decode_entities (attr->value, MIN (attr->value_len, 256), TRUE, value);
  return url_is_remote (value->str, value->len);
}

static gboolean
srcset_is_remote (const char *value,
                  gsize       len)
{
  const char *p = value;
  const char *end = value + len;

  while (p < end)
    {
      const char *comma = memchr (p, ',', end - p);
      const char *stop = comma != NULL ? comma : end;

      if (url_is_remote (p, stop - p))
        return TRUE;
      p = stop + 1;
    }
  return FALSE;
}

/* url(...) and @import in CSS. */
static gboolean
css_is_remote (const char *css,
               gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      if ((css[i] == 'u' || css[i] == 'U') && len - i >= 4 &&
          g_ascii_strncasecmp (css + i, "url(", 4) == 0)
        {
          if (url_is_remote (css + i + 4, len - i - 4))
            return TRUE;
          i += 3;
        }
      else if (css[i] == '@' && len - i >= 7 && g_ascii_strncasecmp (css + i, "@import", 7) == 0)
        {
          if (url_is_remote (css + i + 7, len - i - 7))
            return TRUE;
          i += 6;
        }
    }
  return FALSE;
}

/* Elements that load what src= (or the like) names; <a> and <area> only link. */
static const char * const loading_elements[] = {
  "img", "image", "input", "script", "iframe", "frame", "video", "audio", "source", "track",
  "embed", "object", "link", "base", "use", "feimage", "picture", "bgsound", "applet",
};
static const char * const loading_attributes[] = {
  "src", "href", "xlink:href", "data", "poster", "lowsrc", "dynsrc", "codebase", "archive",
};

gboolean
td_mime_html_has_remote_content (const char *html)
{
  HtmlTokenizer t;
  TokenType type;

  if (html == NULL)
    return FALSE;

  tokenizer_init (&t, html, strlen (html));
  while ((type = tokenizer_next (&t)) != TOKEN_EOF)
    {
      if (type == TOKEN_RAW && strcmp (t.name, "style") == 0 && css_is_remote (t.text, t.text_len))
        return TRUE;
      if (type != TOKEN_START)
        continue;

      /* <meta http-equiv="refresh" content="0; url=https://..."> loads a page */
      if (strcmp (t.name, "meta") == 0)
        {
          g_autofree char *equiv = tokenizer_dup_attr (&t, "http-equiv");
          g_autofree char *content = tokenizer_dup_attr (&t, "content");
          const char *url = NULL;

          if (equiv != NULL && content != NULL &&
              g_ascii_strcasecmp (g_strstrip (equiv), "refresh") == 0)
            for (const char *c = content; *c != '\0' && url == NULL; c++)
              if (g_ascii_strncasecmp (c, "url", 3) == 0)
                {
                  url = c + 3;
                  while (*url == ' ' || *url == '=')
                    url++;
                }
          if (url != NULL && url_is_remote (url, strlen (url)))
            return TRUE;
          continue;
        }

      for (guint i = 0; i < t.n_attrs; i++)
        {
          const HtmlAttr *attr = &t.attrs[i];

          if (attr->value == NULL)
            continue;

          if (attr->name_len == 10 && g_ascii_strncasecmp (attr->name, "background", 10) == 0 &&
              attr_value_is_remote (attr))
            return TRUE;

          if (attr->name_len == 5 && g_ascii_strncasecmp (attr->name, "style", 5) == 0)
            {
              g_autoptr(GString) css = g_string_sized_new (attr->value_len + 1);

              decode_entities (attr->value, attr->value_len, TRUE, css);
              if (css_is_remote (css->str, css->len))
                return TRUE;
            }

          if (!NAME_IN (t.name, loading_elements))
            continue;

          if ((attr->name_len == 6 && g_ascii_strncasecmp (attr->name, "srcset", 6) == 0) ||
              (attr->name_len == 11 && g_ascii_strncasecmp (attr->name, "imagesrcset", 11) == 0))
            {
              g_autoptr(GString) set = g_string_sized_new (attr->value_len + 1);

              decode_entities (attr->value, attr->value_len, TRUE, set);
              if (srcset_is_remote (set->str, set->len))
                return TRUE;
              continue;
            }

          for (guint k = 0; k < G_N_ELEMENTS (loading_attributes); k++)
            {
              gsize n = strlen (loading_attributes[k]);

              if (attr->name_len == n &&
                  g_ascii_strncasecmp (attr->name, loading_attributes[k], n) == 0 &&
                  attr_value_is_remote (attr))
                return TRUE;
            }
        }
    }
  return FALSE;
}
