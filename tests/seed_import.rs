//! The demo seed and the CSV import against real databases: every store-touching test runs
//! on SQLite (a temporary file) and on PostgreSQL (a fresh database per test on
//! postgres://postgres@127.0.0.1:5432, created through the `test` database).

mod common;

use std::path::{Path, PathBuf};

use common::{Db, TestDb};
use sha2::{Digest, Sha256};
use shopdesk::clock::{DAY, Timestamp};
use shopdesk::import::{ImportFiles, ImportOptions, ImportReport, import_csv};
use shopdesk::seed::{SeedOptions, seed_demo};
use shopdesk::store::Store;

/// 2026-05-28 00:00 UTC, so runs do not depend on the day they happen.
const NOW: Timestamp = 1_779_926_400;

/// Runs an `async fn(Db)` test once per backend, as `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Db::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(super::Db::Postgres).await;
            }
        }
    )*};
}

on_both_backends!(
    small_seed_is_deterministic_and_refuses_a_second_run,
    good_files_import_completely,
    bad_files_are_reported_row_by_row_and_nothing_is_written,
    skip_invalid_writes_only_the_valid_rows,
    reimporting_is_rejected_as_duplicates,
    a_database_error_rolls_back_everything,
    a_missing_required_column_is_named,
);

async fn count(store: &Store, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(store.pool())
        .await
        .expect(sql);
    n
}

fn quiet(_: &str) {}

fn small() -> SeedOptions {
    SeedOptions {
        seed: 7,
        products: 60,
        customers: 250,
        orders: 1_500,
        days: 45,
        now: NOW,
    }
}

/// A hash over the rows of every seeded table, in id order.
async fn digest(store: &Store) -> String {
    let pool = store.pool();
    let mut hash = Sha256::new();
    // Debug stops at 12-tuples, hence two queries for the wide tables.
    let products: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT id, sku, title, title_zh, description, category FROM products ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{products:?}"));
    type ProductNumbers = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let products: Vec<ProductNumbers> = sqlx::query_as(
        "SELECT id, price, cost, floor_price, ceiling_price, stock, reserved, reorder_point, lead_time_days, updated_at \
         FROM products ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{products:?}"));
    type CustomerRow = (
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
    );
    let customers: Vec<CustomerRow> = sqlx::query_as(
        "SELECT id, name, email, phone, language, contact_opt_out, created_at FROM customers ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{customers:?}"));
    type OrderRow = (
        i64,
        i64,
        String,
        String,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
    );
    let orders: Vec<OrderRow> = sqlx::query_as(
        "SELECT id, customer_id, status, payment_method, card_fingerprint, shipping_name, shipping_address, \
         shipping_country, ip_country FROM orders ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{orders:?}"));
    let orders: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, forwarder, rush, total, created_at, updated_at FROM orders ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{orders:?}"));
    let items: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, order_id, product_id, quantity, unit_price FROM order_items ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{items:?}"));
    type ShipmentRow = (
        i64,
        i64,
        String,
        String,
        String,
        Option<i64>,
        i64,
        i64,
        Option<i64>,
    );
    let shipments: Vec<ShipmentRow> = sqlx::query_as(
        "SELECT id, order_id, carrier, tracking_number, region, shipped_at, promised_at, estimated_at, delivered_at \
         FROM shipments ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{shipments:?}"));
    let events: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
        "SELECT id, shipment_id, at, location, description FROM shipment_events ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{events:?}"));
    let identities: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT channel, external_id, customer_id, verified_at FROM customer_identities ORDER BY customer_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    hash.update(format!("{identities:?}"));
    hex::encode(hash.finalize())
}

