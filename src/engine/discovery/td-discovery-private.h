/* td-discovery-private.h: what the files of TdDiscovery share
 *
 * td-discovery.c runs the sources and keeps the result; each source lives in a file of its
 * own (td-discovery-http.c: autoconfig; td-discovery-srv.c: SRV; td-discovery-probe.c: the
 * guessed hosts) and ends with exactly one _td_discovery_source_done(), even when cancelled.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "td-discovery.h"

G_BEGIN_DECLS

/* Settings the sources read. */
const char   *_td_discovery_get_url          (TdDiscovery        *self,
                                              TdDiscoverySource   source);
GTlsDatabase *_td_discovery_get_tls_database (TdDiscovery        *self);
guint         _td_discovery_get_probe_timeout (TdDiscovery       *self);
guint16       _td_discovery_get_probe_port   (TdDiscovery        *self,
                                              TdServerProtocol    protocol,
                                              gboolean            tls);
const char   *_td_discovery_get_pinned       (TdDiscovery        *self);
/* A step of @source, for the "step" signal (ignored once the source has ended). */
void          _td_discovery_report           (TdDiscovery        *self,
                                              TdDiscoverySource   source,
                                              TdDiscoveryState    state,
                                              const char         *detail);
/* @source is done: @candidates (taken; NULL = none) or @error (taken) with the state to
 * report (FAILED, or NOTHING for "not there") and its message as the detail. */
void          _td_discovery_source_done      (TdDiscovery        *self,
                                              TdDiscoverySource   source,
                                              GPtrArray          *candidates,
                                              TdDiscoveryState    error_state,
                                              GError             *error);

TdServerCandidate *_td_server_candidate_new  (TdServerProtocol     protocol,
                                              const char          *host,
                                              guint16              port,
                                              TdCandidateSecurity  security,
                                              const char          *address,
                                              TdDiscoverySource    source,
                                              const char          *origin);

/* The sources (each calls _td_discovery_source_done once). */
void          _td_discovery_run_http         (TdDiscovery        *self,
                                              TdDiscoverySource   source,
                                              GCancellable       *cancellable);
void          _td_discovery_run_srv          (TdDiscovery        *self,
                                              GCancellable       *cancellable);
void          _td_discovery_run_probe        (TdDiscovery        *self,
                                              GCancellable       *cancellable);

G_END_DECLS
