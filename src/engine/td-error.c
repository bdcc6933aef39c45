/* td-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-engine"

#include "config.h"

#include "td-error.h"

G_DEFINE_QUARK (td-error-quark, td_error)
