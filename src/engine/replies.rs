//! The engine's fixed replies, loaded from prompts/replies.toml so wording and
//! translations change without touching Rust. English is the fallback for any key or
//! language the file lacks.

use std::collections::HashMap;
use std::path::Path;

/// The catalogue compiled into the binary, used when no prompts directory is configured.
const BUILT_IN: &str = include_str!("../../prompts/replies.toml");

#[derive(Debug, Clone)]
pub struct Replies {
    by_language: HashMap<String, HashMap<String, String>>,
}

impl Replies {
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("prompts/replies.toml is valid TOML")
    }

    /// Loads `dir/replies.toml`, falling back to the built-in catalogue when it is absent.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("replies.toml");
        if !path.exists() {
            return Ok(Self::built_in());
        }
        let text = std::fs::read_to_string(&path)?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    fn parse(text: &str) -> Result<Self, toml::de::Error> {
        Ok(Replies {
            by_language: toml::from_str(text)?,
        })
    }

    /// The reply `key` in `language`, with `{name}` placeholders filled from `vars`.
    pub fn get(&self, language: &str, key: &str, vars: &[(&str, &str)]) -> String {
        let template = self
            .by_language
            .get(language)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_language.get("en").and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key);
        vars.iter()
            .fold(template.to_string(), |acc, (name, value)| {
                acc.replace(&format!("{{{name}}}"), value)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key() {
        let r = Replies::built_in();
        let en = &r.by_language["en"];
        for (lang, keys) in &r.by_language {
            for key in en.keys() {
                assert!(keys.contains_key(key), "{lang} lacks {key}");
            }
        }
    }

    #[test]
    fn fills_placeholders_and_falls_back_to_english() {
        let r = Replies::built_in();
        assert!(
            r.get("zh", "greeting_customer", &[("name", "王芳")])
                .starts_with("王芳")
        );
        assert_eq!(r.get("fr", "see_help", &[]), r.get("en", "see_help", &[]));
    }
}
