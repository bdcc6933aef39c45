/* td-test-bus.c: a private D-Bus message bus for one test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-test"

#include "config.h"

#include "td-test-bus.h"

#include <signal.h>
#include <sys/prctl.h>

#include "td-test-util.h"

struct _TdTestBus
{
  GSubprocess *daemon;
  char        *dir;
  char        *address;
};

static const char config_template[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
  " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
  "<busconfig>\n"
  "  <type>session</type>\n"
  "  <listen>unix:dir=%s</listen>\n"
  "  <auth>EXTERNAL</auth>\n"
  "  <policy context=\"default\">\n"
  "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
  "    <allow eavesdrop=\"true\"/>\n"
  "    <allow own=\"*\"/>\n"
  "  </policy>\n"
  "</busconfig>\n";

/* In the child before exec: the daemon goes when this process goes, even on an abort. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

TdTestBus *
td_test_bus_start (GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *config = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *address = NULL;
  TdTestBus *self;

  self = g_new0 (TdTestBus, 1);
  self->dir = td_test_make_tempdir ("bus");
  config = g_markup_printf_escaped (config_template, self->dir);
  config_path = g_build_filename (self->dir, "bus.conf", NULL);
  if (!g_file_set_contents (config_path, config, -1, error))
    goto fail;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  self->daemon = g_subprocess_launcher_spawn (launcher, error, "dbus-daemon", "--nofork",
                                              "--print-address=1", "--config-file", config_path,
                                              NULL);
  if (self->daemon == NULL)
    goto fail;

  /* the daemon prints its address once it listens */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->daemon));
  address = g_data_input_stream_read_line (out, NULL, NULL, error);
  if (address == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "dbus-daemon exited without printing its address");
      goto fail;
    }
  self->address = g_strstrip (g_steal_pointer (&address));
  return self;

fail:
  td_test_bus_free (self);
  return NULL;
}

const char *
td_test_bus_get_address (TdTestBus *self)
{
  return self->address;
}

GDBusConnection *
td_test_bus_connect (TdTestBus  *self,
                     GError    **error)
{
  /* test code: a blocking connect to a daemon on loopback is fine here */
  return g_dbus_connection_new_for_address_sync (self->address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, error);
}

void
td_test_bus_free (TdTestBus *self)
{
  if (self == NULL)
    return;
  if (self->daemon != NULL)
    {
      g_subprocess_send_signal (self->daemon, SIGTERM);
      g_subprocess_wait (self->daemon, NULL, NULL);
      g_clear_object (&self->daemon);
    }
  g_free (self->address);
  g_free (self->dir);
  g_free (self);
}
