//! End to end on Telegram: the real teloxide client in the Telegram adapter against the
//! in-repo fake Bot API, with the engine over the fixture store. Covers greetings in the
//! user's language, linking before private data, inline keyboards and button presses,
//! streamed replies by message edits (with RetryAfter and MessageNotModified from the
//! API), exactly-once handling of a redelivered update, webhook mode, and bad input.

mod common;
mod fakes;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use fakes::scripted::{self, Scripted};
use fakes::telegram::{FakeTelegram, TOKEN};
use shopdesk::channels::{self, Channels};
use shopdesk::clock::ManualClock;
use shopdesk::config::Config;
use shopdesk::port::{Channel, Handler};

fn config(tg: &FakeTelegram) -> Config {
    let mut c = Config::default();
    c.telegram.token = TOKEN.into();
    c.telegram.api_url = tg.url.clone();
    c.telegram.poll_timeout_secs = 1;
    c.telegram.edit_interval_ms = 100;
    c.web.enabled = false;
    c
}

async fn running(shop: &Shop, handler: Arc<dyn Handler>, config: &Config) -> Channels {
    let channels = channels::start_with(config, handler, &shop.engine).await;
    assert!(
        channels.is_running(Channel::Telegram),
        "{:?}",
        channels.report
    );
    channels
}

