/* td-types.h: small enums shared by every engine layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Message flags as one bitmask, in the store and in the protocols. Keywords the mask does
 * not know are kept as text. IMAP flags match case-insensitively ("\seen" == "\Seen"). */
typedef enum
{
  TD_FLAG_SEEN      = 1 << 0,
  TD_FLAG_ANSWERED  = 1 << 1,
  TD_FLAG_FLAGGED   = 1 << 2,
  TD_FLAG_DELETED   = 1 << 3,
  TD_FLAG_DRAFT     = 1 << 4,
  TD_FLAG_FORWARDED = 1 << 5,   /* $Forwarded */
  TD_FLAG_JUNK      = 1 << 6,   /* $Junk */
  TD_FLAG_RECENT    = 1 << 7,   /* \Recent: session-only, never stored */
  TD_FLAG_KEYWORDS  = 1 << 8,   /* the other keywords, as a whole: only in a folder's
                                 * local flags (it cannot keep keywords on the server) */
} TdFlags;

#define TD_FLAGS_STORED (TD_FLAG_SEEN | TD_FLAG_ANSWERED | TD_FLAG_FLAGGED | TD_FLAG_DELETED | \
                         TD_FLAG_DRAFT | TD_FLAG_FORWARDED | TD_FLAG_JUNK)

/* Folder roles, from SPECIAL-USE (RFC 6154) or guessed from common names. */
typedef enum
{
  TD_FOLDER_ROLE_NONE,
  TD_FOLDER_ROLE_INBOX,
  TD_FOLDER_ROLE_DRAFTS,
  TD_FOLDER_ROLE_SENT,
  TD_FOLDER_ROLE_TRASH,
  TD_FOLDER_ROLE_JUNK,
  TD_FOLDER_ROLE_ARCHIVE,
  TD_FOLDER_ROLE_ALL,
  TD_FOLDER_ROLE_FLAGGED,
} TdFolderRole;

typedef enum
{
  TD_ACCOUNT_KIND_IMAP,
  TD_ACCOUNT_KIND_POP3,
} TdAccountKind;

/* There is deliberately no plaintext mode: a password never crosses the wire in clear. */
typedef enum
{
  TD_SECURITY_TLS,        /* implicit TLS (993, 995, 465) */
  TD_SECURITY_STARTTLS,   /* plain connect, then STARTTLS/STLS; never falls back */
} TdSecurity;

const char    *td_folder_role_to_string   (TdFolderRole  role);   /* "inbox", "sent", ..., "" */
TdFolderRole   td_folder_role_from_string (const char   *str);
/* Display order of roles in a sidebar: inbox first, then drafts, sent, archive, ... */
int            td_folder_role_sort_key    (TdFolderRole  role);
const char    *td_account_kind_to_string  (TdAccountKind kind);   /* "imap", "pop3" */
gboolean       td_account_kind_from_string (const char   *str,
                                            TdAccountKind *out);
const char    *td_security_to_string      (TdSecurity    security); /* "tls", "starttls" */
gboolean       td_security_from_string    (const char   *str,
                                           TdSecurity   *out);

/* Call once before anything else of the engine (initialises GMime). Idempotent. */
void           td_engine_init             (void);

G_END_DECLS
