/* test-imap-response.c: typed views of IMAP responses (capabilities, flags, LIST, FETCH),
 * folder role guessing, modified UTF-7 and quoting
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "td-error.h"
#include "td-imap-response.h"
#include "td-test-util.h"

static GPtrArray *
parse_bytes (const guint8 *data,
             gsize         len)
{
  g_autoptr(TdImapParser) parser = td_imap_parser_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *responses = g_ptr_array_new_with_free_func ((GDestroyNotify) td_imap_response_free);

  td_imap_parser_feed (parser, data, len, responses, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (td_imap_parser_get_pending (parser), ==, 0);
  return responses;
}

static TdImapResponse *
parse_one_len (const char *text,
               gsize       len)
{
  g_autoptr(GPtrArray) responses = parse_bytes ((const guint8 *) text, len);

  g_assert_cmpuint (responses->len, ==, 1);
  return g_ptr_array_steal_index (responses, 0);
}

static TdImapResponse *
parse_one (const char *text)
{
  return parse_one_len (text, strlen (text));
}

/* A transcript from tests/data/imap (LF in the file is CRLF on the wire). */
static GPtrArray *
parse_transcript (const char *name)
{
  g_autofree char *rel = g_build_filename ("imap", name, NULL);
  g_autoptr(GBytes) raw = td_test_load_data (rel);
  gsize len;
  const char *data = g_bytes_get_data (raw, &len);
  g_autoptr(GByteArray) wire = g_byte_array_new ();

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        g_byte_array_append (wire, (const guint8 *) "\r\n", 2);
      else
        g_byte_array_append (wire, (const guint8 *) &data[i], 1);
    }
  return parse_bytes (wire->data, wire->len);
}

/* Capabilities */

