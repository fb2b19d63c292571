//! The embedded vector store: qdrant-edge on disk under the data directory, no separate
//! process.
//!
//! qdrant-edge 0.7 keeps updates only after `flush()` (its write-ahead log is not replayed
//! on load), and `flush()` panics if it races an update. So one writer thread owns every
//! update and flushes after each batch; searches run concurrently on the shared shard.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};

use async_trait::async_trait;
use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, Distance, EdgeConfigBuilder, EdgeShard, EdgeSparseVectorParamsBuilder,
    EdgeVectorParamsBuilder, FieldCondition, Filter, JsonPath, Match, Modifier, NamedQuery,
    PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum, QueryRequest, Range,
    ScoringQuery, ScrollRequest, SparseVector, UpdateOperation, ValueVariants, Vector,
    VectorInternal, Vectors, WithPayloadInterface, WithVector,
};

use super::{Hit, IndexPoint, Probe, SearchFilter, VectorStore};

const DENSE: &str = "dense";
const SPARSE: &str = "bm25";

type Reply = tokio::sync::oneshot::Sender<anyhow::Result<()>>;

enum Write {
    Upsert(Vec<IndexPoint>, Reply),
    Delete(Vec<u64>, Reply),
}

pub struct EdgeIndex {
    shard: Arc<EdgeShard>,
    /// Taken on drop, which ends the writer thread; it is then joined, so the shard (and
    /// its lock on the write-ahead log) is released when the index is.
    writer: Option<Sender<Write>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EdgeIndex {
    fn drop(&mut self) {
        self.writer.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl EdgeIndex {
    /// Opens the index at `dir`, creating it (for `dimension`-sized dense vectors) if new.
    pub fn open(dir: &Path, dimension: usize) -> anyhow::Result<EdgeIndex> {
        let shard = if dir.join("edge_config.json").exists() {
            EdgeShard::load(dir, None)
                .map_err(|e| anyhow::anyhow!("cannot open the index at {} ({e}); delete the directory to rebuild it with `shopdesk ingest`", dir.display()))?
        } else {
            std::fs::create_dir_all(dir)?;
            let config = EdgeConfigBuilder::new()
                .vector(
                    DENSE,
                    EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build(),
                )
                .sparse_vector(
                    SPARSE,
                    EdgeSparseVectorParamsBuilder::new()
                        .modifier(Modifier::Idf)
                        .build(),
                )
                .build();
            EdgeShard::new(dir, config)
                .map_err(|e| anyhow::anyhow!("cannot create the index at {}: {e}", dir.display()))?
        };
        let shard = Arc::new(shard);
        let (writer, writes) = channel::<Write>();
        let owned = shard.clone();
        let path: PathBuf = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || {
                for write in writes {
                    let (result, reply) = match write {
                        Write::Upsert(points, reply) => (upsert(&owned, points), reply),
                        Write::Delete(ids, reply) => (delete(&owned, ids), reply),
                    };
                    owned.flush();
                    let _ = reply.send(result);
                }
                tracing::debug!(path = %path.display(), "index writer stopped");
            })?;
        Ok(EdgeIndex {
            shard,
            writer: Some(writer),
            thread: Some(thread),
        })
    }

    async fn write(&self, make: impl FnOnce(Reply) -> Write) -> anyhow::Result<()> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.writer
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the index is closing"))?
            .send(make(reply))
            .map_err(|_| anyhow::anyhow!("the index writer has stopped"))?;
        done.await
            .map_err(|_| anyhow::anyhow!("the index writer has stopped"))?
    }
}

fn upsert(shard: &EdgeShard, points: Vec<IndexPoint>) -> anyhow::Result<()> {
    let points = points
        .into_iter()
        .map(|p| {
            let sparse = Vector::new_sparse(p.sparse.0, p.sparse.1)
                .map_err(|e| anyhow::anyhow!("bad sparse vector: {e}"))?;
            let vectors = Vectors::new_named([(DENSE, Vector::from(p.dense)), (SPARSE, sparse)]);
            Ok(PointStruct::new(p.id, vectors, p.payload).into())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    shard
        .update(UpdateOperation::PointOperation(
            PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
        ))
        .map_err(|e| anyhow::anyhow!("index update failed: {e}"))
}

fn delete(shard: &EdgeShard, ids: Vec<u64>) -> anyhow::Result<()> {
    let ids = ids.into_iter().map(PointId::from).collect();
    shard
        .update(UpdateOperation::PointOperation(
            PointOperations::DeletePoints { ids },
        ))
        .map_err(|e| anyhow::anyhow!("index delete failed: {e}"))
}

fn key(name: &str) -> JsonPath {
    name.parse()
        .expect("a plain field name is a valid JSON path")
}

fn to_filter(filter: &SearchFilter) -> Option<Filter> {
    let mut must = Vec::new();
    if let Some(language) = &filter.language {
        must.push(Condition::Field(FieldCondition::new_match(
            key("language"),
            Match::new_value(ValueVariants::String(language.clone())),
        )));
    }
    if let Some(doc_type) = &filter.doc_type {
        must.push(Condition::Field(FieldCondition::new_match(
            key("doc_type"),
            Match::new_value(ValueVariants::String(doc_type.clone())),
        )));
    }
    if let Some(day) = filter.effective_on_day {
        must.push(Condition::Field(FieldCondition::new_range(
            key("effective_day"),
            Range {
                lte: Some(OrderedFloat(day as f64)),
                lt: None,
                gt: None,
                gte: None,
            },
        )));
    }
    (!must.is_empty()).then(|| Filter {
        must: Some(must),
        ..Default::default()
    })
}

#[async_trait]
impl VectorStore for EdgeIndex {
    async fn upsert(&self, points: Vec<IndexPoint>) -> anyhow::Result<()> {
        self.write(|reply| Write::Upsert(points, reply)).await
    }

    async fn delete(&self, ids: Vec<u64>) -> anyhow::Result<()> {
        self.write(|reply| Write::Delete(ids, reply)).await
    }

    async fn nearest(
        &self,
        probe: Probe,
        filter: &SearchFilter,
        limit: usize,
    ) -> anyhow::Result<Vec<Hit>> {
        let (vector, using) = match probe {
            Probe::Dense(v) => (VectorInternal::from(v), DENSE),
            Probe::Sparse(indices, values) => {
                if indices.is_empty() {
                    return Ok(Vec::new());
                }
                (
                    VectorInternal::from(SparseVector { indices, values }),
                    SPARSE,
                )
            }
        };
        let request = QueryRequest {
            prefetches: Vec::new(),
            query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery::new(
                vector, using,
            )))),
            filter: to_filter(filter),
            score_threshold: None,
            limit,
            offset: 0,
            params: None,
            with_vector: WithVector::Bool(false),
            with_payload: WithPayloadInterface::Bool(true),
        };
        let shard = self.shard.clone();
        let points = tokio::task::spawn_blocking(move || shard.query(request))
            .await?
            .map_err(|e| anyhow::anyhow!("index search failed: {e}"))?;
        Ok(points
            .into_iter()
            .filter_map(|p| {
                let id = match p.id {
                    PointId::NumId(n) => n,
                    _ => return None,
                };
                let payload = p
                    .payload
                    .map(|pl| serde_json::Value::Object(pl.0))
                    .unwrap_or_default();
                Some(Hit {
                    id,
                    score: p.score,
                    payload,
                })
            })
            .collect())
    }

    async fn ids(&self) -> anyhow::Result<Vec<u64>> {
        let shard = self.shard.clone();
        tokio::task::spawn_blocking(move || {
            let mut ids = Vec::new();
            let mut offset = None;
            loop {
                let (records, next) = shard
                    .scroll(ScrollRequest {
                        offset,
                        limit: Some(1000),
                        filter: None,
                        with_payload: Some(WithPayloadInterface::Bool(false)),
                        with_vector: WithVector::Bool(false),
                        order_by: None,
                    })
                    .map_err(|e| anyhow::anyhow!("index scroll failed: {e}"))?;
                ids.extend(records.into_iter().filter_map(|r| match r.id {
                    PointId::NumId(n) => Some(n),
                    _ => None,
                }));
                match next {
                    Some(next) => offset = Some(next),
                    None => return Ok(ids),
                }
            }
        })
        .await?
    }
}
