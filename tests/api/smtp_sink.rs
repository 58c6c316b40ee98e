//! A local SMTP server for tests: speaks just enough SMTP for lettre over plain TCP, records
//! every accepted mail, and can be told to refuse the next transactions with a transient 451,
//! or to stall (accept the connection, then never answer `RCPT TO`) until it recovers, so the
//! email path is tested over a real socket without an external mail server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// One accepted mail: the envelope and the message as transmitted (dot-unstuffed, CRLF).
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    /// The value of a top-level header (first match, case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            match &mut value {
                // A continuation line belongs to the header being collected.
                Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
                Some(_) => break,
                None => {
                    if let Some((n, v)) = line.split_once(':')
                        && n.eq_ignore_ascii_case(name)
                    {
                        value = Some(v.trim().to_owned());
                    }
                }
            }
        }
        value
    }

    /// The message with quoted-printable soft line breaks and `=3D` undone: enough to search
    /// the parts for ASCII text without a MIME parser.
    pub fn unwrapped(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }
}

/// Where a refused transaction gets its 451 (or 550).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAt {
    /// At `RCPT TO`, before any content is sent.
    Rcpt,
    /// At `RCPT TO` with `550 no such mailbox`: a permanent refusal.
    RcptPermanently,
    /// After the content, at the final `.`: the mail is not recorded.
    Data,
}

#[derive(Default)]
struct State {
    messages: Vec<ReceivedMail>,
    failures_left: usize,
    fail_at: Option<FailAt>,
    /// While true, every `RCPT TO` waits without an answer.
    stalled: bool,
    /// Sessions that reached `RCPT TO` while stalled.
    stalled_sessions: usize,
}

pub struct SmtpSink {
    port: u16,
    state: Arc<Mutex<State>>,
    accept_loop: AbortHandle,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let accept_loop = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                // A client that misbehaves only ends its own session.
                tokio::spawn(async move {
                    let _ = session(stream, state).await;
                });
            }
        })
        .abort_handle();
        Self {
            port,
            state,
            accept_loop,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.state.lock().unwrap().messages.clone()
    }

    /// Answers the next `n` transactions with `451` at `RCPT TO`.
    pub fn fail_next(&self, n: usize) {
        self.fail_next_at(n, FailAt::Rcpt);
    }

    pub fn fail_next_at(&self, n: usize, at: FailAt) {
        let mut state = self.state.lock().unwrap();
        state.failures_left = n;
        state.fail_at = Some(at);
    }

    /// From now on, `RCPT TO` gets no answer until [`SmtpSink::recover`]: a relay that accepted
    /// the connection and then hangs.
    pub fn stall(&self) {
        self.state.lock().unwrap().stalled = true;
    }

    /// Answers again; sessions left waiting carry on where they stopped.
    pub fn recover(&self) {
        self.state.lock().unwrap().stalled = false;
    }

    /// How many sessions have hung at `RCPT TO` so far.
    pub fn stalled_sessions(&self) -> usize {
        self.state.lock().unwrap().stalled_sessions
    }

    /// Waits until at least `count` mails have arrived, polling briefly; panics on timeout.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mails within {timeout:?}, got {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl State {
    /// Whether the current transaction is refused at `stage`, using up one failure if so.
    fn refuse(&mut self, stage: FailAt) -> bool {
        if self.failures_left > 0 && self.fail_at == Some(stage) {
            self.failures_left -= 1;
            true
        } else {
            false
        }
    }
}

/// The envelope of the transaction in progress.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 127.0.0.1 skyhook test sink\r\n")
        .await?;
    let mut tx = Transaction::default();
    loop {
        let Some(line) = read_line(&mut lines).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        if verb == "RCPT" {
            wait_while_stalled(&state).await;
        }
        let reply: &[u8] = match verb {
            // No STARTTLS or AUTH: lettre then sends in plain text without logging in.
            "EHLO" => b"250-127.0.0.1 greets you\r\n250 SIZE 10485760\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                tx = Transaction::default();
                b"250 OK\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            "MAIL" => {
                tx = Transaction {
                    from: Some(path(&line)),
                    to: Vec::new(),
                };
                b"250 OK\r\n"
            }
            "RCPT" if tx.from.is_none() => b"503 MAIL first\r\n",
            "RCPT" if state.lock().unwrap().refuse(FailAt::Rcpt) => {
                b"451 4.3.0 try again later\r\n"
            }
            "RCPT" if state.lock().unwrap().refuse(FailAt::RcptPermanently) => {
                b"550 5.1.1 no such mailbox\r\n"
            }
            "RCPT" => {
                tx.to.push(path(&line));
                b"250 OK\r\n"
            }
            "DATA" if tx.to.is_empty() => b"503 RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                let mail = ReceivedMail {
                    from: tx.from.take().unwrap_or_default(),
                    to: std::mem::take(&mut tx.to),
                    data,
                };
                let mut state = state.lock().unwrap();
                if state.refuse(FailAt::Data) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    // Recorded before the 250, so a sender that saw success finds it here.
                    state.messages.push(mail);
                    b"250 OK queued\r\n"
                }
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Hangs while the sink is stalled; the command then goes on as usual.
async fn wait_while_stalled(state: &Mutex<State>) {
    let mut counted = false;
    loop {
        {
            let mut state = state.lock().unwrap();
            if !state.stalled {
                return;
            }
            if !counted {
                state.stalled_sessions += 1;
                counted = true;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One line without its CRLF, or `None` at end of stream.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if reader.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// The content after `DATA` up to the lone `.`, with dot-stuffing undone (RFC 5321 §4.5.2).
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<String> {
    let mut data = String::new();
    loop {
        let Some(line) = read_line(reader).await? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        if line == "." {
            return Ok(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}

/// The address in `MAIL FROM:<a@b> …` or `RCPT TO:<a@b>`.
fn path(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}
