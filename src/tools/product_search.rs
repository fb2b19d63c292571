//! Product search by title (English or Chinese) or SKU.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::money;
use crate::policy::Rule;
use crate::store::catalog;

/// Search the catalogue by words in the title or by SKU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductSearch {
    #[schemars(length(min = 1, max = 100))]
    pub query: String,
    /// How many results, 1 to 20 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub limit: Option<i64>,
}

#[async_trait]
impl Tool for ProductSearch {
    const NAME: &'static str = "product_search";
    const DESCRIPTION: &'static str =
        "Search the catalogue by words in the product title or by SKU.";
    const RULE: Rule = Rule::Anyone;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let query = self.query.trim();
        if query.is_empty() || query.chars().count() > 100 {
            return Err(ToolError::Invalid(
                "Search for 1 to 100 characters, e.g. /search mouse.".into(),
            ));
        }
        let found = catalog::search(run.conn, query, self.limit.unwrap_or(5).clamp(1, 20)).await?;
        if found.is_empty() {
            return Ok(Outcome::done(
                format!("No products match \"{query}\"."),
                json!({"products": []}),
            ));
        }
        let mut text = format!("Products matching \"{query}\":\n");
        for p in &found {
            let title = if run.actor.language == "zh" {
                p.title_zh.as_deref().unwrap_or(&p.title)
            } else {
                &p.title
            };
            text.push_str(&format!(
                "  {} · {} · {} · {}\n",
                p.sku,
                title,
                money::format(p.price, &run.config.currency),
                if p.available() > 0 {
                    "in stock"
                } else {
                    "out of stock"
                }
            ));
        }
        let data = json!({"products": found.iter().map(|p| json!({"sku": p.sku, "title": p.title, "price": p.price, "in_stock": p.available() > 0})).collect::<Vec<_>>()});
        Ok(Outcome::done(text.trim_end(), data))
    }
}
