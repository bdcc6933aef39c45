/* td-imap-response.c: typed views of parsed IMAP responses
 *
 * Everything here reads a TdImapResponse tree that the parser already bounded; nothing
 * trusts its shape. Item names and flags are matched case-insensitively.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-imap"

#include "config.h"

#include "td-imap-response.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "td-error.h"

static gboolean
malformed (GError     **error,
           const char  *what)
{
  g_set_error (error, TD_ERROR, TD_ERROR_PARSE,
               _("The server sent a malformed %s response"), what);
  return FALSE;
}

static const TdImapValue *
value_at (const GPtrArray *values,
          guint            i)
{
  if (values == NULL || i >= values->len)
    return NULL;
  return g_ptr_array_index ((GPtrArray *) values, i);
}

/* Capabilities */

static void
add_capabilities (GHashTable      *set,
                  const GPtrArray *values)
{
  for (guint i = 0; values != NULL && i < values->len; i++)
    {
      const TdImapValue *v = value_at (values, i);

      if (v->type == TD_IMAP_VALUE_ATOM && v->atom[0] != '\0')
        g_hash_table_add (set, g_ascii_strup (v->atom, -1));
    }
}

GHashTable *
td_imap_capabilities_parse (const TdImapResponse *response)
{
  GHashTable *set;

  g_return_val_if_fail (response != NULL, NULL);

  if (response->kind == TD_IMAP_RESPONSE_UNTAGGED && response->status == TD_IMAP_STATUS_NONE &&
      !response->has_number && g_strcmp0 (response->name, "CAPABILITY") == 0)
    {
      set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      add_capabilities (set, response->values);
      return set;
    }

  if (response->status != TD_IMAP_STATUS_NONE && g_strcmp0 (response->code, "CAPABILITY") == 0)
    {
      set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      add_capabilities (set, response->code_args);
      return set;
    }

  return NULL;
}

/* Flags */

static const struct
{
  const char *name;
  TdFlags     flag;
} flag_names[] = {
  { "\\Seen", TD_FLAG_SEEN },
  { "\\Answered", TD_FLAG_ANSWERED },
  { "\\Flagged", TD_FLAG_FLAGGED },
  { "\\Deleted", TD_FLAG_DELETED },
  { "\\Draft", TD_FLAG_DRAFT },
  { "$Forwarded", TD_FLAG_FORWARDED },
  { "$Junk", TD_FLAG_JUNK },
  { "\\Recent", TD_FLAG_RECENT },
};

static void
add_flag (const char *name,
          TdFlags    *flags,
          GPtrArray  *keywords)
{
  if (name[0] == '\0')
    return;

  for (guint i = 0; i < G_N_ELEMENTS (flag_names); i++)
    {
      if (g_ascii_strcasecmp (name, flag_names[i].name) == 0)
        {
          *flags |= flag_names[i].flag;
          return;
        }
    }

  if (keywords == NULL)
    return;
  for (guint i = 0; i < keywords->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (keywords, i), name) == 0)
      return;
  g_ptr_array_add (keywords, g_strdup (name));
}

TdFlags
td_imap_flags_parse (const TdImapValue *list,
                     GPtrArray         *keywords)
{
  TdFlags flags = 0;

  if (list == NULL)
    return 0;

  if (list->type != TD_IMAP_VALUE_LIST)
    {
      /* A lone flag where a list belongs: take it. */
      if (list->type == TD_IMAP_VALUE_ATOM)
        add_flag (list->atom, &flags, keywords);
      return flags;
    }

  for (guint i = 0; i < list->list->len; i++)
    {
      const TdImapValue *v = value_at (list->list, i);
      g_autofree char *name = NULL;

      if (v->type == TD_IMAP_VALUE_ATOM)
        add_flag (v->atom, &flags, keywords);
      else if (v->type == TD_IMAP_VALUE_STRING && (name = td_imap_value_dup_string (v)) != NULL &&
               g_utf8_validate (name, -1, NULL))
        add_flag (name, &flags, keywords);
    }

  return flags;
}

char *
td_imap_flags_to_string (TdFlags flags)
{
  GString *str = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (flag_names); i++)
    {
      /* \Recent is the server's to set, never ours. */
      if (flag_names[i].flag == TD_FLAG_RECENT || (flags & flag_names[i].flag) == 0)
        continue;
      if (str->len > 0)
        g_string_append_c (str, ' ');
      g_string_append (str, flag_names[i].name);
    }

  return g_string_free (str, FALSE);
}