async fn small_seed_is_deterministic_and_refuses_a_second_run(backend: Db) {
    let opts = small();
    let a = TestDb::new(backend).await;
    let b = TestDb::new(backend).await;
    let report = seed_demo(&a.store, &opts, &quiet).await.expect("seed a");
    seed_demo(&b.store, &opts, &quiet).await.expect("seed b");

    assert_eq!(report.products, 60);
    assert_eq!(report.customers, 250);
    assert_eq!(report.orders, 1_500);
    assert_eq!(report.staff, 3);
    assert_eq!(report.identities, 50);
    assert_eq!(count(&a.store, "SELECT COUNT(*) FROM orders").await, 1_500);
    assert_eq!(
        count(&a.store, "SELECT COUNT(*) FROM order_items").await as usize,
        report.order_items
    );
    assert_eq!(
        count(&a.store, "SELECT COUNT(*) FROM shipment_events").await as usize,
        report.shipment_events
    );
    assert_eq!(
        digest(&a.store).await,
        digest(&b.store).await,
        "same options, same data"
    );

    let again = seed_demo(&a.store, &opts, &quiet)
        .await
        .expect_err("a second seed must be refused");
    assert!(
        again.to_string().contains("fresh data directory"),
        "{again}"
    );
    assert_eq!(
        count(&a.store, "SELECT COUNT(*) FROM orders").await,
        1_500,
        "the refusal wrote nothing"
    );

    // Ids keep counting past the seeded ones (PostgreSQL's sequences were moved).
    sqlx::query(
        "INSERT INTO products (sku, title, category, price, cost, floor_price, ceiling_price, stock, updated_at) \
         VALUES ('NEW-1', 'New', 'Misc', 100, 50, 60, 120, 1, 0)",
    )
    .execute(a.store.pool())
    .await
    .expect("a product after the seed gets a fresh id");
    assert_eq!(
        count(&a.store, "SELECT id FROM products WHERE sku = 'NEW-1'").await,
        61
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_rows_on_sqlite_and_postgres() {
    let lite = TestDb::new(Db::Sqlite).await;
    let pg = TestDb::new(Db::Postgres).await;
    seed_demo(&lite.store, &small(), &quiet)
        .await
        .expect("seed SQLite");
    seed_demo(&pg.store, &small(), &quiet)
        .await
        .expect("seed PostgreSQL");
    assert_eq!(digest(&lite.store).await, digest(&pg.store).await);
}

#[tokio::test]
async fn tiny_options_are_refused_with_the_minimum_sizes() {
    let db = TestDb::new(Db::Sqlite).await;
    let opts = SeedOptions {
        products: 5,
        ..small()
    };
    let err = seed_demo(&db.store, &opts, &quiet)
        .await
        .expect_err("too small");
    assert!(err.to_string().contains("at least 40 products"), "{err}");
}

/// The full demo on SQLite: sizes, consistency, and every planted signal visible in the data.
#[tokio::test]
async fn full_demo_seed_has_the_planted_signals() {
    let db = TestDb::new(Db::Sqlite).await;
    let store = &db.store;
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |line: &str| seen.lock().unwrap().push(line.to_string());
    let report = seed_demo(store, &SeedOptions::demo(NOW), &progress)
        .await
        .expect("seed");
    println!("{report}");
    println!(
        "planted: {}",
        serde_json::to_string(&report.planted).unwrap()
    );
    assert!(
        report.elapsed.as_secs() < 60,
        "the demo seed took {:?}",
        report.elapsed
    );
    let lines = seen.into_inner().unwrap();
    for table in [
        "products",
        "customers",
        "orders",
        "order_items",
        "shipments",
        "shipment_events",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{table}:"))),
            "no progress for {table}: {lines:?}"
        );
    }

    // Sizes.
    assert!(count(store, "SELECT COUNT(*) FROM products").await >= 500);
    assert!(count(store, "SELECT COUNT(DISTINCT category) FROM products").await >= 6);
    assert_eq!(count(store, "SELECT COUNT(*) FROM customers").await, 2_000);
    assert_eq!(count(store, "SELECT COUNT(*) FROM orders").await, 20_000);
    assert_eq!(count(store, "SELECT MIN(id) FROM orders").await, 1001);
    assert_eq!(count(store, "SELECT COUNT(*) FROM staff").await, 3);
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM customer_identities WHERE channel = 'telegram'"
        )
        .await,
        50
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM customer_identities WHERE external_id <> CAST(700000 + customer_id AS TEXT)")
            .await,
        0
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM staff WHERE name = 'root' AND role = 'admin' AND telegram_id = '900003'").await,
        1
    );
    assert_eq!(
        report.products as i64,
        count(store, "SELECT COUNT(*) FROM products").await
    );
    assert_eq!(
        report.shipment_events as i64,
        count(store, "SELECT COUNT(*) FROM shipment_events").await
    );

    // Consistency.
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM products WHERE NOT (cost < floor_price AND floor_price <= price AND price <= ceiling_price \
             AND floor_price * 10 >= cost * 11 AND lead_time_days BETWEEN 3 AND 30 AND title_zh <> '' AND reserved <= stock)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM orders o WHERE total <> (SELECT SUM(quantity * unit_price) FROM order_items i WHERE i.order_id = o.id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM (SELECT order_id FROM order_items GROUP BY order_id HAVING COUNT(*) > 4) t").await,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM orders o WHERE status IN ('shipped', 'delivered') \
             AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM (SELECT shipment_id FROM shipment_events GROUP BY shipment_id \
             HAVING COUNT(*) < 2 OR COUNT(*) > 5) t"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM shipment_events WHERE at > 1779926400"
        )
        .await,
        0,
        "no events after now"
    );
    let zh = count(
        store,
        "SELECT COUNT(*) FROM customers WHERE language = 'zh'",
    )
    .await;
    assert!(
        (500..=700).contains(&zh),
        "{zh} Chinese-speaking customers of 2000"
    );
    assert_eq!(
        count(store, "SELECT COUNT(DISTINCT email) FROM customers").await,
        2_000
    );
    assert_eq!(
        count(store, "SELECT COUNT(DISTINCT phone) FROM customers").await,
        2_000
    );
    assert!(
        count(
            store,
            "SELECT COUNT(*) FROM customers WHERE contact_opt_out = 1"
        )
        .await
            > 0
    );

    // Weekends sell more (days since the epoch + 4, mod 7: 0 is Sunday, 6 Saturday).
    let weekend = count(
        store,
        "SELECT COUNT(*) FROM orders WHERE (created_at / 86400 + 4) % 7 IN (0, 6)",
    )
    .await;
    let weekday = count(
        store,
        "SELECT COUNT(*) FROM orders WHERE (created_at / 86400 + 4) % 7 NOT IN (0, 6)",
    )
    .await;
    assert!(
        weekend * 5 * 10 > weekday * 2 * 12,
        "weekend {weekend} vs weekday {weekday} orders"
    );

    let planted = &report.planted;

    // Late shipments: only the planted lane runs late, and it does in numbers.
    let late_open = |carrier_is: &str, region_is: &str| {
        format!(
            "SELECT COUNT(*) FROM shipments WHERE delivered_at IS NULL AND shipped_at >= {} \
             AND estimated_at > promised_at + 2 * 86400 AND carrier {carrier_is} 'FedEx' AND region {region_is} 'US-West'",
            NOW - 10 * DAY
        )
    };
    let late = |sql: String| async move {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(
        (planted.late_carrier.as_str(), planted.late_region.as_str()),
        ("FedEx", "US-West")
    );
    let in_lane = late(late_open("=", "=")).await;
    assert!(
        in_lane >= 20 && in_lane as usize == planted.late_shipment_ids.len(),
        "{in_lane} late in the lane"
    );
    assert_eq!(
        late(late_open("<>", "=")).await,
        0,
        "other carriers in US-West are on time"
    );
    assert_eq!(
        late(late_open("=", "<>")).await,
        0,
        "FedEx elsewhere is on time"
    );

    // Stock-outs: fast sellers at zero that sold briskly until a few days ago.
    assert_eq!(planted.stockout_skus.len(), 4);
    for sku in &planted.stockout_skus {
        let (stock, reserved, sold, last_sale): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT p.stock, p.reserved, SUM(i.quantity), MAX(o.created_at) FROM products p \
             JOIN order_items i ON i.product_id = p.id JOIN orders o ON o.id = i.order_id \
             WHERE p.sku = $1 AND o.created_at >= $2 GROUP BY p.stock, p.reserved",
        )
        .bind(sku)
        .bind(NOW - 60 * DAY)
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!((stock, reserved), (0, 0), "{sku}");
        assert!(sold >= 60, "{sku} sold {sold} units in 60 days");
        assert!(
            last_sale >= NOW - 5 * DAY,
            "{sku} last sold {} days ago",
            (NOW - last_sale) / DAY
        );
    }

    // Fraud ring: one card across many fresh accounts, with every risk trait at once.
    assert!((35..=45).contains(&planted.fraud_order_ids.len()));
    let top_card: (String, i64) = sqlx::query_as(
        "SELECT card_fingerprint, COUNT(DISTINCT customer_id) AS n FROM orders WHERE card_fingerprint IS NOT NULL \
         GROUP BY card_fingerprint ORDER BY n DESC LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(
        top_card.1 >= 10,
        "the most shared card is on {} accounts",
        top_card.1
    );
    let fraud_ids = planted
        .fraud_order_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let traits: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*), SUM(o.forwarder), SUM(o.rush), SUM(CASE WHEN o.ip_country <> o.shipping_country THEN 1 ELSE 0 END), \
         SUM(CASE WHEN c.created_at >= {} THEN 1 ELSE 0 END), COUNT(DISTINCT o.card_fingerprint) \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id IN ({fraud_ids})",
        NOW - 14 * DAY
    )))
    .fetch_one(store.pool())
    .await
    .unwrap();
    let n = planted.fraud_order_ids.len() as i64;
    assert_eq!(
        traits,
        (n, n, n, n, n, 1),
        "count, forwarder, rush, foreign IP, new account, cards"
    );
    let card_of_ring: (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT card_fingerprint FROM orders WHERE id = {}",
        planted.fraud_order_ids[0]
    )))
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(card_of_ring.0, top_card.0);
    let shared_addresses = count(
        store,
        "SELECT COUNT(*) FROM (SELECT shipping_address FROM orders WHERE forwarder = 1 \
         GROUP BY shipping_address HAVING COUNT(DISTINCT customer_id) >= 3) t",
    )
    .await;
    assert!(
        shared_addresses >= 1,
        "several accounts share a forwarder address"
    );
    // Each ring account opens with a high-value order.
    let small_first_orders: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM orders o WHERE o.id IN ({fraud_ids}) AND o.total < 50000 \
         AND o.created_at = (SELECT MIN(created_at) FROM orders f WHERE f.customer_id = o.customer_id)"
    )))
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(small_first_orders.0, 0);

    // Look-alikes: recent, legitimate, each sharing some traits but never the whole pattern.
    assert!((35..=45).contains(&planted.lookalike_order_ids.len()));
    let lookalike_ids = planted
        .lookalike_order_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // forwarder, rush, foreign IP, card shared across accounts, big first order, ring-like account or card
    let lookalikes: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT o.forwarder, o.rush, CASE WHEN o.ip_country <> o.shipping_country THEN 1 ELSE 0 END, \
         CASE WHEN (SELECT COUNT(DISTINCT x.customer_id) FROM orders x WHERE x.card_fingerprint = o.card_fingerprint) > 1 \
              THEN 1 ELSE 0 END, \
         CASE WHEN o.total >= 50000 AND o.created_at = (SELECT MIN(f.created_at) FROM orders f WHERE f.customer_id = o.customer_id) \
              THEN 1 ELSE 0 END, \
         CASE WHEN c.created_at >= {} OR o.card_fingerprint = '{}' THEN 1 ELSE 0 END \
         FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id IN ({lookalike_ids})",
        NOW - 14 * DAY,
        top_card.0
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    for row in &lookalikes {
        let traits = row.0 + row.1 + row.2 + row.3 + row.4;
        assert!(
            (1..=2).contains(&traits),
            "a look-alike with traits {row:?}"
        );
        assert_eq!(row.5, 0, "look-alikes are old accounts off the ring's card");
    }
    let family_cards = count(
        store,
        "SELECT COUNT(*) FROM (SELECT card_fingerprint FROM orders WHERE card_fingerprint IS NOT NULL \
         GROUP BY card_fingerprint HAVING COUNT(DISTINCT customer_id) BETWEEN 2 AND 5) t",
    )
    .await;
    assert!(family_cards >= 1, "a household shares a card");

    let ground_truth = serde_json::to_value(planted).unwrap();
    assert!(ground_truth["fraud_order_ids"].is_array());
}

