/* main.c: tidings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-app"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

#include "td-application.h"
#include "td-types.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TdApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  td_engine_init ();

  app = td_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