/* LIST */

void
td_imap_list_entry_free (TdImapListEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->path);
  g_free (entry->raw_path);
  g_free (entry);
}

static const struct
{
  const char   *attribute;
  TdFolderRole  role;
} role_attributes[] = {
  /* RFC 6154 */
  { "\\All", TD_FOLDER_ROLE_ALL },
  { "\\Archive", TD_FOLDER_ROLE_ARCHIVE },
  { "\\Drafts", TD_FOLDER_ROLE_DRAFTS },
  { "\\Flagged", TD_FOLDER_ROLE_FLAGGED },
  { "\\Junk", TD_FOLDER_ROLE_JUNK },
  { "\\Sent", TD_FOLDER_ROLE_SENT },
  { "\\Trash", TD_FOLDER_ROLE_TRASH },
  /* Gmail's older XLIST names */
  { "\\Inbox", TD_FOLDER_ROLE_INBOX },
  { "\\AllMail", TD_FOLDER_ROLE_ALL },
  { "\\Spam", TD_FOLDER_ROLE_JUNK },
  { "\\Starred", TD_FOLDER_ROLE_FLAGGED },
};

gboolean
td_imap_status_parse (const TdImapResponse  *response,
                      char                 **raw_path,
                      TdImapListEntry       *entry)
{
  const TdImapValue *name, *items;
  gboolean messages = FALSE, uidnext = FALSE, uidvalidity = FALSE;
  g_autofree char *path = NULL;

  g_return_val_if_fail (response != NULL && raw_path != NULL && entry != NULL, FALSE);

  if (response->kind != TD_IMAP_RESPONSE_UNTAGGED || response->status != TD_IMAP_STATUS_NONE ||
      g_strcmp0 (response->name, "STATUS") != 0)
    return FALSE;
  name = value_at (response->values, 0);
  items = value_at (response->values, 1);
  if (name == NULL || items == NULL || items->type != TD_IMAP_VALUE_LIST ||
      items->list->len % 2 != 0)
    return FALSE;
  path = td_imap_value_dup_string (name);
  if (path == NULL || path[0] == '\0')
    return FALSE;

  entry->status_highestmodseq = 0;
  for (guint i = 0; i + 1 < items->list->len; i += 2)
    {
      const TdImapValue *item = g_ptr_array_index (items->list, i);
      const TdImapValue *value = g_ptr_array_index (items->list, i + 1);

      if (td_imap_value_is_atom (item, "MESSAGES"))
        messages = td_imap_value_get_uint32 (value, &entry->status_messages);
      else if (td_imap_value_is_atom (item, "UIDNEXT"))
        uidnext = td_imap_value_get_uint32 (value, &entry->status_uidnext);
      else if (td_imap_value_is_atom (item, "UIDVALIDITY"))
        uidvalidity = td_imap_value_get_uint32 (value, &entry->status_uidvalidity);
      else if (td_imap_value_is_atom (item, "HIGHESTMODSEQ") &&
               !td_imap_value_get_uint64 (value, &entry->status_highestmodseq))
        entry->status_highestmodseq = 0;
    }
  entry->has_status = messages && uidnext && uidvalidity;
  if (g_ascii_strcasecmp (path, "INBOX") == 0)
    {
      g_free (path);
      path = g_strdup ("INBOX");
    }
  *raw_path = g_steal_pointer (&path);
  return TRUE;
}

