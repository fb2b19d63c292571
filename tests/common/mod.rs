//! Shared test scaffolding: a fresh database per test on SQLite (a temporary file) or
//! PostgreSQL (a new database on 127.0.0.1:5432), a small known store, and an engine
//! wired to a clock the test controls.
#![allow(dead_code)]

pub mod model;

use std::sync::Arc;

use shopdesk::clock::{DAY, ManualClock, Timestamp};
use shopdesk::config::Config;
use shopdesk::engine::Engine;
use shopdesk::engine::replies::Replies;
use shopdesk::policy::{Actor, Role};
use shopdesk::port::{Channel, Handler, Identity, Inbound};
use shopdesk::store::Store;
use shopdesk::tools::Toolbox;

/// 2026-11-01 00:00 UTC: the fixture's "now".
pub const NOW: Timestamp = 1_793_491_200;

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const BOTH: [Db; 2] = [Db::Sqlite, Db::Postgres];

/// A fresh, migrated database that lives as long as this value: the SQLite file's
/// directory is removed, the PostgreSQL database dropped.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/shop.db?mode=rwc", dir.path().display());
                let store = Store::open(&url).await.unwrap();
                TestDb {
                    store,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Db::Postgres => {
                let url = fresh_postgres_database().await;
                let store = Store::open(&url).await.unwrap();
                let pg_name = url.rsplit_once('/').map(|(_, name)| name.to_string());
                TestDb {
                    store,
                    url,
                    pg_name,
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
    /// A PostgreSQL database copied from a template that already holds the migrated fixture
    /// store: copying is several times faster than migrating and loading it each time.
    pub async fn from_fixture_template() -> TestDb {
        let template = FIXTURE_TEMPLATE.get_or_init(build_fixture_template).await;
        // PostgreSQL copies a template only while nobody else is connected to it.
        let _one_at_a_time = TEMPLATE_COPY.lock().await;
        let url = fresh_postgres_database_from(Some(template)).await;
        let store = Store::open(&url).await.unwrap();
        let pg_name = url.rsplit_once('/').map(|(_, name)| name.to_string());
        TestDb {
            store,
            url,
            pg_name,
            _dir: None,
        }
    }
}

static FIXTURE_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
static TEMPLATE_COPY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Builds this process's fixture template, dropping templates earlier runs left behind.
async fn build_fixture_template() -> String {
    let mut admin = connect_admin().await.unwrap();
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'shopdesk_tpl_%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    for (name,) in stale {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut admin)
        .await;
    }
    let name = format!("shopdesk_tpl_{:016x}", rand::random::<u64>());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = postgres_admin_url().rsplit_once('/').unwrap().0.to_string();
    let store = Store::open(&format!("{base}/{name}")).await.unwrap();
    fixture(&store).await;
    store.close().await;
    name
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread
        // with its own runtime. FORCE ends the pool's connections still open.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = connect_admin().await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A connection to the maintenance database. Installs sqlx's drivers first: whichever test
/// runs first may reach here before any `Store::open` has installed them.
async fn connect_admin() -> Result<sqlx::AnyConnection, sqlx::Error> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&postgres_admin_url()).await
}

fn postgres_admin_url() -> String {
    std::env::var("SHOPDESK_TEST_POSTGRES").unwrap_or_else(|_| POSTGRES_ADMIN_URL.to_string())
}

/// Creates an empty database on the local PostgreSQL and returns its URL. The databases are
/// named `shopdesk_t_*`; [`TestDb`] drops its own when the test ends.
pub async fn fresh_postgres_database() -> String {
    fresh_postgres_database_from(None).await
}

async fn fresh_postgres_database_from(template: Option<&str>) -> String {
    let name = format!("shopdesk_t_{:016x}", rand::random::<u64>());
    let url = postgres_admin_url();
    let mut conn = connect_admin()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is needed at {url} for this test ({e}); start it or set SHOPDESK_TEST_POSTGRES"));
    let template = template
        .map(|t| format!(" TEMPLATE {t}"))
        .unwrap_or_default();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name}{template}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let base = url.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// The fixture store:
