/* td-format.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include "td-format.h"

#include <glib/gi18n-lib.h>

char *
td_format_list_date (gint64     unix_time,
                     GDateTime *now)
{
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) local_now = NULL;

  if (unix_time <= 0)
    return g_strdup ("");

  date = g_date_time_new_from_unix_local (unix_time);
  if (date == NULL)
    return g_strdup ("");

  local_now = now != NULL ? g_date_time_ref (now) : g_date_time_new_now_local ();

  if (g_date_time_get_year (date) == g_date_time_get_year (local_now) &&
      g_date_time_get_day_of_year (date) == g_date_time_get_day_of_year (local_now))
    /* Translators: time of a message received today, see g_date_time_format() */
    return g_date_time_format (date, _("%H:%M"));

  if (g_date_time_get_year (date) == g_date_time_get_year (local_now))
    /* Translators: date of a message of this year ("12 Mar"), see g_date_time_format() */
    return g_date_time_format (date, _("%-d %b"));

  /* Translators: date of an older message ("12 Mar 2021"), see g_date_time_format() */
  return g_date_time_format (date, _("%-d %b %Y"));
}

char *
td_format_full_date (gint64 unix_time)
{
  g_autoptr(GDateTime) date = NULL;

  if (unix_time <= 0)
    return g_strdup ("");

  date = g_date_time_new_from_unix_local (unix_time);
  if (date == NULL)
    return g_strdup ("");

  /* Translators: the date in a message's headers, see g_date_time_format() */
  return g_date_time_format (date, _("%A, %-d %B %Y, %H:%M"));
}

char *
td_format_address (const char *name,
                   const char *address)
{
  gboolean has_name = name != NULL && *name != '\0';
  gboolean has_address = address != NULL && *address != '\0';

  if (has_name && has_address && g_strcmp0 (name, address) != 0)
    return g_strdup_printf ("%s <%s>", name, address);
  if (has_address)
    return g_strdup (address);
  if (has_name)
    return g_strdup (name);
  return g_strdup ("");
}