// ---------------------------------------------------------------------------------------
// Import.

fn data(set: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(set)
        .join(file)
}

fn all_files(set: &str) -> ImportFiles {
    ImportFiles {
        products: Some(data(set, "products.csv")),
        customers: Some(data(set, "customers.csv")),
        orders: Some(data(set, "orders.csv")),
        order_items: Some(data(set, "order_items.csv")),
    }
}

fn opts(skip_invalid: bool) -> ImportOptions {
    ImportOptions {
        skip_invalid,
        now: NOW,
    }
}

async fn table_counts(store: &Store) -> [i64; 4] {
    [
        count(store, "SELECT COUNT(*) FROM products").await,
        count(store, "SELECT COUNT(*) FROM customers").await,
        count(store, "SELECT COUNT(*) FROM orders").await,
        count(store, "SELECT COUNT(*) FROM order_items").await,
    ]
}

/// (file name, line) of each rejection, in report order.
fn rejected_lines(report: &ImportReport) -> Vec<(String, u64)> {
    report
        .rejected
        .iter()
        .map(|r| {
            (
                Path::new(&r.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                r.line,
            )
        })
        .collect()
}

fn reason<'a>(report: &'a ImportReport, file: &str, line: u64) -> &'a str {
    report
        .rejected
        .iter()
        .find(|r| r.file.ends_with(file) && r.line == line)
        .map(|r| r.reason.as_str())
        .unwrap_or_else(|| panic!("{file}:{line} was not rejected:\n{report}"))
}