/// - customers 1 (Ann Lee, en, telegram 7001) and 2 (王芳, zh, telegram 7002)
/// - staff alice and bob (staff), root (admin), with Discord ids d-alice, d-bob, d-root
/// - SKU-A (20.00, cost 10.00, floor 12.00, ceiling 40.00, 50 in stock, lead time 7 days),
///   SKU-B (out of stock)
/// - orders: 1001 customer 1 paid · 1002 customer 2 paid · 1003 customer 1 delivered 5 days
///   ago · 1004 customer 1 shipped and late · 1005 customer 2 delivered 5 days ago ·
///   1006 customer 2 paid and on hold placed by staff:bob
pub async fn fixture(store: &Store) {
    let stmts: &[&str] = &[
        "INSERT INTO customers (id, name, email, phone, language, contact_opt_out, created_at) VALUES \
         (1, 'Ann Lee', 'ann@example.com', '+15550001', 'en', 0, 1700000000), \
         (2, '王芳', 'wang.fang@example.cn', '+8613800000002', 'zh', 0, 1700000000)",
        "INSERT INTO customer_identities (channel, external_id, customer_id, verified_at) VALUES \
         ('telegram', '7001', 1, 1700000000), ('telegram', '7002', 2, 1700000000)",
        "INSERT INTO staff (id, name, role, discord_id, telegram_id, active, created_at) VALUES \
         (1, 'alice', 'staff', 'd-alice', '9001', 1, 1700000000), \
         (2, 'bob', 'staff', 'd-bob', '9002', 1, 1700000000), \
         (3, 'root', 'admin', 'd-root', '9003', 1, 1700000000)",
        "INSERT INTO products (id, sku, title, title_zh, description, category, price, cost, floor_price, ceiling_price, \
         stock, reserved, reorder_point, lead_time_days, updated_at) VALUES \
         (1, 'SKU-A', 'Wireless Mouse', '无线鼠标', 'A mouse.', 'electronics', 2000, 1000, 1200, 4000, 50, 3, 10, 7, 1700000000), \
         (2, 'SKU-B', 'Desk Lamp', '台灯', 'A lamp.', 'home', 3500, 1500, 2000, 6000, 0, 0, 5, 14, 1700000000)",
    ];
    for sql in stmts {
        sqlx::query(*sql).execute(store.pool()).await.unwrap();
    }
    let orders: &[(i64, i64, &str, i64)] = &[
        (1001, 1, "paid", NOW - DAY),
        (1002, 2, "paid", NOW - DAY),
        (1003, 1, "delivered", NOW - 12 * DAY),
        (1004, 1, "shipped", NOW - 9 * DAY),
        (1005, 2, "delivered", NOW - 12 * DAY),
        (1006, 2, "on_hold", NOW - 2 * DAY),
    ];
    for (id, customer, status, created) in orders {
        sqlx::query(
            "INSERT INTO orders (id, customer_id, status, held_from_status, payment_method, card_fingerprint, shipping_name, \
             shipping_address, shipping_country, ip_country, forwarder, rush, total, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'card', 'fp-1', 'Name', '1 Main St', 'US', 'US', 0, 0, 4000, $5, $5)",
        )
        .bind(id)
        .bind(customer)
        .bind(status)
        .bind(if *status == "on_hold" { Some("paid") } else { None })
        .bind(created)
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, 1, 2, 2000)")
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let shipments: &[(i64, Option<Timestamp>)] = &[
        (1003, Some(NOW - 5 * DAY)),
        (1004, None),
        (1005, Some(NOW - 5 * DAY)),
    ];
    for (order, delivered) in shipments {
        sqlx::query(
            "INSERT INTO shipments (order_id, carrier, tracking_number, region, shipped_at, promised_at, estimated_at, delivered_at) \
             VALUES ($1, 'FedEx', $2, 'US-West', $3, $4, $5, $6)",
        )
        .bind(order)
        .bind(format!("FX{order}"))
        .bind(NOW - 8 * DAY)
        .bind(NOW - 3 * DAY)
        .bind(delivered.unwrap_or(NOW + 2 * DAY))
        .bind(*delivered)
        .execute(store.pool())
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO fraud_holds (order_id, score, reasons, placed_by, placed_at) VALUES (1006, 80, 'card mismatch', 'staff:bob', $1)",
    )
    .bind(NOW - DAY)
    .execute(store.pool())
    .await
    .unwrap();
    store.sync_id_sequences().await.unwrap();
}

pub struct Shop {
    pub db: TestDb,
    pub clock: Arc<ManualClock>,
    pub engine: Arc<Engine>,
}

