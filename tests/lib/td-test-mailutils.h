/* td-test-mailutils.h: a real, throwaway GNU Mailutils imap4d for one test binary
 *
 * A second IMAP server next to Dovecot, with none of its extensions: no CONDSTORE, QRESYNC,
 * MOVE, UIDPLUS, ENABLE, ESEARCH or SPECIAL-USE, and PERMANENTFLAGS without "\*" (keywords
 * such as $Forwarded are refused with BAD). It runs in daemon mode in the foreground on two
 * free loopback ports ("imap" with STARTTLS, "imaps" with implicit TLS) with its own config
 * file, self-signed certificate for "localhost" and Maildir store in a temporary directory,
 * and is stopped (by its own PID and those of its session children) in
 * td_test_mailutils_free() or at exit; a watchdog stops it when the test process dies.
 *
 * One user, "alice@localhost" (a virtual domain: no system account), password "secret".
 * Connect by the name "localhost" and pin td_test_mailutils_get_fingerprint().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TdTestMailutils TdTestMailutils;

/* NULL with @error when imap4d is missing or fails to start (tests must fail, not skip). */
TdTestMailutils *td_test_mailutils_start           (GError          **error);
/* "imap" (STARTTLS offered, not required) or "imaps" */
guint16          td_test_mailutils_get_port        (TdTestMailutils  *self,
                                                    const char       *service);
const char      *td_test_mailutils_get_username    (TdTestMailutils  *self);
const char      *td_test_mailutils_get_password    (TdTestMailutils  *self);
/* The directory with the config, the log and the mail ("home/alice/INBOX", "home/alice/Mail"). */
const char      *td_test_mailutils_get_dir         (TdTestMailutils  *self);
/* SHA-256 of the server certificate as "AB:CD:...". */
const char      *td_test_mailutils_get_fingerprint (TdTestMailutils  *self);
/* The Maildir of @folder ("INBOX" or a folder path with '/'), which need not exist. */
char            *td_test_mailutils_get_maildir     (TdTestMailutils  *self,
                                                    const char       *folder);
/* Sends SIGTERM to the server and its session processes and waits for them. Idempotent. */
void             td_test_mailutils_stop            (TdTestMailutils  *self);
void             td_test_mailutils_free            (TdTestMailutils  *self);

/* A raw, blocking IMAP connection of the test to the server (plain, on loopback), logged in
 * as alice: to change things there and to read what the server has. */
typedef struct _TdTestImap TdTestImap;

TdTestImap *td_test_imap_connect (TdTestMailutils  *server,
                                  GError          **error);
/* Sends one command (the tag is added) and reads up to its tagged answer. Returns all the
 * lines the server sent, literals inline, "\r\n" after each line; NULL with @error when the
 * answer is not OK. */
char       *td_test_imap_command (TdTestImap       *self,
                                  GError          **error,
                                  const char       *format,
                                  ...) G_GNUC_PRINTF (3, 4);
/* APPEND @message to @folder with @flags ("" or e.g. "\\Seen"). */
gboolean    td_test_imap_append  (TdTestImap       *self,
                                  const char       *folder,
                                  const char       *flags,
                                  GBytes           *message,
                                  GError          **error);
void        td_test_imap_free    (TdTestImap       *self);

/* A message as the server has it. */
typedef struct
{
  guint32  uid;
  char    *flags;    /* the FLAGS list without parentheses, e.g. "\\Seen \\Flagged" */
  char    *subject;
} TdTestImapMessage;

/* EXAMINEs @folder and fetches UID, FLAGS and Subject of every message (TdTestImapMessage*,
 * in uid order). NULL with @error when the folder cannot be opened. */
GPtrArray  *td_test_imap_list_messages (TdTestImap  *self,
                                        const char  *folder,
                                        GError     **error);
/* The folder names from LIST "" "*", as the server spells them (modified UTF-7). */
GStrv       td_test_imap_list_folders  (TdTestImap  *self,
                                        GError     **error);

/* Appends @count simple distinct messages to @folder over one connection ("Subject: <prefix>
 * N", N from 1, distinct Message-IDs and growing dates over all calls). */
gboolean    td_test_mailutils_append_generated (TdTestMailutils  *self,
                                                const char       *folder,
                                                const char       *subject_prefix,
                                                guint             count,
                                                GError          **error);
gboolean    td_test_mailutils_create_folder    (TdTestMailutils  *self,
                                                const char       *folder,
                                                GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestMailutils, td_test_mailutils_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestImap, td_test_imap_free)

G_END_DECLS
