-- 004-pop3.sql: POP3 accounts: what stays on the server, the UIDL table, local folders
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- A POP3 account's folders and flags are local. The server only keeps a maildrop; its
-- UIDL table here remembers, per unique-id, when this computer first saw the message, which
-- row it became, when it was deleted here for good and when it left the server, so each
-- leave-on-server policy works across runs (td-store-pop3.c, td-pop3-sync.c).

-- What stays on the server: 'keep' (everything), 'days' (deleted pop3_delete_days days after
-- it was downloaded), 'download' (deleted right after it was downloaded). With
-- pop3_delete_when_deleted_here a message deleted here for good is deleted there too.
ALTER TABLE account ADD COLUMN pop3_policy TEXT NOT NULL DEFAULT 'days'
  CHECK (pop3_policy IN ('keep', 'days', 'download'));
ALTER TABLE account ADD COLUMN pop3_delete_days INTEGER NOT NULL DEFAULT 14
  CHECK (pop3_delete_days >= 0);
ALTER TABLE account ADD COLUMN pop3_delete_when_deleted_here INTEGER NOT NULL DEFAULT 0;

-- A row is written in the same transaction as the message it was downloaded into
-- (invariant 1: no DELE for a message without its row here).
CREATE TABLE pop3_uidl (
  account_id          INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  uidl                TEXT    NOT NULL,   -- the server's unique-id, or "top:" + a hash
  first_seen          INTEGER NOT NULL,   -- unix time it was downloaded
  message_id          INTEGER,            -- its row (wherever it was moved); NULL once deleted
  deleted_here        INTEGER,            -- unix time it was deleted here for good
  deleted_from_server INTEGER,            -- unix time the server removed it (QUIT after DELE)
  PRIMARY KEY (account_id, uidl)
) WITHOUT ROWID;

CREATE INDEX pop3_uidl_message ON pop3_uidl (message_id) WHERE message_id IS NOT NULL;

-- Deleting a message for good (delete from Trash, empty Trash, delete a folder) records it.
CREATE TRIGGER pop3_uidl_after_message_delete AFTER DELETE ON message
BEGIN
  UPDATE pop3_uidl
     SET message_id = NULL,
         deleted_here = CAST(strftime('%s', 'now') AS INTEGER)
   WHERE message_id = old.id;
END;

-- The local folders of POP3 accounts added before this version.
INSERT OR IGNORE INTO folder (account_id, path, delimiter, role)
  SELECT a.id, f.path, 47, f.role
    FROM account a,
         (SELECT 'INBOX' AS path, 'inbox' AS role
          UNION ALL SELECT 'Sent', 'sent'
          UNION ALL SELECT 'Drafts', 'drafts'
          UNION ALL SELECT 'Trash', 'trash'
          UNION ALL SELECT 'Junk', 'junk'
          UNION ALL SELECT 'Archive', 'archive') f
   WHERE a.kind = 'pop3';
