//! Keeps the index in step with knowledge/ and the catalogue, incrementally.
//!
//! Every chunk has a stable id and a content hash. The SQL store records what was ingested;
//! an ingest embeds only chunks that are new, changed, or missing from the index (an index
//! that lost unflushed writes is repaired this way), and removes chunks whose document or
//! product is gone. The record is written after the index, so a crash in between only
//! causes the same chunks to be embedded again.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use super::Knowledge;
use super::knowledge::{self, Chunk};
use crate::clock::Timestamp;
use crate::store::{Store, catalog};

/// Chunks embedded and written together.
const BATCH: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub documents: usize,
    pub products: usize,
    pub chunks: usize,
    pub embedded: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub seconds: f64,
    /// Documents whose chunks were (re-)embedded.
    pub changed_documents: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ingested {} documents and {} products ({} chunks) in {:.1} s: {} embedded, {} unchanged, {} removed.",
            self.documents,
            self.products,
            self.chunks,
            self.seconds,
            self.embedded,
            self.unchanged,
            self.removed
        )?;
        if !self.changed_documents.is_empty() {
            write!(f, "\nChanged: {}", self.changed_documents.join(", "))?;
        }
        Ok(())
    }
}

/// How far an ingest is: chunks done of chunks to embed.
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// Every chunk the index should hold: knowledge/ documents and the store's products.
pub async fn wanted(store: &Store, dir: &Path) -> anyhow::Result<(Vec<Chunk>, usize, usize)> {
    let documents = knowledge::load_dir(dir)?;
    let mut chunks: Vec<Chunk> = documents.iter().flat_map(knowledge::chunk).collect();
    let mut conn = store.pool().acquire().await?;
    let products = catalog::all(&mut conn).await?;
    for p in &products {
        chunks.extend(knowledge::product_chunks(
            &p.sku,
            &p.title,
            p.title_zh.as_deref(),
            &p.description,
            &p.category,
        ));
    }
    Ok((chunks, documents.len(), products.len()))
}

pub async fn ingest(
    knowledge: &Knowledge,
    store: &Store,
    dir: &Path,
    now: Timestamp,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<Report> {
    let start = Instant::now();
    let (chunks, documents, products) = wanted(store, dir).await?;
    let mut conn = store.pool().acquire().await?;
    let recorded = crate::store::knowledge::recorded(&mut conn).await?;
    let indexed: HashSet<u64> = knowledge.index().ids().await?.into_iter().collect();
    let todo: Vec<&Chunk> = chunks
        .iter()
        .filter(|c| recorded.get(&c.id) != Some(&c.hash) || !indexed.contains(&c.id))
        .collect();
    let keep: HashSet<u64> = chunks.iter().map(|c| c.id).collect();
    let gone: Vec<u64> = recorded
        .keys()
        .chain(indexed.iter())
        .filter(|id| !keep.contains(id))
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();

    let total = todo.len();
    progress(Progress { done: 0, total });
    for (i, batch) in todo.chunks(BATCH).enumerate() {
        let owned: Vec<Chunk> = batch.iter().map(|c| (*c).clone()).collect();
        let points = knowledge.points(&owned).await?;
        knowledge.index().upsert(points).await?;
        for c in &owned {
            crate::store::knowledge::record(&mut conn, c.id, &c.doc, &c.language, &c.hash, now)
                .await?;
        }
        progress(Progress {
            done: (i * BATCH + batch.len()).min(total),
            total,
        });
    }
    if !gone.is_empty() {
        knowledge.index().delete(gone.clone()).await?;
        for id in &gone {
            crate::store::knowledge::forget(&mut conn, *id).await?;
        }
    }
    let mut changed: Vec<String> = todo
        .iter()
        .filter(|c| c.doc_type != "product")
        .map(|c| format!("{} ({})", c.doc, c.language))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    changed.sort();
    Ok(Report {
        documents,
        products,
        chunks: chunks.len(),
        embedded: total,
        unchanged: chunks.len() - total,
        removed: gone.len(),
        seconds: start.elapsed().as_secs_f64(),
        changed_documents: changed,
    })
}

/// Opens the configured knowledge and brings the index up to date (only what is new,
/// changed or missing is embedded). `None`, with the reason logged, when no embedder is
/// installed.
pub async fn open_and_sync(
    config: &crate::config::Config,
    store: &Store,
    now: Timestamp,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<Option<std::sync::Arc<Knowledge>>> {
    if !super::embedder_present(&config.retrieval.embedder_path) {
        tracing::warn!(
            path = %config.retrieval.embedder_path.display(),
            "no embedder here, so policy questions are not answered from knowledge/; run scripts/fetch-models"
        );
        return Ok(None);
    }
    let knowledge = Knowledge::open(config)?;
    let report = ingest(
        &knowledge,
        store,
        &config.retrieval.knowledge_dir,
        now,
        progress,
    )
    .await?;
    tracing::info!(
        chunks = report.chunks,
        embedded = report.embedded,
        removed = report.removed,
        seconds = report.seconds,
        "knowledge index up to date"
    );
    Ok(Some(std::sync::Arc::new(knowledge)))
}

/// The index as the last ingest left it, without updating it (for `chat`, which may run
/// beside a `serve` that owns the index). `None`, with a hint, when there is none yet.
pub fn open_existing(
    config: &crate::config::Config,
) -> anyhow::Result<Option<std::sync::Arc<Knowledge>>> {
    let indexed = config
        .data_dir
        .join("index")
        .join("edge_config.json")
        .exists();
    if !super::embedder_present(&config.retrieval.embedder_path) || !indexed {
        eprintln!("No knowledge index yet: run `shopdesk ingest` for answers from knowledge/.");
        return Ok(None);
    }
    Ok(Some(std::sync::Arc::new(Knowledge::open(config)?)))
}

/// A progress line on stderr, redrawn in place: `ingest: 120/1060 chunks`.
pub fn print_progress(p: Progress) {
    use std::io::Write;
    if p.total == 0 {
        return;
    }
    let width = 30;
    let filled = width * p.done / p.total;
    eprint!(
        "\ringest: [{}{}] {}/{} chunks",
        "#".repeat(filled),
        " ".repeat(width - filled),
        p.done,
        p.total
    );
    if p.done == p.total {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
}

/// Progress as log lines, every quarter (for `serve`, whose stderr is a log).
pub fn log_progress(p: Progress) {
    if p.total > 0
        && (p.done == p.total
            || p.done * 4 / p.total != (p.done.saturating_sub(BATCH)) * 4 / p.total)
    {
        tracing::info!(done = p.done, total = p.total, "embedding knowledge chunks");
    }
}
