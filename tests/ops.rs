//! The store analytics on full demo stores: fraud scoring's precision and recall on a store
//! generated with another seed (its look-alikes must be left alone), the demand forecast's
//! error on held-out weeks against the seasonal naive forecast, the restock digest, price
//! suggestions, recommendations and automatic holds. Run with --nocapture for the figures.

mod common;

use std::collections::HashSet;

use common::*;
use shopdesk::clock::{DAY, ManualClock};
use shopdesk::config::Config;
use shopdesk::ops::{forecast, fraud, recommend};
use shopdesk::seed::{SeedOptions, seed_demo};
use shopdesk::store::catalog;

async fn demo(seed: u64) -> (TestDb, shopdesk::seed::Planted) {
    let db = TestDb::new(Db::Sqlite).await;
    let mut opts = SeedOptions::demo(NOW);
    opts.seed = seed;
    let report = seed_demo(&db.store, &opts, &|_| {}).await.unwrap();
    (db, report.planted)
}

#[tokio::test]
async fn fraud_scores_find_the_ring_and_leave_look_alikes_alone() {
    let (db, planted) = demo(7).await;
    let config = Config::default().fraud;
    let mut conn = db.store.pool().acquire().await.unwrap();
    let scores = fraud::scan(&mut conn, &config, NOW, NOW - 14 * DAY)
        .await
        .unwrap();
    let held: HashSet<i64> = scores
        .iter()
        .filter(|s| s.score >= config.hold_score)
        .map(|s| s.order_id)
        .collect();
    let alerted: HashSet<i64> = scores
        .iter()
        .filter(|s| s.score >= config.alert_score)
        .map(|s| s.order_id)
        .collect();
    let fraud: HashSet<i64> = planted.fraud_order_ids.iter().copied().collect();
    let lookalikes: HashSet<i64> = planted.lookalike_order_ids.iter().copied().collect();

    let true_positives = held.intersection(&fraud).count() as f64;
    let precision = true_positives / held.len().max(1) as f64;
    let recall = true_positives / fraud.len() as f64;
    let lookalikes_held = held.intersection(&lookalikes).count();
    let lookalikes_alerted = alerted.intersection(&lookalikes).count();
    println!(
        "fraud (seed 7, {} orders in 14 days): held {}, precision {precision:.3}, recall {recall:.3}; look-alikes held {lookalikes_held}/{}, alerted {lookalikes_alerted}/{}",
        scores.len(),
        held.len(),
        lookalikes.len(),
        lookalikes.len()
    );
    let example = scores.iter().find(|s| fraud.contains(&s.order_id)).unwrap();
    println!("example: {}", example.explain());
    assert!(
        precision >= 0.95 && recall >= 0.95,
        "precision {precision}, recall {recall}"
    );
    assert_eq!(lookalikes_held, 0);
}

#[tokio::test]
async fn forecast_beats_the_seasonal_naive_on_held_out_weeks() {
    let (db, _) = demo(42).await;
    let mut conn = db.store.pool().acquire().await.unwrap();
    const HOLDOUT: usize = 14;
    let cutoff = NOW - HOLDOUT as i64 * DAY;
    let history = forecast::daily_units(&mut conn, cutoff, forecast::HISTORY_DAYS)
        .await
        .unwrap();
    let actual = forecast::daily_units(&mut conn, NOW, HOLDOUT as i64)
        .await
        .unwrap();
    let (mut err_hw, mut err_naive, mut total) = (0.0, 0.0, 0.0);
    // Restock decisions use demand summed over weeks: score that too.
    let (mut week_hw, mut week_naive) = (0.0, 0.0);
    for (product, series) in &history {
        let truth = actual
            .get(product)
            .cloned()
            .unwrap_or_else(|| vec![0.0; HOLDOUT]);
        let hw = forecast::holt_winters(series, HOLDOUT).daily;
        let naive = forecast::seasonal_naive(series, HOLDOUT);
        for d in 0..HOLDOUT {
            err_hw += (hw[d] - truth[d]).abs();
            err_naive += (naive[d] - truth[d]).abs();
            total += truth[d];
        }
        for week in 0..HOLDOUT / 7 {
            let span = week * 7..week * 7 + 7;
            let sum = |v: &[f64]| v[span.clone()].iter().sum::<f64>();
            week_hw += (sum(&hw) - sum(&truth)).abs();
            week_naive += (sum(&naive) - sum(&truth)).abs();
        }
    }
    let (wape_hw, wape_naive) = (err_hw / total, err_naive / total);
    println!(
        "forecast over {} SKUs, {HOLDOUT} held-out days ({total} units): daily WAPE Holt-Winters {wape_hw:.3}, seasonal naive {wape_naive:.3}; weekly-total WAPE Holt-Winters {:.3}, seasonal naive {:.3}",
        history.len(),
        week_hw / total,
        week_naive / total
    );
    assert!(week_hw < week_naive);
    assert!(
        wape_hw < wape_naive,
        "Holt-Winters {wape_hw} vs naive {wape_naive}"
    );
}

#[tokio::test]
async fn digest_prices_and_alternatives_on_the_demo_store() {
    let (db, planted) = demo(42).await;
    let clock = ManualClock::new(NOW);
    let engine = engine_for(&db.store, clock, Config::default());
    let shop = Shop {
        db,
        clock: ManualClock::new(NOW),
        engine: std::sync::Arc::new(engine),
    };

    let digest = shop
        .say(&discord("100000000000000001"), "/digest 50", None)
        .await;
    println!("{digest}");
    for sku in &planted.stockout_skus {
        assert!(
            digest.contains(sku.as_str()),
            "the digest lists the stock-out {sku}"
        );
    }
    assert!(digest.contains("/restock "), "each line is approvable");

    let prices = shop
        .say(&discord("100000000000000001"), "/prices 5", None)
        .await;
    println!("{prices}");
    assert!(
        prices.contains("/reprice ") || prices.contains("No price changes"),
        "{prices}"
    );

    let stock = shop
        .say(
            &telegram("700001"),
            &format!("/stock {}", planted.stockout_skus[0]),
            None,
        )
        .await;
    println!("{stock}");
    assert!(
        stock.contains("out of stock")
            && stock.contains("In stock and often bought by the same customers"),
        "{stock}"
    );

    let mut conn = shop.store().pool().acquire().await.unwrap();
    let p = catalog::by_sku(&mut conn, &planted.stockout_skus[0])
        .await
        .unwrap()
        .unwrap();
    for alt in recommend::alternatives(&mut conn, &p, NOW, 3)
        .await
        .unwrap()
    {
        assert!(alt.available() > 0, "{} is in stock", alt.sku);
    }
}

#[tokio::test]
async fn automatic_holds_go_through_the_tools_once() {
    let (db, planted) = demo(7).await;
    let clock = ManualClock::new(NOW);
    let engine = engine_for(&db.store, clock, Config::default());
    let held = fraud::hold_high_scores(engine.toolbox(), NOW - 14 * DAY)
        .await
        .unwrap();
    let fraud: HashSet<i64> = planted.fraud_order_ids.iter().copied().collect();
    assert!(
        !held.is_empty() && held.iter().all(|s| fraud.contains(&s.order_id)),
        "only ring orders are held"
    );
    let again = fraud::hold_high_scores(engine.toolbox(), NOW - 14 * DAY)
        .await
        .unwrap();
    let holds: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM fraud_holds")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        holds.0 as usize,
        held.len(),
        "a second scan holds nothing twice (it reports {})",
        again.len()
    );
    let audited: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE actor = 'staff:fraud-detector' AND outcome = 'ok'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(audited.0 as usize, held.len());
}
