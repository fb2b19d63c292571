//! Resume tokens: `<visitor>.<expiry>.<signature>`, where the signature is an HMAC-SHA256
//! of the first two parts under the server's secret. The visitor id is 128 random bits, so
//! a token can neither be guessed nor forged, and it expires.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub struct Signer {
    secret: Vec<u8>,
    max_age_secs: u64,
}

impl Signer {
    pub fn new(secret: Vec<u8>, max_age_secs: u64) -> Self {
        Signer {
            secret,
            max_age_secs,
        }
    }

    /// A new visitor id: 128 random bits in hex.
    pub fn new_visitor() -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }

    /// A token for `visitor`, valid for the configured age from `now` (Unix seconds).
    pub fn issue(&self, visitor: &str, now: u64) -> String {
        let body = format!("{visitor}.{}", now + self.max_age_secs);
        format!("{body}.{}", self.sign(&body))
    }

    /// The visitor a token belongs to, when it is genuine and not expired.
    pub fn verify(&self, token: &str, now: u64) -> Option<String> {
        let (body, signature) = token.rsplit_once('.')?;
        let (visitor, expires) = body.split_once('.')?;
        let expected = hex::decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&expected).ok()?;
        let expires: u64 = expires.parse().ok()?;
        (expires > now && visitor.len() == 32 && visitor.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| visitor.to_string())
    }

    fn sign(&self, body: &str) -> String {
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_cannot_be_forged_or_outlived() {
        let signer = Signer::new(b"secret".to_vec(), 100);
        let visitor = Signer::new_visitor();
        let token = signer.issue(&visitor, 1000);
        assert_eq!(signer.verify(&token, 1050), Some(visitor.clone()));
        assert_eq!(signer.verify(&token, 1100), None, "expired");
        let other = Signer::new(b"other".to_vec(), 100);
        assert_eq!(other.verify(&token, 1050), None, "another server's secret");
        let forged = token.replacen(&visitor[..4], "ffff", 1);
        assert_eq!(signer.verify(&forged, 1050), None, "changed visitor");
        let (body, _) = token.rsplit_once('.').unwrap();
        let (v, _) = body.split_once('.').unwrap();
        let longer = format!("{v}.9999999999.{}", &token[token.len() - 64..]);
        assert_eq!(signer.verify(&longer, 1050), None, "changed expiry");
        assert_eq!(signer.verify("garbage", 1050), None);
    }
}
