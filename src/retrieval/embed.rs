//! Sentence embeddings on the CPU: a BERT-family model directory (model.safetensors,
//! tokenizer.json, config.json), run by candle, mean-pooled over the real tokens only.
//!
//! The default all-MiniLM-L6-v2's tokenizer.json pads every input to 128 tokens; with the
//! padding left in, the mean pool is mostly padding and unrelated sentences score 0.84
//! alike. Padding is switched off and masked out of the pooling here.

use std::path::Path;

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// Longest input in tokens; the rest of a longer text is not embedded.
const MAX_TOKENS: usize = 256;

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    dimension: usize,
}

impl Embedder {
    pub fn load(dir: &Path) -> anyhow::Result<Embedder> {
        let hint = "run scripts/fetch-models, or set retrieval.embedder_path to a BERT-family \
                    model directory with model.safetensors, tokenizer.json and config.json";
        let config: Config = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json"))
                .with_context(|| format!("cannot read {}/config.json; {hint}", dir.display()))?,
        )
        .with_context(|| format!("{}/config.json is not a BERT config", dir.display()))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| {
            anyhow::anyhow!("cannot read {}/tokenizer.json ({e}); {hint}", dir.display())
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| anyhow::anyhow!("tokenizer truncation: {e}"))?;
        let weights = dir.join("model.safetensors");
        anyhow::ensure!(weights.exists(), "{} is missing; {hint}", weights.display());
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu)? };
        let dimension = config.hidden_size;
        let model = BertModel::load(vb, &config).context("loading the embedder's weights")?;
        Ok(Embedder {
            model,
            tokenizer,
            dimension,
        })
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Unit-length embeddings of `texts`, in one batch padded to its longest text.
    pub fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tokenizer = self.tokenizer.clone();
        tokenizer.with_padding(Some(PaddingParams::default()));
        let encodings = tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> anyhow::Result<Tensor> {
            let data: Vec<Tensor> = encodings
                .iter()
                .map(|e| Tensor::new(f(e), &Device::Cpu))
                .collect::<Result<_, _>>()?;
            Ok(Tensor::stack(&data, 0)?)
        };
        let ids = rows(&|e| e.get_ids())?;
        let types = rows(&|e| e.get_type_ids())?;
        let mask = rows(&|e| e.get_attention_mask())?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens: padding positions have mask 0.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
