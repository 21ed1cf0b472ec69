//! The one policy for every request gird makes on a contact center's behalf: WebDAV GET
//! and DELETE of media files, S3 requests, SpeechMiner POSTs.
//!
//! A record names where its media file is (an absolute URL) and where it is forwarded
//! (`rp.speechminer_uri`), so without a policy any client could make gird request any
//! URL. Two checks stand between a URL and a connection:
//!
//! 1. **Where**: the URL's origin must be one the contact center's operator named: its
//!    WebDAV storage `baseUrl`, its SpeechMiner receiver `url`, or an entry of its
//!    outbound allow-list ([`Destinations`]). S3 requests go only to the configured
//!    endpoint (see `s3`). Anything else is refused before a request exists.
//! 2. **Which addresses**: checked when the connection is made, on the addresses it is
//!    made to (a resolver of ours filters what DNS answers, so a name cannot pass the
//!    check with one address and connect to another). An origin the operator named may
//!    be on loopback or a private network (that is where storage usually is), but never
//!    at an unusable address (unspecified, multicast, broadcast). An origin gird derived
//!    itself (the AWS endpoint of a region) may only reach public addresses.
//!
//! Requests are built only from a [`Cleared`] URL by an [`Egress`], which never follows
//! redirects (a redirect would go where neither check looked).

pub mod address;
pub mod allow_list;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use gird_model::origin::{loggable, Origin, Url};
use gird_store::Store;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::ApiError;
use address::{classify, AddressKind};

/// Which addresses a connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An origin the operator named: any usable address, loopback and private ones too.
    Named,
    /// An origin gird derived: public addresses only.
    Public,
}

impl Reach {
    pub fn permits(self, ip: IpAddr) -> bool {
        match (self, classify(ip)) {
            (_, AddressKind::Unusable) => false,
            (Reach::Named, _) => true,
            (Reach::Public, kind) => kind == AddressKind::Public,
        }
    }
}

/// Why gird will not make a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotHttp,
    NotAllowed {
        origin: Origin,
        contact_center: String,
    },
    Address {
        origin: Origin,
        address: IpAddr,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotHttp => f.write_str("the URL is not an http(s) URL with a host"),
            Refusal::NotAllowed {
                origin,
                contact_center: cc,
            } => write!(
                f,
                "origin {origin} is not allowed for contact center {cc:?} (only its storage baseUrl, its SpeechMiner receiver and its outbound allow-list are): add it with PUT /api/v2/ops/contact-centers/{cc}/outbound or gird.outbound.contactCenters.{cc}.origins"
            ),
            Refusal::Address { origin, address } => write!(
                f,
                "origin {origin} is the address {address}, which gird does not connect to"
            ),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        ApiError::Refused(refusal.to_string())
    }
}

/// A URL the policy let through, with the addresses its connection may use.
#[derive(Debug, Clone)]
pub struct Cleared {
    url: Url,
    reach: Reach,
}

impl Cleared {
    #[cfg(test)]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as logs and errors show it (`scheme://host:port/path`).
    pub fn loggable(&self) -> String {
        loggable(&self.url)
    }
}

/// Clears a URL whose origin the operator configured (or gird derived, with
/// [`Reach::Public`]): it must be http(s), and an IP address in it must be one `reach`
/// permits (a name's addresses are checked when the connection is made).
pub fn clear(url: Url, reach: Reach) -> Result<Cleared, Refusal> {
    let origin = Origin::of(&url).ok_or(Refusal::NotHttp)?;
    match origin.ip() {
        Some(address) if !reach.permits(address) => Err(Refusal::Address { origin, address }),
        _ => Ok(Cleared { url, reach }),
    }
}

/// Where one contact center's requests may go.
#[derive(Debug, Clone)]
pub struct Destinations {
    contact_center: String,
    origins: Vec<Origin>,
}

impl Destinations {
    pub fn new(contact_center: &str) -> Destinations {
        Destinations {
            contact_center: contact_center.to_owned(),
            origins: Vec::new(),
        }
    }

