//! The store's knowledge, searchable: policies and FAQ (knowledge/) and the catalogue, in a
//! vector index, found by meaning and by words together.
//!
//! Every chunk is indexed twice: a dense sentence embedding ([`embed`]) and a BM25 sparse
//! vector over its tokens (qdrant-edge's multilingual tokenizer for Chinese, which segments
//! words). A hybrid search runs both and fuses the rankings by reciprocal rank; the default
//! English embedder scores Chinese near zero, so Chinese leans on the BM25 side. Filters
//! keep a search to one language, one document type, and documents already in effect.
//!
//! [`VectorStore`] is the index; [`edge`] is the embedded one. [`ingest`] keeps it in step
//! with knowledge/ and the catalogue.

pub mod edge;
pub mod embed;
pub mod ingest;
pub mod knowledge;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use qdrant_edge::bm25_embed::{EdgeBm25, EdgeBm25Config};
use qdrant_edge::TokenizerType;
use serde_json::{Value, json};

use crate::config::Config;
use embed::Embedder;
use knowledge::Chunk;

/// A point as the index stores it.
#[derive(Debug, Clone)]
pub struct IndexPoint {
    pub id: u64,
    pub dense: Vec<f32>,
    /// (token ids, weights) of the BM25 vector.
    pub sparse: (Vec<u32>, Vec<f32>),
    pub payload: Value,
}

/// What to search with.
#[derive(Debug, Clone)]
pub enum Probe {
    Dense(Vec<f32>),
    Sparse(Vec<u32>, Vec<f32>),
}

#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    pub language: Option<String>,
    pub doc_type: Option<String>,
    /// Only documents in effect on this day (days since 1970-01-01).
    pub effective_on_day: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
    pub payload: Value,
}

/// The vector index: embedded (qdrant-edge) by default.
#[async_trait]
pub trait VectorStore: Send + Sync {
    async fn upsert(&self, points: Vec<IndexPoint>) -> anyhow::Result<()>;
    async fn delete(&self, ids: Vec<u64>) -> anyhow::Result<()>;
    async fn nearest(&self, probe: Probe, filter: &SearchFilter, limit: usize) -> anyhow::Result<Vec<Hit>>;
    /// Every point id the index holds.
    async fn ids(&self) -> anyhow::Result<Vec<u64>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dense,
    Bm25,
    Hybrid,
}

/// A retrieved passage with what it is cited as and how well it matched.
#[derive(Debug, Clone)]
pub struct Passage {
    pub doc: String,
    pub title: String,
    pub section: u32,
    pub heading: String,
    pub language: String,
    pub doc_type: String,
    pub text: String,
    /// Cosine similarity with the question, when the dense search found it.
    pub dense: Option<f32>,
    /// BM25 score, when the word search found it.
    pub bm25: Option<f32>,
}

impl Passage {
    /// "Returns and refunds §2": from the chunk's metadata, never from model output.
    pub fn citation(&self) -> String {
        if self.section == 0 {
            self.title.clone()
        } else {
            format!("{} §{}", self.title, self.section)
        }
    }

    /// The passage without its "title — heading" first line.
    pub fn body(&self) -> &str {
        self.text.split_once('\n').map_or(&self.text, |(_, rest)| rest)
    }
}

/// Candidates each side of a hybrid search contributes before fusion.
const CANDIDATES: usize = 40;
/// Reciprocal rank fusion's damping constant (the classic value).
const RRF_K: f32 = 60.0;

pub struct Knowledge {
    embedder: Arc<Embedder>,
    bm25_en: EdgeBm25,
    bm25_zh: EdgeBm25,
    index: Arc<dyn VectorStore>,
    min_dense: f32,
    min_bm25: f32,
}

impl Knowledge {
    /// The embedder and index the configuration names (the index under data_dir/index).
    pub fn open(config: &Config) -> anyhow::Result<Knowledge> {
        let embedder = Embedder::load(&config.retrieval.embedder_path)?;
        let dir = config.data_dir.join("index");
        let index = edge::EdgeIndex::open(&dir, embedder.dimension())?;
        Knowledge::new(
            Arc::new(embedder),
            Arc::new(index),
            config.retrieval.min_dense_score as f32,
            config.retrieval.min_bm25_score as f32,
        )
    }

    pub fn new(
        embedder: Arc<Embedder>,
        index: Arc<dyn VectorStore>,
        min_dense: f32,
        min_bm25: f32,
    ) -> anyhow::Result<Knowledge> {
        let bm25 = |config: EdgeBm25Config| {
            EdgeBm25::new(config).map_err(|e| anyhow::anyhow!("BM25 tokenizer: {e:?}"))
        };
        Ok(Knowledge {
            embedder,
            bm25_en: bm25(EdgeBm25Config::default())?,
            bm25_zh: bm25(EdgeBm25Config {
                tokenizer: TokenizerType::Multilingual,
                language: Some("zh".into()),
                ..Default::default()
            })?,
            index,
            min_dense,
            min_bm25,
        })
    }

