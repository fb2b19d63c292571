//! Handoff triggers: anger, urgency, legal and safety words in English and Chinese, and
//! repeated failure to help. Any of them makes the engine offer a human. The word lists are
//! data (intents/triggers.toml); this module only matches them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

const BUILT_IN: &str = include_str!("../../intents/triggers.toml");

/// Consecutive turns the bot could not help with before it offers a human.
pub const FAILURES_BEFORE_OFFER: i64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Anger,
    Urgency,
    Legal,
    Safety,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Anger => "anger",
            Kind::Urgency => "urgency",
            Kind::Legal => "legal",
            Kind::Safety => "safety",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        [Kind::Anger, Kind::Urgency, Kind::Legal, Kind::Safety]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// A trigger found in a message: what kind, and the word that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    pub kind: Kind,
    pub matched: String,
}

#[derive(Debug, Deserialize)]
struct Lists {
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    zh: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Triggers {
    /// (kind, English patterns, Chinese substrings)
    kinds: Vec<(Kind, Vec<String>, Vec<String>)>,
}

impl Triggers {
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("intents/triggers.toml is valid")
    }

    /// Loads `dir/triggers.toml`, or the built-in lists when the file is absent.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("triggers.toml");
        if !path.exists() {
            return Ok(Self::built_in());
        }
        Self::parse(&std::fs::read_to_string(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let raw: BTreeMap<String, Lists> = toml::from_str(text)?;
        let mut kinds = Vec::new();
        for (name, lists) in raw {
            let kind = Kind::parse(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown trigger kind [{name}]: use anger, urgency, legal or safety"
                )
            })?;
            let en = lists.en.iter().map(|w| w.to_lowercase()).collect();
            kinds.push((kind, en, lists.zh));
        }
        Ok(Triggers { kinds })
    }

    /// Every kind of trigger in the message, with the first word that matched it.
    pub fn detect(&self, text: &str) -> Vec<Signal> {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .collect();
        let mut found = Vec::new();
        for (kind, en, zh) in &self.kinds {
            let hit = en
                .iter()
                .find(|p| matches_words(&words, p))
                .or_else(|| zh.iter().find(|p| lower.contains(p.as_str())));
            if let Some(word) = hit {
                found.push(Signal {
                    kind: *kind,
                    matched: word.clone(),
                });
            }
        }
        found.sort_by_key(|s| s.kind);
        found
    }
}

/// Whether the message's words contain the pattern's words in a row; `*` ends a prefix.
fn matches_words(words: &[&str], pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split_whitespace().collect();
    if parts.is_empty() || words.len() < parts.len() {
        return false;
    }
    words.windows(parts.len()).any(|window| {
        window
            .iter()
            .zip(&parts)
            .all(|(w, p)| match p.strip_suffix('*') {
                Some(prefix) => w.starts_with(prefix),
                None => w == p,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        Triggers::built_in()
            .detect(text)
            .into_iter()
            .map(|s| s.kind)
            .collect()
    }

    #[test]
    fn finds_each_kind_in_both_languages() {
        assert_eq!(
            kinds("This is RIDICULOUS, third time asking"),
            vec![Kind::Anger]
        );
        assert_eq!(kinds("I need it ASAP for a wedding"), vec![Kind::Urgency]);
        assert_eq!(kinds("I'll talk to my lawyer"), vec![Kind::Legal]);
        assert_eq!(kinds("the charger started smoking"), vec![Kind::Safety]);
        assert_eq!(
            kinds("充电器冒烟了，太离谱"),
            vec![Kind::Anger, Kind::Safety]
        );
        assert_eq!(kinds("再不退款我就去消协投诉"), vec![Kind::Legal]);
        assert_eq!(kinds("很急，今天必须到"), vec![Kind::Urgency]);
    }

    #[test]
    fn ordinary_messages_trigger_nothing() {
        for text in [
            "where is my order 1042?",
            "can I return the blue shirt",
            "我的快递到哪了",
            "is the firewall router in stock",
            "thanks, that helps",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }
}
