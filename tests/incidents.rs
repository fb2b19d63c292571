//! Incident mode from alert to resolution on the demo store: the detectors see the planted
//! late FedEx shipments in US-West and an injected spike of "where is my parcel" messages;
//! staff start an incident; affected customers see its notice first (once), others do not;
//! repricing suggestions freeze; staff close it with a summary. Run with --nocapture to read it.

mod common;

use common::*;
use shopdesk::clock::ManualClock;
use shopdesk::config::Config;
use shopdesk::ops::incidents;
use shopdesk::port::{Channel, Identity};
use shopdesk::seed::{SeedOptions, seed_demo};

fn persona(customer: i64) -> Identity {
    Identity::new(Channel::Cli, format!("customer:{customer}"))
}

#[tokio::test]
async fn incident_from_alert_to_resolution() {
    let db = TestDb::new(Db::Sqlite).await;
    let planted = seed_demo(&db.store, &SeedOptions::demo(NOW), &|_| {})
        .await
        .unwrap()
        .planted;
    let clock = ManualClock::new(NOW);
    let engine = std::sync::Arc::new(engine_for(&db.store, clock.clone(), Config::default()));
    let shop = Shop { engine, clock, db };

    // Complaints pour in: 30 "where is my parcel" messages in the last hour.
    let (conversation,): (i64,) = sqlx::query_as(
        "INSERT INTO conversations (channel, external_id, owner, state, created_at, updated_at) VALUES ('web', 'w-1', 'bot', '{}', $1, $1) RETURNING id",
    )
    .bind(NOW)
    .fetch_one(shop.store().pool())
    .await
    .unwrap();
    for i in 0..30 {
        sqlx::query("INSERT INTO messages (conversation_id, direction, sender, text, created_at, intent) VALUES ($1, 'in', 'guest', 'where is my parcel??', $2, 'where_is_my_parcel')")
            .bind(conversation)
            .bind(NOW - 60 * i)
            .execute(shop.store().pool())
            .await
            .unwrap();
    }

    let mut conn = shop.store().pool().acquire().await.unwrap();
    let alerts = incidents::detect_and_raise(&mut conn, &Config::default().fraud, NOW)
        .await
        .unwrap();
    for a in &alerts {
        println!("{}", a.render());
    }
    let late = alerts
        .iter()
        .find(|a| a.kind == "late_shipments")
        .expect("a late-shipment alert");
    assert_eq!(
        late.subject,
        format!("{} in {}", planted.late_carrier, planted.late_region)
    );
    assert!(
        alerts.iter().any(|a| a.kind == "intent_spike"),
        "the complaint spike is seen"
    );
    for sku in &planted.stockout_skus {
        assert!(
            alerts
                .iter()
                .any(|a| a.kind == "stockout" && &a.subject == sku),
            "stock-out {sku} alerted"
        );
    }
    assert!(
        alerts
            .iter()
            .all(|a| !(a.kind == "late_shipments" && a.subject != late.subject)),
        "other lanes stay quiet"
    );
    let again = incidents::detect_and_raise(&mut conn, &Config::default().fraud, NOW)
        .await
        .unwrap();
    assert!(again.is_empty(), "each alert is raised once a day");

    let affected: (i64,) = sqlx::query_as(
        "SELECT o.customer_id FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.id = $1",
    )
    .bind(planted.late_shipment_ids[0])
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let (unaffected,): (i64,) = sqlx::query_as(
        "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o JOIN shipments s ON s.order_id = o.id \
         WHERE o.customer_id = c.id AND s.delivered_at IS NULL) ORDER BY c.id LIMIT 1",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    drop(conn);

    let alice = discord("100000000000000001");
    let started = shop
        .say(&alice, "/incident start \"FedEx delays in US-West\" \"FedEx parcels to the US West Coast are running 3-5 days late. Nothing is lost: we are on it and will refund shipping on request.\" carrier=FedEx region=US-West", None)
        .await;
    println!("{started}");
    assert!(
        started.contains("Incident #1 started (FedEx in US-West)"),
        "{started}"
    );

    let first = shop.say(&persona(affected.0), "/orders", None).await;
    assert!(
        first.starts_with("📢 FedEx parcels to the US West Coast"),
        "the notice comes first: {first}"
    );
    let second = shop.say(&persona(affected.0), "/orders", None).await;
    assert!(!second.contains("📢"), "once per conversation");
    let other = shop.say(&persona(unaffected), "/orders", None).await;
    assert!(
        !other.contains("📢"),
        "customers outside the scope are not told: {other}"
    );

    let prices = shop.say(&alice, "/prices", None).await;
    assert!(prices.contains("frozen while incident #1"), "{prices}");

    shop.clock.advance(3 * 3600);
    let status = shop.say(&alice, "/incident status", None).await;
    println!("{status}");
    assert!(
        status.contains("notice_shown: customer:") && status.contains("late shipments"),
        "{status}"
    );

    let ended = shop
        .say(
            &alice,
            "/incident end FedEx cleared the backlog at the Portland hub",
            None,
        )
        .await;
    println!("{ended}");
    assert!(
        ended.contains("is closed") && ended.contains("notice shown to 1 customers"),
        "{ended}"
    );
    assert!(
        shop.say(&alice, "/incident status", None)
            .await
            .starts_with("No incident is open.")
    );
    assert!(!shop.say(&alice, "/prices 1", None).await.contains("frozen"));
}
