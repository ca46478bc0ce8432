//! API key tokens: their format, parsing, checksum and the keyed hash of the secret.
//!
//! A token reads `tpl_<id>_<secret><checksum>`:
//! - `tpl_` makes a leaked token recognisable to secret scanners;
//! - `<id>`, 12 base62 characters, is the key's public id (an indexed lookup, and the
//!   user name of HTTP Basic `id:secret`);
//! - `<secret>`, 32 base62 characters (≈ 190 bits), is never stored: only its
//!   HMAC-SHA256 under the instance's pepper is;
//! - `<checksum>`, 6 base62 characters of the CRC32 of everything before it, lets the server
//!   (and a scanner) reject a mistyped or truncated token without touching the database.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

pub const PREFIX: &str = "tpl_";
pub const ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// `tpl_` + id + `_` + secret + checksum.
pub const TOKEN_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly generated key: shown once, then only `id` survives in clear.
pub struct NewToken {
    pub id: String,
    pub secret: String,
    pub token: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("id", &self.id).finish_non_exhaustive()
    }
}

pub fn generate() -> NewToken {
    let id = random_base62(ID_LEN);
    let secret = random_base62(SECRET_LEN);
    let body = format!("{PREFIX}{id}_{secret}");
    let token = format!("{body}{}", checksum(&body));
    NewToken { id, secret, token }
}

/// The visible part of a token, safe to list and log: `tpl_<id>`.
pub fn visible_prefix(id: &str) -> String {
    format!("{PREFIX}{id}")
}

/// Splits a full token into `(id, secret)` when its shape and checksum are right.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    if token.len() != TOKEN_LEN || !token.is_ascii() {
        return None;
    }
    let rest = token.strip_prefix(PREFIX)?;
    let (id, rest) = rest.split_at(ID_LEN);
    let rest = rest.strip_prefix('_')?;
    let (secret, sum) = rest.split_at(SECRET_LEN);
    if !is_base62(id) || !is_base62(secret) || checksum(&token[..token.len() - CHECKSUM_LEN]) != sum {
        return None;
    }
    Some((id, secret))
}

/// True when `id` has the shape of a key id (12 base62 characters): anything else names no
/// key, and is never looked up.
pub fn is_key_id(id: &str) -> bool {
    id.len() == ID_LEN && is_base62(id)
}

/// True when `id` and `secret` have the shape of a key id and secret (HTTP Basic carries them
/// without a checksum).
pub fn is_well_formed(id: &str, secret: &str) -> bool {
    id.len() == ID_LEN && secret.len() == SECRET_LEN && is_base62(id) && is_base62(secret)
}

/// The keyed hash API key secrets are stored under: HMAC-SHA256 with the instance's pepper
/// as its key, hex-encoded.
///
/// Made once per instance: HMAC's key schedule (the pepper's inner and outer padded blocks,
/// two of the four SHA-256 compressions of a check) is computed here, and every check starts
/// from a copy of the prepared state. Its `Debug` never shows the pepper.
#[derive(Clone)]
pub struct SecretHasher(Hmac<Sha256>);

impl SecretHasher {
    pub fn new(pepper: &[u8]) -> SecretHasher {
        SecretHasher(Hmac::<Sha256>::new_from_slice(pepper).expect("HMAC takes keys of any length"))
    }

    /// The hash of `secret`, hex-encoded: what the database stores.
    pub fn hash(&self, secret: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(secret.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `secret` matches `stored_hex`, compared in constant time. Every key check runs
    /// this: the stored hash is decoded into an array of a hash's length, not a new `Vec` (a
    /// hash of any other length is refused, as it could never match).
    pub fn verify(&self, secret: &str, stored_hex: &str) -> bool {
        let mut stored = [0u8; 32];
        if hex::decode_to_slice(stored_hex, &mut stored).is_err() {
            return false;
        }
        let mut mac = self.0.clone();
        mac.update(secret.as_bytes());
        mac.verify_slice(&stored).is_ok()
    }
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher { .. }")
    }
}

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..62)] as char).collect()
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_to_their_parts() {
        for _ in 0..100 {
            let t = generate();
            assert_eq!(t.token.len(), TOKEN_LEN);
            assert!(t.token.starts_with("tpl_"));
            assert_eq!(parse_token(&t.token), Some((t.id.as_str(), t.secret.as_str())));
            assert!(is_well_formed(&t.id, &t.secret));
        }
    }

    #[test]
    fn any_single_character_change_fails_the_checksum_or_shape() {
        let t = generate();
        for i in PREFIX.len()..t.token.len() {
            let mut bytes = t.token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed != t.token {
                assert_eq!(parse_token(&changed), None, "position {i}");
            }
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let t = generate();
        for bad in [
            "",
            "tpl_",
            &t.token[..t.token.len() - 1],
            &format!("{}x", t.token),
            &t.token.replacen("tpl_", "tpX_", 1),
            &t.token.replacen('_', "-", 2),
            "tpl_ééééééééééé_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_verify_only_under_the_same_pepper() {
        let one = SecretHasher::new(b"pepper one");
        let stored = one.hash("s3cret");
        assert_eq!(stored.len(), 64);
        assert!(one.verify("s3cret", &stored));
        assert!(!one.verify("s3creT", &stored));
        assert!(!SecretHasher::new(b"pepper two").verify("s3cret", &stored));
        assert!(!one.verify("s3cret", "not hex"));
        // The stored form in capitals still matches; one byte short or long never does.
        assert!(one.verify("s3cret", &stored.to_uppercase()));
        assert!(!one.verify("s3cret", &stored[..62]));
        assert!(!one.verify("s3cret", &format!("{stored}00")));
        assert!(!one.verify("s3cret", ""));
        // The prepared state is copied, never spent: the same hasher gives the same hash again,
        // and it is HMAC-SHA256 itself (RFC 4231, test case 2).
        assert_eq!(one.hash("s3cret"), stored);
        assert_eq!(
            SecretHasher::new(b"Jefe").hash("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(format!("{one:?}"), "SecretHasher { .. }");
    }
}