async fn good_files_import_completely(backend: Db) {
    let db = TestDb::new(backend).await;
    let report = import_csv(&db.store, &all_files("good"), &opts(false))
        .await
        .expect("import");
    assert!(report.committed, "{report}");
    assert!(report.rejected.is_empty(), "{report}");
    assert_eq!(
        (
            report.products,
            report.customers,
            report.orders,
            report.order_items
        ),
        (5, 4, 5, 9)
    );
    assert_eq!(table_counts(&db.store).await, [5, 4, 5, 9]);
    assert!(
        report
            .to_string()
            .starts_with("Imported 5 products, 4 customers and 5 orders with 9 items.")
    );

    let (total, country): (i64, String) =
        sqlx::query_as("SELECT total, shipping_country FROM orders WHERE id = 5002")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (total, country.as_str()),
        (2 * 850 + 3500, "CN"),
        "items without a price sell at the listed price"
    );
    let (floor, ceiling, lead): (i64, i64, i64) = sqlx::query_as(
        "SELECT floor_price, ceiling_price, lead_time_days FROM products WHERE sku = 'BAG-007'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!((floor, ceiling, lead), (1700, 2400, 7));
    let (created, opt_out, language): (i64, i64, String) =
        sqlx::query_as("SELECT created_at, contact_opt_out, language FROM customers WHERE id = 2")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(
        (created, opt_out, language.as_str()),
        (1_740_879_000, 1, "zh"),
        "RFC 3339 with an offset"
    );

    // New rows after an import get fresh ids on both backends.
    sqlx::query("INSERT INTO customers (name, created_at) VALUES ('Later', 0)")
        .execute(db.store.pool())
        .await
        .unwrap();
    assert_eq!(count(&db.store, "SELECT MAX(id) FROM customers").await, 5);
}

