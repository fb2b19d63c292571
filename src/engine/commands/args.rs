//! Splitting a command line into words, with quotes, and reading typed arguments with
//! messages that say what was expected.

use crate::tools::ToolCall;

use super::Command;

#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    words: Vec<String>,
}

/// Opening quote → closing quote: ASCII, curly and CJK corner brackets.
const QUOTES: &[(char, char)] = &[
    ('"', '"'),
    ('\'', '\''),
    ('“', '”'),
    ('‘', '’'),
    ('「', '」'),
    ('『', '』'),
];

impl Args {
    /// Splits on whitespace (including the ideographic space), keeping quoted text whole.
    pub fn split(line: &str) -> Result<Args, String> {
        let mut words = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            if let Some(&(_, close)) = QUOTES.iter().find(|(open, _)| *open == c) {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some(ch) if ch == close => break,
                        Some(ch) => word.push(ch),
                        None => return Err(format!("unclosed quote {c}")),
                    }
                }
                words.push(word);
            } else {
                let mut word = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                words.push(word);
            }
        }
        if words.is_empty() {
            words.push(String::new());
        }
        Ok(Args { words })
    }

    /// The command word itself.
    pub fn name(&self) -> &str {
        &self.words[0]
    }

    /// The number of arguments after the command word.
    pub fn len(&self) -> usize {
        self.words.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `i` (0-based, after the command word).
    pub fn get(&self, i: usize) -> Option<&str> {
        self.words.get(i + 1).map(String::as_str)
    }

    pub fn require(&self, i: usize, what: &str) -> Result<&str, String> {
        self.get(i)
            .filter(|w| !w.trim().is_empty())
            .ok_or_else(|| format!("missing {what}"))
    }

    /// Arguments `from..` joined by single spaces: free text such as a reason.
    pub fn rest(&self, from: usize) -> String {
        self.words
            .iter()
            .skip(from + 1)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn at_most(&self, n: usize) -> Result<(), String> {
        if self.len() > n {
            Err(format!("too many arguments (expected at most {n})"))
        } else {
            Ok(())
        }
    }

    /// An order number such as 1042 (a leading `#` is fine).
    pub fn order_id(&self, i: usize) -> Result<i64, String> {
        let raw = self.require(i, "the order number")?;
        positive(raw.trim_start_matches('#'))
            .ok_or_else(|| format!("`{raw}` is not an order number: expected digits such as 1042"))
    }

    /// An optional positive whole number: None when the argument is absent.
    pub fn optional_count(&self, i: usize, what: &str) -> Result<Option<i64>, String> {
        if self.get(i).is_none() {
            Ok(None)
        } else {
            self.count(i, what).map(Some)
        }
    }

    /// A positive whole number.
    pub fn count(&self, i: usize, what: &str) -> Result<i64, String> {
        let raw = self.require(i, what)?;
        positive(raw).ok_or_else(|| {
            format!("`{raw}` is not a valid {what}: expected a whole number greater than 0")
        })
    }
}

fn positive(s: &str) -> Option<i64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

/// Wraps a parsed tool call as a command.
pub fn tool(call: ToolCall) -> Result<Command, String> {
    Ok(Command::Tool(call))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes_and_ideographic_spaces() {
        let a = Args::split("hold 1042 「卡号 异常」　urgent").unwrap();
        assert_eq!(a.name(), "hold");
        assert_eq!(a.get(1), Some("卡号 异常"));
        assert_eq!(a.rest(1), "卡号 异常 urgent");
        assert!(Args::split("hold 1 \"open").is_err());
        assert_eq!(Args::split("").unwrap().name(), "");
    }

    #[test]
    fn reads_numbers_strictly() {
        let a = Args::split("order #1042 0 99999999999999999999").unwrap();
        assert_eq!(a.order_id(0), Ok(1042));
        assert!(a.order_id(1).is_err());
        assert!(a.order_id(2).is_err());
        assert!(a.order_id(3).unwrap_err().contains("missing"));
    }
}
