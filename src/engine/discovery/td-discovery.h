/* td-discovery.h: find the servers of an email address, without sending a password
 *
 * Given an address, TdDiscovery runs four sources at once, under one time limit:
 *   1. the bundled provider database (Thunderbird autoconfig XML, data/tidings-providers.xml),
 *   2. autoconfig over HTTPS (https://autoconfig.DOMAIN/mail/config-v1.1.xml and
 *      https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml, certificates verified),
 *   3. RFC 6186 SRV records (_imaps, _imap, _pop3s, _pop3, _submissions, _submission),
 *   4. guessed host names (imap., pop., pop3., mail., smtp. and the domain itself) probed on
 *      993/143/995/110/465/587 with a real CAPABILITY, CAPA or EHLO.
 * A source earlier in this list is trusted more: once a source has found an incoming server
 * and every source before it is done, the later ones are stopped. When the time limit passes,
 * what was found so far is the result. Each step is reported as it runs ("step" signal).
 *
 * Implicit TLS is preferred to STARTTLS; a server that offers neither is listed as
 * TD_CANDIDATE_SECURITY_PLAIN, which is never chosen (the engine has no plaintext mode).
 * Nothing is ever logged in to and no password is sent: that is for the caller to do once
 * the user has seen what was found.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "td-connection.h"
#include "td-types.h"

G_BEGIN_DECLS

typedef enum
{
  TD_SERVER_PROTOCOL_IMAP,
  TD_SERVER_PROTOCOL_POP3,
  TD_SERVER_PROTOCOL_SMTP,
} TdServerProtocol;

/* The sources, in the order they are trusted; also the steps of a discovery. */
typedef enum
{
  TD_DISCOVERY_SOURCE_PROVIDERS,   /* the bundled provider database */
  TD_DISCOVERY_SOURCE_AUTOCONFIG,  /* https://autoconfig.DOMAIN/... */
  TD_DISCOVERY_SOURCE_WELL_KNOWN,  /* https://DOMAIN/.well-known/autoconfig/... */
  TD_DISCOVERY_SOURCE_SRV,         /* RFC 6186 DNS SRV records */
  TD_DISCOVERY_SOURCE_PROBE,       /* guessed host names, probed */
  TD_DISCOVERY_N_SOURCES
} TdDiscoverySource;

typedef enum
{
  TD_DISCOVERY_STATE_RUNNING,    /* started (detail ""), or news on the way: a probed server
                                  * answered, an SRV service is not offered (detail) */
  TD_DISCOVERY_STATE_FOUND,      /* done, found servers */
  TD_DISCOVERY_STATE_NOTHING,    /* done, nothing there */
  TD_DISCOVERY_STATE_FAILED,     /* done, an error (detail says which) */
  TD_DISCOVERY_STATE_TIMED_OUT,  /* stopped by the time limit */
  TD_DISCOVERY_STATE_SKIPPED,    /* stopped: a source trusted more had found the servers */
} TdDiscoveryState;

typedef enum
{
  TD_CANDIDATE_SECURITY_TLS,       /* implicit TLS */
  TD_CANDIDATE_SECURITY_STARTTLS,
  TD_CANDIDATE_SECURITY_PLAIN,     /* no TLS at all: insecure, never chosen */
} TdCandidateSecurity;

typedef enum
{
  TD_USERNAME_ADDRESS,      /* %EMAILADDRESS% (also the guess when nothing says) */
  TD_USERNAME_LOCAL_PART,   /* %EMAILLOCALPART% */
  TD_USERNAME_OTHER,        /* a fixed name or another pattern */
} TdUsernameForm;

typedef struct
{
  TdServerProtocol     protocol;
  char                *host;
  guint16              port;
  TdCandidateSecurity  security;
  TdUsernameForm       username_form;
  char                *username;     /* the user name for this address */
  TdDiscoverySource    source;
  char                *origin;       /* where it came from, for people: a URL, an SRV name,
                                      * the provider's name, "imap.example.org:993" */
  gboolean             probed;       /* the server answered CAPABILITY/CAPA/EHLO */
  TdCertificateInfo   *certificate;  /* NULL, or its certificate when that did not verify
                                      * (refused, or accepted by the pinned fingerprint) */
} TdServerCandidate;

