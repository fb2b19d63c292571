//! Turns token pieces (bytes) into text without ever splitting a character: a Chinese
//! character often spans two or three tokens, each holding part of its UTF-8 bytes.

#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds one token's bytes and returns the whole characters now complete (possibly none).
    /// Bytes that can never become valid UTF-8 come out as U+FFFD rather than stalling.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match e.error_len() {
                        // An incomplete sequence at the end: wait for the next token.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Called when the reply ends. Bytes still pending are the start of a character the
    /// token budget cut off: they are dropped rather than shown as U+FFFD.
    pub fn finish(&mut self) {
        if !self.pending.is_empty() {
            tracing::debug!(bytes = self.pending.len(), "reply ended inside a character");
        }
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_character_split_across_tokens_comes_out_whole() {
        let text = "退货政策";
        let bytes = text.as_bytes();
        let mut stream = Utf8Stream::default();
        let mut out = String::new();
        for byte in bytes {
            let piece = stream.push(std::slice::from_ref(byte));
            assert!(
                piece.chars().all(|c| text.contains(c)),
                "partial output {piece:?}"
            );
            out.push_str(&piece);
        }
        stream.finish();
        assert_eq!(out, text);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_without_stalling() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(stream.push(&"好".as_bytes()[..1]), "");
        stream.finish();
        assert_eq!(stream.push(b"c"), "c");
    }
}