TdImapListEntry *
td_imap_list_entry_parse (const TdImapResponse  *response,
                          GError               **error)
{
  g_autoptr(TdImapListEntry) entry = NULL;
  const TdImapValue *attrs, *delim, *name;
  g_autofree char *decoded = NULL;

  g_return_val_if_fail (response != NULL, NULL);

  if (response->kind != TD_IMAP_RESPONSE_UNTAGGED || response->status != TD_IMAP_STATUS_NONE ||
      (g_strcmp0 (response->name, "LIST") != 0 && g_strcmp0 (response->name, "LSUB") != 0 &&
       g_strcmp0 (response->name, "XLIST") != 0))
    {
      malformed (error, "LIST");
      return NULL;
    }

  attrs = value_at (response->values, 0);
  delim = value_at (response->values, 1);
  name = value_at (response->values, 2);
  if (attrs == NULL || delim == NULL || name == NULL || attrs->type != TD_IMAP_VALUE_LIST)
    {
      malformed (error, "LIST");
      return NULL;
    }

  entry = g_new0 (TdImapListEntry, 1);

  switch (delim->type)
    {
    case TD_IMAP_VALUE_NIL:
      entry->delimiter = 0;
      break;
    case TD_IMAP_VALUE_STRING:
    case TD_IMAP_VALUE_ATOM:
      {
        g_autofree char *d = td_imap_value_dup_string (delim);

        if (d == NULL || strlen (d) > 1 || (guint8) d[0] >= 0x80)
          {
            malformed (error, "LIST");
            return NULL;
          }
        entry->delimiter = d[0];
      }
      break;
    case TD_IMAP_VALUE_LIST:
    default:
      malformed (error, "LIST");
      return NULL;
    }

  entry->raw_path = td_imap_value_dup_string (name);
  if (entry->raw_path == NULL || entry->raw_path[0] == '\0')
    {
      malformed (error, "LIST");
      return NULL;
    }

  if (g_ascii_strcasecmp (entry->raw_path, "INBOX") == 0)
    entry->path = g_strdup ("INBOX");
  else if ((decoded = td_imap_utf7_decode (entry->raw_path)) != NULL)
    entry->path = g_steal_pointer (&decoded);
  else
    /* Not modified UTF-7: a server speaking UTF-8 (UTF8=ACCEPT) or a broken name. */
    entry->path = g_utf8_make_valid (entry->raw_path, -1);

  for (guint i = 0; i < attrs->list->len; i++)
    {
      const TdImapValue *a = value_at (attrs->list, i);

      if (a->type != TD_IMAP_VALUE_ATOM)
        continue;

      if (g_ascii_strcasecmp (a->atom, "\\Noselect") == 0 ||
          g_ascii_strcasecmp (a->atom, "\\NonExistent") == 0)
        entry->noselect = TRUE;
      else if (g_ascii_strcasecmp (a->atom, "\\HasChildren") == 0)
        entry->has_children = TRUE;

      for (guint j = 0; entry->role == TD_FOLDER_ROLE_NONE && j < G_N_ELEMENTS (role_attributes);
           j++)
        if (g_ascii_strcasecmp (a->atom, role_attributes[j].attribute) == 0)
          entry->role = role_attributes[j].role;
    }

  /* INBOX is special by protocol, not by guess. */
  if (entry->role == TD_FOLDER_ROLE_NONE && g_strcmp0 (entry->path, "INBOX") == 0)
    entry->role = TD_FOLDER_ROLE_INBOX;

  return g_steal_pointer (&entry);
}