#define TD_TYPE_SERVER_CANDIDATE (td_server_candidate_get_type ())
GType              td_server_candidate_get_type  (void) G_GNUC_CONST;
TdServerCandidate *td_server_candidate_copy      (const TdServerCandidate *candidate);
void               td_server_candidate_free      (TdServerCandidate       *candidate);
/* "imap", "pop3", "smtp" */
const char        *td_server_protocol_to_string  (TdServerProtocol         protocol);
/* "tls", "starttls", "plain" */
const char        *td_candidate_security_to_string (TdCandidateSecurity    security);
/* Translated, for people: "the provider database", "autoconfig", ... */
const char        *td_discovery_source_describe  (TdDiscoverySource        source);
/* TLS or STARTTLS as the engine's TdSecurity; FALSE for PLAIN. */
gboolean           td_server_candidate_get_security (const TdServerCandidate *candidate,
                                                     TdSecurity              *out);

#define TD_TYPE_DISCOVERY (td_discovery_get_type ())

G_DECLARE_FINAL_TYPE (TdDiscovery, td_discovery, TD, DISCOVERY, GObject)

/* NULL when @address is not an email address (local@domain). */
TdDiscovery  *td_discovery_new                  (const char          *address);
const char   *td_discovery_get_address          (TdDiscovery         *self);
const char   *td_discovery_get_domain           (TdDiscovery         *self);

/* --- Settings, before run_async (defaults in brackets). The injectable ones exist for tests
 * and for a user who knows better. --- */

/* The whole discovery [15000 ms]. */
void          td_discovery_set_time_limit       (TdDiscovery         *self,
                                                 guint                milliseconds);
/* Each probe's connect, handshake and answer, and each autoconfig request [8 s]. */
void          td_discovery_set_probe_timeout    (TdDiscovery         *self,
                                                 guint                seconds);
/* The provider database [the bundled one]. */
void          td_discovery_set_provider_file    (TdDiscovery         *self,
                                                 GFile               *file);
/* The two autoconfig URLs; %DOMAIN% and %EMAILADDRESS% are replaced (escaped). NULL = the
 * standard one; "" = do not ask. */
void          td_discovery_set_autoconfig_urls  (TdDiscovery         *self,
                                                 const char          *autoconfig,
                                                 const char          *well_known);
/* The certificate authorities for autoconfig over HTTPS [the system's]. */
void          td_discovery_set_tls_database     (TdDiscovery         *self,
                                                 GTlsDatabase        *database);
/* The ports probed for @protocol: implicit TLS and STARTTLS [993/143, 995/110, 465/587].
 * 0 = do not probe that one. */
void          td_discovery_set_probe_ports      (TdDiscovery         *self,
                                                 TdServerProtocol     protocol,
                                                 guint16              tls_port,
                                                 guint16              starttls_port);
/* A certificate fingerprint (SHA-256) the user trusts: a probed server with this certificate
 * is checked as if it verified. */
void          td_discovery_set_pinned_fingerprint (TdDiscovery       *self,
                                                   const char        *fingerprint);
/* Turns one source off (e.g. no probing). */
void          td_discovery_set_source_enabled   (TdDiscovery         *self,
                                                 TdDiscoverySource    source,
                                                 gboolean             enabled);

/* Runs once. Fails only when cancelled; a source that fails is a step that failed, and
 * finding nothing is a success with no candidates. Signals (on the caller's main context):
 *   "step" (TdDiscoverySource source, TdDiscoveryState state, const char *detail): a step
 *   began or ended, or (RUNNING, probes) a server answered; @detail is translated text. */
void          td_discovery_run_async            (TdDiscovery         *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean      td_discovery_run_finish           (TdDiscovery         *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* After the run: every candidate of @protocol (TdServerCandidate*, borrowed), best first:
 * by source, then verified certificates before unverified, then TLS, STARTTLS, plain,
 * then in the order the source gave them. */
GPtrArray    *td_discovery_get_candidates       (TdDiscovery         *self,
                                                 TdServerProtocol     protocol);
/* The first usable candidate of @protocol (not PLAIN), or NULL. */
const TdServerCandidate *td_discovery_get_best  (TdDiscovery         *self,
                                                 TdServerProtocol     protocol);
/* The incoming server to use. @prefer NULL: IMAP when there is one (mail stays on the server
 * for every device), else POP3. With @prefer only that protocol; NULL with @error
 * (TD_ERROR_NOT_FOUND, saying what was found instead) when there is none.
 * @reason: why this one, for people. */
const TdServerCandidate *td_discovery_choose_incoming (TdDiscovery          *self,
                                                       const TdServerProtocol *prefer,
                                                       char                **reason,
                                                       GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdServerCandidate, td_server_candidate_free)

G_END_DECLS
