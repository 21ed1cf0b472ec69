//! Encrypted recordings as GIR makes them, made in the test with the `openssl` CLI: a CA
//! and recipient certificates, a random AES-256 content key and IV, the media file
//! encrypted with `openssl enc -aes-256-cbc` (the detached ciphertext, PKCS#7 padded), the
//! content key wrapped to each recipient with `openssl pkeyutl` (RSA PKCS#1 v1.5), and the
//! CMS EnvelopedData around them assembled with RustCrypto's `cms` types and written as
//! GIR does (PEM labelled PKCS7, 76-column lines). [`Pki::cross_check`] proves the shape
//! with `openssl cms -decrypt -content`.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, DecodePem, Encode};
use tempfile::TempDir;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

const ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
pub const AES_128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (Debian's openssl package)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA of its own, in a folder of its own.
pub struct Pki {
    pub dir: TempDir,
}

/// A recipient's certificate and private key (PEM files in the PKI's folder).
#[derive(Clone)]
pub struct Recipient {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Recipient {
    pub fn certificate_pem(&self) -> String {
        std::fs::read_to_string(&self.cert).expect("certificate")
    }

    pub fn key_pem(&self) -> String {
        std::fs::read_to_string(&self.key).expect("private key")
    }

    /// The key as the ops API takes it (PEM).
    pub fn keys_body(&self, alias: &str) -> serde_json::Value {
        serde_json::json!({
            "alias": alias,
            "certificate": self.certificate_pem(),
            "privateKey": self.key_pem(),
        })
    }
}

/// What to damage or change when sealing, for the error tests.
#[derive(Clone, Copy, Default)]
pub struct Twist {
    /// Flip a bit of every recipient's encrypted key.
    pub damage_wrapped_key: bool,
    /// Name this content cipher in the envelope instead of AES-256-CBC.
    pub algorithm: Option<ObjectIdentifier>,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new().expect("PKI folder");
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/O=gird tests/CN=Recording Test CA",
                "-days",
                "3",
            ],
            dir.path(),
        );
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A recipient certificate with this serial (hex), signed by the CA.
    pub fn recipient(&self, name: &str, serial_hex: &str) -> Recipient {
        let dir = self.dir.path();
        let (key, csr, cert) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        openssl(
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}"),
            ],
            dir,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &format!("0x{serial_hex}"),
                "-days",
                "3",
                "-out",
                &cert,
            ],
            dir,
        );
        Recipient {
            name: name.to_owned(),
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }

    /// The recipient's key and certificate in a PKCS#12 keystore (OpenSSL's default
    /// ciphers: PBES2 with AES-256-CBC, HMAC-SHA-256), base64.
    pub fn pkcs12(&self, recipient: &Recipient, password: &str) -> String {
        let out = format!("{}.p12", recipient.name);
        openssl(
            &[
                "pkcs12",
                "-export",
                "-inkey",
                recipient.key.to_str().unwrap(),
                "-in",
                recipient.cert.to_str().unwrap(),
                "-passout",
                &format!("pass:{password}"),
                "-name",
                &recipient.name,
                "-out",
                &out,
            ],
            self.dir.path(),
        );
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(self.path(&out)).unwrap())
    }

    /// The recipient's key as PKCS#1 PEM (`RSA PRIVATE KEY`).
    pub fn pkcs1_key(&self, recipient: &Recipient) -> String {
        let out = format!("{}.pkcs1.key", recipient.name);
        openssl(
            &[
                "rsa",
                "-in",
                recipient.key.to_str().unwrap(),
                "-traditional",
                "-out",
                &out,
            ],
            self.dir.path(),
        );
        std::fs::read_to_string(self.path(&out)).unwrap()
    }

    /// Encrypts the file `plain` to `cipher` for `recipients`; answers the `pkcs7` field.
    pub fn seal(&self, plain: &Path, cipher: &Path, recipients: &[&Recipient]) -> String {
        self.seal_twisted(plain, cipher, recipients, Twist::default())
    }

    pub fn seal_twisted(
        &self,
        plain: &Path,
        cipher: &Path,
        recipients: &[&Recipient],
        twist: Twist,
    ) -> String {
        let dir = self.dir.path();
        let content_key = random_bytes(32);
        let iv = random_bytes(16);
        openssl(
            &[
                "enc",
                "-aes-256-cbc",
                "-K",
                &hex(&content_key),
                "-iv",
                &hex(&iv),
                "-in",
                plain.to_str().unwrap(),
                "-out",
                cipher.to_str().unwrap(),
            ],
            dir,
        );
        std::fs::write(dir.join("content.key"), &content_key).unwrap();
        let infos: Vec<RecipientInfo> = recipients
            .iter()
            .map(|recipient| {
                openssl(
                    &[
                        "pkeyutl",
                        "-encrypt",
                        "-certin",
                        "-inkey",
                        recipient.cert.to_str().unwrap(),
                        "-pkeyopt",
                        "rsa_padding_mode:pkcs1",
                        "-in",
                        "content.key",
                        "-out",
                        "wrapped.bin",
                    ],
                    dir,
                );
                let mut wrapped = std::fs::read(dir.join("wrapped.bin")).unwrap();
                if twist.damage_wrapped_key {
                    wrapped[40] ^= 0x01;
                }
                let certificate = Certificate::from_pem(recipient.certificate_pem()).unwrap();
                RecipientInfo::Ktri(KeyTransRecipientInfo {
                    version: CmsVersion::V0,
                    rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                        issuer: certificate.tbs_certificate.issuer.clone(),
                        serial_number: certificate.tbs_certificate.serial_number.clone(),
                    }),
                    key_enc_alg: AlgorithmIdentifierOwned {
                        oid: RSA_ENCRYPTION,
                        parameters: Some(Any::null()),
                    },
                    enc_key: OctetString::new(wrapped).unwrap(),
                })
            })
            .collect();
        let enveloped = EnvelopedData {
            version: CmsVersion::V0,
            originator_info: None,
            recip_infos: RecipientInfos(der::asn1::SetOfVec::try_from(infos).unwrap()),
            encrypted_content: EncryptedContentInfo {
                content_type: DATA,
                content_enc_alg: AlgorithmIdentifierOwned {
                    oid: twist.algorithm.unwrap_or(AES_256_CBC),
                    parameters: Some(Any::encode_from(&OctetString::new(iv).unwrap()).unwrap()),
                },
                encrypted_content: None,
            },
            unprotected_attrs: None,
        };
        let info = ContentInfo {
            content_type: ENVELOPED_DATA,
            content: Any::encode_from(&enveloped).unwrap(),
        };
        gir_pem(&info.to_der().unwrap())
    }

    /// Decrypts with OpenSSL as the issue gives it; answers the plaintext.
    pub fn cross_check(&self, pkcs7: &str, cipher: &Path, recipient: &Recipient) -> Vec<u8> {
        let dir = self.dir.path();
        std::fs::write(dir.join("env.pem"), pkcs7).unwrap();
        openssl(
            &[
                "cms",
                "-decrypt",
                "-inform",
                "PEM",
                "-in",
                "env.pem",
                "-content",
                cipher.to_str().unwrap(),
                "-binary",
                "-inkey",
                recipient.key.to_str().unwrap(),
                "-recip",
                recipient.cert.to_str().unwrap(),
                "-out",
                "decrypted.bin",
            ],
            dir,
        );
        std::fs::read(dir.join("decrypted.bin")).unwrap()
    }
}

/// PEM as GIR writes it: label PKCS7, base64 wrapped at 76 columns, `\n` line ends.
fn gir_pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n",
        lines.join("\n")
    )
}

/// Reads a `pkcs7` field back into its DER (to check the fixture's own shape).
pub fn der_of(pkcs7: &str) -> Vec<u8> {
    let body: String = pkcs7
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The envelope parses as CMS again (the fixture is well-formed).
pub fn assert_enveloped(pkcs7: &str) {
    let info = ContentInfo::from_der(&der_of(pkcs7)).expect("a ContentInfo");
    assert_eq!(info.content_type, ENVELOPED_DATA);
}

fn random_bytes(count: usize) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(["rand", &count.to_string()])
        .output()
        .expect("openssl rand");
    assert!(output.status.success());
    output.stdout
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
