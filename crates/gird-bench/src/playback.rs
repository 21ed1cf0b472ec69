//! Playback benchmark: decrypted playback of an encrypted recording (GIR's detached PKCS7
//! envelope, AES-256-CBC) against plain playback of the same plaintext, both streamed
//! whole through gird from one local WebDAV server (dav-server over a temporary folder),
//! in alternating rounds of the same run so that the ratio survives a noisy machine.
//! The envelope is made with the openssl CLI (a self-signed RSA certificate, `openssl enc`
//! for the content, `openssl pkeyutl` for the key) and RustCrypto's cms types.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use axum::routing::any;
use axum::{Extension, Router};
use base64::Engine;
use bytes::Bytes;
use clap::Args;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use dav_server::fakels::FakeLs;
use dav_server::localfs::LocalFs;
use dav_server::DavHandler;
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, DecodePem, Encode};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use crate::bench::Outcome;
use crate::launch::{self, DataDir, GirdLaunch};
use crate::ops::Session;
use crate::report::median;
use crate::GirdArgs;

#[derive(Args, Debug, Clone)]
pub struct PlaybackOptions {
    /// Size of the media file, in MiB.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub megabytes: u64,
    /// Measured rounds; each plays the plain file, then the encrypted one.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,
    #[command(flatten)]
    pub gird: GirdArgs,
}

pub fn run(options: PlaybackOptions) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(measure(options))
}

