//! A SpeechMiner Interaction Receiver for the tests: a loopback HTTP server, written on
//! plain TCP so that it can answer 200 or 500, never answer, or close the connection
//! without an answer, as the test tells it; it keeps every request it accepted.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, timeout, Instant};

use crate::helpers::{eventually, Api, PATIENCE};

/// How the receiver answers a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Status(u16),
    /// That status with that body.
    Body(u16, &'static str),
    /// Reads the request and never answers (gird's timeout ends it).
    Hang,
    /// Reads the request and closes the connection without a word.
    Close,
}

/// One request the receiver read.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Value,
    /// How the receiver answered it.
    pub answer: Answer,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn id(&self) -> &str {
        self.body["id"].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    /// Answers for the next requests, in order; then `usual`.
    script: VecDeque<Answer>,
    usual: Option<Answer>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// Starts a receiver at `http://127.0.0.1:<port>/interactionreceiver` answering 200.
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            usual: Some(Answer::Ok),
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        Receiver {
            url: format!("http://{address}/interactionreceiver"),
            state,
        }
    }

    /// How every request is answered from now on (after the scripted ones).
    pub fn answer(&self, answer: Answer) {
        self.state.lock().unwrap().usual = Some(answer);
    }

    /// Answers for the next requests, one each, before the usual answer.
    pub fn script(&self, answers: &[Answer]) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Every request read so far, however it was answered.
    pub fn requests(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests answered 200.
    pub fn accepted(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|request| request.answer == Answer::Ok)
            .collect()
    }

    /// Waits until `count` requests were accepted; answers them.
    pub async fn wait_for_accepted(&self, count: usize) -> Vec<Received> {
        self.wait_for(count, Receiver::accepted).await
    }

    /// Waits until `count` requests were read; answers them.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<Received> {
        self.wait_for(count, Receiver::requests).await
    }

    async fn wait_for(&self, count: usize, list: fn(&Receiver) -> Vec<Received>) -> Vec<Received> {
        let deadline = Instant::now() + PATIENCE * 2;
        loop {
            let seen = list(self);
            if seen.len() >= count {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {count} requests: {seen:?}",
                seen.len()
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts that `count` requests arrived and no more will: once the outbox of `cc`
    /// (on `api`) has nothing queued, retrying or in flight, gird posts nothing further
    /// for it, and every request it made was read here before its delivery was settled.
    pub async fn assert_no_more_than(&self, count: usize, api: &Api, cc: &str) {
        eventually("the outbox has nothing left to post", || async {
            let status = api.outbox(cc).await;
            status["outbox"]["queued"] == 0 && status["outbox"]["inFlight"] == 0
        })
        .await;
        let seen = self.requests();
        assert_eq!(seen.len(), count, "unexpected requests: {seen:?}");
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let Ok(Some((path, headers, body))) = timeout(PATIENCE, read_request(&mut reader))
            .await
            .unwrap_or(Ok(None))
        else {
            return;
        };
        let answer = {
            let mut state = state.lock().unwrap();
            let answer = state
                .script
                .pop_front()
                .or(state.usual)
                .unwrap_or(Answer::Ok);
            state.received.push(Received {
                path,
                headers,
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                answer,
            });
            answer
        };
        let stream = reader.get_mut();
        let reply = match answer {
            Answer::Ok => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_owned(),
            Answer::Status(code) => format!(
                "HTTP/1.1 {code} Failing\r\ncontent-length: 13\r\nconnection: close\r\n\r\nreceiver down"
            ),
            Answer::Body(code, body) => format!(
                "HTTP/1.1 {code} Failing\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
            Answer::Hang => {
                // Until gird gives up and closes the connection.
                let _ = reader.read(&mut [0; 1]).await;
                return;
            }
            Answer::Close => return,
        };
        if stream.write_all(reply.as_bytes()).await.is_err() || answer != Answer::Ok {
            return;
        }
    }
}

type Request = (String, HashMap<String, String>, Vec<u8>);

async fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some((path, headers, body)))
}
