-- 003-sync-window.sql: how many days of message bodies an IMAP account downloads
--
-- SPDX-License-Identifier: GPL-3.0-or-later
--
-- Headers of all mail are always synced. Bodies of messages dated within the last sync_days
-- days are downloaded in the background, newest first; 0 means all mail (the default). A
-- message outside the window gets its body when it is opened, and keeps it.

ALTER TABLE account ADD COLUMN sync_days INTEGER NOT NULL DEFAULT 0 CHECK (sync_days >= 0);
