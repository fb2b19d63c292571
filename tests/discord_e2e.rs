//! End to end on Discord: a real serenity client (HttpBuilder proxy, rate limiter off)
//! against the in-repo fake REST API and gateway, with the engine over the fixture store.
//! Covers slash commands registered from the engine's commands, text commands in the staff
//! channel, approval buttons that need a second person, and the handoff round trip: a
//! customer on Telegram, staff in a Discord thread, and back.

mod common;
mod fakes;

use common::*;
use fakes::discord::{FakeDiscord, STAFF_CHANNEL};
use fakes::telegram::FakeTelegram;
use shopdesk::channels::{self, Channels};
use shopdesk::config::Config;
use shopdesk::port::Channel;

const ALICE: u64 = 6001;
const BOB: u64 = 6002;

fn config(dc: &FakeDiscord) -> Config {
    let mut c = Config::default();
    c.discord.token = fakes::discord::TOKEN.into();
    c.discord.api_url = dc.url.clone();
    c.discord.application_id = fakes::discord::APP_ID.to_string();
    c.discord.staff_channel_id = STAFF_CHANNEL.to_string();
    c.discord.edit_interval_ms = 100;
    c.web.enabled = false;
    c
}

/// The fixture with numeric Discord ids for staff (Discord ids are snowflakes).
async fn shop() -> Shop {
    let shop = Shop::new(Db::Sqlite).await;
    for (name, id) in [("alice", ALICE), ("bob", BOB), ("root", 6003)] {
        sqlx::query("UPDATE staff SET discord_id = $1 WHERE name = $2")
            .bind(id.to_string())
            .bind(name)
            .execute(shop.store().pool())
            .await
            .unwrap();
    }
    shop
}

async fn running(shop: &Shop, config: &Config, dc: &FakeDiscord) -> Channels {
    let channels = channels::start(config, shop.engine.clone()).await;
    assert!(
        channels.is_running(Channel::Discord),
        "{:?}",
        channels.report
    );
    dc.wait_for("the gateway handshake and slash commands", |s| {
        s.identified && !s.commands.is_empty()
    })
    .await;
    channels
}

/// Waits for the response to an interaction and returns its content.
async fn response(dc: &FakeDiscord, token: &str, what: &str) -> String {
    dc.wait_for(what, |s| s.response(token).is_some()).await;
    dc.read(|s| s.response(token).unwrap().content().to_string())
}