static void
test_capabilities (void)
{
  g_autoptr(TdImapResponse) data = parse_one ("* CAPABILITY IMAP4rev1 STARTTLS auth=plain IDLE\r\n");
  g_autoptr(TdImapResponse) code =
    parse_one ("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR] Dovecot ready.\r\n");
  g_autoptr(TdImapResponse) tagged = parse_one ("A2 OK [CAPABILITY IMAP4rev1 MOVE] Logged in\r\n");
  g_autoptr(TdImapResponse) empty = parse_one ("* CAPABILITY\r\n");
  g_autoptr(GHashTable) caps = NULL;

  caps = td_imap_capabilities_parse (data);
  g_assert_nonnull (caps);
  g_assert_cmpuint (g_hash_table_size (caps), ==, 4);
  g_assert_true (g_hash_table_contains (caps, "IMAP4REV1"));
  g_assert_true (g_hash_table_contains (caps, "STARTTLS"));
  g_assert_true (g_hash_table_contains (caps, "AUTH=PLAIN"));
  g_assert_true (g_hash_table_contains (caps, "IDLE"));
  g_assert_false (g_hash_table_contains (caps, "auth=plain"));
  g_clear_pointer (&caps, g_hash_table_unref);

  caps = td_imap_capabilities_parse (code);
  g_assert_nonnull (caps);
  g_assert_cmpuint (g_hash_table_size (caps), ==, 3);
  g_assert_true (g_hash_table_contains (caps, "LITERAL+"));
  g_assert_true (g_hash_table_contains (caps, "SASL-IR"));
  g_clear_pointer (&caps, g_hash_table_unref);

  caps = td_imap_capabilities_parse (tagged);
  g_assert_nonnull (caps);
  g_assert_true (g_hash_table_contains (caps, "MOVE"));
  g_clear_pointer (&caps, g_hash_table_unref);

  caps = td_imap_capabilities_parse (empty);
  g_assert_nonnull (caps);
  g_assert_cmpuint (g_hash_table_size (caps), ==, 0);
  g_clear_pointer (&caps, g_hash_table_unref);

  /* not capability responses */
  {
    const char *others[] = {
      "* OK [ALERT] hi\r\n",
      "* OK Dovecot ready.\r\n",
      "A1 OK done\r\n",
      "* 3 EXISTS\r\n",
      "* FLAGS (\\Seen)\r\n",
      "+ CAPABILITY\r\n",
      "* OK CAPABILITY IMAP4rev1\r\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS (others); i++)
      {
        g_autoptr(TdImapResponse) r = parse_one (others[i]);

        g_assert_null (td_imap_capabilities_parse (r));
      }
  }
}

static void
test_capabilities_transcripts (void)
{
  g_autoptr(GPtrArray) dovecot = parse_transcript ("dovecot-session.txt");
  g_autoptr(GPtrArray) gmail = parse_transcript ("gmail-session.txt");
  g_autoptr(GHashTable) greeting = td_imap_capabilities_parse (dovecot->pdata[0]);
  g_autoptr(GHashTable) login = td_imap_capabilities_parse (dovecot->pdata[3]);
  g_autoptr(GHashTable) gm = td_imap_capabilities_parse (gmail->pdata[3]);

  g_assert_nonnull (greeting);
  g_assert_true (g_hash_table_contains (greeting, "STARTTLS"));
  g_assert_false (g_hash_table_contains (greeting, "CONDSTORE"));
  g_assert_nonnull (login);
  g_assert_true (g_hash_table_contains (login, "CONDSTORE"));
  g_assert_true (g_hash_table_contains (login, "QRESYNC"));
  g_assert_true (g_hash_table_contains (login, "SPECIAL-USE"));
  g_assert_true (g_hash_table_contains (login, "I18NLEVEL=1"));
  g_assert_cmpuint (g_hash_table_size (login), ==, 38);  /* LITERAL+ twice */
  g_assert_nonnull (gm);
  g_assert_true (g_hash_table_contains (gm, "X-GM-EXT-1"));
  g_assert_true (g_hash_table_contains (gm, "APPENDLIMIT=35651584"));
}

/* Flags */

static TdImapValue *
parse_list_value (const char *list)
{
  g_autofree char *line = g_strdup_printf ("* FLAGS %s\r\n", list);
  g_autoptr(TdImapResponse) r = parse_one (line);

  g_assert_cmpuint (r->values->len, ==, 1);
  return g_ptr_array_steal_index (r->values, 0);
}

static void
test_flags_parse (void)
{
  struct {
    const char *list;
    TdFlags     flags;
    const char *keywords;  /* space separated */
  } cases[] = {
    { "()", 0, "" },
    { "(\\Seen)", TD_FLAG_SEEN, "" },
    { "(\\seen \\ANSWERED \\FlAgGeD \\deleted \\draft)",
      TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FLAGGED | TD_FLAG_DELETED | TD_FLAG_DRAFT, "" },
    { "($Forwarded $Junk)", TD_FLAG_FORWARDED | TD_FLAG_JUNK, "" },
    { "($forwarded $JUNK \\Recent)", TD_FLAG_FORWARDED | TD_FLAG_JUNK | TD_FLAG_RECENT, "" },
    { "($NotJunk NonJunk $MDNSent \\Seen)", TD_FLAG_SEEN, "$NotJunk NonJunk $MDNSent" },
    { "(Junk Forwarded)", 0, "Junk Forwarded" },
    { "(custom CUSTOM Custom other)", 0, "custom other" },
    { "(\\Seen \\Seen \\Important)", TD_FLAG_SEEN, "\\Important" },
    { "(\\*)", 0, "\\*" },
    { "(\"\\\\Seen\" NIL (\\Flagged) \"kw\")", TD_FLAG_SEEN, "kw" },
    { "\\Draft", TD_FLAG_DRAFT, "" },
    { "NIL", 0, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) keywords = g_ptr_array_new_with_free_func (g_free);
      TdImapValue *list = parse_list_value (cases[i].list);
      g_autofree char *joined = NULL;

      g_test_message ("%s", cases[i].list);
      g_assert_cmphex (td_imap_flags_parse (list, keywords), ==, cases[i].flags);
      g_ptr_array_add (keywords, NULL);
      joined = g_strjoinv (" ", (char **) keywords->pdata);
      g_assert_cmpstr (joined, ==, cases[i].keywords);
      /* keywords may be NULL */
      g_assert_cmphex (td_imap_flags_parse (list, NULL), ==, cases[i].flags);
      td_imap_value_free (list);
    }

  g_assert_cmphex (td_imap_flags_parse (NULL, NULL), ==, 0);
}

static void
test_flags_to_string (void)
{
  struct {
    TdFlags     flags;
    const char *str;
  } cases[] = {
    { 0, "" },
    { TD_FLAG_SEEN, "\\Seen" },
    { TD_FLAG_SEEN | TD_FLAG_FLAGGED, "\\Seen \\Flagged" },
    { TD_FLAG_RECENT, "" },
    { TD_FLAG_SEEN | TD_FLAG_RECENT, "\\Seen" },
    { TD_FLAGS_STORED, "\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded $Junk" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *str = td_imap_flags_to_string (cases[i].flags);

      g_assert_cmpstr (str, ==, cases[i].str);
    }

  /* round trip through the parser */
  for (guint f = 0; f <= TD_FLAGS_STORED; f++)
    {
      g_autofree char *str = td_imap_flags_to_string ((TdFlags) f);
      g_autofree char *list = g_strdup_printf ("(%s)", str);
      TdImapValue *value;

      if ((f & ~TD_FLAGS_STORED) != 0)
        continue;
      value = parse_list_value (list);
      g_assert_cmphex (td_imap_flags_parse (value, NULL), ==, f);
      td_imap_value_free (value);
    }
}

/* LIST */

static void
test_list_entries (void)
{
  struct {
    const char   *line;
    const char   *path;
    const char   *raw;
    char          delimiter;
    gboolean      noselect;
    gboolean      has_children;
    TdFolderRole  role;
  } cases[] = {
    { "* LIST (\\HasNoChildren) \"/\" INBOX\r\n", "INBOX", "INBOX", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_INBOX },
    { "* LIST () \".\" inbox\r\n", "INBOX", "inbox", '.', FALSE, FALSE, TD_FOLDER_ROLE_INBOX },
    { "* LIST () \"/\" \"InBoX\"\r\n", "INBOX", "InBoX", '/', FALSE, FALSE, TD_FOLDER_ROLE_INBOX },
    { "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n", "Sent", "Sent", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_SENT },
    { "* LIST (\\sent) \"/\" Whatever\r\n", "Whatever", "Whatever", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_SENT },
    { "* LIST (\\Drafts) \"/\" D\r\n", "D", "D", '/', FALSE, FALSE, TD_FOLDER_ROLE_DRAFTS },
    { "* LIST (\\Trash) \"/\" T\r\n", "T", "T", '/', FALSE, FALSE, TD_FOLDER_ROLE_TRASH },
    { "* LIST (\\Junk) \"/\" J\r\n", "J", "J", '/', FALSE, FALSE, TD_FOLDER_ROLE_JUNK },
    { "* LIST (\\Archive) \"/\" A\r\n", "A", "A", '/', FALSE, FALSE, TD_FOLDER_ROLE_ARCHIVE },
    { "* LIST (\\All) \"/\" All\r\n", "All", "All", '/', FALSE, FALSE, TD_FOLDER_ROLE_ALL },
    { "* LIST (\\Flagged) \"/\" F\r\n", "F", "F", '/', FALSE, FALSE, TD_FOLDER_ROLE_FLAGGED },
    { "* XLIST (\\Spam) \"/\" \"[Gmail]/Spam\"\r\n", "[Gmail]/Spam", "[Gmail]/Spam", '/',
      FALSE, FALSE, TD_FOLDER_ROLE_JUNK },
    { "* XLIST (\\AllMail \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n", "[Gmail]/All Mail",
      "[Gmail]/All Mail", '/', FALSE, FALSE, TD_FOLDER_ROLE_ALL },
    { "* XLIST (\\Inbox) \"/\" \"Posteingang\"\r\n", "Posteingang", "Posteingang", '/', FALSE,
      FALSE, TD_FOLDER_ROLE_INBOX },
    { "* LIST (\\Noselect \\HasChildren) \"/\" Projects\r\n", "Projects", "Projects", '/', TRUE,
      TRUE, TD_FOLDER_ROLE_NONE },
    { "* LIST (\\NonExistent) \".\" INBOX.Old\r\n", "INBOX.Old", "INBOX.Old", '.', TRUE, FALSE,
      TD_FOLDER_ROLE_NONE },
    { "* LIST (\\noselect) NIL Flat\r\n", "Flat", "Flat", 0, TRUE, FALSE, TD_FOLDER_ROLE_NONE },
    { "* LIST (\\HasChildren \\Marked) \".\" INBOX\r\n", "INBOX", "INBOX", '.', FALSE, TRUE,
      TD_FOLDER_ROLE_INBOX },
    { "* LIST () \"/\" Entw&APw-rfe\r\n", "Entw\xc3\xbcrfe", "Entw&APw-rfe", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    { "* LIST () \"/\" \"&U,BTFw-/&ZeVnLIqe-\"\r\n", "\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
      "&U,BTFw-/&ZeVnLIqe-", '/', FALSE, FALSE, TD_FOLDER_ROLE_NONE },
    { "* LIST () \"/\" \"Tom &- Jerry\"\r\n", "Tom & Jerry", "Tom &- Jerry", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    { "* LIST () \"/\" {9}\r\nSent Mail\r\n", "Sent Mail", "Sent Mail", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    { "* LIST () \"/\" \"say \\\"hi\\\"\"\r\n", "say \"hi\"", "say \"hi\"", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    { "* LIST () \"\\\\\" \"Work\\\\Reports\"\r\n", "Work\\Reports", "Work\\Reports", '\\', FALSE,
      FALSE, TD_FOLDER_ROLE_NONE },
    /* a server sending raw UTF-8 (UTF8=ACCEPT): not modified UTF-7, kept as it is */
    { "* LIST () \"/\" \"Entw\xc3\xbcrfe\"\r\n", "Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe", '/', FALSE,
      FALSE, TD_FOLDER_ROLE_NONE },
    /* invalid modified UTF-7 ("&" not closed): the raw name is shown */
    { "* LIST () \"/\" \"A&B\"\r\n", "A&B", "A&B", '/', FALSE, FALSE, TD_FOLDER_ROLE_NONE },
    /* neither UTF-7 nor UTF-8 */
    { "* LIST () \"/\" \"bad\xff\"\r\n", "bad\xef\xbf\xbd", "bad\xff", '/', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    /* extended data after the name (LIST-EXTENDED) is ignored */
    { "* LIST (\\Subscribed) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n", "Foo", "Foo", '/',
      FALSE, FALSE, TD_FOLDER_ROLE_NONE },
    { "* LSUB () \".\" Lists.Work\r\n", "Lists.Work", "Lists.Work", '.', FALSE, FALSE,
      TD_FOLDER_ROLE_NONE },
    /* unquoted one-character delimiter (not RFC, seen in the wild) */
    { "* LIST () / Foo\r\n", "Foo", "Foo", '/', FALSE, FALSE, TD_FOLDER_ROLE_NONE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TdImapResponse) r = parse_one (cases[i].line);
      g_autoptr(GError) error = NULL;
      g_autoptr(TdImapListEntry) e = td_imap_list_entry_parse (r, &error);

      g_test_message ("%s", cases[i].line);
      g_assert_no_error (error);
      g_assert_nonnull (e);
      g_assert_cmpstr (e->path, ==, cases[i].path);
      g_assert_true (g_utf8_validate (e->path, -1, NULL));
      g_assert_cmpstr (e->raw_path, ==, cases[i].raw);
      g_assert_cmpint (e->delimiter, ==, cases[i].delimiter);
      g_assert_cmpint (e->noselect, ==, cases[i].noselect);
      g_assert_cmpint (e->has_children, ==, cases[i].has_children);
      g_assert_cmpint (e->role, ==, cases[i].role);
    }
}

static void
test_list_errors (void)
{
  static const char nul_name[] = "* LIST () \"/\" {3}\r\na\0b\r\n";
  const char *bad[] = {
    "* LIST\r\n",
    "* LIST ()\r\n",
    "* LIST () \"/\"\r\n",
    "* LIST \\Noselect \"/\" INBOX\r\n",
    "* LIST () \"//\" INBOX\r\n",
    "* LIST () (\"/\") INBOX\r\n",
    "* LIST () \"/\" NIL\r\n",
    "* LIST () \"/\" ()\r\n",
    "* LIST () \"/\" \"\"\r\n",
    "* LIST () \"\xc3\xbc\" x\r\n",
    "* FLAGS () \"/\" INBOX\r\n",
    "* 3 EXISTS\r\n",
    "* OK [LIST] x\r\n",
    "A1 OK LIST completed\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(TdImapResponse) r = parse_one (bad[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_null (td_imap_list_entry_parse (r, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
    }

  {
    g_autoptr(TdImapResponse) r = parse_one_len (nul_name, sizeof nul_name - 1);
    g_autoptr(GError) error = NULL;

    g_assert_null (td_imap_list_entry_parse (r, &error));
    g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
  }
}

/* Every LIST in the transcripts parses; roles come from attributes or, as the session does,
 * from the name. */
static void
test_list_transcripts (void)
{
  struct {
    const char   *transcript;
    const char   *path;
    TdFolderRole  role;
  } expected[] = {
    { "dovecot-session.txt", "INBOX", TD_FOLDER_ROLE_INBOX },
    { "dovecot-session.txt", "Drafts", TD_FOLDER_ROLE_DRAFTS },
    { "dovecot-session.txt", "Archive", TD_FOLDER_ROLE_ARCHIVE },
    { "dovecot-session.txt", "Archive/2023", TD_FOLDER_ROLE_NONE },
    { "dovecot-session.txt", "Entw\xc3\xbcrfe alt", TD_FOLDER_ROLE_NONE },
    { "dovecot-session.txt", "\xe5\x8f\xb0\xe5\x8c\x97", TD_FOLDER_ROLE_NONE },
    { "dovecot-session.txt", "Projects/Q1 \"Launch\"", TD_FOLDER_ROLE_NONE },
    { "gmail-session.txt", "[Gmail]/All Mail", TD_FOLDER_ROLE_ALL },
    { "gmail-session.txt", "[Gmail]/Sent Mail", TD_FOLDER_ROLE_SENT },
    { "gmail-session.txt", "[Gmail]/Spam", TD_FOLDER_ROLE_JUNK },
    { "gmail-session.txt", "[Gmail]/Starred", TD_FOLDER_ROLE_FLAGGED },
    { "gmail-session.txt", "[Gmail]/Important", TD_FOLDER_ROLE_NONE },
    { "gmail-session.txt", "Receipts", TD_FOLDER_ROLE_NONE },
    { "exchange-session.txt", "Deleted Items", TD_FOLDER_ROLE_TRASH },
    { "exchange-session.txt", "Junk Email", TD_FOLDER_ROLE_JUNK },
    { "exchange-session.txt", "Sent Items", TD_FOLDER_ROLE_SENT },
    { "exchange-session.txt", "Archive", TD_FOLDER_ROLE_ARCHIVE },  /* guessed */
    { "exchange-session.txt", "Outbox", TD_FOLDER_ROLE_NONE },
    { "cyrus-session.txt", "INBOX.Sent", TD_FOLDER_ROLE_SENT },
    { "cyrus-session.txt", "INBOX.Spam", TD_FOLDER_ROLE_JUNK },            /* guessed */
    { "cyrus-session.txt", "INBOX.Entw\xc3\xbcrfe", TD_FOLDER_ROLE_DRAFTS }, /* guessed */
    { "cyrus-session.txt", "INBOX.Gesendete Objekte", TD_FOLDER_ROLE_SENT }, /* guessed */
    { "cyrus-session.txt", "INBOX.Reports \"2023\"", TD_FOLDER_ROLE_NONE },
    { "cyrus-session.txt", "INBOX.Caf\xc3\xa9", TD_FOLDER_ROLE_NONE },
    { "cyrus-session.txt", "INBOX.Old", TD_FOLDER_ROLE_NONE },
  };
  const char *names[] = { "dovecot-session.txt", "gmail-session.txt", "exchange-session.txt",
                          "cyrus-session.txt", "quirks.txt" };
  guint found = 0;

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr(GPtrArray) rs = parse_transcript (names[n]);
      guint lists = 0;

      for (guint i = 0; i < rs->len; i++)
        {
          TdImapResponse *r = rs->pdata[i];
          g_autoptr(TdImapListEntry) e = NULL;
          g_autoptr(GError) error = NULL;
          TdFolderRole role;

          if (g_strcmp0 (r->name, "LIST") != 0 && g_strcmp0 (r->name, "LSUB") != 0)
            continue;
          lists++;
          e = td_imap_list_entry_parse (r, &error);
          g_assert_no_error (error);
          role = e->role != TD_FOLDER_ROLE_NONE ? e->role
                                                : td_imap_guess_role (e->path, e->delimiter);

          for (guint j = 0; j < G_N_ELEMENTS (expected); j++)
            {
              if (strcmp (expected[j].transcript, names[n]) == 0 &&
                  strcmp (expected[j].path, e->path) == 0)
                {
                  g_test_message ("%s: %s", names[n], e->path);
                  g_assert_cmpint (role, ==, expected[j].role);
                  found++;
                }
            }
        }
      g_assert_cmpuint (lists, >=, 3);
    }
  g_assert_cmpuint (found, ==, G_N_ELEMENTS (expected));
}

static void
test_guess_role (void)
{
  struct {
    const char   *path;
    char          delimiter;
    TdFolderRole  role;
  } cases[] = {
    { "INBOX", '/', TD_FOLDER_ROLE_INBOX },
    { "inbox", 0, TD_FOLDER_ROLE_INBOX },
    { "Sent", '/', TD_FOLDER_ROLE_SENT },
    { "sent", '.', TD_FOLDER_ROLE_SENT },
    { "SENT ITEMS", '/', TD_FOLDER_ROLE_SENT },
    { "Sent Items", '/', TD_FOLDER_ROLE_SENT },
    { "Sent Messages", '/', TD_FOLDER_ROLE_SENT },
    { "Sent Mail", '/', TD_FOLDER_ROLE_SENT },
    { "INBOX.Sent", '.', TD_FOLDER_ROLE_SENT },
    { "INBOX/Sent", '/', TD_FOLDER_ROLE_SENT },
    { "inbox.Trash", '.', TD_FOLDER_ROLE_TRASH },
    { "[Gmail]/Sent Mail", '/', TD_FOLDER_ROLE_SENT },
    { "[Google Mail]/Trash", '/', TD_FOLDER_ROLE_TRASH },
    { "[Gmail]/Bin", '/', TD_FOLDER_ROLE_TRASH },
    { "[Gmail]/All Mail", '/', TD_FOLDER_ROLE_ALL },
    { "[Gmail]/Starred", '/', TD_FOLDER_ROLE_FLAGGED },
    { "[Gmail]/Drafts", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Drafts", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Draft", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Trash", '/', TD_FOLDER_ROLE_TRASH },
    { "Deleted Items", '/', TD_FOLDER_ROLE_TRASH },
    { "Deleted Messages", '/', TD_FOLDER_ROLE_TRASH },
    { "Junk", '/', TD_FOLDER_ROLE_JUNK },
    { "Junk E-mail", '/', TD_FOLDER_ROLE_JUNK },
    { "Junk Email", '/', TD_FOLDER_ROLE_JUNK },
    { "Spam", '/', TD_FOLDER_ROLE_JUNK },
    { "INBOX.spam", '.', TD_FOLDER_ROLE_JUNK },
    { "Bulk Mail", '/', TD_FOLDER_ROLE_JUNK },
    { "Archive", '/', TD_FOLDER_ROLE_ARCHIVE },
    { "Archives", '/', TD_FOLDER_ROLE_ARCHIVE },
    { "Gesendet", '/', TD_FOLDER_ROLE_SENT },
    { "Gesendete Objekte", '/', TD_FOLDER_ROLE_SENT },
    { "Papierkorb", '/', TD_FOLDER_ROLE_TRASH },
    { "Gel\xc3\xb6schte Elemente", '/', TD_FOLDER_ROLE_TRASH },
    { "Entw\xc3\xbcrfe", '/', TD_FOLDER_ROLE_DRAFTS },
    { "ENTW\xc3\x9c" "RFE", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Entwu\xcc\x88rfe", '/', TD_FOLDER_ROLE_DRAFTS },   /* decomposed u + combining diaeresis */
    { "Envoy\xc3\xa9s", '/', TD_FOLDER_ROLE_SENT },
    { "\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s", '/', TD_FOLDER_ROLE_SENT },
    { "Brouillons", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Corbeille", '/', TD_FOLDER_ROLE_TRASH },
    { "Courrier ind\xc3\xa9sirable", '/', TD_FOLDER_ROLE_JUNK },
    { "Elementos enviados", '/', TD_FOLDER_ROLE_SENT },
    { "Enviados", '/', TD_FOLDER_ROLE_SENT },
    { "Borradores", '/', TD_FOLDER_ROLE_DRAFTS },
    { "Papelera", '/', TD_FOLDER_ROLE_TRASH },
    { "Posta inviata", '/', TD_FOLDER_ROLE_SENT },
    { "Cestino", '/', TD_FOLDER_ROLE_TRASH },
    { "Verzonden items", '/', TD_FOLDER_ROLE_SENT },
    { "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b"
      "\xd0\xb5", '/', TD_FOLDER_ROLE_SENT },
    { " Sent ", '/', TD_FOLDER_ROLE_SENT },
    /* not special */
    { "Projects/Sent", '/', TD_FOLDER_ROLE_NONE },
    { "Archive/2023", '/', TD_FOLDER_ROLE_NONE },
    { "INBOX.Projects.Trash", '.', TD_FOLDER_ROLE_NONE },
    { "INBOX.Sent", '/', TD_FOLDER_ROLE_NONE },
    { "Sentimental", '/', TD_FOLDER_ROLE_NONE },
    { "Receipts", '/', TD_FOLDER_ROLE_NONE },
    { "Outbox", '/', TD_FOLDER_ROLE_NONE },
    { "", '/', TD_FOLDER_ROLE_NONE },
    { "/", '/', TD_FOLDER_ROLE_NONE },
    { "INBOX/", '/', TD_FOLDER_ROLE_NONE },
    { "bad\xff", '/', TD_FOLDER_ROLE_NONE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i].path);
      g_assert_cmpint (td_imap_guess_role (cases[i].path, cases[i].delimiter), ==, cases[i].role);
    }
}

/* FETCH */

static TdImapFetch *
fetch_ok (const char *line)
{
  g_autoptr(TdImapResponse) r = parse_one (line);
  g_autoptr(GError) error = NULL;
  TdImapFetch *f = td_imap_fetch_parse (r, &error);

  g_assert_no_error (error);
  g_assert_nonnull (f);
  g_assert_nonnull (f->keywords);
  return f;
}

static void
assert_bytes (GBytes     *bytes,
              const char *expected)
{
  g_assert_nonnull (bytes);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected,
                   strlen (expected));
}

static void
test_fetch_basic (void)
{
  g_autoptr(TdImapFetch) f =
    fetch_ok ("* 12 FETCH (UID 4827313 FLAGS (\\Seen $Forwarded work) INTERNALDATE "
              "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44827 MODSEQ (12121231000))\r\n");

  g_assert_cmpuint (f->seq, ==, 12);
  g_assert_cmphex (f->fields, ==, TD_IMAP_FETCH_HAS_UID | TD_IMAP_FETCH_HAS_FLAGS |
                   TD_IMAP_FETCH_HAS_INTERNALDATE | TD_IMAP_FETCH_HAS_SIZE |
                   TD_IMAP_FETCH_HAS_MODSEQ);
  g_assert_cmpuint (f->uid, ==, 4827313);
  g_assert_cmphex (f->flags, ==, TD_FLAG_SEEN | TD_FLAG_FORWARDED);
  g_assert_cmpuint (f->keywords->len, ==, 1);
  g_assert_cmpstr (f->keywords->pdata[0], ==, "work");
  g_assert_cmpint (f->internaldate, ==, 837596665);
  g_assert_cmpuint (f->size, ==, 44827);
  g_assert_cmpuint (f->modseq, ==, G_GUINT64_CONSTANT (12121231000));
  g_assert_null (f->header);
  g_assert_null (f->body);
}

static void
test_fetch_sections (void)
{
  struct {
    const char *line;
    const char *header;
    const char *body;
  } cases[] = {
    { "* 1 FETCH (UID 1 BODY[HEADER] {10}\r\nSubject: x)\r\n", "Subject: x", NULL },
    { "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM TO)] {8}\r\nFrom: a\n)\r\n", "From: a\n", NULL },
    { "* 1 FETCH (UID 1 BODY[HEADER.FIELDS.NOT (BCC)] \"X: y\")\r\n", "X: y", NULL },
    { "* 1 FETCH (UID 1 body[header.fields (from)] \"F: z\")\r\n", "F: z", NULL },
    { "* 1 FETCH (UID 1 BODY[] {4}\r\nfull)\r\n", NULL, "full" },
    { "* 1 FETCH (UID 1 BODY[]<0> {4}\r\nfull)\r\n", NULL, "full" },
    { "* 1 FETCH (UID 1 BODY.PEEK[] \"peek\")\r\n", NULL, "peek" },
    { "* 1 FETCH (UID 1 RFC822 {3}\r\nmsg)\r\n", NULL, "msg" },
    { "* 1 FETCH (UID 1 RFC822.HEADER {3}\r\nhdr RFC822 \"b\")\r\n", "hdr", "b" },
    { "* 1 FETCH (UID 1 BODY[HEADER] \"h\" BODY[] \"b\")\r\n", "h", "b" },
    { "* 1 FETCH (UID 1 BODY[] NIL)\r\n", NULL, NULL },
    /* not a whole header or body: skipped */
    { "* 1 FETCH (UID 1 BODY[TEXT] \"text\" BODY[1] \"p\" BODY[1.MIME] \"m\")\r\n", NULL, NULL },
    { "* 1 FETCH (UID 1 BODY[]<100> \"part\")\r\n", NULL, NULL },
    { "* 1 FETCH (UID 1 BODY[HEADER.FIELDSX] \"?\" BINARY[] \"bin\")\r\n", NULL, NULL },
    /* unknown items of any shape are skipped safely */
    { "* 1 FETCH (ENVELOPE (\"date\" \"subj\" ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL "
      "\"<id>\") BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3 1)"
      " BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1) X-GM-LABELS (\"\\\\Inbox\") "
      "X-GM-MSGID 123 EMAILID (M123) SAVEDATE NIL PREVIEW {3}\r\nabc UID 1 BODY[] \"x\")\r\n",
      NULL, "x" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TdImapFetch) f = fetch_ok (cases[i].line);

      g_test_message ("%s", cases[i].line);
      g_assert_cmpuint (f->uid, ==, 1);
      if (cases[i].header != NULL)
        assert_bytes (f->header, cases[i].header);
      else
        g_assert_null (f->header);
      if (cases[i].body != NULL)
        assert_bytes (f->body, cases[i].body);
      else
        g_assert_null (f->body);
    }
}

/* The FETCH helper shares the literal's bytes with the response: no copy of the body. */
static void
test_fetch_no_copy (void)
{
  g_autoptr(TdImapResponse) r = parse_one ("* 1 FETCH (UID 1 BODY[] {5}\r\nhello)\r\n");
  const TdImapValue *items = r->values->pdata[0];
  const TdImapValue *lit = items->list->pdata[3];
  g_autoptr(TdImapFetch) f = td_imap_fetch_parse (r, NULL);

  g_assert_nonnull (f);
  g_assert_true (g_bytes_get_data (f->body, NULL) == g_bytes_get_data (lit->string, NULL));
}

static void
test_fetch_partial_fields (void)
{
  g_autoptr(TdImapFetch) flags_only = fetch_ok ("* 3 FETCH (FLAGS (\\Deleted))\r\n");
  g_autoptr(TdImapFetch) lower = fetch_ok ("* 3 fetch (uid 9 flags (\\seen) rfc822.size 0 "
                                           "internaldate \"01-jan-2000 00:00:00 +0000\")\r\n");
  g_autoptr(TdImapFetch) bad_date = fetch_ok ("* 3 FETCH (UID 9 INTERNALDATE \"yesterday\")\r\n");
  g_autoptr(TdImapFetch) nil_date = fetch_ok ("* 3 FETCH (UID 9 INTERNALDATE NIL)\r\n");
  g_autoptr(TdImapFetch) empty = fetch_ok ("* 3 FETCH ()\r\n");
  g_autoptr(TdImapFetch) twice = fetch_ok ("* 3 FETCH (FLAGS (a) FLAGS (\\Seen b))\r\n");

  g_assert_cmphex (flags_only->fields, ==, TD_IMAP_FETCH_HAS_FLAGS);
  g_assert_cmphex (flags_only->flags, ==, TD_FLAG_DELETED);
  g_assert_cmpuint (flags_only->seq, ==, 3);

  g_assert_cmphex (lower->fields, ==, TD_IMAP_FETCH_HAS_UID | TD_IMAP_FETCH_HAS_FLAGS |
                   TD_IMAP_FETCH_HAS_SIZE | TD_IMAP_FETCH_HAS_INTERNALDATE);
  g_assert_cmpuint (lower->uid, ==, 9);
  g_assert_cmphex (lower->flags, ==, TD_FLAG_SEEN);
  g_assert_cmpuint (lower->size, ==, 0);
  g_assert_cmpint (lower->internaldate, ==, 946684800);

  g_assert_cmphex (bad_date->fields, ==, TD_IMAP_FETCH_HAS_UID);
  g_assert_cmphex (nil_date->fields, ==, TD_IMAP_FETCH_HAS_UID);
  g_assert_cmphex (empty->fields, ==, 0);

  g_assert_cmphex (twice->flags, ==, TD_FLAG_SEEN);
  g_assert_cmpuint (twice->keywords->len, ==, 1);
  g_assert_cmpstr (twice->keywords->pdata[0], ==, "b");
}

static void
test_fetch_errors (void)
{
  const char *bad[] = {
    "* 1 FETCH (UID)\r\n",
    "* 1 FETCH (UID 1 FLAGS)\r\n",
    "* 1 FETCH (UID abc)\r\n",
    "* 1 FETCH (UID 0)\r\n",
    "* 1 FETCH (UID 4294967296)\r\n",
    "* 1 FETCH (UID \"5\")\r\n",
    "* 1 FETCH (FLAGS \\Seen)\r\n",
    "* 1 FETCH (RFC822.SIZE -1)\r\n",
    "* 1 FETCH (MODSEQ 5)\r\n",
    "* 1 FETCH (MODSEQ ())\r\n",
    "* 1 FETCH (MODSEQ (1 2))\r\n",
    "* 1 FETCH (BODY[] 42)\r\n",
    "* 1 FETCH (BODY[HEADER] (a))\r\n",
    "* 1 FETCH (RFC822 x)\r\n",
    "* 1 FETCH (\"UID\" 5)\r\n",
    "* 1 FETCH ((UID) 5)\r\n",
    "* 1 FETCH UID 5\r\n",
    "* 1 FETCH\r\n",
    "* FETCH (UID 5)\r\n",
    "* 1 EXISTS\r\n",
    "* 1 STORE (UID 5)\r\n",
    "A1 OK FETCH done\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(TdImapResponse) r = parse_one (bad[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_null (td_imap_fetch_parse (r, &error));
      g_assert_error (error, TD_ERROR, TD_ERROR_PARSE);
    }
}

static void
test_fetch_internaldate (void)
{
  struct {
    const char *date;
    gint64      time;
  } good[] = {
    { "17-Jul-1996 02:44:25 -0700", 837596665 },
    { "12-Feb-2024 09:14:03 +0100", 1707725643 },
    { " 3-Mar-2024 23:05:59 -0500", 1709525159 },
    { "3-Mar-2024 23:05:59 -0500", 1709525159 },
    { "03-mar-2024 23:05:59 -0500", 1709525159 },
    { "01-Jan-1970 00:00:00 +0000", 0 },
    { "29-Feb-2000 12:00:00 +0530", 951805800 },
    { "31-Dec-1969 23:59:59 +0000", -1 },
    { "19-Jan-2038 03:14:08 +0000", G_GINT64_CONSTANT (2147483648) },
    { "31-Dec-9999 23:59:59 -1200", G_GINT64_CONSTANT (253402343999) },
    { "01-Mar-1900 00:00:00 +0000", G_GINT64_CONSTANT (-2203891200) },
  };
  const char *bad[] = {
    "", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jux-1996 02:44:25 -0700",
    "32-Jan-2024 00:00:00 +0000", "29-Feb-2023 00:00:00 +0000", "30-Feb-2000 00:00:00 +0000",
    "00-Jan-2024 00:00:00 +0000", "17-Jul-96 02:44:25 -0700", "17-Jul-1996 24:00:00 -0700",
    "17-Jul-1996 02:60:00 -0700", "17-Jul-1996 02:44:61 -0700", "17-Jul-1996 02:44:25 0700",
    "17-Jul-1996 02:44:25 -07", "17-Jul-1996 02:44:25 -0760", "17-Jul-1996 02:44:25 -0700 x",
    "117-Jul-1996 02:44:25 -0700", "17-Jul-1996 2:44:25 -0700", "Wed, 17 Jul 1996 02:44:25 -0700",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *line = g_strdup_printf ("* 1 FETCH (INTERNALDATE \"%s\")\r\n", good[i].date);
      g_autoptr(TdImapFetch) f = fetch_ok (line);

      g_test_message ("%s", good[i].date);
      g_assert_cmphex (f->fields, ==, TD_IMAP_FETCH_HAS_INTERNALDATE);
      g_assert_cmpint (f->internaldate, ==, good[i].time);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *line = g_strdup_printf ("* 1 FETCH (INTERNALDATE \"%s\")\r\n", bad[i]);
      g_autoptr(TdImapFetch) f = fetch_ok (line);

      g_test_message ("%s", bad[i]);
      g_assert_cmphex (f->fields, ==, 0);
    }
}

static void
test_fetch_transcripts (void)
{
  g_autoptr(GPtrArray) dovecot = parse_transcript ("dovecot-session.txt");
  g_autoptr(GPtrArray) cyrus = parse_transcript ("cyrus-session.txt");
  g_autoptr(GPtrArray) exchange = parse_transcript ("exchange-session.txt");
  GPtrArray *all[] = { dovecot, cyrus, exchange };
  GHashTable *bodies = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                              (GDestroyNotify) g_bytes_unref);
  GHashTable *headers = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                               (GDestroyNotify) g_bytes_unref);
  GHashTable *sizes = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint fetches = 0;

  for (guint t = 0; t < G_N_ELEMENTS (all); t++)
    {
      for (guint i = 0; i < all[t]->len; i++)
        {
          TdImapResponse *r = all[t]->pdata[i];
          g_autoptr(TdImapFetch) f = NULL;
          g_autoptr(GError) error = NULL;

          if (g_strcmp0 (r->name, "FETCH") != 0)
            continue;
          f = td_imap_fetch_parse (r, &error);
          g_assert_no_error (error);
          fetches++;
          if (f->body != NULL)
            g_hash_table_insert (bodies, GUINT_TO_POINTER (t * 1000 + f->uid),
                                 g_bytes_ref (f->body));
          if (f->header != NULL)
            g_hash_table_insert (headers, GUINT_TO_POINTER (t * 1000 + f->uid),
                                 g_bytes_ref (f->header));
          if (f->fields & TD_IMAP_FETCH_HAS_SIZE)
            g_hash_table_insert (sizes, GUINT_TO_POINTER (t * 1000 + f->uid),
                                 GUINT_TO_POINTER ((guint) f->size));
        }
    }
  g_assert_cmpuint (fetches, ==, 4 + 3 + 4);

  /* Dovecot: the header fetched first is the start of the body fetched later */
  for (guint uid = 41; uid <= 42; uid++)
    {
      GBytes *h = g_hash_table_lookup (headers, GUINT_TO_POINTER (uid));
      GBytes *b = g_hash_table_lookup (bodies, GUINT_TO_POINTER (uid));

      g_assert_nonnull (h);
      g_assert_nonnull (b);
      g_assert_cmpuint (g_bytes_get_size (h), <, g_bytes_get_size (b));
      g_assert_cmpint (memcmp (g_bytes_get_data (h, NULL), g_bytes_get_data (b, NULL),
                               g_bytes_get_size (h)), ==, 0);
      g_assert_cmpmem ((const char *) g_bytes_get_data (h, NULL) + g_bytes_get_size (h) - 4, 4,
                       "\r\n\r\n", 4);
      /* and RFC822.SIZE, fetched with the header, is the size of the body */
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (sizes, GUINT_TO_POINTER (uid))), ==,
                        g_bytes_get_size (b));
    }
  g_assert_nonnull (g_hash_table_lookup (headers, GUINT_TO_POINTER (1000 + 5)));
  g_assert_nonnull (g_hash_table_lookup (bodies, GUINT_TO_POINTER (1000 + 6)));
  g_assert_nonnull (g_hash_table_lookup (headers, GUINT_TO_POINTER (2000 + 311)));
  g_assert_cmpuint (g_hash_table_size (bodies), ==, 3);
  g_assert_cmpuint (g_hash_table_size (headers), ==, 6);

  g_hash_table_unref (bodies);
  g_hash_table_unref (headers);
  g_hash_table_unref (sizes);
}

/* Modified UTF-7 */

static void
test_utf7_round_trip (void)
{
  struct {
    const char *utf8;
    const char *mutf7;
  } cases[] = {
    { "", "" },
    { "INBOX", "INBOX" },
    { "Sent Items", "Sent Items" },
    { "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
    { "\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-" },
    { "&", "&-" },
    { "A&B", "A&-B" },
    { "&&", "&-&-" },
    { "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
    { "Envoy\xc3\xa9s", "Envoy&AOk-s" },
    { "\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s", "&AMk-l&AOk-ments envoy&AOk-s" },
    { "Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente" },
    { "\xc3\xbc&\xc3\xb6", "&APw-&-&APY-" },
    { "\xf0\x9f\x93\xa7 Mail", "&2D3c5w- Mail" },
    { "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b"
      "\xd0\xb5", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },
    { "\tx", "&AAk-x" },
    { "a-b_c.d/e", "a-b_c.d/e" },
    { "~!@#$%^*()[]{}\\\"'", "~!@#$%^*()[]{}\\\"'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *enc = td_imap_utf7_encode (cases[i].utf8);
      g_autofree char *dec = td_imap_utf7_decode (cases[i].mutf7);
      g_autofree char *again = td_imap_utf7_decode (enc);

      g_test_message ("%s", cases[i].mutf7);
      g_assert_cmpstr (enc, ==, cases[i].mutf7);
      g_assert_cmpstr (dec, ==, cases[i].utf8);
      g_assert_cmpstr (again, ==, cases[i].utf8);
    }

  /* every BMP and some astral code points survive a round trip */
  for (gunichar c = 1; c < 0x30000; c += (c < 0x3000 ? 1 : 97))
    {
      char buf[16] = "x";
      g_autofree char *enc = NULL;
      g_autofree char *dec = NULL;

      if (c >= 0xd800 && c <= 0xdfff)
        continue;
      buf[1 + g_unichar_to_utf8 (c, buf + 1)] = '\0';
      enc = td_imap_utf7_encode (buf);
      g_assert (enc != NULL);
      for (const char *p = enc; *p != '\0'; p++)
        g_assert_true (*p >= 0x20 && *p <= 0x7e);
      dec = td_imap_utf7_decode (enc);
      g_assert_cmpstr (dec, ==, buf);
    }
}

static void
test_utf7_invalid (void)
{
  const char *bad_decode[] = {
    "&",                /* unterminated */
    "&U,BTFw",          /* no "-" */
    "abc&APw",
    "&Jjo!-",           /* not base64 */
    "&U/BTFw-",         /* "/" is "," in modified base64 */
    "&U,BTFw=-",        /* no padding */
    "&AGE-",            /* printable ASCII "a" must not be encoded */
    "&ACY-",            /* "&" must be "&-" */
    "&AAA-",            /* NUL */
    "&APx-",            /* non-zero padding bits */
    "&AP-",             /* too short for a character */
    "&A-",
    "&APwA-",           /* a whole base64 character left over */
    "&2D0-",            /* lone high surrogate */
    "&3CQ-",            /* lone low surrogate */
    "&2D3YPQ-",         /* high surrogate followed by another high one */
    "Entw\xc3\xbcrfe",  /* raw 8-bit */
    "tab\there",        /* control character sent as itself */
    "\x7f",
  };
  const char *bad_encode[] = {
    "\xff",
    "Entw\xfcrfe",      /* Latin-1, not UTF-8 */
    "\xed\xa0\x80",     /* encoded surrogate */
    "\xc3",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_decode); i++)
    {
      g_test_message ("%s", bad_decode[i]);
      g_assert_null (td_imap_utf7_decode (bad_decode[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_encode); i++)
    g_assert_null (td_imap_utf7_encode (bad_encode[i]));

  /* adjacent runs are accepted (some servers write them) */
  {
    g_autofree char *s = td_imap_utf7_decode ("&APw-&APY-");

    g_assert_cmpstr (s, ==, "\xc3\xbc\xc3\xb6");
  }
}

/* Quoting */

static void
test_quote (void)
{
  struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "", "\"\"" },
    { "INBOX", "\"INBOX\"" },
    { "Sent Items", "\"Sent Items\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "Entw&APw-rfe", "\"Entw&APw-rfe\"" },
    { "(){}%*", "\"(){}%*\"" },
    { "p@ss w0rd!", "\"p@ss w0rd!\"" },
    { "a\rb", NULL },
    { "a\nb", NULL },
    { "Entw\xc3\xbcrfe", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *q = td_imap_quote (cases[i].in);

      g_assert_cmpstr (q, ==, cases[i].out);
      if (q != NULL)
        {
          /* and the parser reads it back */
          g_autofree char *line = g_strdup_printf ("* X %s\r\n", q);
          g_autoptr(TdImapResponse) r = parse_one (line);
          g_autofree char *back = td_imap_value_dup_string (r->values->pdata[0]);

          g_assert_cmpstr (back, ==, cases[i].in);
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  td_test_init (&argc, &argv);

  g_test_add_func ("/imap/response/capabilities", test_capabilities);
  g_test_add_func ("/imap/response/capabilities/transcripts", test_capabilities_transcripts);
  g_test_add_func ("/imap/response/flags/parse", test_flags_parse);
  g_test_add_func ("/imap/response/flags/to-string", test_flags_to_string);
  g_test_add_func ("/imap/response/list/entries", test_list_entries);
  g_test_add_func ("/imap/response/list/errors", test_list_errors);
  g_test_add_func ("/imap/response/list/transcripts", test_list_transcripts);
  g_test_add_func ("/imap/response/list/guess-role", test_guess_role);
  g_test_add_func ("/imap/response/fetch/basic", test_fetch_basic);
  g_test_add_func ("/imap/response/fetch/sections", test_fetch_sections);
  g_test_add_func ("/imap/response/fetch/no-copy", test_fetch_no_copy);
  g_test_add_func ("/imap/response/fetch/partial-fields", test_fetch_partial_fields);
  g_test_add_func ("/imap/response/fetch/errors", test_fetch_errors);
  g_test_add_func ("/imap/response/fetch/internaldate", test_fetch_internaldate);
  g_test_add_func ("/imap/response/fetch/transcripts", test_fetch_transcripts);
  g_test_add_func ("/imap/response/utf7/round-trip", test_utf7_round_trip);
  g_test_add_func ("/imap/response/utf7/invalid", test_utf7_invalid);
  g_test_add_func ("/imap/response/quote", test_quote);

  return g_test_run ();
}
