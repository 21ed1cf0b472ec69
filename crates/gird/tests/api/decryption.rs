//! Encrypted recordings (API.md "Encrypted recordings"): GIR's detached PKCS7 envelopes,
//! made by `cms_fixture` with the openssl CLI and cross-checked with `openssl cms
//! -decrypt`, played decrypted, whole and by range, from rclone's WebDAV, SeaweedFS's S3
//! and the in-process WebDAV server; the keys API; and every way decryption fails.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::body::{edited, minimal_record, set};
use crate::client::send;
use crate::cms_fixture::{assert_enveloped, Pki, Recipient, Twist, AES_128_CBC};
use crate::helpers::{eventually, spawn_app, AppBuilder, TestApp};
use crate::playback::{peak_rss, Stage};
use crate::rws::Played;
use crate::s3_e2e::Weed;
use crate::s3_storage::s3_record;
use crate::webdav::{pattern, Fnv};
use crate::webdav_e2e::{Rclone, PASSWORD, USER};

/// Not a multiple of 16: the padding is not a whole block.
const SIZE: usize = 300 * 1024 + 7;

fn keys_path(cc: &str) -> String {
    format!("/api/v2/ops/contact-centers/{cc}/decryption-keys")
}

async fn add_key(app: &TestApp, cc: &str, body: &Value) -> crate::client::ApiResponse {
    send(app.request(Method::POST, &keys_path(cc)).json(body)).await
}

/// Adds the key and checks the answer: 201 with the alias.
async fn added(app: &TestApp, cc: &str, body: &Value) -> String {
    let response = add_key(app, cc, body).await;
    assert_eq!(response.status.as_u16(), 201, "{}", response.text);
    let json = response.json();
    assert_eq!(json["statusCode"], 0);
    json["alias"].as_str().expect("an alias").to_owned()
}

/// A record whose one media file is the ciphertext at `path`, with its envelope.
fn encrypted_record(id: &str, path: &str, pkcs7: &str, alias: &str) -> Value {
    edited(
        &minimal_record(id),
        [
            set("/mediaFiles/0/mediaId", format!("{id}-media").into()),
            set("/mediaFiles/0/mediaDescriptor/path", path.into()),
            set("/mediaFiles/0/type", "audio/mp3".into()),
            set("/mediaFiles/0/pkcs7", pkcs7.into()),
            set("/mediaFiles/0/certAlias", json!([alias])),
        ],
    )
}

async fn insert_encrypted(app: &TestApp, cc: &str, record: &Value) -> String {
    app.insert(cc, record).await.assert_ok();
    let id = record["id"].as_str().unwrap();
    app.recording(cc, id).await["mediaFiles"][0]["playPath"]
        .as_str()
        .expect("a playPath")
        .to_owned()
}

/// Plaintext and ciphertext files in `dir`, and the envelope, cross-checked with openssl.
fn encrypted_file(
    pki: &Pki,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    recipients: &[&Recipient],
) -> String {
    let plain = dir.join(format!("{name}.plain"));
    std::fs::write(&plain, bytes).unwrap();
    let cipher = dir.join(format!("{name}.mp3.bin"));
    let pkcs7 = pki.seal(&plain, &cipher, recipients);
    std::fs::remove_file(&plain).unwrap();
    assert_enveloped(&pkcs7);
    for recipient in recipients {
        assert!(
            pki.cross_check(&pkcs7, &cipher, recipient) == bytes,
            "openssl cms -decrypt gives the plaintext back for {}",
            recipient.name
        );
    }
    assert!(
        pkcs7.lines().nth(1).unwrap().len() == 76,
        "GIR's line length"
    );
    pkcs7
}

