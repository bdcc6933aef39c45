-- 005-outbox.sql: the accounts' SMTP settings and the outbox of messages waiting to be sent
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- The SMTP password is in the keyring (protocol "smtp", or the incoming item), never here.

ALTER TABLE account ADD COLUMN smtp_host TEXT;            -- NULL: the account cannot send
ALTER TABLE account ADD COLUMN smtp_port INTEGER NOT NULL DEFAULT 587
  CHECK (smtp_port BETWEEN 0 AND 65535);
ALTER TABLE account ADD COLUMN smtp_security TEXT NOT NULL DEFAULT 'starttls'
  CHECK (smtp_security IN ('tls', 'starttls'));
ALTER TABLE account ADD COLUMN smtp_username TEXT;        -- NULL: the incoming user name
-- The server files a copy of what it sends into Sent itself: no copy is saved after sending.
ALTER TABLE account ADD COLUMN sent_saved_by_server INTEGER NOT NULL DEFAULT 0;

-- One message to send (td-store-outbox.c, td-sender.c). The states:
--   queued   waiting; sent when online and next_attempt has come
--   sending  handed to the SMTP server right now (since next_attempt). A row still 'sending'
--            long after that was being sent when its process died: the next run queues it
--            again and it is sent again (a rare duplicate, with the same Message-ID, rather
--            than a lost message)
--   sent     the server accepted it; what follows (the copy in Sent, \Answered or $Forwarded
--            on the original) is still to be done, and it is never sent again
--   failed   the server refused it for good (or the retries ran out): last_error says why;
--            waits for the user to edit or retry it
-- A row is deleted once its after-send work is done.
CREATE TABLE outbox (
  id                INTEGER PRIMARY KEY,
  account_id        INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  state             TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  mail_from         TEXT    NOT NULL,   -- the envelope sender (MAIL FROM)
  recipients        TEXT    NOT NULL,   -- the envelope recipients (RCPT TO), one a line
  subject           TEXT,               -- to list it
  message_id_header TEXT,               -- its Message-ID
  raw               BLOB    NOT NULL,   -- the message as sent (no Bcc header)
  -- the message this one answers or forwards (a local row; NULL when it is gone)
  original_id       INTEGER REFERENCES message (id) ON DELETE SET NULL,
  original_kind     TEXT    NOT NULL DEFAULT 'none'
                    CHECK (original_kind IN ('none', 'reply', 'forward')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt      INTEGER NOT NULL DEFAULT 0,   -- unix time; 0 = at once; sending: since
  last_error        TEXT,
  created           INTEGER NOT NULL,
  sent_at           INTEGER
);

CREATE INDEX outbox_account ON outbox (account_id, id);
