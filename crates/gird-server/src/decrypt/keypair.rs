//! A contact center's decryption key: an RSA private key with the certificate that names
//! it as a recipient, from PEM (the key PKCS#8 or PKCS#1) or from a PKCS#12 keystore (what
//! GIR's Recording Crypto Server exports). A key that is not the certificate's is refused.

use der::{Decode, Encode};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use x509_cert::Certificate;

use super::envelope::RSA_ENCRYPTION;
use super::{pem, RecipientId};

/// Why a key pair is refused (400/10), worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyPairError {
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("privateKey: {0}")]
    PrivateKey(String),
    #[error("pkcs12: {0}")]
    Pkcs12(String),
    #[error("the private key does not match the certificate's public key")]
    Mismatch,
}

/// A checked key pair and what is shown of it.
pub struct KeyPair {
    pub certificate_pem: String,
    /// PKCS#8 PEM: what is sealed and stored.
    pub private_key_pem: String,
    pub recipient: RecipientId,
    pub subject: String,
    pub not_after: String,
    /// SHA-256 of the certificate's DER, hex: the default alias is its first 16 digits.
    pub fingerprint: String,
}

impl KeyPair {
    pub fn from_pem(certificate: &str, private_key: &str) -> Result<KeyPair, KeyPairError> {
        let certificate = parse_certificate(certificate)?;
        let (label, der) = pem::decode(private_key)
            .ok_or_else(|| KeyPairError::PrivateKey("not a PEM block".into()))?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&der)
                .map_err(|_| KeyPairError::PrivateKey("not an RSA PKCS#8 private key".into()))?,
            "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|_| KeyPairError::PrivateKey("not an RSA PKCS#1 private key".into()))?,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyPairError::PrivateKey(
                    "an encrypted private key: send it in a PKCS#12 keystore with its password"
                        .into(),
                ))
            }
            other => {
                return Err(KeyPairError::PrivateKey(format!(
                    "a PEM block {other:?}, not PRIVATE KEY or RSA PRIVATE KEY"
                )))
            }
        };
        KeyPair::checked(certificate, key)
    }

    /// The first key and its certificate in a PKCS#12 keystore (DER).
    pub fn from_pkcs12(keystore: &[u8], password: &str) -> Result<KeyPair, KeyPairError> {
        let store = p12_keystore::KeyStore::from_pkcs12(keystore, password).map_err(|_| {
            KeyPairError::Pkcs12(
                "not a PKCS#12 keystore that opens with this password (or an unsupported cipher)"
                    .into(),
            )
        })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| {
            KeyPairError::Pkcs12("the keystore holds no private key with its certificate".into())
        })?;
        let leaf = chain
            .chain()
            .first()
            .ok_or_else(|| KeyPairError::Pkcs12("the private key has no certificate".into()))?;
        let certificate = Certificate::from_der(leaf.as_der())
            .map_err(|_| KeyPairError::Pkcs12("its certificate is not X.509".into()))?;
        let key = RsaPrivateKey::from_pkcs8_der(chain.key())
            .map_err(|_| KeyPairError::Pkcs12("its private key is not an RSA key".into()))?;
        KeyPair::checked(certificate, key)
    }

    fn checked(certificate: Certificate, key: RsaPrivateKey) -> Result<KeyPair, KeyPairError> {
        let tbs = &certificate.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyPairError::Certificate(format!(
                "its public key is {}, not RSA",
                spki.algorithm.oid
            )));
        }
        let spki_der = spki
            .to_der()
            .map_err(|_| KeyPairError::Certificate("its public key does not encode".into()))?;
        let public = RsaPublicKey::from_public_key_der(&spki_der)
            .map_err(|_| KeyPairError::Certificate("its RSA public key is damaged".into()))?;
        if public != key.to_public_key() {
            return Err(KeyPairError::Mismatch);
        }
        let recipient = RecipientId::new(&tbs.issuer, &tbs.serial_number)
            .map_err(|_| KeyPairError::Certificate("its issuer does not encode".into()))?;
        let der = certificate
            .to_der()
            .map_err(|_| KeyPairError::Certificate("it does not encode".into()))?;
        use sha2::Digest;
        let fingerprint = sha2::Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let private_key_pem = key
            .to_pkcs8_der()
            .map(|document| pem::encode("PRIVATE KEY", document.as_bytes()))
            .map_err(|_| KeyPairError::PrivateKey("it does not encode as PKCS#8".into()))?;
        Ok(KeyPair {
            certificate_pem: pem::encode("CERTIFICATE", &der),
            private_key_pem,
            recipient,
            subject: tbs.subject.to_string(),
            not_after: tbs.validity.not_after.to_string(),
            fingerprint,
        })
    }
}

fn parse_certificate(text: &str) -> Result<Certificate, KeyPairError> {
    let (label, der) =
        pem::decode(text).ok_or_else(|| KeyPairError::Certificate("not a PEM block".into()))?;
    if label != "CERTIFICATE" {
        return Err(KeyPairError::Certificate(format!(
            "a PEM block {label:?}, not CERTIFICATE"
        )));
    }
    Certificate::from_der(&der)
        .map_err(|_| KeyPairError::Certificate("not an X.509 certificate".into()))
}

/// The stored (PKCS#8 PEM) private key, for unwrapping.
pub fn private_key(pem_text: &str) -> Option<RsaPrivateKey> {
    let (_, der) = pem::decode(pem_text)?;
    RsaPrivateKey::from_pkcs8_der(&der).ok()
}
