/* td-secret-credentials.h: TdCredentials in the Secret Service (libsecret)
 *
 * Items use the schema "org.tidings.Tidings.Account" with the attributes uuid, username,
 * host and protocol, in the default collection, labelled "Tidings: ADDRESS".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-credentials.h"

G_BEGIN_DECLS

#define TD_TYPE_SECRET_CREDENTIALS (td_secret_credentials_get_type ())

G_DECLARE_FINAL_TYPE (TdSecretCredentials, td_secret_credentials, TD, SECRET_CREDENTIALS, GObject)

TdCredentials *td_secret_credentials_new (void);

G_END_DECLS
