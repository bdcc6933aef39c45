-- 002-journal.sql: the journal of local actions, per-message MODSEQ, quota, subscriptions
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Every action taken here (a flag change, a move, a copy, an expunge, a folder change) is
-- applied to the rows and written to the journal in one transaction, then replayed to the
-- server in id order (td-imap-replay.c). A message moved or copied here before the server
-- knows it keeps a placeholder uid: -(its row id), unique, never a server uid.

-- RFC 7162: the message's MODSEQ as the server last told it (0 = not known).
ALTER TABLE message ADD COLUMN modseq INTEGER NOT NULL DEFAULT 0;

-- LSUB / SUBSCRIBE state of a folder.
ALTER TABLE folder ADD COLUMN subscribed INTEGER NOT NULL DEFAULT 1;
-- Flags this folder cannot keep on the server (no "\*" in PERMANENTFLAGS, e.g. $Forwarded):
-- kept here, whatever the server reports.
ALTER TABLE folder ADD COLUMN local_flags INTEGER NOT NULL DEFAULT 0;

-- RFC 9208 STORAGE in KiB; -1 = not known.
ALTER TABLE account ADD COLUMN quota_usage INTEGER NOT NULL DEFAULT -1;
ALTER TABLE account ADD COLUMN quota_limit INTEGER NOT NULL DEFAULT -1;

CREATE TABLE journal (
  id                INTEGER PRIMARY KEY,
  account_id        INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  kind              TEXT    NOT NULL CHECK (kind IN ('flags', 'move', 'copy', 'expunge',
                                                     'create', 'rename', 'delete',
                                                     'subscribe', 'unsubscribe')),
  -- the local row (not a foreign key: the row may be gone when the entry is replayed)
  message_id        INTEGER,
  -- the Message-ID header then, to find the message again after a UIDVALIDITY change
  message_id_header TEXT,
  folder_path       TEXT,
  uidvalidity       INTEGER NOT NULL DEFAULT 0,
  uid               INTEGER NOT NULL DEFAULT 0,   -- 0: the row had no server uid yet
  modseq            INTEGER NOT NULL DEFAULT 0,
  flags_base        INTEGER NOT NULL DEFAULT 0,   -- the row's flags before the change
  flags_add         INTEGER NOT NULL DEFAULT 0,
  flags_remove      INTEGER NOT NULL DEFAULT 0,
  keywords_add      TEXT,
  keywords_remove   TEXT,
  target_path       TEXT,                         -- move/copy target, rename's new path
  target_message_id INTEGER,                      -- the placeholder row of a move or copy
  created           INTEGER NOT NULL
);

CREATE INDEX journal_account ON journal (account_id, id);
