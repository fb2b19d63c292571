//! Confirmations and approvals: who may confirm what, exactly once, and not after expiry.
//! Driven through chat commands, as staff would use them, on SQLite and PostgreSQL.

mod common;

use common::*;
use shopdesk::clock::DAY;

/// The six-character code in a reply such as "... /confirm K7QX2M (expires ...)".
fn code_in(reply: &str) -> String {
    let at = reply
        .find("/confirm ")
        .unwrap_or_else(|| panic!("no code in: {reply}"));
    reply[at + 9..at + 15].to_string()
}

async fn purchase_orders(shop: &Shop) -> i64 {
    shop.count("SELECT COUNT(*) FROM purchase_orders").await
}

#[tokio::test]
async fn large_restock_is_confirmed_by_its_requester_once() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let reply = shop
            .say(&alice(), "/restock SKU-A 800 \"holiday season\"", None)
            .await;
        assert!(reply.contains("above the 500-unit limit"), "{reply}");
        let code = code_in(&reply);
        assert_eq!(
            purchase_orders(&shop).await,
            0,
            "nothing ordered before confirmation"
        );

        let reply = shop.say(&bob(), &format!("/confirm {code}"), None).await;
        assert!(reply.contains("only staff:alice can confirm"), "{reply}");
        let reply = shop.say(&root(), &format!("/confirm {code}"), None).await;
        assert!(
            reply.contains("only staff:alice can confirm"),
            "an admin cannot confirm someone else's own-confirmation: {reply}"
        );

        let reply = shop
            .say(&alice(), &format!("/confirm {}", code.to_lowercase()), None)
            .await;
        assert!(reply.contains("Purchase order PO-"), "{reply}");
        assert!(reply.contains("confirmed by staff:alice"), "{reply}");
        assert_eq!(purchase_orders(&shop).await, 1);

        let reply = shop.say(&alice(), &format!("/confirm {code}"), None).await;
        assert!(
            reply.contains("already confirmed by staff:alice"),
            "{reply}"
        );
        assert_eq!(
            purchase_orders(&shop).await,
            1,
            "a second confirmation does nothing"
        );
    }
}

#[tokio::test]
async fn big_reprice_needs_a_second_person() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let reply = shop
            .say(&alice(), "/reprice SKU-A 30.00 \"competitor raised\"", None)
            .await;
        assert!(reply.contains("beyond the 15% per-change limit"), "{reply}");
        let code = code_in(&reply);
        let reply = shop.say(&alice(), &format!("/confirm {code}"), None).await;
        assert!(
            reply.contains("can't confirm"),
            "the requester cannot approve: {reply}"
        );
        let reply = shop.say(&ann(), &format!("/confirm {code}"), None).await;
        assert!(
            reply.contains("can't confirm"),
            "a customer cannot approve: {reply}"
        );

        let reply = shop.say(&bob(), &format!("/confirm {code}"), None).await;
        assert!(reply.contains("now costs 30.00 USD"), "{reply}");
        assert!(
            reply.contains("Requested by staff:alice, confirmed by staff:bob"),
            "{reply}"
        );
        let (price,): (i64,) = sqlx::query_as("SELECT price FROM products WHERE sku = 'SKU-A'")
            .fetch_one(shop.store().pool())
            .await
            .unwrap();
        assert_eq!(price, 3000);
        let (by,): (String,) = sqlx::query_as("SELECT changed_by FROM price_history")
            .fetch_one(shop.store().pool())
            .await
            .unwrap();
        assert_eq!(by, "staff:alice");

        // Within the limit it applies at once.
        let reply = shop
            .say(&alice(), "/reprice SKU-A 31.00 \"round up\"", None)
            .await;
        assert!(reply.contains("now costs 31.00 USD"), "{reply}");
    }
}

#[tokio::test]
async fn guardrails_reject_prices_outside_floor_margin_and_ceiling() {
    let shop = Shop::new(Db::Sqlite).await;
    let reply = shop
        .say(&root(), "/reprice SKU-A 11.50 clearance", None)
        .await;
    assert!(
        reply.contains("below the lowest allowed price") && reply.contains("12.00 USD"),
        "{reply}"
    );
    let reply = shop.say(&root(), "/reprice SKU-A 45 greed", None).await;
    assert!(reply.contains("above the ceiling"), "{reply}");
    assert_eq!(shop.count("SELECT COUNT(*) FROM price_history").await, 0);
}

#[tokio::test]
async fn releasing_a_hold_needs_someone_other_than_its_placer() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let reply = shop.say(&bob(), "/release 1006", None).await;
        assert!(reply.contains("someone else must release it"), "{reply}");
        let code = code_in(&reply);
        let reply = shop.say(&bob(), &format!("/confirm {code}"), None).await;
        assert!(reply.contains("can't confirm"), "{reply}");
        let reply = shop.say(&alice(), &format!("/confirm {code}"), None).await;
        assert!(reply.contains("released from hold"), "{reply}");
        assert!(reply.contains("confirmed by staff:alice"), "{reply}");
        let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = 1006")
            .fetch_one(shop.store().pool())
            .await
            .unwrap();
        assert_eq!(status, "paid", "back to the status it had before the hold");
    }
}

#[tokio::test]
async fn codes_expire() {
    let shop = Shop::new(Db::Sqlite).await;
    let code = code_in(
        &shop
            .say(&alice(), "/restock SKU-A 900 \"big event\"", None)
            .await,
    );
    shop.clock.advance(16 * 60);
    let reply = shop.say(&alice(), &format!("/confirm {code}"), None).await;
    assert!(reply.contains("expired"), "{reply}");
    assert_eq!(purchase_orders(&shop).await, 0);
    shop.clock.advance(DAY);
    assert!(
        shop.say(&alice(), "/confirm QQQQQQ", None)
            .await
            .contains("no pending request")
    );
}

#[tokio::test]
async fn concurrent_confirmations_execute_once() {
    for db in BOTH {
        let shop = Shop::new(db).await;
        let code = code_in(
            &shop
                .say(&alice(), "/reprice SKU-A 35.00 \"new model\"", None)
                .await,
        );
        let mut tasks = Vec::new();
        for (i, who) in [bob(), root(), bob(), root()].into_iter().enumerate() {
            let engine = shop.engine.clone();
            let text = format!("/confirm {code}");
            tasks.push(tokio::spawn(async move {
                let inbound = shopdesk::port::Inbound::text(who, "c", text)
                    .with_event_id(format!("confirm-{i}"));
                use shopdesk::port::Handler;
                engine.handle(inbound).await.collect().await.unwrap().text
            }));
        }
        let mut applied = 0;
        for t in tasks {
            let reply = t.await.unwrap();
            if reply.contains("now costs") {
                applied += 1;
            } else {
                assert!(
                    reply.contains("already confirmed") || reply.contains("just confirmed"),
                    "{reply}"
                );
            }
        }
        assert_eq!(applied, 1);
        assert_eq!(shop.count("SELECT COUNT(*) FROM price_history").await, 1);
    }
}
