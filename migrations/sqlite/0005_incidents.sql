-- Incident mode: alerts raised by the detectors, incidents staff declare, and each
-- incident's timeline. Messages remember the intent the router gave them, for spike
-- detection.

ALTER TABLE messages ADD COLUMN intent TEXT;
CREATE INDEX messages_intent ON messages (intent, created_at);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    -- One alert per kind and subject a day: the detectors run often, staff hear once.
    dedupe_key TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    notice TEXT NOT NULL,
    -- The carrier and region an incident is about; NULL means every customer.
    carrier TEXT,
    region TEXT,
    freeze_repricing INTEGER NOT NULL DEFAULT 0,
    started_by TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_by TEXT,
    ended_at INTEGER,
    summary TEXT
);
-- At most one open incident per scope.
CREATE UNIQUE INDEX incidents_open_scope ON incidents (COALESCE(carrier, ''), COALESCE(region, '')) WHERE ended_at IS NULL;

CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

-- Which customers were told about which incident, so nobody is told twice.
CREATE TABLE incident_notifications (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, customer_id)
);