/* Common folder names, lower case; compared after NFC normalisation and case folding. */
static const struct
{
  const char   *name;
  TdFolderRole  role;
} role_names[] = {
  /* English, Gmail, Outlook/Exchange, Apple */
  { "sent", TD_FOLDER_ROLE_SENT },
  { "sent items", TD_FOLDER_ROLE_SENT },
  { "sent messages", TD_FOLDER_ROLE_SENT },
  { "sent mail", TD_FOLDER_ROLE_SENT },
  { "sent-mail", TD_FOLDER_ROLE_SENT },
  { "sentmail", TD_FOLDER_ROLE_SENT },
  { "drafts", TD_FOLDER_ROLE_DRAFTS },
  { "draft", TD_FOLDER_ROLE_DRAFTS },
  { "trash", TD_FOLDER_ROLE_TRASH },
  { "bin", TD_FOLDER_ROLE_TRASH },
  { "deleted", TD_FOLDER_ROLE_TRASH },
  { "deleted items", TD_FOLDER_ROLE_TRASH },
  { "deleted messages", TD_FOLDER_ROLE_TRASH },
  { "junk", TD_FOLDER_ROLE_JUNK },
  { "junk mail", TD_FOLDER_ROLE_JUNK },
  { "junk e-mail", TD_FOLDER_ROLE_JUNK },
  { "junk email", TD_FOLDER_ROLE_JUNK },
  { "spam", TD_FOLDER_ROLE_JUNK },
  { "bulk mail", TD_FOLDER_ROLE_JUNK },
  { "archive", TD_FOLDER_ROLE_ARCHIVE },
  { "archives", TD_FOLDER_ROLE_ARCHIVE },
  { "all mail", TD_FOLDER_ROLE_ALL },
  { "starred", TD_FOLDER_ROLE_FLAGGED },
  { "flagged", TD_FOLDER_ROLE_FLAGGED },
  /* German */
  { "gesendet", TD_FOLDER_ROLE_SENT },
  { "gesendete objekte", TD_FOLDER_ROLE_SENT },
  { "gesendete elemente", TD_FOLDER_ROLE_SENT },
  { "gesendete nachrichten", TD_FOLDER_ROLE_SENT },
  { "entwürfe", TD_FOLDER_ROLE_DRAFTS },
  { "papierkorb", TD_FOLDER_ROLE_TRASH },
  { "gelöschte objekte", TD_FOLDER_ROLE_TRASH },
  { "gelöschte elemente", TD_FOLDER_ROLE_TRASH },
  { "gelöscht", TD_FOLDER_ROLE_TRASH },
  { "junk-e-mail", TD_FOLDER_ROLE_JUNK },
  { "spamverdacht", TD_FOLDER_ROLE_JUNK },
  { "archiv", TD_FOLDER_ROLE_ARCHIVE },
  { "alle nachrichten", TD_FOLDER_ROLE_ALL },
  { "markiert", TD_FOLDER_ROLE_FLAGGED },
  /* French */
  { "envoyés", TD_FOLDER_ROLE_SENT },
  { "éléments envoyés", TD_FOLDER_ROLE_SENT },
  { "messages envoyés", TD_FOLDER_ROLE_SENT },
  { "brouillons", TD_FOLDER_ROLE_DRAFTS },
  { "corbeille", TD_FOLDER_ROLE_TRASH },
  { "éléments supprimés", TD_FOLDER_ROLE_TRASH },
  { "courrier indésirable", TD_FOLDER_ROLE_JUNK },
  { "indésirables", TD_FOLDER_ROLE_JUNK },
  { "tous les messages", TD_FOLDER_ROLE_ALL },
  /* Spanish, Portuguese, Italian */
  { "enviados", TD_FOLDER_ROLE_SENT },
  { "elementos enviados", TD_FOLDER_ROLE_SENT },
  { "itens enviados", TD_FOLDER_ROLE_SENT },
  { "posta inviata", TD_FOLDER_ROLE_SENT },
  { "inviati", TD_FOLDER_ROLE_SENT },
  { "borradores", TD_FOLDER_ROLE_DRAFTS },
  { "rascunhos", TD_FOLDER_ROLE_DRAFTS },
  { "bozze", TD_FOLDER_ROLE_DRAFTS },
  { "papelera", TD_FOLDER_ROLE_TRASH },
  { "elementos eliminados", TD_FOLDER_ROLE_TRASH },
  { "lixeira", TD_FOLDER_ROLE_TRASH },
  { "lixo", TD_FOLDER_ROLE_TRASH },
  { "itens excluídos", TD_FOLDER_ROLE_TRASH },
  { "cestino", TD_FOLDER_ROLE_TRASH },
  { "correo no deseado", TD_FOLDER_ROLE_JUNK },
  { "posta indesiderata", TD_FOLDER_ROLE_JUNK },
  { "archivo", TD_FOLDER_ROLE_ARCHIVE },
  { "arquivo", TD_FOLDER_ROLE_ARCHIVE },
  { "archivio", TD_FOLDER_ROLE_ARCHIVE },
  /* Dutch, Scandinavian, Polish, Russian */
  { "verzonden", TD_FOLDER_ROLE_SENT },
  { "verzonden items", TD_FOLDER_ROLE_SENT },
  { "skickat", TD_FOLDER_ROLE_SENT },
  { "skickade objekt", TD_FOLDER_ROLE_SENT },
  { "sendt", TD_FOLDER_ROLE_SENT },
  { "sendte elementer", TD_FOLDER_ROLE_SENT },
  { "wysłane", TD_FOLDER_ROLE_SENT },
  { "отправленные", TD_FOLDER_ROLE_SENT },
  { "concepten", TD_FOLDER_ROLE_DRAFTS },
  { "utkast", TD_FOLDER_ROLE_DRAFTS },
  { "kladder", TD_FOLDER_ROLE_DRAFTS },
  { "kopie robocze", TD_FOLDER_ROLE_DRAFTS },
  { "черновики", TD_FOLDER_ROLE_DRAFTS },
  { "prullenbak", TD_FOLDER_ROLE_TRASH },
  { "verwijderde items", TD_FOLDER_ROLE_TRASH },
  { "papperskorgen", TD_FOLDER_ROLE_TRASH },
  { "borttagna objekt", TD_FOLDER_ROLE_TRASH },
  { "papirkurv", TD_FOLDER_ROLE_TRASH },
  { "slettede elementer", TD_FOLDER_ROLE_TRASH },
  { "kosz", TD_FOLDER_ROLE_TRASH },
  { "корзина", TD_FOLDER_ROLE_TRASH },
  { "ongewenste e-mail", TD_FOLDER_ROLE_JUNK },
  { "skräppost", TD_FOLDER_ROLE_JUNK },
  { "спам", TD_FOLDER_ROLE_JUNK },
  { "archief", TD_FOLDER_ROLE_ARCHIVE },
  { "arkiv", TD_FOLDER_ROLE_ARCHIVE },
  { "archiwum", TD_FOLDER_ROLE_ARCHIVE },
  { "архив", TD_FOLDER_ROLE_ARCHIVE },
};

