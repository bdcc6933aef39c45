/* td-format.h: dates and sizes as the window shows them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* For a message list row: the time when @unix_time is today, "12 Mar" in the year of @now,
 * else "12 Mar 2021". @now NULL means the current local time. */
char *td_format_list_date   (gint64     unix_time,
                             GDateTime *now);
/* For the message headers: "Tuesday, 12 March 2024, 14:05". */
char *td_format_full_date   (gint64     unix_time);
/* "From" as a header line: "Ann Smith <ann@example.org>", or the address alone. */
char *td_format_address     (const char *name,
                             const char *address);

G_END_DECLS