async fn bad_files_are_reported_row_by_row_and_nothing_is_written(backend: Db) {
    let db = TestDb::new(backend).await;
    let report = import_csv(&db.store, &all_files("bad"), &opts(false))
        .await
        .expect("import");
    assert!(!report.committed);
    assert_eq!(
        table_counts(&db.store).await,
        [0, 0, 0, 0],
        "nothing written"
    );
    assert_eq!(
        (
            report.products,
            report.customers,
            report.orders,
            report.order_items
        ),
        (0, 0, 0, 0)
    );

    let expected: Vec<(String, u64)> = [
        ("products.csv", [3, 4, 5, 6, 7, 8].as_slice()),
        ("customers.csv", &[3, 4, 5, 6, 7, 9]),
        ("orders.csv", &[3, 4, 5, 6, 7, 8, 10]),
        ("order_items.csv", &[4, 5, 6, 7, 9, 10]),
    ]
    .iter()
    .flat_map(|(file, lines)| lines.iter().map(move |&l| (file.to_string(), l)))
    .collect();
    assert_eq!(rejected_lines(&report), expected, "\n{report}");

    let expect = |file: &str, line: u64, needle: &str| {
        let r = reason(&report, file, line);
        assert!(
            r.contains(needle),
            "{file}:{line}: `{r}` should mention `{needle}`"
        );
    };
    expect(
        "products.csv",
        3,
        "duplicate SKU `GOOD-1` (first on line 2)",
    );
    expect("products.csv", 4, "`price` is not valid");
    expect("products.csv", 5, "cost 11.00 is above price 10.00");
    expect("products.csv", 6, "price 10.00 is below floor_price 12.00");
    expect("products.csv", 7, "`stock` is `-3`");
    expect("products.csv", 8, "`sku` is empty");
    expect("customers.csv", 3, "does not look like an email address");
    expect("customers.csv", 4, "duplicate customer id 101");
    expect("customers.csv", 5, "not a date");
    expect("customers.csv", 6, "in the future");
    expect("customers.csv", 7, "duplicate email `GOOD@example.com`");
    expect("customers.csv", 9, "has 8 fields but the header has 7");
    expect("orders.csv", 3, "customer 102 was rejected");
    expect("orders.csv", 4, "unknown customer 999");
    expect("orders.csv", 5, "`status` is `teleported`");
    expect("orders.csv", 5, "`shipping_country` is `USA`");
    expect("orders.csv", 6, "its item on");
    expect(
        "orders.csv",
        7,
        "`total` is 99.00 but its items add up to 10.00",
    );
    expect("orders.csv", 8, "duplicate order id 9001");
    expect("orders.csv", 10, "order_items.csv:10 was rejected");
    expect("order_items.csv", 4, "SKU BAD-PRICE was rejected");
    expect("order_items.csv", 5, "order 9005 was rejected");
    expect("order_items.csv", 6, "order 9006 was rejected");
    expect("order_items.csv", 7, "order 9002 was rejected");
    expect("order_items.csv", 9, "unknown order 9999");
    expect("order_items.csv", 10, "`quantity` is `0`");

    let text = report.to_string();
    assert!(
        text.starts_with("Nothing was imported: 25 rows were rejected."),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .trim_start()
            .ends_with("products.csv:5: cost 11.00 is above price 10.00")),
        "{text}"
    );
}

