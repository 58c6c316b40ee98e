//! The one way Skyhook stores the secrets it hands out (API keys, callback tokens, console
//! session ids): as the hex SHA-256 of what a client presents. A fast hash is enough: each is
//! a long random value (keys and tokens carry 256 bits), so there is nothing for a slow
//! password hash to protect against. A presented value is looked up by its hash, so no
//! comparison ever runs on the secret itself.

use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of `presented` (64 characters).
pub(super) fn sha256_hex(presented: &str) -> String {
    let digest = Sha256::digest(presented.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_sha256_of_the_text_in_hex() {
        // The published SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
