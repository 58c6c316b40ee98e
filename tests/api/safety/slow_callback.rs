//! A callback host whose preflight answer waits until the test lets it: a create that checks
//! its URL is held mid-request for as long as the test needs.

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, watch};

pub struct SlowCallback {
    pub url: String,
    /// Signalled when a preflight has arrived (and is being held).
    pub arrived: Arc<Notify>,
    open: watch::Sender<bool>,
}

impl SlowCallback {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let arrived = Arc::new(Notify::new());
        let (open, _) = watch::channel(false);
        let (notify, gate) = (arrived.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (notify, mut gate) = (notify.clone(), gate.subscribe());
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = stream.read(&mut buffer).await;
                    notify.notify_one();
                    let _ = gate.wait_for(|open| *open).await;
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 204 No Content\r\nAllow: OPTIONS, POST\r\n\
                              Content-Length: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                });
            }
        });
        Self { url, arrived, open }
    }

    /// Lets every held preflight (and every later one) answer.
    pub fn release(&self) {
        self.open.send_replace(true);
    }
}
