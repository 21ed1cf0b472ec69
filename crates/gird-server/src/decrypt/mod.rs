//! Decrypting GIR's encrypted recordings (docs/API.md "Encrypted recordings"): the
//! envelope in a media file's `pkcs7` ([`envelope`]), the contact center's key pairs
//! ([`keypair`]), unwrapping content keys under the Marvin mitigation ([`content_keys`]),
//! the CBC range arithmetic ([`blocks`]) and the decrypting stream ([`stream`]). The
//! cryptography is RustCrypto's (`cms`, `x509-cert`, `rsa`, `aes`, `cbc`) and
//! `p12-keystore`'s; nothing here implements a cipher.

pub mod blocks;
pub mod content_keys;
pub mod envelope;
pub mod keypair;
pub mod stream;

use std::fmt;

use der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// Why a media file cannot be decrypted; each is worded for the client (nothing secret
/// in it) and mapped to one API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("the pkcs7 envelope is damaged: {0}")]
    DamagedEnvelope(String),
    #[error("unsupported encryption: {0}")]
    Unsupported(String),
    /// None of the contact center's keys is for a recipient of the envelope.
    #[error("no decryption key for the envelope's recipient(s): {}", names(.0))]
    NoKey(Vec<RecipientId>),
    /// A key for the recipient did not unwrap a 32-byte AES key.
    #[error("decryption key {0:?} does not open the envelope (damaged envelope or another key pair with the same issuer and serial)")]
    KeyDoesNotOpen(String),
    #[error("the encrypted media file is {0} bytes, not a whole number of 16-byte blocks")]
    NotBlockMultiple(u64),
    #[error("the decrypted media file's padding is wrong (damaged ciphertext or another key)")]
    BadPadding,
    #[error("the encrypted media file ended before the bytes asked for")]
    Truncated,
}

fn names(recipients: &[RecipientId]) -> String {
    recipients
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A recipient as CMS names it, by its certificate's issuer and serial number: the
/// issuer's DER and the serial's bytes identify it, the issuer's text names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientId {
    /// Hex of the issuer's DER, `:`, hex of the serial: what the key store matches on.
    pub key: String,
    pub issuer: String,
    /// The serial number in hex, bytes separated by `:`.
    pub serial: String,
}

impl RecipientId {
    pub fn new(issuer: &Name, serial: &SerialNumber) -> Result<RecipientId, DecryptError> {
        let issuer_der = issuer.to_der().map_err(|error| {
            DecryptError::DamagedEnvelope(format!("recipient issuer: {}", error.kind()))
        })?;
        let serial_bytes = serial.as_bytes();
        Ok(RecipientId {
            key: format!("{}:{}", hex(&issuer_der), hex(serial_bytes)),
            issuer: issuer.to_string(),
            serial: serial_bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        })
    }
}

impl fmt::Display for RecipientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "issuer {:?}, serial {}", self.issuer, self.serial)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PEM as GIR and key tools write it, read leniently: any line length (GIR wraps at 76
/// columns, which RFC 7468 parsers refuse), `\r\n` or `\n`, text around the block.
pub mod pem {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    /// The first block's label and bytes.
    pub fn decode(text: &str) -> Option<(String, Vec<u8>)> {
        blocks(text).into_iter().next()
    }

    /// Every block, in order.
    pub fn blocks(text: &str) -> Vec<(String, Vec<u8>)> {
        let mut found = Vec::new();
        let mut open: Option<(String, String)> = None;
        for line in text.lines().map(str::trim) {
            if let Some(label) = line
                .strip_prefix("-----BEGIN ")
                .and_then(|rest| rest.strip_suffix("-----"))
            {
                open = Some((label.to_owned(), String::new()));
            } else if let Some(label) = line
                .strip_prefix("-----END ")
                .and_then(|rest| rest.strip_suffix("-----"))
            {
                if let Some((begun, body)) = open.take() {
                    if begun == label {
                        if let Ok(bytes) = STANDARD.decode(body.as_bytes()) {
                            found.push((begun, bytes));
                        }
                    }
                }
            } else if let Some((_, body)) = open.as_mut() {
                body.extend(line.chars().filter(|c| !c.is_whitespace()));
            }
        }
        found
    }

    /// A PEM block with 64-column lines.
    pub fn encode(label: &str, bytes: &[u8]) -> String {
        let body = STANDARD.encode(bytes);
        let mut text = format!("-----BEGIN {label}-----\n");
        for line in body.as_bytes().chunks(64) {
            text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            text.push('\n');
        }
        text.push_str(&format!("-----END {label}-----\n"));
        text
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_76_column_lines_and_text_around() {
            let bytes: Vec<u8> = (0..=255).collect();
            let body = STANDARD.encode(&bytes);
            let wrapped: Vec<&str> = body
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let text = format!(
                "junk\r\n-----BEGIN PKCS7-----\r\n{}\r\n-----END PKCS7-----\r\n",
                wrapped.join("\r\n")
            );
            assert_eq!(decode(&text), Some(("PKCS7".to_owned(), bytes.clone())));
            assert_eq!(decode(&encode("CMS", &bytes)), Some(("CMS".into(), bytes)));
        }

        #[test]
        fn refuses_what_is_not_a_block() {
            assert_eq!(decode("no pem here"), None);
            assert_eq!(decode("-----BEGIN A-----\nAAAA\n-----END B-----\n"), None);
            assert_eq!(decode("-----BEGIN A-----\n!!!!\n-----END A-----\n"), None);
            assert_eq!(decode("-----BEGIN A-----\nAAAA\n"), None);
        }
    }
}