async fn skip_invalid_writes_only_the_valid_rows(backend: Db) {
    let db = TestDb::new(backend).await;
    let report = import_csv(&db.store, &all_files("bad"), &opts(true))
        .await
        .expect("import");
    assert!(report.committed);
    assert_eq!(report.rejected.len(), 25);
    assert_eq!(
        (
            report.products,
            report.customers,
            report.orders,
            report.order_items
        ),
        (2, 2, 2, 3)
    );
    assert_eq!(table_counts(&db.store).await, [2, 2, 2, 3]);
    let skus: Vec<(String,)> = sqlx::query_as("SELECT sku FROM products ORDER BY sku")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    assert_eq!(skus, [("GOOD-1".to_string(),), ("GOOD-2".to_string(),)]);
    let orders: Vec<(i64, i64)> = sqlx::query_as("SELECT id, total FROM orders ORDER BY id")
        .fetch_all(db.store.pool())
        .await
        .unwrap();
    assert_eq!(orders, [(9001, 2500), (9007, 1500)]);
    assert!(
        report.to_string().contains("Skipped 25 rejected rows:"),
        "{report}"
    );
}

async fn reimporting_is_rejected_as_duplicates(backend: Db) {
    let db = TestDb::new(backend).await;
    import_csv(&db.store, &all_files("good"), &opts(false))
        .await
        .expect("first import");
    let products_only = ImportFiles {
        products: Some(data("good", "products.csv")),
        ..ImportFiles::default()
    };
    let report = import_csv(&db.store, &products_only, &opts(false))
        .await
        .expect("second import");
    assert!(!report.committed);
    assert_eq!(report.rejected.len(), 5, "{report}");
    assert!(
        reason(&report, "products.csv", 2).contains("SKU `MUG-001` already exists in the store")
    );
    let with_skip = import_csv(&db.store, &products_only, &opts(true))
        .await
        .expect("skip");
    assert_eq!((with_skip.products, with_skip.rejected.len()), (0, 5));
    assert_eq!(table_counts(&db.store).await, [5, 4, 5, 9]);

    // Items join only orders of the same import, never one already in the store.
    let dir = tempfile::tempdir().unwrap();
    let orders = dir.path().join("orders.csv");
    let items = dir.path().join("order_items.csv");
    std::fs::write(
        &orders,
        "id,customer_id,status,payment_method,shipping_name,shipping_address,shipping_country,created_at\n\
         6001,1,paid,card,Ann Lee,\"12 Pine St, Seattle, WA 98101\",US,2026-01-02\n",
    )
    .unwrap();
    std::fs::write(
        &items,
        "order_id,sku,quantity\n6001,MUG-001,1\n5001,PEN-002,1\n",
    )
    .unwrap();
    let files = ImportFiles {
        orders: Some(orders),
        order_items: Some(items),
        ..ImportFiles::default()
    };
    let report = import_csv(&db.store, &files, &opts(true))
        .await
        .expect("orders");
    assert_eq!(
        rejected_lines(&report),
        [("order_items.csv".to_string(), 3)]
    );
    assert!(reason(&report, "order_items.csv", 3).contains("order 5001 is already in the store"));
    assert_eq!((report.orders, report.order_items), (1, 1));
    assert_eq!(table_counts(&db.store).await, [5, 4, 6, 10]);
}

