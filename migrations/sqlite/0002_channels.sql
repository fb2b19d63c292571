-- Channels: replies kept until delivered, handoffs to staff, staff presence, account linking.

-- The answer to a delivery, kept until the adapter has shown it, so a redelivery after a
-- crash shows the stored answer instead of nothing; delivered_at says it reached the user.
ALTER TABLE processed_events ADD COLUMN reply TEXT;
ALTER TABLE processed_events ADD COLUMN delivered_at INTEGER;

-- A customer conversation handed to staff. While open, the bot stays silent in it and
-- messages are relayed between the customer's channel and a staff thread.
CREATE TABLE handoffs (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    reason TEXT NOT NULL,
    -- The staff thread (e.g. a Discord thread), once one could be opened.
    staff_channel TEXT,
    staff_conversation TEXT,
    -- 'staff:<name>' once a person has answered; open and unclaimed means queued.
    claimed_by TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    opened_at INTEGER NOT NULL,
    claimed_at INTEGER,
    closed_by TEXT,
    closed_at INTEGER
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (conversation_id) WHERE status = 'open';
CREATE INDEX handoffs_thread ON handoffs (staff_channel, staff_conversation);

-- When each staff member last did something: "online" means active in the last minutes.
CREATE TABLE staff_presence (
    staff TEXT PRIMARY KEY,
    last_seen_at INTEGER NOT NULL
);

-- Every /link attempt, so guessing order numbers and emails is rate-limited per account
-- and per order.
CREATE TABLE link_attempts (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    success INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX link_attempts_account ON link_attempts (channel, external_id, at);
CREATE INDEX link_attempts_order ON link_attempts (order_id, at);
