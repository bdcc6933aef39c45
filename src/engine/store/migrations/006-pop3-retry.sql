-- 006-pop3-retry.sql: when a POP3 server asked to wait before the next check
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- RFC 2449 LOGIN-DELAY (in CAPA, or a [LOGIN-DELAY] refusal) and RFC 3206 [SYS/TEMP] ask a
-- client not to come back at once. TdPop3Sync writes here until when, so that no check
-- (the window's timer, another tidings-cli run) connects before then (td-store-pop3.h).

CREATE TABLE pop3_retry (
  account_id INTEGER PRIMARY KEY REFERENCES account (id) ON DELETE CASCADE,
  not_before INTEGER NOT NULL,             -- unix time of the next check allowed
  failures   INTEGER NOT NULL DEFAULT 0    -- [SYS/TEMP] in a row; 0: a login delay
    CHECK (failures >= 0)
);