async fn measure(options: PlaybackOptions) -> anyhow::Result<Outcome> {
    let media = tempfile::TempDir::new()?;
    let bytes = options.megabytes * 1024 * 1024;
    let pkcs7 = make_files(media.path(), bytes)?;
    let dav = serve_dav(media.path()).await?;

    let data_dir = DataDir::new(None)?;
    let launch = GirdLaunch {
        binary: options.gird.gird_bin.as_deref(),
        extra_args: &options.gird.gird_args,
        verbose: options.gird.verbose,
    };
    let (mut gird, mut session) = launch::start_gird(&launch, &data_dir).await?;
    session.log_in().await?;
    let cc = &options.gird.contact_center;
    session.prepare_contact_center(cc).await?;
    let ops = format!("/api/v2/ops/contact-centers/{cc}");
    expect(
        &session,
        Method::PUT,
        &format!("{ops}/storage"),
        json!({"baseUrl": format!("{dav}/dav/")}),
        StatusCode::OK,
    )
    .await?;
    let key = json!({
        "alias": "bench",
        "certificate": std::fs::read_to_string(media.path().join("cert.pem"))?,
        "privateKey": std::fs::read_to_string(media.path().join("key.pem"))?,
    });
    expect(
        &session,
        Method::POST,
        &format!("{ops}/decryption-keys"),
        key,
        StatusCode::CREATED,
    )
    .await?;
    let plain_path = insert(&session, cc, "bench-plain", "plain.mp3", None).await?;
    let encrypted_path = insert(
        &session,
        cc,
        "bench-encrypted",
        "call.mp3.bin",
        Some(&pkcs7),
    )
    .await?;

    println!(
        "gird-bench playback: one {} MiB file, plain and encrypted (AES-256-CBC), {} rounds, {} CPUs",
        options.megabytes,
        options.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("gird: {} (pid {})", gird.base_url, gird.pid().unwrap_or(0));
    println!();
    println!(
        "{:<6} {:>12} {:>16} {:>8}",
        "round", "plain MB/s", "decrypted MB/s", "ratio"
    );
    // A warm-up of each, so that the page cache and the unwrapped key are in place.
    play(&session, &plain_path, bytes).await?;
    play(&session, &encrypted_path, bytes).await?;
    let mut ratios = Vec::new();
    for round in 1..=options.rounds {
        let plain = play(&session, &plain_path, bytes).await?;
        let decrypted = play(&session, &encrypted_path, bytes).await?;
        gird.ensure_running()?;
        let ratio = decrypted / plain;
        ratios.push(ratio);
        println!("{round:<6} {plain:>12.0} {decrypted:>16.0} {ratio:>8.3}");
    }
    let median_ratio = median(&ratios).unwrap_or_default();
    println!();
    println!("median ratio decrypted ÷ plain playback: {median_ratio:.3}");
    gird.stop().await;
    drop(data_dir);
    Ok(Outcome::Clean)
}

async fn expect(
    session: &Session,
    method: Method,
    path: &str,
    body: Value,
    status: StatusCode,
) -> anyhow::Result<()> {
    let answer = session.call(method.clone(), path, Some(body)).await?;
    if answer.status != status {
        bail!(
            "{method} {path}: HTTP {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    Ok(())
}

/// Inserts a recording of one media file at `path`; answers its play path.
async fn insert(
    session: &Session,
    cc: &str,
    id: &str,
    path: &str,
    pkcs7: Option<&str>,
) -> anyhow::Result<String> {
    let mut media = json!({
        "callUUID": id, "mediaId": id, "type": "audio/mp3",
        "startTime": "2024-01-01T10:00:00Z", "stopTime": "2024-01-01T10:30:00Z",
        "mediaDescriptor": {"storage": "webDAV", "path": path},
    });
    if let Some(pkcs7) = pkcs7 {
        media["pkcs7"] = json!(pkcs7);
    }
    let record = json!({"id": id, "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2",
                        "region": "bench", "mediaFiles": [media]});
    let answer = session
        .call(
            Method::POST,
            &format!("/internal-api/contact-centers/{cc}/recordings"),
            Some(record),
        )
        .await?;
    if !answer.status.is_success() {
        bail!(
            "inserting {id}: HTTP {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    let read = session
        .call(
            Method::GET,
            &format!("/api/v2/ops/contact-centers/{cc}/recordings/{id}"),
            None,
        )
        .await?;
    let view: Value = serde_json::from_slice(&read.body)?;
    view["recording"]["mediaFiles"][0]["playPath"]
        .as_str()
        .map(|path| format!("/api/v2{path}?contactCenterId={cc}"))
        .context("the recording has no playPath")
}

/// Plays the whole file once; answers the rate in MB/s (10^6 bytes).
async fn play(session: &Session, path: &str, expected: u64) -> anyhow::Result<f64> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder().method(Method::GET).uri(format!(
        "http://{}{}",
        session.authority,
        session.path(path)
    ));
    for (name, value) in &session.headers {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let response = client.request(request.body(Full::default())?).await?;
    if response.status() != StatusCode::OK {
        bail!("GET {path}: HTTP {}", response.status());
    }
    let mut body = response.into_body();
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            received += data.len() as u64;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if received != expected {
        bail!("GET {path}: {received} bytes, not {expected}");
    }
    Ok(received as f64 / 1e6 / elapsed)
}

/// A WebDAV server over `root`, without credentials; answers its base URL.
async fn serve_dav(root: &Path) -> anyhow::Result<String> {
    let dav = DavHandler::builder()
        .filesystem(LocalFs::new(root, false, false, false))
        .locksystem(FakeLs::new())
        .strip_prefix("/dav")
        .build_handler();
    let router = Router::new()
        .route("/dav/{*path}", any(handle_dav))
        .layer(Extension(dav));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(address)
}

async fn handle_dav(
    Extension(dav): Extension<DavHandler>,
    request: axum::extract::Request,
) -> axum::response::Response {
    dav.handle(request).await.map(axum::body::Body::new)
}

fn openssl(args: &[&str], dir: &Path) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running openssl (the playback benchmark makes its envelope with it)")?;
    if !output.status.success() {
        bail!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `plain.mp3` of `bytes` random bytes, `call.mp3.bin` its AES-256-CBC ciphertext, a key
/// pair; answers the envelope (`pkcs7`).
fn make_files(dir: &Path, bytes: u64) -> anyhow::Result<String> {
    let count = bytes.to_string();
    openssl(&["rand", "-out", "plain.mp3", &count], dir)?;
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=gird bench",
            "-days",
            "2",
        ],
        dir,
    )?;
    openssl(&["rand", "-out", "content.key", "32"], dir)?;
    let key = std::fs::read(dir.join("content.key"))?;
    openssl(&["rand", "-out", "iv.bin", "16"], dir)?;
    let iv = std::fs::read(dir.join("iv.bin"))?;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    openssl(
        &[
            "enc",
            "-aes-256-cbc",
            "-K",
            &hex(&key),
            "-iv",
            &hex(&iv),
            "-in",
            "plain.mp3",
            "-out",
            "call.mp3.bin",
        ],
        dir,
    )?;
    openssl(
        &[
            "pkeyutl",
            "-encrypt",
            "-certin",
            "-inkey",
            "cert.pem",
            "-pkeyopt",
            "rsa_padding_mode:pkcs1",
            "-in",
            "content.key",
            "-out",
            "wrapped.bin",
        ],
        dir,
    )?;
    std::fs::remove_file(dir.join("content.key"))?;
    let wrapped = std::fs::read(dir.join("wrapped.bin"))?;
    let certificate = Certificate::from_pem(std::fs::read(dir.join("cert.pem"))?)?;
    let recipient = RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(wrapped)?,
    });
    let enveloped = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(SetOfVec::try_from(vec![recipient])?),
        encrypted_content: EncryptedContentInfo {
            content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1"),
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42"),
                parameters: Some(Any::encode_from(&OctetString::new(iv)?)?),
            },
            encrypted_content: None,
        },
        unprotected_attrs: None,
    };
    let info = ContentInfo {
        content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3"),
        content: Any::encode_from(&enveloped)?,
    };
    let body = base64::engine::general_purpose::STANDARD.encode(info.to_der()?);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    Ok(format!(
        "-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n",
        lines.join("\n")
    ))
}
