//! Exactly-once across a crash: the real `shopdesk serve` process polls the in-repo fake
//! Telegram, is killed with SIGKILL at the worst moments, and is started again on the same
//! database. Telegram (the fake) delivers the unconfirmed update again after the restart.
//!
//! 1. Killed after handling an update and showing the reply, before the offset that
//!    confirms the update reached Telegram: after the restart the update arrives again,
//!    and the customer still has exactly one reply and the order was cancelled once.
//! 2. Killed after handling an update but before its reply reached Telegram: after the
//!    restart the stored reply is sent, once, and the effect is not repeated.

mod common;
mod fakes;

use std::process::{Child, Command, Stdio};

use common::*;
use fakes::telegram::{FakeTelegram, TOKEN};

struct Service {
    child: Child,
}

impl Service {
    fn start(db_url: &str, tg: &FakeTelegram, log: &std::path::Path) -> Service {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_shopdesk"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SHOPDESK_DATABASE_URL", db_url)
            .env("SHOPDESK_TELEGRAM_TOKEN", TOKEN)
            .env("SHOPDESK_TELEGRAM_API_URL", &tg.url)
            .env("SHOPDESK_TELEGRAM_POLL_TIMEOUT_SECS", "1")
            .env("SHOPDESK_TELEGRAM_EDIT_INTERVAL_MS", "0")
            .env("SHOPDESK_HTTP_LISTEN", "127.0.0.1:0")
            // This test is about delivery across crashes: no knowledge index to build.
            .env("SHOPDESK_RETRIEVAL_EMBEDDER_PATH", "/nonexistent")
            .env("SHOPDESK_LOG", "info")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start shopdesk serve");
        Service { child }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_update_is_handled_once_across_sigkill_and_restart() {
    let db = TestDb::new(Db::Sqlite).await;
    fixture(&db.store).await;
    sqlx::query(
        "INSERT INTO orders (id, customer_id, status, payment_method, shipping_name, shipping_address, \
         shipping_country, total, created_at, updated_at) VALUES (1010, 1, 'paid', 'card', 'Ann Lee', '1 Main St', 'US', 2000, $1, $1)",
    )
    .bind(NOW)
    .execute(db.store.pool())
    .await
    .unwrap();
    let tg = FakeTelegram::start().await;
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("serve.log");

    // 1. Killed after the reply, before the confirmation reached Telegram.
    let service = Service::start(&db.url, &tg, &log);
    tg.hold_acks_above(Some(0));
    let first = tg.say(7001, "/cancel 1001 \"ordered twice\"", "en");
    tg.wait_for("the reply, then the confirmation attempt", |s| {
        s.to_chat(7001).len() == 1 && s.held_acks >= 1
    })
    .await;
    service.kill();
    assert_eq!(
        tg.read(|s| s.pending_ids()),
        [first],
        "Telegram never heard the confirmation"
    );
    tg.hold_acks_above(None);

    let service = Service::start(&db.url, &tg, &log);
    tg.wait_for("the update delivered again and confirmed", |s| {
        s.deliveries.get(&first).copied().unwrap_or_default() >= 2 && s.pending_ids().is_empty()
    })
    .await;
    let texts = tg.texts_to(7001);
    println!(
        "update {first} was delivered {} times; Ann's chat after the first restart: {texts:?}",
        tg.read(|s| s.deliveries[&first])
    );
    assert_eq!(texts.len(), 1, "exactly one reply");
    assert!(texts[0].contains("cancelled"), "{}", texts[0]);

    // 2. Killed after handling, before the reply reached Telegram.
    tg.hold_sends(true);
    let second = tg.say(7001, "/cancel 1010 \"changed my mind\"", "en");
    tg.wait_for("the reply on its way", |s| s.held_sends >= 1)
        .await;
    service.kill();
    tg.hold_sends(false);
    assert_eq!(tg.read(|s| s.pending_ids()), [second]);

    let service = Service::start(&db.url, &tg, &log);
    tg.wait_for("the stored reply sent and the update confirmed", |s| {
        s.to_chat(7001).len() == 2 && s.pending_ids().is_empty()
    })
    .await;
    let texts = tg.texts_to(7001);
    println!(
        "update {second} was delivered {} times; Ann's chat after the second restart: {texts:?}",
        tg.read(|s| s.deliveries[&second])
    );
    assert!(
        texts[1].contains("#1010") && texts[1].contains("cancelled"),
        "{}",
        texts[1]
    );
    drop(service);

    assert_eq!(
        shop_count(
            &db,
            "SELECT COUNT(*) FROM orders WHERE id IN (1001, 1010) AND status = 'cancelled'"
        )
        .await,
        2
    );
    assert_eq!(
        shop_count(
            &db,
            "SELECT COUNT(*) FROM effects WHERE tool = 'cancel_order'"
        )
        .await,
        2
    );
    assert_eq!(
        shop_count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE tool = 'cancel_order' AND outcome = 'ok'"
        )
        .await,
        2,
        "each cancellation happened once"
    );
    assert_eq!(
        shop_count(&db, "SELECT COUNT(*) FROM processed_events WHERE channel = 'telegram' AND delivered_at IS NOT NULL").await,
        2
    );

    let log = std::fs::read_to_string(&log).unwrap();
    for line in log.lines().filter(|l| l.contains("started")) {
        println!("serve: {line}");
    }
    assert!(
        log.contains("started: @demo_shop_bot, long polling"),
        "{log}"
    );
    assert!(
        log.contains("not started: no token (set discord.token"),
        "{log}"
    );
}

async fn shop_count(db: &TestDb, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    n
}
