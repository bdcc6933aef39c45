/* td-test-dovecot.h: a real, throwaway Dovecot (IMAP, POP3, submission) for one test binary
 *
 * Started on free loopback ports in its own temporary directory with its own self-signed
 * certificate for "localhost", and stopped (by its own PID) in td_test_dovecot_free() or at
 * exit. Users: "alice" and "bob", password "secret" (td_test_dovecot_get_password()).
 * Connect by the name "localhost" and pin td_test_dovecot_get_fingerprint().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TdTestDovecot TdTestDovecot;

/* NULL with @error when dovecot is missing or fails to start (tests must fail, not skip). */
TdTestDovecot *td_test_dovecot_start          (GError        **error);
/* "imap", "imaps", "pop3", "pop3s", "submission", "submissions" */
guint16        td_test_dovecot_get_port       (TdTestDovecot  *self,
                                               const char     *service);
const char    *td_test_dovecot_get_password   (TdTestDovecot  *self);
/* The directory with the config, logs and the mail of the users. */
const char    *td_test_dovecot_get_dir        (TdTestDovecot  *self);
const char    *td_test_dovecot_get_cert_path  (TdTestDovecot  *self);
/* SHA-256 of the server certificate as "AB:CD:...". */
const char    *td_test_dovecot_get_fingerprint (TdTestDovecot *self);
/* Runs "doveadm -c CONF ARGS..." and waits; FALSE with @error on a non-zero exit. */
gboolean       td_test_dovecot_doveadm        (TdTestDovecot  *self,
                                               GError        **error,
                                               const char     *first_arg,
                                               ...) G_GNUC_NULL_TERMINATED;
/* The same, returning what doveadm printed on stdout (NULL with @error on failure). */
char          *td_test_dovecot_doveadm_output (TdTestDovecot  *self,
                                               GError        **error,
                                               const char     *first_arg,
                                               ...) G_GNUC_NULL_TERMINATED;
gboolean       td_test_dovecot_create_folder  (TdTestDovecot  *self,
                                               const char     *user,
                                               const char     *folder,
                                               GError        **error);
/* Saves a message into @folder (created if needed) of @user ("doveadm save"). */
gboolean       td_test_dovecot_save           (TdTestDovecot  *self,
                                               const char     *user,
                                               const char     *folder,
                                               GBytes         *message,
                                               GError        **error);
/* Generates @count simple distinct messages into @folder ("Subject: <prefix> N", N from 1, with
 * dates one minute apart that grow over all calls, so UIDs follow N). Written into the
 * Maildir directly, then "doveadm force-resync": fast also for thousands. */
gboolean       td_test_dovecot_save_generated (TdTestDovecot  *self,
                                               const char     *user,
                                               const char     *folder,
                                               const char     *subject_prefix,
                                               guint           count,
                                               GError        **error);
/* Sends SIGTERM to the master (its own PID) and waits for it to exit. Idempotent. */
void           td_test_dovecot_stop           (TdTestDovecot  *self);
void           td_test_dovecot_free           (TdTestDovecot  *self);

/* A loopback TCP proxy in this process, in front of @port: it forwards both ways and, once
 * @cut_after bytes came from the server (0 = never), drops both connections. The count runs
 * over all connections: once reached, a new connection is dropped at its first server byte
 * until cut_after is raised (e.g. to get_forwarded () + N) or set to 0. It runs on the
 * thread-default main context of td_test_proxy_new(). */
typedef struct _TdTestProxy TdTestProxy;

TdTestProxy   *td_test_proxy_new              (guint16        target_port,
                                               guint64        cut_after);
guint16        td_test_proxy_get_port         (TdTestProxy   *self);
/* Bytes forwarded from the server so far, over all connections. */
guint64        td_test_proxy_get_forwarded    (TdTestProxy   *self);
void           td_test_proxy_set_cut_after    (TdTestProxy   *self,
                                               guint64        cut_after);
/* Connections accepted so far, and those still open (both sides). */
guint          td_test_proxy_get_accepted     (TdTestProxy   *self);
guint          td_test_proxy_get_alive        (TdTestProxy   *self);
/* The next connection accepted goes to @target_port instead (a queue: one port for each
 * connection to come; then the target of td_test_proxy_new() again), e.g. to one scripted
 * server per connection. */
void           td_test_proxy_push_target      (TdTestProxy   *self,
                                               guint16        target_port);
/* With @down, every open connection is dropped now and each new one is closed as soon as it
 * is accepted (the server is out of reach, though it still runs), until set up again. */
void           td_test_proxy_set_down         (TdTestProxy   *self,
                                               gboolean       down);
void           td_test_proxy_free             (TdTestProxy   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestDovecot, td_test_dovecot_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestProxy, td_test_proxy_free)

G_END_DECLS