fn assert_whole(played: &Played, bytes: &[u8]) {
    assert_eq!(played.status.as_u16(), 200, "{}", played.as_api().text);
    assert_eq!(played.header("content-type").as_deref(), Some("audio/mp3"));
    assert_eq!(
        played.header("content-length"),
        Some(bytes.len().to_string())
    );
    assert_eq!(played.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(
        played.body == bytes,
        "the decrypted bytes are the plaintext"
    );
}

/// Ranges at the start, in the middle and at the end, starting and ending inside blocks,
/// on block edges, open-ended and suffixes; and one past the end.
async fn assert_ranges(app: &TestApp, cc: &str, play_path: &str, bytes: &[u8]) {
    let len = bytes.len();
    let ranges = [
        (0, 0),
        (0, 15),
        (15, 16),
        (16, 31),
        (3, 40),
        (17, 17),
        (len / 2 - 9, len / 2 + 1000),
        (len / 2, len / 2),
        (len - 1, len - 1),
        (len - 20, len - 1),
        (len - 8, len - 1),
    ];
    for (first, last) in ranges {
        let played = app
            .play(play_path, cc, Some(&format!("bytes={first}-{last}")))
            .await;
        assert_eq!(played.status.as_u16(), 206, "{}", played.as_api().text);
        assert_eq!(
            played.header("content-range"),
            Some(format!("bytes {first}-{last}/{len}"))
        );
        assert_eq!(
            played.header("content-length"),
            Some((last - first + 1).to_string())
        );
        assert!(played.body == bytes[first..=last], "bytes {first}-{last}");
    }
    let open = app
        .play(play_path, cc, Some(&format!("bytes={}-", len - 33)))
        .await;
    assert_eq!(open.status.as_u16(), 206);
    assert!(open.body == bytes[len - 33..], "an open-ended range");
    let suffix = app.play(play_path, cc, Some("bytes=-17")).await;
    assert!(suffix.body == bytes[len - 17..], "a suffix range");
    let past = app
        .play(play_path, cc, Some(&format!("bytes={len}-")))
        .await;
    past.as_api().assert_error(416, 10);
    assert_eq!(past.header("content-range"), Some(format!("bytes */{len}")));
}

#[tokio::test]
async fn encrypted_media_plays_whole_and_by_range_from_rclone_webdav() {
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-1", "1a2b3c");
    let root = TempDir::new().unwrap();
    let folder = root.path().join("recordings/2024");
    std::fs::create_dir_all(&folder).unwrap();
    let bytes = pattern(SIZE, 81);
    let pkcs7 = encrypted_file(&pki, &folder, "call", &bytes, &[&rcs]);
    let rclone = Rclone::serve(root.path()).await;
    let builder = AppBuilder::new();
    let audit = builder.data_dir().with_file_name("audit.jsonl");
    let app = builder
        .arg("--audit-log", audit.to_str().unwrap())
        .spawn()
        .await;
    let cc = app.ready_contact_center().await;
    let storage = json!({"baseUrl": format!("{}/recordings/", rclone.address),
                         "username": USER, "password": PASSWORD});
    app.put_storage(&cc, &storage).await.assert_ok();
    let alias = added(&app, &cc, &rcs.keys_body("rcs-2024")).await;
    assert_eq!(alias, "rcs-2024");
    let record = encrypted_record("enc", "2024/call.mp3.bin", &pkcs7, "rcs-2024");
    let play_path = insert_encrypted(&app, &cc, &record).await;
    let stored = app.recording(&cc, "enc").await;
    assert_eq!(stored["mediaFiles"][0]["pkcs7"], pkcs7, "stored as sent");

    assert_whole(&app.play(&play_path, &cc, None).await, &bytes);
    assert_ranges(&app, &cc, &play_path, &bytes).await;
    let stranger = pki.recipient("stranger", "5e");
    let foreign = encrypted_file(&pki, &folder, "foreign", &bytes[..100], &[&stranger]);
    let record = encrypted_record("foreign", "2024/foreign.mp3.bin", &foreign, "x");
    let foreign_path = insert_encrypted(&app, &cc, &record).await;
    app.play(&foreign_path, &cc, None)
        .await
        .as_api()
        .assert_error(404, 6);

    let history = send(app.request(
        Method::GET,
        &format!("/api/v2/ops/contact-centers/{cc}/recordings/enc/access"),
    ))
    .await
    .json();
    let details: Vec<&str> = history["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["detail"].as_str().unwrap())
        .collect();
    assert!(
        details
            .iter()
            .any(|detail| detail.contains("decrypted with key rcs-2024")),
        "{details:?}"
    );
    eventually("the audit log has the decryption and the refusal", || {
        let audit = audit.clone();
        async move {
            std::fs::read_to_string(&audit).is_ok_and(|text| {
                text.lines().any(|line| {
                    let line: Value = serde_json::from_str(line).unwrap_or_default();
                    let fields = &line["fields"];
                    fields["action"] == "decrypt"
                        && fields["recording"] == "enc"
                        && fields["user"] == "ops"
                        && fields["outcome"]
                            .as_str()
                            .is_some_and(|outcome| outcome.contains("key rcs-2024"))
                }) && text.lines().any(|line| {
                    let line: Value = serde_json::from_str(line).unwrap_or_default();
                    let fields = &line["fields"];
                    fields["action"] == "decrypt"
                        && fields["recording"] == "foreign"
                        && fields["outcome"]
                            .as_str()
                            .is_some_and(|outcome| outcome.contains("refused: no decryption key"))
                })
            })
        }
    })
    .await;
}

#[tokio::test]
async fn encrypted_media_plays_from_seaweedfs() {
    let Some(weed) = Weed::start("gird-enc").await else {
        return;
    };
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-s3", "0badcafe");
    let work = TempDir::new().unwrap();
    let bytes = pattern(SIZE, 82);
    let pkcs7 = encrypted_file(&pki, work.path(), "call", &bytes, &[&rcs]);
    let cipher = std::fs::read(work.path().join("call.mp3.bin")).unwrap();
    weed.put("gird-enc", "2024/call.mp3.bin", cipher).await;
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_s3(&cc, &weed.settings("gird-enc", crate::s3::SECRET_KEY))
        .await
        .assert_ok();
    added(&app, &cc, &rcs.keys_body("s3-key")).await;
    let record = edited(
        &s3_record("enc-s3", "gird-enc", "2024/call.mp3.bin"),
        [
            set("/mediaFiles/0/type", "audio/mp3".into()),
            set("/mediaFiles/0/pkcs7", pkcs7.into()),
        ],
    );
    let play_path = insert_encrypted(&app, &cc, &record).await;
    assert_whole(&app.play(&play_path, &cc, None).await, &bytes);
    assert_ranges(&app, &cc, &play_path, &bytes).await;
}

/// A stage with a PKI, and a way to put encrypted files on its WebDAV server.
struct EncryptedStage {
    stage: Stage,
    pki: Pki,
    work: TempDir,
}

impl EncryptedStage {
    async fn new() -> EncryptedStage {
        EncryptedStage {
            stage: Stage::new().await,
            pki: Pki::new(),
            work: TempDir::new().unwrap(),
        }
    }

    fn app(&self) -> &TestApp {
        &self.stage.app
    }

    fn cc(&self) -> &str {
        &self.stage.cc
    }

    /// Encrypts `bytes` for `recipients`, puts the ciphertext at `<name>.mp3.bin` (after
    /// `change` has had its way with it) and inserts recording `name`; answers its play
    /// path.
    async fn recording(
        &self,
        name: &str,
        bytes: &[u8],
        recipients: &[&Recipient],
        twist: Twist,
        change: impl FnOnce(&mut Vec<u8>),
    ) -> String {
        let plain = self.work.path().join(format!("{name}.plain"));
        std::fs::write(&plain, bytes).unwrap();
        let cipher_path = self.work.path().join(format!("{name}.bin"));
        let pkcs7 = self
            .pki
            .seal_twisted(&plain, &cipher_path, recipients, twist);
        let mut cipher = std::fs::read(&cipher_path).unwrap();
        change(&mut cipher);
        let path = format!("{name}.mp3.bin");
        self.stage.dav.put_file(&path, &cipher);
        let record = encrypted_record(name, &path, &pkcs7, "any");
        insert_encrypted(self.app(), self.cc(), &record).await
    }

    async fn play(&self, play_path: &str, range: Option<&str>) -> Played {
        self.stage.play(play_path, range).await
    }
}

#[tokio::test]
async fn two_recipients_and_key_rotation() {
    let staged = EncryptedStage::new().await;
    let (app, cc) = (staged.app(), staged.cc());
    let (old, new, other) = (
        staged.pki.recipient("rcs-2023", "2023"),
        staged.pki.recipient("rcs-2024", "2024"),
        staged.pki.recipient("backup", "0b"),
    );
    added(app, cc, &old.keys_body("rcs-2023")).await;
    let bytes = pattern(SIZE, 83);
    let before = staged
        .recording("before", &bytes, &[&old], Twist::default(), |_| {})
        .await;
    assert_whole(&staged.play(&before, None).await, &bytes);

    // The rotation adds a key; recordings of the old one keep playing.
    added(app, cc, &new.keys_body("rcs-2024")).await;
    let after_bytes = pattern(SIZE - 100, 84);
    let after = staged
        .recording("after", &after_bytes, &[&new], Twist::default(), |_| {})
        .await;
    assert_whole(&staged.play(&after, None).await, &after_bytes);
    assert_whole(&staged.play(&before, None).await, &bytes);

    // Two recipients in one envelope: either key opens it; gird holds only the second.
    let both_bytes = pattern(5000, 85);
    let both = staged
        .recording(
            "both",
            &both_bytes,
            &[&other, &new],
            Twist::default(),
            |_| {},
        )
        .await;
    assert_whole(&staged.play(&both, None).await, &both_bytes);
    let range = staged.play(&both, Some("bytes=4000-4020")).await;
    assert!(range.body == both_bytes[4000..=4020]);

    let listed = send(app.request(Method::GET, &keys_path(cc))).await.json();
    let aliases: Vec<&str> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["rcs-2023", "rcs-2024"], "oldest first");

    // Without the old key, the old recording names what it needs.
    send(app.request(Method::DELETE, &format!("{}/rcs-2023", keys_path(cc))))
        .await
        .assert_ok();
    let message = staged
        .play(&before, None)
        .await
        .as_api()
        .assert_error(404, 6);
    assert!(
        message.contains("serial 20:23") && message.contains("Recording Test CA"),
        "{message}"
    );
    assert_whole(&staged.play(&after, None).await, &after_bytes);
}

#[tokio::test]
async fn missing_and_wrong_keys_are_named() {
    let staged = EncryptedStage::new().await;
    let (app, cc) = (staged.app(), staged.cc());
    let (mine, theirs) = (
        staged.pki.recipient("mine", "01"),
        staged.pki.recipient("theirs", "0abc"),
    );
    let bytes = pattern(1000, 86);
    let play_path = staged
        .recording("theirs", &bytes, &[&theirs], Twist::default(), |_| {})
        .await;
    let message = staged
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(404, 6);
    assert!(
        message.contains("no decryption key")
            && message.contains("serial 0a:bc")
            && message.contains("CN=Recording Test CA"),
        "{message}"
    );
    // The contact center's only key is for another recipient: the same answer.
    added(app, cc, &mine.keys_body("mine")).await;
    staged
        .play(&play_path, None)
        .await
        .as_api()
        .assert_error(404, 6);
    // A key that is not the certificate's is refused when added.
    let mismatched = json!({"certificate": theirs.certificate_pem(), "privateKey": mine.key_pem()});
    let message = add_key(app, cc, &mismatched).await.assert_error(400, 10);
    assert!(message.contains("does not match"), "{message}");
}

#[tokio::test]
async fn damaged_envelopes_and_ciphertexts_are_clear_errors() {
    let staged = EncryptedStage::new().await;
    let (app, cc) = (staged.app(), staged.cc());
    let rcs = staged.pki.recipient("rcs", "77");
    added(app, cc, &rcs.keys_body("rcs")).await;
    let bytes = pattern(4096 + 5, 87);
    let none = Twist::default();

    let truncated = staged
        .recording("truncated", &bytes, &[&rcs], none, |c| {
            c.truncate(c.len() - 5)
        })
        .await;
    let message = staged
        .play(&truncated, None)
        .await
        .as_api()
        .assert_error(422, 10);
    assert!(
        message.contains("not a whole number of 16-byte blocks"),
        "{message}"
    );

    // The last plaintext byte is the pad length; flipping its top bit in the block before
    // makes it over 16.
    let padding = staged
        .recording("padding", &bytes, &[&rcs], none, |c| {
            let at = c.len() - 17;
            c[at] ^= 0x80;
        })
        .await;
    let message = staged
        .play(&padding, Some("bytes=0-9"))
        .await
        .as_api()
        .assert_error(422, 10);
    assert!(message.contains("padding"), "{message}");

    let empty = staged
        .recording("empty", &bytes, &[&rcs], none, |c| c.clear())
        .await;
    staged
        .play(&empty, None)
        .await
        .as_api()
        .assert_error(422, 10);

    let wrapped = Twist {
        damage_wrapped_key: true,
        ..none
    };
    let unopened = staged
        .recording("unopened", &bytes, &[&rcs], wrapped, |_| {})
        .await;
    let message = staged
        .play(&unopened, None)
        .await
        .as_api()
        .assert_error(422, 10);
    assert!(message.contains("does not open the envelope"), "{message}");
    // Asked again, the cached outcome answers the same.
    staged
        .play(&unopened, None)
        .await
        .as_api()
        .assert_error(422, 10);

    let aes128 = Twist {
        algorithm: Some(AES_128_CBC),
        ..none
    };
    let unsupported = staged
        .recording("aes128", &bytes, &[&rcs], aes128, |_| {})
        .await;
    let message = staged
        .play(&unsupported, None)
        .await
        .as_api()
        .assert_error(422, 10);
    assert!(message.contains("unsupported encryption"), "{message}");

    for (id, pkcs7) in [
        (
            "garbage",
            "-----BEGIN PKCS7-----\nbm90IGRlcg==\n-----END PKCS7-----\n",
        ),
        ("no-pem", "MIIB"),
    ] {
        staged.stage.dav.put_file(&format!("{id}.bin"), &[0; 32]);
        let record = encrypted_record(id, &format!("{id}.bin"), pkcs7, "any");
        let play_path = insert_encrypted(app, cc, &record).await;
        let message = staged
            .play(&play_path, None)
            .await
            .as_api()
            .assert_error(422, 10);
        assert!(message.contains("envelope is damaged"), "{message}");
    }
}

#[tokio::test]
async fn pkcs12_and_pkcs1_keys_are_imported() {
    let staged = EncryptedStage::new().await;
    let (app, cc) = (staged.app(), staged.cc());
    let (p12, pkcs1) = (
        staged.pki.recipient("keystore", "12"),
        staged.pki.recipient("traditional", "13"),
    );
    let keystore = staged.pki.pkcs12(&p12, "store-Pass-1");
    let wrong = json!({"pkcs12": keystore, "password": "wrong"});
    let message = add_key(app, cc, &wrong).await.assert_error(400, 10);
    assert!(message.starts_with("pkcs12:"), "{message}");
    let alias = added(
        app,
        cc,
        &json!({"pkcs12": keystore, "password": "store-Pass-1"}),
    )
    .await;
    assert_eq!(alias.len(), 16, "made from the certificate's fingerprint");
    let body = json!({"alias": "pkcs1", "certificate": pkcs1.certificate_pem(),
                      "privateKey": staged.pki.pkcs1_key(&pkcs1)});
    added(app, cc, &body).await;

    let bytes = pattern(10_000, 88);
    for (name, recipient) in [("p12", &p12), ("pkcs1", &pkcs1)] {
        let play_path = staged
            .recording(name, &bytes, &[recipient], Twist::default(), |_| {})
            .await;
        assert_whole(&staged.play(&play_path, None).await, &bytes);
    }
}

#[tokio::test]
async fn the_keys_api_refuses_what_it_cannot_use_and_never_answers_a_key() {
    let pki = Pki::new();
    let rcs = pki.recipient("rcs", "42");
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    add_key(&app, "nowhere", &rcs.keys_body("a"))
        .await
        .assert_error(404, 6);
    send(app.request(Method::GET, &keys_path("nowhere")))
        .await
        .assert_error(404, 6);
    let cert = rcs.certificate_pem();
    let key = rcs.key_pem();
    let refused = [
        (
            json!({"privateKey": key}),
            400,
            1,
            "certificate: is required",
        ),
        (
            json!({"certificate": cert}),
            400,
            1,
            "privateKey: is required",
        ),
        (
            json!({"certificate": "junk", "privateKey": key}),
            400,
            10,
            "certificate: not a PEM block",
        ),
        (
            json!({"certificate": key, "privateKey": key}),
            400,
            10,
            "not CERTIFICATE",
        ),
        (
            json!({"certificate": cert, "privateKey": cert}),
            400,
            10,
            "privateKey:",
        ),
        (
            json!({"certificate": cert, "privateKey": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"}),
            400,
            10,
            "PKCS#12",
        ),
        (
            json!({"certificate": cert, "privateKey": key, "pkcs12": "AAAA"}),
            400,
            10,
            "either",
        ),
        (
            json!({"pkcs12": "not base64!"}),
            400,
            10,
            "pkcs12: not base64",
        ),
        (json!({"pkcs12": "AAAA"}), 400, 10, "pkcs12:"),
        (
            json!({"alias": "no spaces", "certificate": cert, "privateKey": key}),
            400,
            10,
            "alias",
        ),
        (
            json!({"certificate": cert, "privateKey": key, "colour": "red"}),
            400,
            10,
            "colour",
        ),
        (
            json!({"certificate": 7, "privateKey": key}),
            400,
            10,
            "certificate",
        ),
    ];
    for (body, http, code, words) in refused {
        let message = add_key(&app, &cc, &body).await.assert_error(http, code);
        assert!(message.contains(words), "{body}: {message}");
    }
    added(&app, &cc, &rcs.keys_body("first")).await;
    let message = add_key(&app, &cc, &rcs.keys_body("first"))
        .await
        .assert_error(409, 18);
    assert!(message.contains("\"first\""), "{message}");
    let message = add_key(&app, &cc, &rcs.keys_body("second"))
        .await
        .assert_error(409, 18);
    assert!(message.contains("serial 42"), "{message}");

    let listed = send(app.request(Method::GET, &keys_path(&cc))).await;
    assert!(!listed.text.contains("PRIVATE"), "{}", listed.text);
    let keys = listed.json()["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["alias"], "first");
    assert_eq!(keys[0]["subject"], "CN=rcs");
    assert_eq!(keys[0]["issuer"], "CN=Recording Test CA,O=gird tests");
    assert_eq!(keys[0]["serial"], "42");
    assert!(keys[0]["notAfter"].as_str().unwrap().ends_with('Z'));

    let settings = send(app.request(
        Method::GET,
        &format!("/api/v2/ops/contact-centers/{cc}/settings/screen-recording-encryption"),
    ))
    .await
    .json();
    assert_eq!(settings["settings"]["certificatealias-1"], "first");
    let served = settings["settings"]["certificate-1"].as_str().unwrap();
    assert!(
        served.starts_with("-----BEGIN CERTIFICATE-----"),
        "{served}"
    );
    assert!(!settings.to_string().contains("PRIVATE"));

    // Sealed at rest: the key's PEM body is nowhere in the SQLite files.
    if app.database().is_none() {
        let body_line = key.lines().nth(1).unwrap().to_owned();
        for file in ["gird.db", "gird.db-wal"] {
            if let Ok(bytes) = std::fs::read(app.data_dir.join(file)) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(&body_line), "{file} holds the private key");
            }
        }
    }

    let one = format!("{}/first", keys_path(&cc));
    send(app.request(Method::DELETE, &one)).await.assert_ok();
    send(app.request(Method::DELETE, &one))
        .await
        .assert_error(404, 6);
    let listed = send(app.request(Method::GET, &keys_path(&cc))).await.json();
    assert_eq!(listed["keys"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_encrypted_file_plays_with_flat_memory() {
    const LARGE: usize = 48 * 1024 * 1024 + 3;
    let staged = EncryptedStage::new().await;
    let rcs = staged.pki.recipient("rcs", "99");
    added(staged.app(), staged.cc(), &rcs.keys_body("rcs")).await;
    let bytes = pattern(LARGE, 89);
    let expected = Fnv::of(&bytes);
    let tail = bytes[LARGE - 1000..].to_vec();
    let play_path = staged
        .recording("large", &bytes, &[&rcs], Twist::default(), |_| {})
        .await;
    drop(bytes);
    let small = staged
        .recording("small", &[1, 2, 3], &[&rcs], Twist::default(), |_| {})
        .await;
    assert_eq!(staged.play(&small, None).await.status.as_u16(), 200);
    let pid = staged.app().child.id().expect("gird runs");
    let before = peak_rss(pid);

    let response = staged
        .app()
        .request(Method::GET, &format!("/api/v2{play_path}"))
        .query(&[("contactCenterId", staged.cc())])
        .send()
        .await
        .expect("gird answers");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-length"],
        LARGE.to_string().as_str()
    );
    assert_eq!(Fnv::of_body(response).await, (LARGE, expected));
    let growth = peak_rss(pid).saturating_sub(before);
    assert!(
        growth < (LARGE / 4) as u64,
        "gird's peak memory grew by {growth} bytes while decrypting {LARGE} bytes"
    );
    let seek = staged
        .play(&play_path, Some(&format!("bytes={}-", LARGE - 1000)))
        .await;
    assert!(seek.body == tail, "a seek near the end");
}

/// `gird import` crawling GIR's encrypted files: `x.mp3.bin` with its envelope
/// `x.mp3.pkcs7` beside it (and a JSON sidecar `x.mp3.json`) is one encrypted recording
/// that plays.
#[tokio::test]
async fn import_takes_envelopes_from_files_beside_the_media() {
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-import", "5150");
    let root = TempDir::new().unwrap();
    let calls = root.path().join("archive/2024-05");
    std::fs::create_dir_all(&calls).unwrap();
    let bytes = pattern(20_000, 90);
    let name = "c9_+15550009_20240501T080000Z";
    let pkcs7 = encrypted_file(&pki, &calls, name, &bytes, &[&rcs]);
    std::fs::write(calls.join(format!("{name}.mp3.pkcs7")), &pkcs7).unwrap();
    let sidecar = json!({"dialedPhoneNumber": "+15559999", "region": "north",
                         "mediaFiles": [{"stopTime": "2024-05-01T08:03:00Z"}]});
    std::fs::write(calls.join(format!("{name}.mp3.json")), sidecar.to_string()).unwrap();
    let rclone = Rclone::serve(root.path()).await;

    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    let base_url = format!("{}/archive/", rclone.address);
    let storage = json!({"baseUrl": base_url, "username": USER, "password": PASSWORD});
    app.put_storage(&cc, &storage).await.assert_ok();
    added(&app, &cc, &rcs.keys_body("rcs-import")).await;
    let work = TempDir::new().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gird"))
        .args(["import", "--quiet", "--target", &app.address])
        .args(["--contact-center", &cc, "--password", &app.ops_password])
        .args(["--webdav", &base_url, "--webdav-user", USER])
        .args(["--webdav-password", PASSWORD, "--depth", "1"])
        .args([
            "--pattern",
            r"(?P<callUUID>c\d+)_(?P<callerPhoneNumber>\+\d+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3\.bin$",
        ])
        .current_dir(work.path())
        .output()
        .await
        .expect("run gird import");
    let summary = String::from_utf8_lossy(&output.stdout);
    let reasons: String = std::fs::read_dir(work.path())
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            path.to_string_lossy()
                .ends_with(".txt")
                .then(|| std::fs::read_to_string(path).ok())?
        })
        .collect();
    assert!(output.status.success(), "{summary} {reasons}");
    assert!(summary.contains("1 records: 1 new"), "{summary}");
    let call = app.recording(&cc, "c9").await;
    let media = &call["mediaFiles"][0];
    assert_eq!(media["pkcs7"], pkcs7, "the envelope as written");
    assert_eq!(media["type"], "audio/mp3", "the type of the plaintext");
    let play_path = media["playPath"].as_str().unwrap();
    assert_whole(&app.play(play_path, &cc, None).await, &bytes);
}

/// Keys sealed with one storage key do not open with another: 500/4, nothing told.
#[tokio::test]
async fn keys_sealed_with_another_storage_key_are_an_internal_error() {
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-sealed", "5ea1");
    let work = TempDir::new().unwrap();
    let pkcs7 = encrypted_file(&pki, work.path(), "sealed", &pattern(100, 91), &[&rcs]);
    // The first start generates its storage key into the data folder.
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    added(&app, &cc, &rcs.keys_body("sealed")).await;
    let record = encrypted_record("sealed", "sealed.mp3.bin", &pkcs7, "sealed");
    let play_path = insert_encrypted(&app, &cc, &record).await;
    let app = app
        .restart_with(|builder| builder.arg("--storage-key", "other-storage-key-77aa"))
        .await;
    let message = app
        .play(&play_path, &cc, None)
        .await
        .as_api()
        .assert_error(500, 4);
    assert_eq!(message, "internal error");
}

/// The same from an S3 bucket (SeaweedFS): `x.mp3.bin` with `x.mp3.bin.p7m` beside it.
#[tokio::test]
async fn import_takes_envelopes_from_s3_objects_beside_the_media() {
    let Some(weed) = Weed::start("gird-enc-import").await else {
        return;
    };
    let pki = Pki::new();
    let rcs = pki.recipient("rcs-s3-import", "5153");
    let work = TempDir::new().unwrap();
    let bytes = pattern(30_000, 92);
    let name = "c8_15550008_20240501T090000Z";
    let pkcs7 = encrypted_file(&pki, work.path(), name, &bytes, &[&rcs]);
    let cipher = std::fs::read(work.path().join(format!("{name}.mp3.bin"))).unwrap();
    let sidecar = json!({"dialedPhoneNumber": "+15559999", "region": "south",
                         "mediaFiles": [{"stopTime": "2024-05-01T09:03:00Z"}]});
    for (key, object) in [
        (format!("archive/{name}.mp3.bin"), cipher),
        (
            format!("archive/{name}.mp3.bin.p7m"),
            pkcs7.clone().into_bytes(),
        ),
        (
            format!("archive/{name}.mp3.bin.json"),
            sidecar.to_string().into_bytes(),
        ),
    ] {
        weed.put("gird-enc-import", &key, object).await;
    }
    let app = spawn_app().await;
    let cc = app.ready_contact_center().await;
    app.put_s3(
        &cc,
        &weed.settings("gird-enc-import", crate::s3::SECRET_KEY),
    )
    .await
    .assert_ok();
    added(&app, &cc, &rcs.keys_body("rcs-s3-import")).await;
    let mut args = crate::import::into_gird(&app, &cc);
    args.extend(
        [
            "--s3-endpoint",
            &weed.endpoint,
            "--s3-bucket",
            "gird-enc-import",
            "--s3-prefix",
            "archive",
            "--s3-region",
            crate::s3::REGION,
            "--s3-path-style",
            "--pattern",
            r"(?P<callUUID>c\d+)_(?P<callerPhoneNumber>\d+)_(?P<startTime>\d{8}T\d{6}Z)\.mp3\.bin$",
        ]
        .map(String::from),
    );
    let dir = TempDir::new().unwrap();
    let output = crate::s3_import::import_s3(
        dir.path(),
        &crate::import::args_of(&args),
        Some(crate::s3::SECRET_KEY),
    )
    .await;
    let summary = crate::import::stdout(&output);
    assert!(
        summary.contains("1 records: 1 new"),
        "{summary}{}",
        crate::import::stderr(&output)
    );
    let call = app.recording(&cc, "c8").await;
    let media = &call["mediaFiles"][0];
    assert_eq!(media["pkcs7"], pkcs7);
    assert_eq!(media["type"], "audio/mp3");
    assert_eq!(media["mediaDescriptor"]["storage"], "awsS3");
    let play_path = media["playPath"].as_str().unwrap();
    assert_whole(&app.play(play_path, &cc, None).await, &bytes);
}
