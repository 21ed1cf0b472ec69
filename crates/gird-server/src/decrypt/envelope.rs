//! GIR's `pkcs7` field: a PEM block holding a CMS EnvelopedData (RFC 5652) whose content
//! is detached (the media file is the ciphertext), with key-transport recipients named by
//! issuer and serial number, RSA PKCS#1 v1.5 key encryption and AES-256-CBC content
//! encryption. Parsed with RustCrypto's `cms`; only what gird can decrypt passes.

use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientIdentifier, RecipientInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use sha2::{Digest, Sha256};

use super::{pem, DecryptError, RecipientId};

const ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
pub(super) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// One key-transport recipient: who, and the content key encrypted to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: RecipientId,
    pub encrypted_key: Vec<u8>,
}

/// An envelope gird can open with the right key.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub iv: [u8; 16],
    pub recipients: Vec<Recipient>,
    /// SHA-256 of the envelope's DER: which envelope a cached content key belongs to.
    pub digest: [u8; 32],
}

impl Envelope {
    /// Reads the `pkcs7` field as GIR sends it (any PEM label, 64- or 76-column lines).
    pub fn from_pem(text: &str) -> Result<Envelope, DecryptError> {
        let (_, der) = pem::decode(text)
            .ok_or_else(|| DecryptError::DamagedEnvelope("not a PEM block".into()))?;
        Envelope::from_der(&der)
    }

    pub fn from_der(der: &[u8]) -> Result<Envelope, DecryptError> {
        let damaged = |what: &str, error: der::Error| {
            DecryptError::DamagedEnvelope(format!("{what}: {}", error.kind()))
        };
        let info = ContentInfo::from_der(der).map_err(|e| damaged("ContentInfo", e))?;
        if info.content_type != ENVELOPED_DATA {
            return Err(DecryptError::Unsupported(format!(
                "content type {} (only EnvelopedData is decrypted)",
                info.content_type
            )));
        }
        let content = info.content.to_der().map_err(|e| damaged("content", e))?;
        let enveloped =
            EnvelopedData::from_der(&content).map_err(|e| damaged("EnvelopedData", e))?;
        let algorithm = &enveloped.encrypted_content.content_enc_alg;
        if algorithm.oid != AES_256_CBC {
            return Err(DecryptError::Unsupported(format!(
                "content encryption {} (only AES-256-CBC is decrypted)",
                algorithm.oid
            )));
        }
        let iv = algorithm
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.decode_as::<OctetString>().ok())
            .and_then(|iv| <[u8; 16]>::try_from(iv.as_bytes()).ok())
            .ok_or_else(|| {
                DecryptError::DamagedEnvelope("the AES-256-CBC IV is not 16 bytes".into())
            })?;
        if enveloped.encrypted_content.encrypted_content.is_some() {
            return Err(DecryptError::Unsupported(
                "the envelope carries its content; GIR's media files are detached".into(),
            ));
        }
        let mut recipients = Vec::new();
        let mut skipped = Vec::new();
        for info in enveloped.recip_infos.0.iter() {
            match info {
                RecipientInfo::Ktri(ktri) => {
                    if ktri.key_enc_alg.oid != RSA_ENCRYPTION {
                        skipped.push(format!("key encryption {}", ktri.key_enc_alg.oid));
                        continue;
                    }
                    let RecipientIdentifier::IssuerAndSerialNumber(named) = &ktri.rid else {
                        skipped.push("a recipient named by subject key identifier".into());
                        continue;
                    };
                    recipients.push(Recipient {
                        id: RecipientId::new(&named.issuer, &named.serial_number)?,
                        encrypted_key: ktri.enc_key.as_bytes().to_vec(),
                    });
                }
                _ => skipped.push("a recipient other than key transport".into()),
            }
        }
        if recipients.is_empty() {
            return Err(DecryptError::Unsupported(format!(
                "no RSA key-transport recipient named by issuer and serial ({})",
                if skipped.is_empty() {
                    "no recipients".to_owned()
                } else {
                    skipped.join(", ")
                }
            )));
        }
        Ok(Envelope {
            iv,
            recipients,
            digest: Sha256::digest(der).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Any;

    #[test]
    fn what_is_not_an_enveloped_data_is_named() {
        assert!(matches!(
            Envelope::from_pem("MIIB-envelope"),
            Err(DecryptError::DamagedEnvelope(_))
        ));
        assert!(matches!(
            Envelope::from_der(b"\x30\x03\x02\x01"),
            Err(DecryptError::DamagedEnvelope(_))
        ));
        let data = ContentInfo {
            content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1"),
            content: Any::encode_from(&OctetString::new(vec![1, 2, 3]).unwrap()).unwrap(),
        };
        let error = Envelope::from_der(&data.to_der().unwrap()).unwrap_err();
        assert!(
            matches!(&error, DecryptError::Unsupported(text) if text.contains("1.2.840.113549.1.7.1")),
            "{error}"
        );
        let wrong_shape = ContentInfo {
            content_type: ENVELOPED_DATA,
            content: Any::encode_from(&OctetString::new(vec![1]).unwrap()).unwrap(),
        };
        assert!(matches!(
            Envelope::from_der(&wrong_shape.to_der().unwrap()),
            Err(DecryptError::DamagedEnvelope(_))
        ));
    }
}