    /// The contact center's storage base URL, receiver and allow-list, as stored.
    pub async fn load(
        store: &dyn Store,
        contact_center: &str,
    ) -> Result<Destinations, gird_store::StoreError> {
        let mut destinations = Destinations::new(contact_center);
        if let Some(storage) = store.storage(contact_center).await? {
            destinations.allow_url(&storage.base_url);
        }
        if let Some(receiver) = store.receiver(contact_center).await? {
            destinations.allow_url(&receiver.url);
        }
        for text in store
            .outbound_origins(contact_center)
            .await?
            .unwrap_or_default()
        {
            match Origin::parse(&text) {
                Ok(origin) => destinations.origins.push(origin),
                Err(error) => {
                    tracing::error!(
                        contact_center,
                        error,
                        "a stored outbound origin does not parse"
                    )
                }
            }
        }
        Ok(destinations)
    }

    /// Allows the origin of a URL the operator configured.
    pub fn allow_url(&mut self, url: &str) {
        if let Some(origin) = Url::parse(url).ok().as_ref().and_then(Origin::of) {
            self.origins.push(origin);
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        self.origins.iter().any(|origin| origin.contains(url))
    }

    /// Lets `url` through if its origin is one of these.
    pub fn clear(&self, url: Url) -> Result<Cleared, Refusal> {
        let origin = Origin::of(&url).ok_or(Refusal::NotHttp)?;
        if !self.origins.contains(&origin) {
            return Err(Refusal::NotAllowed {
                origin,
                contact_center: self.contact_center.clone(),
            });
        }
        clear(url, Reach::Named)
    }
}

/// The HTTP clients of one kind of request, one per [`Reach`], each connecting only to
/// addresses its reach permits.
#[derive(Clone)]
pub struct Egress {
    named: reqwest::Client,
    public: reqwest::Client,
}

impl Egress {
    /// `configure` sets the timeouts; redirects are never followed.
    pub fn new(configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder) -> Egress {
        let client = |reach: Reach| {
            configure(reqwest::Client::builder())
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(Arc::new(Resolver { reach }))
                .build()
                .expect("the HTTP client builds with default TLS settings")
        };
        Egress {
            named: client(Reach::Named),
            public: client(Reach::Public),
        }
    }

    pub fn request(&self, method: reqwest::Method, cleared: &Cleared) -> reqwest::RequestBuilder {
        let client = match cleared.reach {
            Reach::Named => &self.named,
            Reach::Public => &self.public,
        };
        client.request(method, cleared.url.clone())
    }
}

/// Resolves names, then keeps only the addresses its reach permits: connections are made
/// to what was checked, whatever DNS answers next time.
struct Resolver {
    reach: Reach,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.reach;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (usable, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|found| reach.permits(found.ip()));
            if usable.is_empty() {
                let addresses = refused.iter().map(SocketAddr::ip).collect();
                return Err(Box::new(AddressRefused { host, addresses }) as _);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// A name that resolved only to addresses its request may not use.
#[derive(Debug)]
pub struct AddressRefused {
    host: String,
    addresses: Vec<IpAddr>,
}

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addresses: Vec<String> = self.addresses.iter().map(IpAddr::to_string).collect();
        write!(
            f,
            "{} resolves only to addresses gird does not connect to for it ({})",
            self.host,
            addresses.join(", ")
        )
    }
}

impl std::error::Error for AddressRefused {}

/// The resolver's refusal inside a failed request, if that is why it failed.
pub fn address_refused(error: &reqwest::Error) -> Option<&AddressRefused> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<AddressRefused>() {
            return Some(refused);
        }
        source = cause.source();
    }
    None
}

