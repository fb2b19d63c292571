//! Exactly-once effects: the same delivery twice (in a row, at the same time, or after a
//! restart) has one effect and one answer, while a genuinely new request with the same
//! arguments is a new effect. On SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use common::*;
use shopdesk::config::Config;
use shopdesk::port::{Channel, Handler, Inbound, Reply};
use shopdesk::store::Store;

async fn purchase_orders(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM purchase_orders")
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn duplicate_delivery_acts_and_answers_once() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let first = shop
            .say(
                &alice(),
                "/restock SKU-A 40 \"supplier delay\"",
                Some("m-1"),
            )
            .await;
        assert!(first.contains("Purchase order PO-"), "{first}");
        let again = shop
            .say(
                &alice(),
                "/restock SKU-A 40 \"supplier delay\"",
                Some("m-1"),
            )
            .await;
        assert_eq!(again, "", "a redelivery gets no second answer");
        assert_eq!(purchase_orders(shop.store()).await, 1);

        // Same words, new message: a new request, a new effect.
        let second = shop
            .say(
                &alice(),
                "/restock SKU-A 40 \"supplier delay\"",
                Some("m-2"),
            )
            .await;
        assert!(second.contains("Purchase order PO-"), "{second}");
        assert_eq!(purchase_orders(shop.store()).await, 2);
        assert_eq!(
            shop.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
                .await,
            2,
            "the redelivery is not stored twice"
        );
    }
}

#[tokio::test]
async fn concurrent_deliveries_act_once() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let engine = shop.engine.clone();
            tasks.push(tokio::spawn(async move {
                let inbound = Inbound::text(alice(), "c", "/restock SKU-A 40 \"supplier delay\"")
                    .with_event_id("m-42");
                match engine.handle(inbound).await {
                    Reply::Duplicate => None,
                    reply => Some(reply.collect().await.unwrap().text),
                }
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.extend(t.await.unwrap());
        }
        assert_eq!(answers.len(), 1, "{answers:?}");
        assert_eq!(purchase_orders(shop.store()).await, 1, "{db:?}");
    }
}

#[tokio::test]
async fn concurrent_tool_calls_with_one_key_act_once() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let staff = actor(shopdesk::policy::Role::Staff, None, Some("alice"));
        let call = shopdesk::tools::ToolCall::from_json(
            "restock",
            serde_json::json!({"sku": "SKU-A", "quantity": 5, "reason": "same key"}),
        )
        .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let toolbox = shop.toolbox().clone();
            let (staff, call) = (staff.clone(), call.clone());
            tasks.push(tokio::spawn(async move {
                toolbox
                    .invoke(&staff, &call, "discord:m-7:0")
                    .await
                    .unwrap()
                    .text()
                    .to_string()
            }));
        }
        let mut texts = Vec::new();
        for t in tasks {
            texts.push(t.await.unwrap());
        }
        assert!(
            texts.iter().all(|t| *t == texts[0]),
            "every caller sees the one answer: {texts:?}"
        );
        assert_eq!(purchase_orders(shop.store()).await, 1, "{db:?}");
        let (replays,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE outcome = 'replayed'")
                .fetch_one(shop.store().pool())
                .await
                .unwrap();
        assert_eq!(replays, 7);
    }
}

#[tokio::test]
async fn redelivery_after_restart_is_not_answered_again() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        shop.say(
            &alice(),
            "/restock SKU-A 40 \"supplier delay\"",
            Some("u-100"),
        )
        .await;
        // A new process: new engine, new instance id, same database.
        let restarted = Store::open(&shop.db.url).await.unwrap();
        let engine = engine_for(&restarted, shop.clock.clone(), unlimited());
        let inbound = Inbound::text(alice(), "c", "/restock SKU-A 40 \"supplier delay\"")
            .with_event_id("u-100");
        assert!(matches!(engine.handle(inbound).await, Reply::Duplicate));
        assert_eq!(purchase_orders(&restarted).await, 1);
    }
}

#[tokio::test]
async fn unfinished_delivery_is_finished_after_restart_without_acting_twice() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        // The first process took delivery u-200 and applied its effect, then died before
        // recording the reply: the event is unfinished and the effect's key is used.
        shop.say(
            &alice(),
            "/restock SKU-A 40 \"supplier delay\"",
            Some("u-200"),
        )
        .await;
        sqlx::query("UPDATE processed_events SET done_at = NULL, handler = 'dead-process' WHERE event_id = 'u-200'")
            .execute(shop.store().pool())
            .await
            .unwrap();

        let engine = Arc::new(engine_for(
            shop.store(),
            shop.clock.clone(),
            Config::default(),
        ));
        let inbound = Inbound::text(alice(), "c", "/restock SKU-A 40 \"supplier delay\"")
            .with_event_id("u-200");
        let reply = engine
            .handle(inbound.clone())
            .await
            .collect()
            .await
            .expect("the unfinished delivery is answered");
        assert!(
            reply.text.contains("Purchase order PO-1"),
            "the stored answer is replayed: {}",
            reply.text
        );
        assert_eq!(
            purchase_orders(shop.store()).await,
            1,
            "the effect did not happen twice"
        );
        engine.delivered(Channel::Discord, "u-200").await;
        assert!(matches!(engine.handle(inbound).await, Reply::Duplicate));
    }
}

#[tokio::test]
async fn a_reply_never_shown_is_sent_again_and_only_until_it_is_shown() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let inbound = Inbound::text(alice(), "c", "/restock SKU-A 40 \"supplier delay\"")
            .with_event_id("u-300");
        // Handled, but the adapter never confirmed showing the reply (it crashed).
        let first = shop.engine.handle(inbound.clone()).await.collect().await;
        assert!(first.unwrap().text.contains("Purchase order PO-1"));
        let restarted = Store::open(&shop.db.url).await.unwrap();
        let engine = engine_for(&restarted, shop.clock.clone(), unlimited());
        let again = engine.handle(inbound.clone()).await.collect().await;
        assert!(
            again.unwrap().text.contains("Purchase order PO-1"),
            "the stored reply is shown"
        );
        assert_eq!(purchase_orders(&restarted).await, 1, "without acting again");
        engine.delivered(Channel::Discord, "u-300").await;
        assert!(matches!(engine.handle(inbound).await, Reply::Duplicate));
    }
}
