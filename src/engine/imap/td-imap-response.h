/* td-imap-response.h: typed views of parsed IMAP responses (CAPABILITY, LIST, FETCH, ...)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-imap-parser.h"
#include "td-types.h"

G_BEGIN_DECLS

/* Capabilities: the atoms after CAPABILITY, upper-cased, in a set. */
GHashTable     *td_imap_capabilities_parse (const TdImapResponse *response); /* NULL if not one */

/* Parse a flag list "(\Seen $Forwarded foo)"; unknown keywords go to @keywords (may be NULL). */
TdFlags         td_imap_flags_parse        (const TdImapValue *list,
                                            GPtrArray         *keywords);
char           *td_imap_flags_to_string    (TdFlags            flags);  /* "\\Seen \\Flagged" */

typedef struct
{
  char         *path;        /* UTF-8 (decoded from modified UTF-7) */
  char         *raw_path;    /* as on the wire, for commands */
  char          delimiter;   /* 0 when NIL */
  gboolean      noselect;    /* \Noselect or \NonExistent */
  gboolean      has_children;
  TdFolderRole  role;        /* from attributes only; NONE when none given */
  /* RFC 5819 LIST-STATUS: the folder's STATUS came with the LIST */
  gboolean      has_status;
  guint32       status_messages;
  guint32       status_uidnext;
  guint32       status_uidvalidity;
  guint64       status_highestmodseq;  /* 0 when not given */
} TdImapListEntry;

void             td_imap_list_entry_free    (TdImapListEntry *entry);
/* A "* LIST (...) "/" name" response; NULL with @error on malformed data. */
TdImapListEntry *td_imap_list_entry_parse   (const TdImapResponse *response,
                                             GError              **error);
/* A "* STATUS name (MESSAGES n UIDNEXT n ...)" response: the raw name (*@raw_path, newly
 * allocated) and the items into @entry's status fields (has_status set when MESSAGES, UIDNEXT
 * and UIDVALIDITY all came). FALSE on malformed data. */
gboolean         td_imap_status_parse       (const TdImapResponse *response,
                                             char                **raw_path,
                                             TdImapListEntry      *entry);
/* Guess a role from a folder name ("Sent", "Sent Items", "INBOX.Trash", "Gesendet", ...). */
TdFolderRole     td_imap_guess_role         (const char *path,
                                             char        delimiter);

typedef enum
{
  TD_IMAP_FETCH_HAS_UID          = 1 << 0,
  TD_IMAP_FETCH_HAS_FLAGS        = 1 << 1,
  TD_IMAP_FETCH_HAS_INTERNALDATE = 1 << 2,
  TD_IMAP_FETCH_HAS_SIZE         = 1 << 3,
  TD_IMAP_FETCH_HAS_MODSEQ       = 1 << 4,
} TdImapFetchFields;

typedef struct
{
  guint32            seq;
  TdImapFetchFields  fields;
  guint32            uid;
  TdFlags            flags;
  GPtrArray         *keywords;      /* char*, unknown keywords, may be empty */
  gint64             internaldate;  /* unix time */
  guint64            size;
  guint64            modseq;
  GBytes            *header;        /* BODY[HEADER] / BODY[HEADER.FIELDS (...)] or NULL */
  GBytes            *body;          /* BODY[] / RFC822, or NULL */
} TdImapFetch;

void             td_imap_fetch_free         (TdImapFetch *fetch);
/* A "* N FETCH (...)" response; NULL with @error on malformed data. */
TdImapFetch     *td_imap_fetch_parse        (const TdImapResponse *response,
                                             GError              **error);

/* Modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8. Decoding invalid input returns NULL. */
char            *td_imap_utf7_decode        (const char *mutf7);
char            *td_imap_utf7_encode        (const char *utf8);

/* Quote a string for a command: an atom-safe quoted string, or NULL if it needs a literal
 * (contains CR, LF, NUL or 8-bit bytes). */
char            *td_imap_quote              (const char *str);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdImapListEntry, td_imap_list_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdImapFetch, td_imap_fetch_free)

G_END_DECLS
