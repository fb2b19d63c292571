-- What the vector index should hold: one row per ingested chunk, so an incremental ingest
-- re-embeds only what changed and a start-up check can restore what the index lost.
CREATE TABLE knowledge_chunks (
    point_id BIGINT PRIMARY KEY,
    doc TEXT NOT NULL,
    language TEXT NOT NULL,
    hash TEXT NOT NULL,
    ingested_at BIGINT NOT NULL
);
