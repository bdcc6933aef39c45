/* td-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-engine"

#include "config.h"

#include "td-types.h"

#include <gmime/gmime.h>

static const char * const role_names[] = {
  [TD_FOLDER_ROLE_NONE] = "",
  [TD_FOLDER_ROLE_INBOX] = "inbox",
  [TD_FOLDER_ROLE_DRAFTS] = "drafts",
  [TD_FOLDER_ROLE_SENT] = "sent",
  [TD_FOLDER_ROLE_TRASH] = "trash",
  [TD_FOLDER_ROLE_JUNK] = "junk",
  [TD_FOLDER_ROLE_ARCHIVE] = "archive",
  [TD_FOLDER_ROLE_ALL] = "all",
  [TD_FOLDER_ROLE_FLAGGED] = "flagged",
};

const char *
td_folder_role_to_string (TdFolderRole role)
{
  if ((guint) role >= G_N_ELEMENTS (role_names))
    return "";
  return role_names[role];
}

TdFolderRole
td_folder_role_from_string (const char *str)
{
  if (str == NULL || *str == '\0')
    return TD_FOLDER_ROLE_NONE;
  for (guint i = 1; i < G_N_ELEMENTS (role_names); i++)
    if (g_ascii_strcasecmp (str, role_names[i]) == 0)
      return (TdFolderRole) i;
  return TD_FOLDER_ROLE_NONE;
}

int
td_folder_role_sort_key (TdFolderRole role)
{
  switch (role)
    {
    case TD_FOLDER_ROLE_INBOX: return 0;
    case TD_FOLDER_ROLE_FLAGGED: return 1;
    case TD_FOLDER_ROLE_DRAFTS: return 2;
    case TD_FOLDER_ROLE_SENT: return 3;
    case TD_FOLDER_ROLE_ARCHIVE: return 4;
    case TD_FOLDER_ROLE_ALL: return 5;
    case TD_FOLDER_ROLE_JUNK: return 6;
    case TD_FOLDER_ROLE_TRASH: return 7;
    case TD_FOLDER_ROLE_NONE:
    default: return 10;
    }
}

const char *
td_account_kind_to_string (TdAccountKind kind)
{
  return kind == TD_ACCOUNT_KIND_POP3 ? "pop3" : "imap";
}

gboolean
td_account_kind_from_string (const char    *str,
                             TdAccountKind *out)
{
  if (g_strcmp0 (str, "imap") == 0)
    *out = TD_ACCOUNT_KIND_IMAP;
  else if (g_strcmp0 (str, "pop3") == 0)
    *out = TD_ACCOUNT_KIND_POP3;
  else
    return FALSE;
  return TRUE;
}

const char *
td_security_to_string (TdSecurity security)
{
  return security == TD_SECURITY_STARTTLS ? "starttls" : "tls";
}

gboolean
td_security_from_string (const char *str,
                         TdSecurity *out)
{
  if (g_strcmp0 (str, "tls") == 0)
    *out = TD_SECURITY_TLS;
  else if (g_strcmp0 (str, "starttls") == 0)
    *out = TD_SECURITY_STARTTLS;
  else
    return FALSE;
  return TRUE;
}

void
td_engine_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}