/// A failed request's error with its causes ("error sending request: client error
/// (Connect): tcp connect error: Connection refused"), without the URL reqwest puts in
/// it (a URL a record chose may carry user info or a token).
pub fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn destinations() -> Destinations {
        let mut destinations = Destinations::new("acme");
        destinations.allow_url("http://127.0.0.1:8080/dav/recordings/");
        destinations.allow_url("https://sm.example/interactionreceiver");
        destinations
            .origins
            .push(Origin::parse("http://localhost:9000").unwrap());
        destinations
    }

    #[test]
    fn only_the_contact_centers_origins_are_cleared() {
        let destinations = destinations();
        for allowed in [
            "http://127.0.0.1:8080/anything/else.mp3?x",
            "https://sm.example:443/other",
            "http://LOCALHOST:9000/a.mp3",
        ] {
            let cleared = destinations.clear(url(allowed)).unwrap();
            assert_eq!(cleared.reach, Reach::Named, "{allowed}");
        }
        for (refused, origin) in [
            ("http://127.0.0.1:8081/x.mp3", "http://127.0.0.1:8081"),
            ("http://localhost:8080/x.mp3", "http://localhost:8080"),
            ("http://sm.example/interactionreceiver", "http://sm.example"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "http://169.254.169.254",
            ),
            ("http://u:p@evil.example/x?token=1", "http://evil.example"),
        ] {
            let refusal = destinations.clear(url(refused)).unwrap_err();
            let message = refusal.to_string();
            assert!(
                message.starts_with(&format!(
                    "origin {origin} is not allowed for contact center \"acme\""
                )),
                "{refused}: {message}"
            );
            assert!(
                message.contains("/api/v2/ops/contact-centers/acme/outbound"),
                "{message}"
            );
            assert!(
                !message.contains("token") && !message.contains("u:p"),
                "{message}"
            );
        }
        assert_eq!(
            destinations
                .clear(url("ftp://127.0.0.1:8080/x"))
                .unwrap_err(),
            Refusal::NotHttp
        );
    }

    #[test]
    fn unusable_addresses_are_refused_even_when_named() {
        let mut destinations = Destinations::new("acme");
        destinations.allow_url("http://0.0.0.0:8080/");
        destinations.allow_url("http://[ff02::1]:8080/");
        for refused in ["http://0.0.0.0:8080/x", "http://[ff02::1]:8080/x"] {
            assert!(
                matches!(
                    destinations.clear(url(refused)),
                    Err(Refusal::Address { .. })
                ),
                "{refused}"
            );
        }
        assert!(clear(url("http://10.0.0.1/x"), Reach::Named).is_ok());
        assert!(clear(url("http://10.0.0.1/x"), Reach::Public).is_err());
        assert!(clear(url("http://[::ffff:127.0.0.1]/x"), Reach::Public).is_err());
        assert!(clear(url("https://8.8.8.8/x"), Reach::Public).is_ok());
        assert!(clear(url("https://s3.eu-west-1.amazonaws.com/x"), Reach::Public).is_ok());
    }

    /// A loopback listener and whether anything connected to it.
    async fn listener() -> (u16, tokio::task::JoinHandle<bool>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let Ok((mut stream, _)) = listener.accept().await else {
                return false;
            };
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => head.extend_from_slice(&buffer[..read]),
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
            true
        });
        (port, accepted)
    }

    #[tokio::test]
    async fn names_are_checked_on_the_addresses_they_resolve_to() {
        let egress = Egress::new(|builder| builder.timeout(std::time::Duration::from_secs(5)));
        // `localhost` resolves to loopback without any network.
        let (port, accepted) = listener().await;
        let public = clear(url(&format!("http://localhost:{port}/x")), Reach::Public).unwrap();
        let error = egress
            .request(reqwest::Method::GET, &public)
            .send()
            .await
            .unwrap_err();
        let refused = address_refused(&error).expect("the resolver refused it");
        assert!(
            refused
                .to_string()
                .starts_with("localhost resolves only to addresses"),
            "{refused}"
        );
        assert!(!accepted.is_finished(), "nothing connected");
        let described = describe(error);
        assert!(!described.contains("/x"), "no URL in {described}");

        let named = clear(url(&format!("http://localhost:{port}/x")), Reach::Named).unwrap();
        let answer = egress
            .request(reqwest::Method::GET, &named)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 204);
        assert!(accepted.await.unwrap(), "the named origin was reached");
    }
}