/// Waits for the `n`th bot message (1-based) in `channel` and returns it.
async fn nth_post(dc: &FakeDiscord, channel: u64, n: usize) -> fakes::discord::Posted {
    dc.wait_for(&format!("post {n} in channel {channel}"), |s| {
        s.in_channel(channel).len() >= n
    })
    .await;
    dc.read(|s| s.in_channel(channel)[n - 1].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_use_slash_commands_and_text_commands_in_the_staff_channel() {
    let shop = shop().await;
    let dc = FakeDiscord::start().await;
    let _channels = running(&shop, &config(&dc), &dc).await;

    let names: Vec<String> = dc.read(|s| {
        s.commands
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    });
    for needed in [
        "order", "restock", "reprice", "hold", "release", "confirm", "audit", "staff", "history",
        "handback", "queue",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "no /{needed} in {names:?}"
        );
    }
    let restock = dc.read(|s| {
        s.commands
            .iter()
            .find(|c| c["name"] == "restock")
            .unwrap()
            .clone()
    });
    assert_eq!(restock["options"][0]["name"], "sku");
    assert_eq!(restock["options"][0]["required"], true);

    let token = dc.slash(ALICE, "order", STAFF_CHANNEL, &[("order_number", "1004")]);
    let answer = response(&dc, &token, "the /order response").await;
    assert!(answer.contains("#1004"), "{answer}");
    assert!(dc.read(|s| s.callbacks.iter().any(|(_, kind)| *kind == 5)));

    dc.message(ALICE, "alice", STAFF_CHANNEL, "!stock SKU-A");
    let stock = nth_post(&dc, STAFF_CHANNEL, 1).await;
    assert!(stock.content().contains("SKU-A"), "{}", stock.content());

    // Chatter in the staff channel is not for the bot; strangers get no store commands.
    dc.message(BOB, "bob", STAFF_CHANNEL, "coffee anyone?");
    let token = dc.slash(
        777,
        "reprice",
        STAFF_CHANNEL,
        &[("sku", "SKU-A"), ("price", "1.00"), ("reason", "x")],
    );
    let refused = response(&dc, &token, "the stranger's /reprice").await;
    assert!(refused.contains("not available"), "{refused}");
    let posts: Vec<String> = dc.read(|s| {
        s.in_channel(STAFF_CHANNEL)
            .iter()
            .map(|p| p.content().to_string())
            .collect()
    });
    assert_eq!(posts.len(), 1, "no answer to chatter: {posts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_changes_wait_for_a_second_person_with_buttons() {
    let shop = shop().await;
    let dc = FakeDiscord::start().await;
    let _channels = running(&shop, &config(&dc), &dc).await;

    // Asked from another channel, the request is also posted in the staff channel.
    let token = dc.slash(
        ALICE,
        "reprice",
        8_100,
        &[
            ("sku", "SKU-A"),
            ("price", "30.00"),
            ("reason", "supplier price rise"),
        ],
    );
    let pending = response(&dc, &token, "the pending reprice").await;
    assert!(pending.contains("another staff member"), "{pending}");
    let request = nth_post(&dc, STAFF_CHANNEL, 1).await;
    assert!(
        request
            .content()
            .contains("staff:alice asks for a second person")
    );
    let approve = request.buttons();
    assert_eq!(approve.len(), 1);
    assert!(approve[0].starts_with("/confirm "));

    let own = dc.press(ALICE, &request, &approve[0]);
    let refused = response(&dc, &own, "alice approving her own request").await;
    assert!(refused.contains("You can't confirm"), "{refused}");

    let second = dc.press(BOB, &request, &approve[0]);
    let done = response(&dc, &second, "bob's approval").await;
    assert!(done.contains("confirmed by staff:bob"), "{done}");
    assert_eq!(
        shop.count("SELECT price FROM products WHERE sku = 'SKU-A'")
            .await,
        3000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_round_trip_between_a_telegram_customer_and_discord_staff() {
    let shop = shop().await;
    let dc = FakeDiscord::start().await;
    let tg = FakeTelegram::start().await;
    let mut config = config(&dc);
    config.telegram.token = fakes::telegram::TOKEN.into();
    config.telegram.api_url = tg.url.clone();
    config.telegram.poll_timeout_secs = 1;
    config.telegram.edit_interval_ms = 100;
    let channels = running(&shop, &config, &dc).await;
    assert!(channels.is_running(Channel::Telegram));
    let ann_says = |n: usize| {
        let tg = tg.clone();
        async move {
            tg.wait_for(&format!("message {n} to Ann"), |s| {
                s.to_chat(7001).len() >= n
            })
            .await;
            tg.texts_to(7001)[n - 1].clone()
        }
    };

    // 1. Ann asks for a person on Telegram; nobody from staff has been active.
    tg.say(7001, "/orders", "en");
    ann_says(1).await;
    tg.say(7001, "/human", "en");
    let queued = ann_says(2).await;
    println!("Ann (Telegram) is told: {queued}");
    assert!(
        queued.contains("No one from our team is online") && queued.contains("expect an answer by")
    );

    // 2. A thread opens in the staff channel with her history and orders.
    dc.wait_for("the handoff thread", |s| !s.threads.is_empty())
        .await;
    let (thread, parent, title) = dc.read(|s| s.threads[0].clone());
    assert_eq!(parent, STAFF_CHANNEL);
    assert!(title.contains("Ann Lee"), "{title}");
    let intro = nth_post(&dc, thread, 1).await;
    println!("The staff thread opens with:\n{}", intro.content());
    for needed in ["Ann Lee (customer #1)", "/orders", "Recent orders", "#1004"] {
        assert!(
            intro.content().contains(needed),
            "no {needed} in the thread intro"
        );
    }
    assert_eq!(intro.buttons(), ["/handback"]);

    // 3. Alice arrives: the queue is the first thing she sees.
    dc.message(ALICE, "alice", STAFF_CHANNEL, "!help");
    let first = nth_post(&dc, STAFF_CHANNEL, 1).await;
    assert!(
        first.content().starts_with("Waiting for a person (1)"),
        "{}",
        first.content()
    );

    // 4. Alice answers in the thread; Ann reads it on Telegram.
    dc.message(
        ALICE,
        "alice",
        thread,
        "Hi Ann, I'm checking order 1004 with the carrier now.",
    );
    let relayed = ann_says(3).await;
    println!("Ann (Telegram) receives: {relayed}");
    assert_eq!(
        relayed,
        "alice (store team): Hi Ann, I'm checking order 1004 with the carrier now."
    );

    // 5. Ann's messages arrive in the thread; the bot stays silent, even for commands.
    tg.say(7001, "Thank you! It was due last week.", "en");
    tg.say(7001, "/orders", "en");
    nth_post(&dc, thread, 3).await;
    let in_thread: Vec<String> = dc.read(|s| {
        s.in_channel(thread)
            .iter()
            .map(|p| p.content().to_string())
            .collect()
    });
    println!("The thread shows: {in_thread:#?}");
    assert_eq!(
        in_thread[1],
        "Ann Lee (customer #1): Thank you! It was due last week."
    );
    assert_eq!(in_thread[2], "Ann Lee (customer #1): /orders");
    tg.wait_for("Ann's messages confirmed", |s| s.pending_ids().is_empty())
        .await;
    assert_eq!(
        tg.sent_to(7001),
        3,
        "the bot stayed silent: {:?}",
        tg.texts_to(7001)
    );

    // 6. Alice hands the conversation back with the thread's button.
    let back = dc.press(ALICE, &intro, "/handback");
    let done = response(&dc, &back, "the handback").await;
    assert!(done.contains("Handed back to the bot"), "{done}");
    let told = ann_says(4).await;
    assert!(told.contains("back with the store's assistant"), "{told}");

    // 7. The bot answers Ann again.
    tg.say(7001, "/orders", "en");
    assert!(ann_says(5).await.contains("#1001"));

    // 8. The whole exchange is in Ann's history.
    let token = dc.slash(ALICE, "history", STAFF_CHANNEL, &[("customer_number", "1")]);
    let history = response(&dc, &token, "/history 1").await;
    println!("/history 1:\n{history}");
    for needed in [
        "telegram:7001",
        "staff:alice",
        "Thank you!",
        "back with the store's assistant",
    ] {
        assert!(history.contains(needed), "no {needed} in the history");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_staff_online_the_customer_is_told_a_person_is_coming() {
    let shop = shop().await;
    let dc = FakeDiscord::start().await;
    let tg = FakeTelegram::start().await;
    let mut config = config(&dc);
    config.telegram.token = fakes::telegram::TOKEN.into();
    config.telegram.api_url = tg.url.clone();
    config.telegram.poll_timeout_secs = 1;
    let _channels = running(&shop, &config, &dc).await;

    dc.message(BOB, "bob", STAFF_CHANNEL, "!queue");
    let empty = nth_post(&dc, STAFF_CHANNEL, 1).await;
    assert!(
        empty.content().contains("Nobody is waiting"),
        "{}",
        empty.content()
    );

    tg.say(7002, "我要人工客服", "zh");
    tg.wait_for("王芳's answer", |s| s.to_chat(7002).len() == 1)
        .await;
    let told = tg.texts_to(7002)[0].clone();
    assert!(told.contains("已为您联系客服人员"), "{told}");
    dc.wait_for("the thread", |s| !s.threads.is_empty()).await;
    let thread = dc.read(|s| s.threads[0].0);
    let intro = nth_post(&dc, thread, 1).await;
    assert!(
        intro.content().contains("Online now: staff:bob"),
        "{}",
        intro.content()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_answers_reach_a_web_visitor_live() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let shop = shop().await;
    let dc = FakeDiscord::start().await;
    let mut config = config(&dc);
    config.web.enabled = true;
    let channels = running(&shop, &config, &dc).await;
    let addr = fakes::serve(channels.router).await;
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/chat/ws"))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let mut next = async || loop {
        let Some(Ok(Message::Text(t))) = stream.next().await else {
            panic!("the socket closed");
        };
        let frame: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
        if frame["type"] != "typing" && frame["type"] != "token" {
            return frame;
        }
    };
    let frame = |frame: serde_json::Value| Message::Text(frame.to_string().into());

    sink.send(frame(serde_json::json!({"type": "hello"})))
        .await
        .unwrap();
    assert_eq!(next().await["type"], "welcome");
    sink.send(frame(
        serde_json::json!({"type": "message", "id": "h", "text": "/human"}),
    ))
    .await
    .unwrap();
    let told = next().await;
    assert!(told["text"].as_str().unwrap().contains("queue"), "{told}");

    dc.wait_for("the visitor's thread", |s| !s.threads.is_empty())
        .await;
    let thread = dc.read(|s| s.threads[0].0);
    dc.message(ALICE, "alice", thread, "Hello! How can I help?");
    let pushed = next().await;
    assert_eq!(pushed["type"], "message");
    assert_eq!(pushed["text"], "alice (store team): Hello! How can I help?");
}
