-- 005-pop3-copies.sql: every local copy of a POP3 message, and real uids in local folders
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- A message of a POP3 account copied to another local folder is the same server message
-- twice here. pop3_copy lists each local row of a unique-id (the download and its
-- copies); pop3_uidl.message_id stays one of them. Only when the last one is deleted for good
-- is the message deleted here (pop3_uidl.deleted_here), so "delete from the server when
-- deleted here" never removes from the server a message that is still kept here.

CREATE TABLE pop3_copy (
  message_id INTEGER PRIMARY KEY,     -- a row of message (kept in step by the trigger below)
  account_id INTEGER NOT NULL,
  uidl       TEXT    NOT NULL,
  FOREIGN KEY (account_id, uidl) REFERENCES pop3_uidl (account_id, uidl) ON DELETE CASCADE
);

CREATE INDEX pop3_copy_uidl ON pop3_copy (account_id, uidl);

INSERT INTO pop3_copy (message_id, account_id, uidl)
  SELECT message_id, account_id, uidl FROM pop3_uidl WHERE message_id IS NOT NULL;

-- Local folders number their rows themselves: a message moved or copied before this version
-- kept the negative placeholder uid of an IMAP move waiting for its replay. It gets the next
-- free uid of its folder.
CREATE TEMP TABLE pop3_renumber AS
  SELECT m.id AS id,
         (SELECT COALESCE(MAX(x.uid), 0) FROM message x
           WHERE x.folder_id = m.folder_id AND x.uid > 0)
         + ROW_NUMBER () OVER (PARTITION BY m.folder_id ORDER BY m.id) AS uid
    FROM message m
    JOIN folder f ON f.id = m.folder_id
    JOIN account a ON a.id = f.account_id
   WHERE a.kind = 'pop3' AND m.uid < 0;

UPDATE message SET uid = (SELECT r.uid FROM pop3_renumber r WHERE r.id = message.id)
 WHERE id IN (SELECT id FROM pop3_renumber);

-- The copies made before this version are found by their bytes: a copy has the same
-- Message-ID and the same raw message as the download it was made from.
INSERT OR IGNORE INTO pop3_copy (message_id, account_id, uidl)
  SELECT m.id, u.account_id, u.uidl
    FROM pop3_renumber r
    JOIN message m ON m.id = r.id
    JOIN body b ON b.message_id = m.id
    JOIN folder f ON f.id = m.folder_id
    JOIN pop3_uidl u ON u.account_id = f.account_id AND u.message_id IS NOT NULL
                    AND u.message_id <> m.id
    JOIN message o ON o.id = u.message_id AND o.message_id IS m.message_id
    JOIN body ob ON ob.message_id = o.id AND ob.raw = b.raw;

DROP TABLE pop3_renumber;

-- Deleting a message for good (delete from the Trash, empty the Trash, delete a folder)
-- drops its row from the copies; the UIDL row follows another copy, and only when none is
-- left is it deleted here.
DROP TRIGGER pop3_uidl_after_message_delete;

CREATE TRIGGER pop3_uidl_after_message_delete AFTER DELETE ON message
BEGIN
  DELETE FROM pop3_copy WHERE message_id = old.id;
  UPDATE pop3_uidl
     SET message_id = (SELECT MIN(c.message_id) FROM pop3_copy c
                        WHERE c.account_id = pop3_uidl.account_id AND c.uidl = pop3_uidl.uidl),
         deleted_here = CASE
           WHEN EXISTS (SELECT 1 FROM pop3_copy c
                         WHERE c.account_id = pop3_uidl.account_id AND c.uidl = pop3_uidl.uidl)
           THEN deleted_here
           ELSE CAST(strftime('%s', 'now') AS INTEGER)
         END
   WHERE message_id = old.id;
END;
