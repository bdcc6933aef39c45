/* td-error.h: the one error domain of the Tidings engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TD_ERROR (td_error_quark ())

/**
 * TdError:
 * @TD_ERROR_FAILED: anything not covered below
 * @TD_ERROR_WRONG_STATE: an operation that the protocol state table does not allow now
 * @TD_ERROR_PARSE: malformed input from a server or a file
 * @TD_ERROR_LIMIT: input beyond a bound (line length, literal size, nesting depth)
 * @TD_ERROR_AUTH: the server refused the credentials
 * @TD_ERROR_CERTIFICATE: the server certificate did not verify and is not pinned
 * @TD_ERROR_TLS_REQUIRED: the server cannot do the TLS the account asks for
 * @TD_ERROR_CONNECTION: the connection failed or was cut
 * @TD_ERROR_TIMEOUT: the server did not answer in time
 * @TD_ERROR_PROTOCOL: the server answered NO/BAD/-ERR or something unexpected
 * @TD_ERROR_NOT_FOUND: no such account, folder or message
 * @TD_ERROR_STORE: the local store failed (disk full, corrupt file)
 * @TD_ERROR_NO_PASSWORD: no password in the keyring for this account
 * @TD_ERROR_UNSUPPORTED: the server does not offer what the operation needs
 * @TD_ERROR_INVALID: an argument that cannot be used (an empty folder name, a bad flag)
 * @TD_ERROR_EXISTS: there is one already (a folder of that name)
 * @TD_ERROR_TRY_LATER: the server cannot now but may later (a mailbox in use, a login delay,
 *   a temporary failure): try again later, not at once
 * @TD_ERROR_PERMANENT: the server says trying again will not help (an account it disabled)
 */
typedef enum
{
  TD_ERROR_FAILED,
  TD_ERROR_WRONG_STATE,
  TD_ERROR_PARSE,
  TD_ERROR_LIMIT,
  TD_ERROR_AUTH,
  TD_ERROR_CERTIFICATE,
  TD_ERROR_TLS_REQUIRED,
  TD_ERROR_CONNECTION,
  TD_ERROR_TIMEOUT,
  TD_ERROR_PROTOCOL,
  TD_ERROR_NOT_FOUND,
  TD_ERROR_STORE,
  TD_ERROR_NO_PASSWORD,
  TD_ERROR_UNSUPPORTED,
  TD_ERROR_INVALID,
  TD_ERROR_EXISTS,
  TD_ERROR_TRY_LATER,
  TD_ERROR_PERMANENT,
} TdError;

GQuark td_error_quark (void);

G_END_DECLS