/// Waits for message number `n` (1-based) to `chat` and returns its final text.
async fn nth_reply(tg: &FakeTelegram, chat: i64, n: usize) -> String {
    tg.wait_for(&format!("message {n} to {chat}"), |s| {
        s.to_chat(chat).len() >= n
    })
    .await;
    tg.texts_to(chat)[n - 1].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greets_in_the_users_language_and_links_before_showing_orders() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let _channels = running(&shop, shop.engine.clone(), &config(&tg)).await;

    tg.say(555, "/start", "zh-hans");
    let greeting = nth_reply(&tg, 555, 1).await;
    assert!(greeting.contains("您好"), "{greeting}");

    tg.say(555, "/order 1001", "en");
    assert!(
        nth_reply(&tg, 555, 2)
            .await
            .contains("not available to you")
    );

    tg.say(555, "/link 1001 someone@example.com", "en");
    let failed = nth_reply(&tg, 555, 3).await;
    assert!(
        failed.contains("don't match") && failed.contains("4 attempts"),
        "{failed}"
    );

    tg.say(555, "/link 1001 ANN@example.com", "en");
    assert!(nth_reply(&tg, 555, 4).await.contains("Ann Lee"));

    tg.say(555, "/orders", "en");
    let orders = nth_reply(&tg, 555, 5).await;
    assert!(
        orders.contains("#1001") && orders.contains("#1004"),
        "{orders}"
    );
    tg.say(555, "/order 1002", "en");
    assert!(
        nth_reply(&tg, 555, 6)
            .await
            .contains("can't find order #1002")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_attempts_are_rate_limited() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let _channels = running(&shop, shop.engine.clone(), &config(&tg)).await;
    for n in 1..=5 {
        tg.say(556, &format!("/link 1001 guess{n}@example.com"), "en");
        nth_reply(&tg, 556, n).await;
    }
    assert!(nth_reply(&tg, 556, 5).await.contains("Too many attempts"));
    tg.say(556, "/link 1001 ann@example.com", "en");
    let locked = nth_reply(&tg, 556, 6).await;
    assert!(
        locked.contains("Too many attempts"),
        "the right proof is refused while locked: {locked}"
    );
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM customer_identities WHERE external_id = '556'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_are_inline_keyboards_and_presses_are_commands() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let _channels = running(&shop, shop.engine.clone(), &config(&tg)).await;

    tg.say(7001, "what is this shop?", "en");
    tg.wait_for("the offer of a person", |s| {
        s.to_chat(7001)
            .first()
            .is_some_and(|m| !m.buttons().is_empty())
    })
    .await;
    let offer = tg.read(|s| s.to_chat(7001)[0].clone());
    assert_eq!(offer.buttons(), ["/human"]);

    tg.press(7001, offer.id, "/human");
    let queued = nth_reply(&tg, 7001, 2).await;
    assert!(
        queued.contains("No one from our team is online") && queued.contains("number 1"),
        "{queued}"
    );
    assert!(tg.read(|s| s.count("answercallbackquery")) >= 1);

    // Staff linked on Telegram (alice is 9001) get the store commands, with confirmations
    // as buttons.
    tg.say(9001, "/reprice SKU-A 30.00 \"supplier price rise\"", "en");
    tg.wait_for("the confirmation button", |s| {
        s.to_chat(9001)
            .first()
            .is_some_and(|m| !m.buttons().is_empty())
    })
    .await;
    let pending = tg.read(|s| s.to_chat(9001)[0].clone());
    let confirm = pending.buttons();
    assert_eq!(confirm.len(), 1);
    assert!(confirm[0].starts_with("/confirm "), "{confirm:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stream_by_edits_through_retry_after_and_not_modified() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let handler = Scripted::new(shop.engine.clone(), Duration::from_millis(400));
    let _channels = running(&shop, handler, &config(&tg)).await;

    tg.fail_next(
        "editMessageText",
        429,
        "Too Many Requests: retry after 1",
        Some(1),
    );
    tg.fail_next(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        None,
    );
    tg.say(7001, scripted::QUESTION, "en");
    let full = scripted::full_answer();
    tg.wait_for("the whole streamed answer", |s| {
        s.to_chat(7001).first().is_some_and(|m| m.text() == full)
    })
    .await;
    let shown = tg.read(|s| s.to_chat(7001)[0].clone());
    println!("updates the user saw: {:#?}", shown.texts);
    assert!(
        shown.texts.len() >= 2,
        "at least two updates: {:?}",
        shown.texts
    );
    assert!(full.starts_with(&shown.texts[0]) && shown.texts[0].len() < full.len());
    assert_eq!(tg.sent_to(7001), 1, "one message, edited in place");
    assert!(
        tg.read(|s| s.count("sendchataction")) >= 1,
        "the chat showed typing while the answer was on its way"
    );
    let edits = tg.read(|s| s.count("editmessagetext"));
    assert!(edits > shown.texts.len(), "the failed edits were made too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_update_is_answered_and_acted_on_once() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let _channels = running(&shop, shop.engine.clone(), &config(&tg)).await;

    let update = tg.say(7001, "/cancel 1001 \"ordered twice\"", "en");
    assert!(nth_reply(&tg, 7001, 1).await.contains("cancelled"));
    tg.wait_for("the update confirmed", |s| s.pending_ids().is_empty())
        .await;
    tg.redeliver(update);
    tg.wait_for("the redelivery confirmed", |s| {
        s.pending_ids().is_empty() && s.deliveries.get(&update) == Some(&2)
    })
    .await;
    assert_eq!(tg.sent_to(7001), 1, "{:?}", tg.texts_to(7001));
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM audit_log WHERE tool = 'cancel_order' AND outcome = 'ok'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_answers_before_acknowledging() {
    let shop = Shop::new(Db::Sqlite).await;
    let tg = FakeTelegram::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = config(&tg);
    config.telegram.mode = "webhook".into();
    config.telegram.webhook_url = format!("http://{addr}/telegram/webhook");
    config.telegram.webhook_secret = "s3cret-s3cret-s3cret".into();
    let channels = running(&shop, shop.engine.clone(), &config).await;
    assert_eq!(
        tg.read(|s| s.webhook.clone()),
        Some(config.telegram.webhook_url.clone())
    );
    tokio::spawn(async move { axum::serve(listener, channels.router).await });

    let update = serde_json::json!({"update_id": 77, "message": {
        "message_id": 1, "date": 1_800_000_000, "chat": {"id": 7002, "type": "private", "first_name": "Wang"},
        "from": {"id": 7002, "is_bot": false, "first_name": "Wang", "language_code": "zh"},
        "text": "/start"}});
    let client = reqwest::Client::new();
    let post = |secret: &'static str| {
        client
            .post(config.telegram.webhook_url.clone())
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .json(&update)
            .send()
    };
    assert_eq!(post("wrong-secret").await.unwrap().status(), 401);
    assert_eq!(tg.sent_to(7002), 0);
    assert_eq!(post("s3cret-s3cret-s3cret").await.unwrap().status(), 200);
    assert_eq!(tg.sent_to(7002), 1, "answered before the webhook returned");
    assert!(tg.texts_to(7002)[0].contains("王芳"));
    assert_eq!(post("s3cret-s3cret-s3cret").await.unwrap().status(), 200);
    assert_eq!(
        tg.sent_to(7002),
        1,
        "Telegram's retry is not answered twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_floods_get_polite_answers() {
    let db = TestDb::new(Db::Sqlite).await;
    fixture(&db.store).await;
    let mut settings = Config::default();
    settings.limits.per_identity_per_minute = 3;
    let engine = Arc::new(engine_for(&db.store, ManualClock::new(NOW), settings));
    let tg = FakeTelegram::start().await;
    let channels = channels::start_with(&config(&tg), engine.clone(), &engine).await;
    assert!(channels.is_running(Channel::Telegram));

    tg.say(7001, &"x".repeat(5000), "en");
    assert!(nth_reply(&tg, 7001, 1).await.contains("too long"));
    tg.say(7001, "hello\u{0}\u{1}world", "en");
    assert!(nth_reply(&tg, 7001, 2).await.contains("binary"));
    for _ in 0..4 {
        tg.say(7001, "/whoami", "en");
    }
    tg.wait_for("every update confirmed", |s| s.pending_ids().is_empty())
        .await;
    let texts = tg.texts_to(7001);
    assert_eq!(
        texts.len(),
        4,
        "3 messages pass, the flood gets one answer: {texts:?}"
    );
    assert!(texts[3].contains("faster than I can read"), "{texts:?}");
}
