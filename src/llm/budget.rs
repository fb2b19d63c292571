//! Keeps a prompt inside the context window: the oldest turns go first, so the prompt plus
//! the reply's reserved tokens always fit and a user never meets a context-overflow error.

use super::{Message, Role};

/// Drops the oldest non-system messages until `count(messages) + reserve <= limit`. The
/// system messages and the newest message always stay; if they alone are too long, the
/// newest message keeps its beginning and end and loses its middle.
pub fn fit(
    messages: &[Message],
    limit: usize,
    reserve: usize,
    count: impl Fn(&[Message]) -> usize,
) -> Vec<Message> {
    let budget = limit.saturating_sub(reserve);
    let mut kept: Vec<Message> = messages.to_vec();
    while count(&kept) > budget {
        let oldest = kept
            .iter()
            .enumerate()
            .position(|(i, m)| m.role != Role::System && i + 1 < kept.len());
        match oldest {
            Some(i) => {
                kept.remove(i);
            }
            None => break,
        }
    }
    while count(&kept) > budget {
        let Some(last) = kept.last_mut() else { break };
        let chars: Vec<char> = last.content.chars().collect();
        if chars.len() < 16 {
            break;
        }
        let keep = chars.len() * 3 / 4;
        let head = keep / 2;
        let tail = keep - head;
        last.content = chars[..head]
            .iter()
            .chain(['…'].iter())
            .chain(chars[chars.len() - tail..].iter())
            .collect();
    }
    kept
}

/// Tokens of a message list as OpenAI counts them (cl100k; 3 tokens of framing per
/// message, 3 to prime the reply): exact for OpenAI's models, an estimate for others.
pub fn openai_tokens(messages: &[Message]) -> usize {
    let bpe = tiktoken_rs::cl100k_base_singleton();
    3 + messages
        .iter()
        .map(|m| 3 + bpe.encode_with_special_tokens(&m.content).len() + 1)
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(messages: &[Message]) -> usize {
        messages
            .iter()
            .map(|m| m.content.split_whitespace().count() + 2)
            .sum()
    }

    #[test]
    fn the_oldest_turns_go_first_and_the_system_prompt_stays() {
        let messages = vec![
            Message::new(Role::System, "be kind"),
            Message::new(Role::User, "one two three four"),
            Message::new(Role::Assistant, "five six seven"),
            Message::new(Role::User, "where is my order"),
        ];
        let kept = fit(&messages, 16, 4, words);
        assert_eq!(kept.first().unwrap().content, "be kind");
        assert_eq!(kept.last().unwrap().content, "where is my order");
        assert!(words(&kept) <= 12);
        assert!(!kept.iter().any(|m| m.content == "one two three four"));
    }

    #[test]
    fn a_single_huge_message_is_shortened_not_refused() {
        let huge = "word ".repeat(5000);
        let messages = vec![Message::new(Role::User, huge)];
        let kept = fit(&messages, 100, 20, words);
        assert!(words(&kept) <= 80);
        assert!(kept[0].content.contains('…'));
    }

    #[test]
    fn openai_counts_use_the_real_vocabulary() {
        let n = openai_tokens(&[Message::new(Role::User, "hello world")]);
        assert_eq!(n, 3 + 3 + 2 + 1);
    }
}
