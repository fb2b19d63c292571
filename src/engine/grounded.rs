//! Answers from the store's knowledge: the best passage, quoted and cited, and for a
//! product the catalogue's live price and stock.
//!
//! The citation ("Returns and refunds §2") is built from the chunk's metadata, never typed
//! by the model. In English the model may phrase an answer first, grounded in the passages
//! it is given; the quoted passage follows either way, so a weak phrasing still carries the
//! policy. In Chinese the default model writes poorly, so the passage alone is the answer.

use futures::StreamExt;
use futures::stream::BoxStream;

use super::Answer;
use super::replies::Replies;
use crate::llm::{self, ChatModel, ChatRequest, Message, Output, Sampling};
use crate::policy::Actor;
use crate::retrieval::{Knowledge, Mode, Passage};
use crate::store::catalog;
use crate::tools::Toolbox;

/// Passages retrieved for a question; the first is the best.
const PASSAGES: usize = 3;
/// Longest quoted passage, in characters.
const QUOTE_CHARS: usize = 600;

pub enum Grounded {
    /// A complete answer (a product, or a Chinese passage).
    Whole(Answer),
    /// The model's phrasing streams first, then the quoted passage and its citation.
    Streamed(BoxStream<'static, String>),
    /// Nothing in the knowledge answers this well enough.
    Unsure,
}

/// Whether the text names an order (a number of four to six digits): such questions go
/// to the order tools first, not to the policies.
pub fn mentions_an_order(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| (4..=6).contains(&run.len()))
}

pub async fn answer(
    knowledge: &Knowledge,
    model: Option<&std::sync::Arc<dyn ChatModel>>,
    toolbox: &Toolbox,
    replies: &Replies,
    actor: &Actor,
    question: &str,
) -> Grounded {
    let lang = actor.language.as_str();
    let passages = match knowledge
        .search(question, lang, Mode::Hybrid, PASSAGES)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "knowledge search failed");
            return Grounded::Unsure;
        }
    };
    let Some(best) = passages.first() else {
        return Grounded::Unsure;
    };
    if !knowledge.confident(best) {
        return Grounded::Unsure;
    }
    if best.doc_type == "product" {
        return match product(toolbox, replies, lang, best).await {
            Some(answer) => Grounded::Whole(answer),
            None => Grounded::Unsure,
        };
    }
    let quote = replies.get(
        lang,
        "knowledge_passage",
        &[
            ("citation", &best.citation()),
            ("passage", &excerpt(best.body())),
        ],
    );
    let model = match model {
        Some(model) if lang == "en" => model.clone(),
        _ => return Grounded::Whole(Answer::text(quote)),
    };
    let policy: Vec<String> = passages
        .iter()
        .filter(|p| p.doc_type != "product")
        .map(|p| format!("[{}]\n{}", p.citation(), p.body()))
        .collect();
    let request = ChatRequest {
        session: None,
        messages: vec![
            Message::new(
                llm::Role::System,
                replies.get(
                    lang,
                    "assistant_grounded",
                    &[("passages", &policy.join("\n\n"))],
                ),
            ),
            Message::new(llm::Role::User, question),
        ],
        tools: Vec::new(),
        sampling: Sampling {
            temperature: 0.3,
            max_tokens: 96,
            ..Sampling::default()
        },
        output: Output::Text,
    };
    match model.chat(request).await {
        Ok(stream) => {
            let phrasing = stream.filter_map(|event| async move {
                match event {
                    Ok(llm::Event::Text(piece)) => Some(piece),
                    _ => None,
                }
            });
            let tail = futures::stream::iter([format!("\n\n{quote}")]);
            Grounded::Streamed(phrasing.chain(tail).boxed())
        }
        // Busy or failing: the passage alone still answers.
        Err(_) => Grounded::Whole(Answer::text(quote)),
    }
}

/// A product's live price and stock, from the catalogue rather than the index.
async fn product(
    toolbox: &Toolbox,
    replies: &Replies,
    lang: &str,
    passage: &Passage,
) -> Option<Answer> {
    let sku = passage.doc.strip_prefix("product:")?;
    let mut conn = toolbox.store.pool().acquire().await.ok()?;
    let product = catalog::by_sku(&mut conn, sku).await.ok()??;
    let available = product.available();
    let stock = if available > 0 {
        replies.get(lang, "in_stock", &[("count", &available.to_string())])
    } else {
        replies.get(lang, "out_of_stock", &[])
    };
    let title = match lang {
        "zh" => product.title_zh.clone().unwrap_or(product.title.clone()),
        _ => product.title.clone(),
    };
    let price = crate::money::format(product.price, &toolbox.config.currency);
    Some(Answer::text(replies.get(
        lang,
        "product_answer",
        &[
            ("title", &title),
            ("sku", &product.sku),
            ("price", &price),
            ("stock", &stock),
        ],
    )))
}

/// The passage cut at a sentence or line end near [`QUOTE_CHARS`].
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= QUOTE_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(QUOTE_CHARS).collect();
    let end = cut
        .rfind(['.', '。', '\n', '！', '？'])
        .map(|i| i + cut[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_recognised() {
        assert!(mentions_an_order("where is order 1042?"));
        assert!(mentions_an_order("订单12045预计哪天送到"));
        assert!(!mentions_an_order("can I return it after 30 days?"));
        assert!(!mentions_an_order("is SKU-A in stock"));
    }

    #[test]
    fn long_passages_are_cut_at_a_sentence() {
        let text = "One sentence. ".repeat(100);
        let cut = excerpt(&text);
        assert!(cut.ends_with(".…"), "{cut}");
        assert!(cut.chars().count() <= QUOTE_CHARS + 1);
    }
}
