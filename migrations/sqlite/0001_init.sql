-- shopdesk's store. Money is integer minor units; times are Unix seconds (UTC);
-- flags are 0/1 integers so SQLite and PostgreSQL read them the same way.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    contact_opt_out INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers (email);

-- A platform account proven to belong to a customer.
CREATE TABLE customer_identities (
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (channel, external_id)
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    discord_id TEXT UNIQUE,
    telegram_id TEXT UNIQUE,
    web_id TEXT UNIQUE,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    title_zh TEXT,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price > 0),
    cost INTEGER NOT NULL CHECK (cost >= 0),
    floor_price INTEGER NOT NULL,
    ceiling_price INTEGER NOT NULL,
    stock INTEGER NOT NULL CHECK (stock >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    reorder_point INTEGER NOT NULL DEFAULT 0,
    lead_time_days INTEGER NOT NULL DEFAULT 7,
    updated_at INTEGER NOT NULL
);
CREATE INDEX products_category ON products (category);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'returned', 'on_hold')),
    -- The status to go back to when a fraud hold is released.
    held_from_status TEXT,
    payment_method TEXT NOT NULL,
    card_fingerprint TEXT,
    shipping_name TEXT NOT NULL,
    shipping_address TEXT NOT NULL,
    shipping_country TEXT NOT NULL,
    ip_country TEXT,
    forwarder INTEGER NOT NULL DEFAULT 0,
    rush INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, created_at);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_card ON orders (card_fingerprint);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price INTEGER NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_product ON order_items (product_id);

CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    region TEXT NOT NULL,
    shipped_at INTEGER,
    promised_at INTEGER NOT NULL,
    estimated_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX shipments_order ON shipments (order_id);

CREATE TABLE shipment_events (
    id INTEGER PRIMARY KEY,
    shipment_id INTEGER NOT NULL REFERENCES shipments (id),
    at INTEGER NOT NULL,
    location TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, at);

CREATE TABLE returns (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'requested',
    requested_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE price_history (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    old_price INTEGER NOT NULL,
    new_price INTEGER NOT NULL,
    reason TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX price_history_product ON price_history (product_id, changed_at);

CREATE TABLE purchase_orders (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expected_at INTEGER NOT NULL
);

CREATE TABLE fraud_holds (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    score INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    released_by TEXT,
    released_at INTEGER
);
-- At most one active hold per order.
CREATE UNIQUE INDEX fraud_holds_active ON fraud_holds (order_id) WHERE released_at IS NULL;

-- A risky effect waiting for its requester's confirmation or a second person's approval.
CREATE TABLE pending_confirmations (
    code TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    args TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requester_role TEXT NOT NULL,
    -- 'requester': only the requester may confirm; 'second_person': someone else must.
    approval TEXT NOT NULL,
    -- Who may not approve besides the requester (the staff member who placed a hold).
    excluded_actor TEXT,
    summary TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    idempotency_key TEXT NOT NULL UNIQUE
);

-- One row per applied effect: the unique key is what makes a redelivery harmless.
CREATE TABLE effects (
    idempotency_key TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    -- 'bot', or 'staff:<name>' while a person has taken over.
    owner TEXT NOT NULL DEFAULT 'bot',
    state TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    event_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Inbound deliveries already taken: (channel, platform id) is handled once.
CREATE TABLE processed_events (
    channel TEXT NOT NULL,
    event_id TEXT NOT NULL,
    -- The process that took it (a random id per start), so a concurrent copy of the
    -- delivery is told apart from one left unfinished by a process that died.
    handler TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    done_at INTEGER,
    PRIMARY KEY (channel, event_id)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    channel TEXT NOT NULL,
    tool TEXT NOT NULL,
    args TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'rejected', 'pending', 'replayed', 'error')),
    detail TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