impl Shop {
    /// A fresh database holding the fixture store, and an engine over it at [`NOW`].
    pub async fn new(db: Db) -> Shop {
        let db = match db {
            Db::Sqlite => {
                let db = TestDb::new(db).await;
                fixture(&db.store).await;
                db
            }
            Db::Postgres => TestDb::from_fixture_template().await,
        };
        let clock = ManualClock::new(NOW);
        let engine = Arc::new(engine_for(&db.store, clock.clone(), unlimited()));
        Shop { db, clock, engine }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn toolbox(&self) -> &Toolbox {
        self.engine.toolbox()
    }

    /// Sends `text` from a platform account and returns the reply text ("" for a duplicate),
    /// confirming delivery as an adapter does once it has shown the reply.
    pub async fn say(&self, identity: &Identity, text: &str, event: Option<&str>) -> String {
        let mut inbound = Inbound::text(
            identity.clone(),
            format!("chat-{}", identity.external_id),
            text,
        );
        inbound.event_id = event.map(String::from);
        let reply = self.engine.handle(inbound).await.collect().await;
        // Like an adapter: the reply was shown, so a redelivery gets no second answer.
        if let (Some(_), Some(event)) = (&reply, event) {
            self.engine.delivered(identity.channel, event).await;
        }
        reply.map(|r| r.text).unwrap_or_default()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(self.store().pool())
            .await
            .unwrap();
        n
    }
}

/// The default settings without flood limits: the test clock stands still, so a test that
/// sends many messages would otherwise run into them. Flood tests set their own limits.
pub fn unlimited() -> Config {
    let mut config = Config::default();
    config.limits.per_identity_per_minute = i64::from(u32::MAX);
    config.limits.per_channel_per_minute = i64::from(u32::MAX);
    config
}

pub fn engine_for(store: &Store, clock: Arc<ManualClock>, config: Config) -> Engine {
    let toolbox = Toolbox {
        store: store.clone(),
        config: Arc::new(config),
        clock,
    };
    Engine::new(toolbox, Replies::built_in())
}

pub fn telegram(id: &str) -> Identity {
    Identity::new(Channel::Telegram, id)
}

pub fn discord(id: &str) -> Identity {
    Identity::new(Channel::Discord, id)
}

/// The fixture's people.
pub fn guest() -> Identity {
    telegram("555")
}
pub fn ann() -> Identity {
    telegram("7001")
}
pub fn wang() -> Identity {
    telegram("7002")
}
pub fn alice() -> Identity {
    discord("d-alice")
}
pub fn bob() -> Identity {
    discord("d-bob")
}
pub fn root() -> Identity {
    discord("d-root")
}

pub fn actor(role: Role, customer_id: Option<i64>, staff: Option<&str>) -> Actor {
    Actor {
        role,
        customer_id,
        staff_name: staff.map(String::from),
        channel: Channel::Discord,
        external_id: staff.unwrap_or("x").to_string(),
        language: "en".into(),
    }
}

/// Tables whose contents a tool may change (everything but the audit and idempotency logs).
pub const BUSINESS_TABLES: &[&str] = &[
    "customers",
    "customer_identities",
    "staff",
    "products",
    "orders",
    "order_items",
    "shipments",
    "returns",
    "price_history",
    "purchase_orders",
    "fraud_holds",
    "pending_confirmations",
    "incidents",
    "incident_events",
];

/// A digest of each business table's rows, to tell exactly which tables a call changed.
pub async fn snapshot(store: &Store) -> Vec<(&'static str, String)> {
    use sqlx::Row;
    let mut out = Vec::new();
    for table in BUSINESS_TABLES {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM {table} ORDER BY 1, 2"
        )))
        .fetch_all(store.pool())
        .await
        .unwrap();
        let mut text = String::new();
        for row in &rows {
            for i in 0..row.len() {
                let v: Option<String> = row
                    .try_get::<Option<i64>, _>(i)
                    .map(|v| v.map(|n| n.to_string()))
                    .or_else(|_| row.try_get::<Option<String>, _>(i))
                    .unwrap_or(None);
                text.push_str(&format!("{v:?}|"));
            }
            text.push('\n');
        }
        out.push((*table, text));
    }
    out
}

/// The names of the tables whose digest differs between two snapshots.
pub fn changed(
    before: &[(&'static str, String)],
    after: &[(&'static str, String)],
) -> Vec<&'static str> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, _)| b.0)
        .collect()
}

/// (outcome, tool) of the audit entries written after entry `after_id`.
pub async fn audit_since(store: &Store, after_id: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT outcome, tool FROM audit_log WHERE id > $1 ORDER BY id")
        .bind(after_id)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

pub async fn last_audit_id(store: &Store) -> i64 {
    let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap();
    id.unwrap_or(0)
}
