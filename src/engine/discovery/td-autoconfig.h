/* td-autoconfig.h: the Thunderbird autoconfig format (clientConfig XML), read with GMarkup
 *
 * <clientConfig><emailProvider id=…><domain>…</domain><displayName>…</displayName>
 *   <incomingServer type="imap|pop3"><hostname/><port/><socketType>SSL|STARTTLS|plain</socketType>
 *   <username>%EMAILADDRESS%|%EMAILLOCALPART%|…</username></incomingServer>
 *   <outgoingServer type="smtp">…</outgoingServer></emailProvider></clientConfig>
 *
 * The document is hostile (it may come from any web server): it is bounded in size, depth,
 * text length and number of servers, a malformed one is an error, and a server entry with a
 * host name, port or socket type that cannot be used is left out (other types too).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-discovery.h"

G_BEGIN_DECLS

/* Bytes of a document at most (a bigger one is TD_ERROR_LIMIT). */
#define TD_AUTOCONFIG_MAX_SIZE (1024 * 1024)

/* Reads @text and appends a TdServerCandidate (source @source, origin @origin or the
 * provider's name) for each usable server of the providers it takes to @out: with @domain,
 * those that list it in a <domain> (the provider database); without, the first one (an
 * autoconfig answer is for the domain it was asked for). User names are filled in for
 * @address. Returns FALSE with TD_ERROR_PARSE or TD_ERROR_LIMIT when the document is not a
 * usable clientConfig (what was appended then is to be thrown away). @provider_name: the
 * displayName of the provider taken, or NULL. Finding no servers is not an error. */
gboolean td_autoconfig_parse (const char         *text,
                              gsize               length,
                              const char         *address,
                              const char         *domain,
                              TdDiscoverySource   source,
                              const char         *origin,
                              GPtrArray          *out,
                              char              **provider_name,
                              GError            **error);

/* "imap.example.org" -> TRUE; spaces, slashes, "..", "-x", over 253 bytes -> FALSE. */
gboolean td_autoconfig_host_is_valid (const char *host);

G_END_DECLS
