-- 001-initial.sql: accounts, folders, messages, bodies and the full-text index
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Applied by td-db.c in one transaction, which then sets PRAGMA user_version = 1.
-- Invariant 3: no table has a column for a password or any other secret; the keyring holds
-- them, keyed by account.uuid.

CREATE TABLE account (
  id                 INTEGER PRIMARY KEY,
  uuid               TEXT    NOT NULL UNIQUE,
  kind               TEXT    NOT NULL CHECK (kind IN ('imap', 'pop3')),
  name               TEXT,
  address            TEXT    NOT NULL,
  host               TEXT    NOT NULL,
  port               INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
  security           TEXT    NOT NULL CHECK (security IN ('tls', 'starttls')),
  username           TEXT,
  pinned_fingerprint TEXT,
  created            INTEGER NOT NULL
);

-- IMAP folders as the server lists them; a POP3 account's folders are local rows here too.
-- total and unread are kept exact by the triggers below.
CREATE TABLE folder (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  path          TEXT    NOT NULL,
  delimiter     INTEGER NOT NULL DEFAULT 0,   -- the character code, 0 for a flat namespace
  role          TEXT    NOT NULL DEFAULT '',  -- td_folder_role_to_string()
  selectable    INTEGER NOT NULL DEFAULT 1,
  uidvalidity   INTEGER NOT NULL DEFAULT 0,
  uidnext       INTEGER NOT NULL DEFAULT 0,
  highestmodseq INTEGER NOT NULL DEFAULT 0,
  total         INTEGER NOT NULL DEFAULT 0,
  unread        INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, path)
);

-- One row per message of a folder. uid is the IMAP UID; local folders (POP3) number their
-- rows themselves. flags is the TdFlags mask (TD_FLAGS_STORED bits only), keywords the
-- unknown IMAP keywords separated by spaces.
CREATE TABLE message (
  id             INTEGER PRIMARY KEY,
  folder_id      INTEGER NOT NULL REFERENCES folder (id) ON DELETE CASCADE,
  uid            INTEGER NOT NULL,
  message_id     TEXT,
  in_reply_to    TEXT,
  refs           TEXT,
  date           INTEGER NOT NULL DEFAULT 0,
  from_name      TEXT,
  from_address   TEXT,
  to_list        TEXT,
  cc_list        TEXT,
  subject        TEXT,
  size           INTEGER NOT NULL DEFAULT 0,
  flags          INTEGER NOT NULL DEFAULT 0,
  keywords       TEXT,
  preview        TEXT,
  has_attachment INTEGER NOT NULL DEFAULT 0,
  has_body       INTEGER NOT NULL DEFAULT 0,
  UNIQUE (folder_id, uid)
);

-- The message list pages a folder newest first by this index.
CREATE INDEX message_folder_date ON message (folder_id, date DESC, id DESC);
-- The bodies still to fetch.
CREATE INDEX message_folder_without_body ON message (folder_id, uid) WHERE has_body = 0;

-- The raw RFC 5322 bytes of a message, as the server sent them.
CREATE TABLE body (
  message_id INTEGER PRIMARY KEY REFERENCES message (id) ON DELETE CASCADE,
  raw        BLOB    NOT NULL
);

-- Full-text index; rowid = message.id.
CREATE VIRTUAL TABLE message_fts USING fts5 (
  subject,
  addresses,
  body,
  tokenize = 'unicode61 remove_diacritics 2',
  -- Search matches words, not phrases or positions: no position lists keeps the index about
  -- half the size and the first sync of a large mailbox noticeably faster.
  detail = none
);

-- Folder counts follow every insert, delete, flag change and move of a message.
CREATE TRIGGER message_after_insert AFTER INSERT ON message
BEGIN
  UPDATE folder
     SET total = total + 1,
         unread = unread + ((new.flags & 1) = 0)
   WHERE id = new.folder_id;
END;

CREATE TRIGGER message_after_delete AFTER DELETE ON message
BEGIN
  UPDATE folder
     SET total = total - 1,
         unread = unread - ((old.flags & 1) = 0)
   WHERE id = old.folder_id;
  DELETE FROM message_fts WHERE rowid = old.id;
END;

CREATE TRIGGER message_after_update AFTER UPDATE OF folder_id, flags ON message
  WHEN old.folder_id != new.folder_id OR (old.flags & 1) != (new.flags & 1)
BEGIN
  UPDATE folder
     SET total = total - 1,
         unread = unread - ((old.flags & 1) = 0)
   WHERE id = old.folder_id;
  UPDATE folder
     SET total = total + 1,
         unread = unread + ((new.flags & 1) = 0)
   WHERE id = new.folder_id;
END;