static char *
fold_name (const char *name,
           gssize      len)
{
  g_autofree char *nfc = g_utf8_normalize (name, len, G_NORMALIZE_NFC);

  if (nfc == NULL)
    return NULL;
  return g_utf8_casefold (g_strstrip (nfc), -1);
}

/* role_names folded once: name -> role */
static GHashTable *
role_table (void)
{
  static gsize initialized = 0;
  static GHashTable *table = NULL;

  if (g_once_init_enter (&initialized))
    {
      GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

      for (guint i = 0; i < G_N_ELEMENTS (role_names); i++)
        g_hash_table_insert (t, fold_name (role_names[i].name, -1),
                             GINT_TO_POINTER (role_names[i].role));
      table = t;
      g_once_init_leave (&initialized, 1);
    }
  return table;
}

/* A parent under which special folders are commonly kept: INBOX ("INBOX.Sent", Courier,
 * Cyrus) and a bracketed provider folder ("[Gmail]/Sent Mail", "[Google Mail]/Trash"). */
static gboolean
is_role_parent (const char *parent,
                gsize       len)
{
  if (len == 5 && g_ascii_strncasecmp (parent, "INBOX", 5) == 0)
    return TRUE;
  return len >= 2 && parent[0] == '[' && parent[len - 1] == ']' &&
         memchr (parent, '/', len) == NULL;
}

TdFolderRole
td_imap_guess_role (const char *path,
                    char        delimiter)
{
  const char *leaf = path;
  g_autofree char *folded = NULL;

  g_return_val_if_fail (path != NULL, TD_FOLDER_ROLE_NONE);

  if (g_ascii_strcasecmp (path, "INBOX") == 0)
    return TD_FOLDER_ROLE_INBOX;

  if (delimiter != '\0')
    {
      const char *last = strrchr (path, delimiter);

      if (last != NULL)
        {
          /* Deeper folders ("Projects/Sent") are the user's own, not special ones. */
          if (!is_role_parent (path, (gsize) (last - path)))
            return TD_FOLDER_ROLE_NONE;
          leaf = last + 1;
        }
    }

  if (!g_utf8_validate (leaf, -1, NULL))
    return TD_FOLDER_ROLE_NONE;
  folded = fold_name (leaf, -1);
  if (folded == NULL || folded[0] == '\0')
    return TD_FOLDER_ROLE_NONE;

  return (TdFolderRole) GPOINTER_TO_INT (g_hash_table_lookup (role_table (), folded));
}

/* FETCH */

