//! The endpoint: one tiny HTTP/1.1 server on the event loop, answering
//! `GET /healthz`, `/readyz` and `/metrics` from the board and closing the
//! connection. A request line that never completes is dropped after 5 s.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{Board, Status};

/// Binds `addr` and serves `/healthz`, `/readyz` and `/metrics` from `board` until the
/// runtime stops. Returns the bound address (useful with port 0).
pub async fn serve(addr: SocketAddr, board: Arc<Board>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let board = board.clone();
            tokio::spawn(async move {
                let Some(request) = read_request_line(&mut conn).await else {
                    return;
                };
                let request = &request[..];
                let is = |path: &[u8]| {
                    request.starts_with(path)
                        && matches!(request.get(path.len()), Some(b' ' | b'?'))
                };
                let json = |status: Status| {
                    let code = if status.problems.is_empty() {
                        "200 OK"
                    } else {
                        "503 Service Unavailable"
                    };
                    let body = serde_json::to_string(&status).unwrap_or_default();
                    (code, "application/json", body)
                };
                let (status, kind, body) = if is(b"GET /healthz") {
                    json(board.status())
                } else if is(b"GET /readyz") {
                    json(board.readiness())
                } else if is(b"GET /metrics") {
                    (
                        "200 OK",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        board.metrics_text(),
                    )
                } else {
                    ("404 Not Found", "text/plain", String::new())
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    Ok(local)
}

/// Reads until the request line is complete (a client may send it in
/// pieces), at most 1 KiB and 5 s; `None` when it never completes.
async fn read_request_line(conn: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(256);
    let read = async {
        let mut chunk = [0u8; 256];
        while !buf.contains(&b'\n') && buf.len() < 1024 {
            let n = conn.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), read)
        .await
        .ok()??;
    Some(buf)
}