    pub fn index(&self) -> &Arc<dyn VectorStore> {
        &self.index
    }

    fn bm25(&self, language: &str) -> &EdgeBm25 {
        if language.starts_with("zh") {
            &self.bm25_zh
        } else {
            &self.bm25_en
        }
    }

    /// Dense embeddings of `texts`, computed off the async threads.
    pub async fn embed(&self, texts: Vec<String>) -> anyhow::Result<Vec<Vec<f32>>> {
        let embedder = self.embedder.clone();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            embedder.embed(&refs)
        })
        .await?
    }

    /// The index points for `chunks` (embedded in one batch).
    pub async fn points(&self, chunks: &[Chunk]) -> anyhow::Result<Vec<IndexPoint>> {
        let dense = self.embed(chunks.iter().map(|c| c.text.clone()).collect()).await?;
        Ok(chunks
            .iter()
            .zip(dense)
            .map(|(c, dense)| {
                let sparse = self.bm25(&c.language).embed_document(&c.text);
                IndexPoint {
                    id: c.id,
                    dense,
                    sparse: (sparse.indices, sparse.values),
                    payload: json!({
                        "doc": c.doc, "title": c.title, "section": c.section, "heading": c.heading,
                        "language": c.language, "doc_type": c.doc_type, "text": c.text,
                        "effective_day": effective_day(&c.effective),
                    }),
                }
            })
            .collect())
    }

    /// The best `k` passages for `question` in `language`, in effect today.
    pub async fn search(&self, question: &str, language: &str, mode: Mode, k: usize) -> anyhow::Result<Vec<Passage>> {
        let filter = SearchFilter {
            language: Some(if language.starts_with("zh") { "zh" } else { "en" }.to_string()),
            doc_type: None,
            effective_on_day: Some(chrono::Utc::now().timestamp().div_euclid(86_400)),
        };
        self.search_filtered(question, &filter, mode, k).await
    }

    pub async fn search_filtered(
        &self,
        question: &str,
        filter: &SearchFilter,
        mode: Mode,
        k: usize,
    ) -> anyhow::Result<Vec<Passage>> {
        let language = filter.language.as_deref().unwrap_or("en");
        let dense = if mode == Mode::Bm25 {
            Vec::new()
        } else {
            let vector = self.embed(vec![question.to_string()]).await?.remove(0);
            self.index.nearest(Probe::Dense(vector), filter, CANDIDATES).await?
        };
        let sparse = if mode == Mode::Dense {
            Vec::new()
        } else {
            let q = self.bm25(language).embed_query(question);
            self.index
                .nearest(Probe::Sparse(q.indices, q.values), filter, CANDIDATES)
                .await?
        };
        Ok(fuse(&dense, &sparse, k))
    }

    /// Whether the best passage answers well enough to be shown; otherwise the bot says it
    /// is not sure and offers a person.
    pub fn confident(&self, best: &Passage) -> bool {
        best.dense.is_some_and(|d| d >= self.min_dense) || best.bm25.is_some_and(|b| b >= self.min_bm25)
    }
}

/// Reciprocal rank fusion of the two rankings; each passage keeps both raw scores.
fn fuse(dense: &[Hit], sparse: &[Hit], k: usize) -> Vec<Passage> {
    let mut fused: HashMap<u64, (f32, Option<f32>, Option<f32>, &Value)> = HashMap::new();
    for (rank, hit) in dense.iter().enumerate() {
        let e = fused.entry(hit.id).or_insert((0.0, None, None, &hit.payload));
        e.0 += 1.0 / (RRF_K + rank as f32 + 1.0);
        e.1 = Some(hit.score);
    }
    for (rank, hit) in sparse.iter().enumerate() {
        let e = fused.entry(hit.id).or_insert((0.0, None, None, &hit.payload));
        e.0 += 1.0 / (RRF_K + rank as f32 + 1.0);
        e.2 = Some(hit.score);
    }
    let mut ranked: Vec<_> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(k)
        .map(|(_, (_, dense, bm25, payload))| {
            let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            Passage {
                doc: text("doc"),
                title: text("title"),
                section: payload.get("section").and_then(Value::as_u64).unwrap_or(0) as u32,
                heading: text("heading"),
                language: text("language"),
                doc_type: text("doc_type"),
                text: text("text"),
                dense,
                bm25,
            }
        })
        .collect()
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date; products (no date) are always in effect.
fn effective_day(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp().div_euclid(86_400))
        .unwrap_or(0)
}

/// Whether `dir` holds an embedder (used to decide if retrieval can start at all).
pub fn embedder_present(dir: &Path) -> bool {
    dir.join("model.safetensors").exists()
}