void
td_imap_fetch_free (TdImapFetch *fetch)
{
  if (fetch == NULL)
    return;
  g_clear_pointer (&fetch->keywords, g_ptr_array_unref);
  g_clear_pointer (&fetch->header, g_bytes_unref);
  g_clear_pointer (&fetch->body, g_bytes_unref);
  g_free (fetch);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static gint64
days_from_civil (gint64 y,
                 gint64 m,
                 gint64 d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static gboolean
read_digits (const char **p,
             guint        min,
             guint        max,
             guint       *out)
{
  guint n = 0, v = 0;

  while (n < max && g_ascii_isdigit ((*p)[n]))
    {
      v = v * 10 + (guint) ((*p)[n] - '0');
      n++;
    }
  if (n < min)
    return FALSE;
  *p += n;
  *out = v;
  return TRUE;
}

/* "17-Jul-1996 02:44:25 -0700" (the day may be space-padded) -> unix time */
static gboolean
parse_internaldate (const char *str,
                    gint64     *out)
{
  static const char months[][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  };
  static const guint8 month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  const char *p = str;
  guint day, month = 0, year, hour, min, sec, zone;
  gboolean leap;
  int sign;

  while (*p == ' ')
    p++;
  if (!read_digits (&p, 1, 2, &day) || *p++ != '-')
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (months); i++)
    if (g_ascii_strncasecmp (p, months[i], 3) == 0)
      month = i + 1;
  if (month == 0)
    return FALSE;
  p += 3;
  if (*p++ != '-' || !read_digits (&p, 4, 4, &year) || *p++ != ' ')
    return FALSE;
  while (*p == ' ')
    p++;
  if (!read_digits (&p, 2, 2, &hour) || *p++ != ':' || !read_digits (&p, 2, 2, &min) ||
      *p++ != ':' || !read_digits (&p, 2, 2, &sec) || *p++ != ' ')
    return FALSE;
  while (*p == ' ')
    p++;
  if (*p != '+' && *p != '-')
    return FALSE;
  sign = *p++ == '-' ? -1 : 1;
  if (!read_digits (&p, 4, 4, &zone))
    return FALSE;
  while (*p == ' ')
    p++;
  if (*p != '\0')
    return FALSE;

  leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year == 0 || day == 0 || day > month_days[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 60 ||
      zone / 100 > 23 || zone % 100 > 59)
    return FALSE;

  *out = days_from_civil (year, month, day) * 86400 + hour * 3600 + min * 60 + sec -
         sign * (gint64) ((zone / 100) * 3600 + (zone % 100) * 60);
  return TRUE;
}

typedef enum
{
  SECTION_OTHER,
  SECTION_HEADER,
  SECTION_BODY,
} SectionKind;

/* "BODY[...]<origin>" / "BODY.PEEK[...]": which part of the message it carries. A partial
 * fetch that does not start at 0 is not a whole header or body and is skipped. */
static SectionKind
classify_section (const char *item)
{
  const char *open = strchr (item, '[');
  const char *close = strrchr (item, ']');
  g_autofree char *inner = NULL;
  const char *after;

  if (open == NULL || close == NULL || close < open)
    return SECTION_OTHER;
  if (!((open - item == 4 && g_ascii_strncasecmp (item, "BODY", 4) == 0) ||
        (open - item == 9 && g_ascii_strncasecmp (item, "BODY.PEEK", 9) == 0)))
    return SECTION_OTHER;

  after = close + 1;
  if (*after != '\0' && strcmp (after, "<0>") != 0)
    return SECTION_OTHER;

  inner = g_strstrip (g_strndup (open + 1, close - open - 1));
  if (inner[0] == '\0')
    return SECTION_BODY;
  if (g_ascii_strcasecmp (inner, "HEADER") == 0)
    return SECTION_HEADER;
  if (g_ascii_strncasecmp (inner, "HEADER.FIELDS", 13) == 0 &&
      (inner[13] == ' ' || inner[13] == '(' || g_ascii_strncasecmp (inner + 13, ".NOT", 4) == 0))
    return SECTION_HEADER;
  return SECTION_OTHER;
}

static gboolean
take_string (const TdImapValue  *value,
             GBytes            **out)
{
  if (value->type == TD_IMAP_VALUE_NIL)
    {
      g_clear_pointer (out, g_bytes_unref);
      return TRUE;
    }
  if (value->type != TD_IMAP_VALUE_STRING)
    return FALSE;
  g_clear_pointer (out, g_bytes_unref);
  *out = g_bytes_ref (value->string);
  return TRUE;
}

TdImapFetch *
td_imap_fetch_parse (const TdImapResponse  *response,
                     GError               **error)
{
  g_autoptr(TdImapFetch) fetch = NULL;
  const TdImapValue *items;

  g_return_val_if_fail (response != NULL, NULL);

  items = value_at (response->values, 0);
  if (response->kind != TD_IMAP_RESPONSE_UNTAGGED || !response->has_number ||
      g_strcmp0 (response->name, "FETCH") != 0 || items == NULL ||
      items->type != TD_IMAP_VALUE_LIST || items->list->len % 2 != 0)
    {
      malformed (error, "FETCH");
      return NULL;
    }

  fetch = g_new0 (TdImapFetch, 1);
  fetch->seq = response->number;
  fetch->keywords = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < items->list->len; i += 2)
    {
      const TdImapValue *key = value_at (items->list, i);
      const TdImapValue *value = value_at (items->list, i + 1);
      const char *name;
      const char *what;
      gboolean ok = TRUE;

      if (key->type != TD_IMAP_VALUE_ATOM)
        {
          malformed (error, "FETCH");
          return NULL;
        }
      name = key->atom;
      what = name;

      if (g_ascii_strcasecmp (name, "UID") == 0)
        {
          ok = td_imap_value_get_uint32 (value, &fetch->uid) && fetch->uid != 0;
          fetch->fields |= TD_IMAP_FETCH_HAS_UID;
        }
      else if (g_ascii_strcasecmp (name, "FLAGS") == 0)
        {
          ok = value->type == TD_IMAP_VALUE_LIST;
          if (ok)
            {
              g_ptr_array_set_size (fetch->keywords, 0);
              fetch->flags = td_imap_flags_parse (value, fetch->keywords);
              fetch->fields |= TD_IMAP_FETCH_HAS_FLAGS;
            }
        }
      else if (g_ascii_strcasecmp (name, "INTERNALDATE") == 0)
        {
          g_autofree char *date = td_imap_value_dup_string (value);

          /* A date we cannot read is left out rather than failing the message. */
          if (date != NULL && parse_internaldate (date, &fetch->internaldate))
            fetch->fields |= TD_IMAP_FETCH_HAS_INTERNALDATE;
        }
      else if (g_ascii_strcasecmp (name, "RFC822.SIZE") == 0)
        {
          ok = td_imap_value_get_uint64 (value, &fetch->size);
          fetch->fields |= TD_IMAP_FETCH_HAS_SIZE;
        }
      else if (g_ascii_strcasecmp (name, "MODSEQ") == 0)
        {
          ok = value->type == TD_IMAP_VALUE_LIST && value->list->len == 1 &&
               td_imap_value_get_uint64 (value_at (value->list, 0), &fetch->modseq);
          fetch->fields |= TD_IMAP_FETCH_HAS_MODSEQ;
        }
      else if (g_ascii_strcasecmp (name, "RFC822") == 0)
        {
          ok = take_string (value, &fetch->body);
        }
      else if (g_ascii_strcasecmp (name, "RFC822.HEADER") == 0)
        {
          ok = take_string (value, &fetch->header);
        }
      else
        {
          switch (classify_section (name))
            {
            case SECTION_HEADER:
              what = "BODY[HEADER]";
              ok = take_string (value, &fetch->header);
              break;
            case SECTION_BODY:
              what = "BODY[]";
              ok = take_string (value, &fetch->body);
              break;
            case SECTION_OTHER:
            default:
              /* ENVELOPE, BODYSTRUCTURE, X-GM-LABELS, BODY[TEXT], ...: one value, skipped. */
              break;
            }
        }

      if (!ok)
        {
          g_set_error (error, TD_ERROR, TD_ERROR_PARSE,
                       _("The server sent a malformed FETCH response (bad %s)"), what);
          return NULL;
        }
    }

  return g_steal_pointer (&fetch);
}

/* Quoting for commands */

char *
td_imap_quote (const char *str)
{
  GString *out;

  g_return_val_if_fail (str != NULL, NULL);

  for (const char *p = str; *p != '\0'; p++)
    if (*p == '\r' || *p == '\n' || (guint8) *p >= 0x80)
      return NULL;

  out = g_string_sized_new (strlen (str) + 2);
  g_string_append_c (out, '"');
  for (const char *p = str; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}
