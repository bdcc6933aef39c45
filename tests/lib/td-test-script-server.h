/* td-test-script-server.h: a scripted in-process server for protocol session unit tests
 *
 * Listens on 127.0.0.1 (a free port), accepts one connection and plays a script of lines,
 * one directive per line, on the default main context (the test's main loop drives it):
 *
 *   S: text        send "text\r\n"
 *   S+ text        send text with C escapes (\r \n \t \\ \" \NNN octal), no CRLF added;
 *                  for literals and for lines without their end
 *   S1 text        like S+, but one byte per write with a short pause between, so that the
 *                  client sees the input split everywhere
 *   S! close       close the connection
 *   S! pause N     wait N milliseconds
 *   C: text        expect the client to send the line "text" (compared exactly, without its
 *                  CRLF; tags are literal: a session numbers its commands A1, A2, ...)
 *   C~ pattern     expect a line matching a g_pattern_match_simple() glob (* and ?)
 *   C! close       expect the client to close the connection without sending another line
 *   # comment      ignored, as are blank lines
 *
 * The protocol does not matter (IMAP, POP3, SMTP: any line-based one). A mismatch (another
 * line, a line at the end of the script, EOF too early) fails the test with the script line,
 * what was expected and what came, and closes the connection so the client sees an error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TdTestScriptServer TdTestScriptServer;

/* @script: the directives above, lines separated by '\n'. Fails the test on a bad script. */
TdTestScriptServer *td_test_script_server_new             (const char         *script);
/* The same over implicit TLS with tests/data/tls/localhost-cert.pem (pin
 * TD_TEST_SCRIPT_SERVER_FINGERPRINT and connect to "localhost"): for code that insists on
 * an encrypted connection, such as TdImapSync and TdImapWatch. */
TdTestScriptServer *td_test_script_server_new_tls         (const char         *script);
#define TD_TEST_SCRIPT_SERVER_FINGERPRINT \
  "CA:4A:8A:04:93:AF:9A:3C:FF:7C:E0:0B:5D:A6:2F:DB:FD:A7:86:4E:B7:41:4B:7B:C8:46:D6:0B:A5:A2:D1:F6"
/* A script under tests/data/ (e.g. "imap-sessions/login.script"). */
TdTestScriptServer *td_test_script_server_new_from_data   (const char         *relative);
void                td_test_script_server_free            (TdTestScriptServer *self);

guint16             td_test_script_server_get_port        (TdTestScriptServer *self);
/* A plain TCP stream to the server (the session units' stream mode), connected by running
 * the default main context; fails the test when it does not connect. */
GIOStream          *td_test_script_server_connect         (TdTestScriptServer *self);
/* TRUE once every line was played, or after a mismatch. */
gboolean            td_test_script_server_is_finished     (TdTestScriptServer *self);
/* Runs the default main context until the script is finished (fails the test after
 * @timeout_ms). */
void                td_test_script_server_wait_finished   (TdTestScriptServer *self,
                                                           guint               timeout_ms);
/* The first mismatch as a message, or NULL. */
const char         *td_test_script_server_get_error       (TdTestScriptServer *self);
/* Asserts that the whole script was played without a mismatch. */
void                td_test_script_server_assert_finished (TdTestScriptServer *self);
/* Everything the client sent so far (NUL-terminated; @len may be NULL). */
const char         *td_test_script_server_get_received    (TdTestScriptServer *self,
                                                           gsize              *len);
/* TRUE once the client closed its end. */
gboolean            td_test_script_server_client_closed   (TdTestScriptServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdTestScriptServer, td_test_script_server_free)

G_END_DECLS
