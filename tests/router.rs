//! The intent router on the held-out test split of intents/ (never routed), English and
//! Chinese, and on out-of-scope messages it must not force into an intent.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shopdesk::engine::router::{self, Router};
use shopdesk::retrieval::embed::Embedder;

#[test]
fn the_router_classifies_the_held_out_split_and_leaves_out_of_scope_messages_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let embedder_dir = root.join("models/all-MiniLM-L6-v2");
    if !embedder_dir.join("model.safetensors").exists() {
        assert!(
            std::env::var_os("SHOPDESK_REQUIRE_MODEL").is_none(),
            "the embedder is missing: run scripts/fetch-models"
        );
        eprintln!("skipped: run scripts/fetch-models for the embedder");
        return;
    }
    let intents = router::load(&root.join("intents")).unwrap();
    let router = Router::build(
        intents.clone(),
        Arc::new(Embedder::load(&embedder_dir).unwrap()),
    )
    .unwrap();
    println!(
        "| language | in-scope accuracy | out-of-scope declined | overall | mean latency | p99 |"
    );
    println!("|---|---|---|---|---|---|");
    let mut overall = Vec::new();
    for lang in ["en", "zh"] {
        let (mut right, mut total, mut declined, mut oos) = (0, 0, 0, 0);
        let mut times = Vec::new();
        for intent in &intents {
            for text in intent.test.of(lang) {
                let start = Instant::now();
                let routed = router.route(text, lang).unwrap();
                times.push(start.elapsed());
                let chosen = routed.as_ref().map(|r| r.intent.as_str());
                if intent.name == "out_of_scope" {
                    oos += 1;
                    if chosen.is_none() {
                        declined += 1;
                    } else {
                        println!("  [{lang}] out of scope {text:?} → {chosen:?}");
                    }
                } else {
                    total += 1;
                    if chosen == Some(intent.name.as_str()) {
                        right += 1;
                    } else {
                        println!(
                            "  [{lang}] {text:?}: expected {}, got {chosen:?}",
                            intent.name
                        );
                    }
                }
            }
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        let accuracy = right as f64 / total as f64;
        let all = (right + declined) as f64 / (total + oos) as f64;
        println!(
            "| {lang} | {right}/{total} = {:.1}% | {declined}/{oos} | {:.1}% | {:.1} ms | {:.1} ms |",
            100.0 * accuracy,
            100.0 * all,
            mean.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
        overall.push(all);
    }
    // The goal is 0.9; measured here: about 0.65 (en) and 0.52 (zh) with the
    // English-only default embedder. This guards against regressions.
    assert!(
        overall[0] >= 0.6 && overall[1] >= 0.45,
        "router accuracy {overall:?}"
    );
}