async fn a_database_error_rolls_back_everything(backend: Db) {
    let db = TestDb::new(backend).await;
    // The orders are written after products and customers; make the last one fail there.
    let sabotage: &[&'static str] = match backend {
        Db::Sqlite => &[
            "CREATE TRIGGER sabotage BEFORE INSERT ON orders WHEN NEW.id = 5005 \
             BEGIN SELECT RAISE(ABORT, 'sabotaged'); END",
        ],
        Db::Postgres => &[
            "CREATE FUNCTION sabotage() RETURNS trigger AS $$ BEGIN \
             IF NEW.id = 5005 THEN RAISE EXCEPTION 'sabotaged'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER sabotage BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION sabotage()",
        ],
    };
    for sql in sabotage {
        sqlx::query(*sql).execute(db.store.pool()).await.expect(sql);
    }
    let err = import_csv(&db.store, &all_files("good"), &opts(false))
        .await
        .expect_err("the database refused a row");
    assert!(format!("{err:#}").contains("sabotaged"), "{err:#}");
    assert_eq!(table_counts(&db.store).await, [0, 0, 0, 0], "rolled back");
}

async fn a_missing_required_column_is_named(backend: Db) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("products.csv");
    std::fs::write(&path, "sku,title,category,cost,stok\nA-1,A,Misc,1.00,3\n").unwrap();
    let files = ImportFiles {
        products: Some(path),
        ..ImportFiles::default()
    };
    let report = import_csv(&db.store, &files, &opts(true))
        .await
        .expect("import");
    assert_eq!(rejected_lines(&report), [("products.csv".to_string(), 1)]);
    let why = &report.rejected[0].reason;
    assert!(why.contains("missing required column `price`"), "{why}");
    assert!(why.contains("missing required column `stock`"), "{why}");
    assert!(
        why.contains("unknown column `stok` (did you mean `stock`?)"),
        "{why}"
    );
    assert_eq!(table_counts(&db.store).await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn orders_without_their_items_file_are_refused() {
    let db = TestDb::new(Db::Sqlite).await;
    let files = ImportFiles {
        orders: Some(data("good", "orders.csv")),
        ..ImportFiles::default()
    };
    let err = import_csv(&db.store, &files, &opts(false))
        .await
        .expect_err("needs items");
    assert!(err.to_string().contains("give both files"), "{err}");
}
