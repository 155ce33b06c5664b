//! `GET /healthz` on the event loop: it answers at once as long as the
//! loop is not blocked, which is what it is there to show.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Binds `addr` and serves `/healthz` until the runtime stops. Returns the
/// bound address (useful with port 0).
pub async fn serve(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let n = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    conn.read(&mut buf),
                )
                .await
                {
                    Ok(Ok(n)) => n,
                    _ => return,
                };
                let ok = buf[..n].starts_with(b"GET /healthz ")
                    || buf[..n].starts_with(b"GET /healthz?");
                let reply: &[u8] = if ok {
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n"
                } else {
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                };
                let _ = conn.write_all(reply).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    Ok(local)
}
