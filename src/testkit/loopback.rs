//! The plumbing of the crate's loopback servers ([`crate::testkit::fakehub`],
//! [`crate::testkit::testaxon`]): a listener on 127.0.0.1 with a deep accept queue,
//! an accept loop with a thread per connection that stops when dropped,
//! and a minimal HTTP/1.1 request reader and response writer.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A listening server; stops accepting when dropped (connections already
/// taken finish on their own threads).
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on an ephemeral port of 127.0.0.1 and hands every
    /// connection to `handle` on a thread of its own, named `name`.
    pub(crate) fn start<F>(name: &str, handle: F) -> io::Result<Server>
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let listener = listen_loopback()?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let handle = Arc::new(handle);
        let (stop2, conn_name) = (stop.clone(), format!("{name}-conn"));
        let accept = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let handle = handle.clone();
                    let _ = std::thread::Builder::new()
                        .name(conn_name.clone())
                        .spawn(move || handle(conn));
                }
            })?;
        Ok(Server {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Binds an ephemeral port of 127.0.0.1 with a deep accept queue: std's
/// 128 overflows when hundreds of clients connect at once, and each dropped
/// SYN costs the client a one-second retransmit.
fn listen_loopback() -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// One request as read off the wire.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Header names lower-cased, in the order sent.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The client asked to close the connection after this request.
    pub(crate) close: bool,
}

impl Request {
    /// The first header of that (lower-case) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request; `None` at the end of the connection or when it
/// idles past the read timeout. Bodies are cut at `max_body` bytes.
pub(crate) fn read_request(
    reader: &mut BufReader<TcpStream>,
    max_body: usize,
) -> io::Result<Option<Request>> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, path) = (method.to_string(), path.to_string());
    let (mut headers, mut length, mut close) = (Vec::new(), 0usize, false);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            match name.as_str() {
                "content-length" => length = value.parse().unwrap_or(0).min(max_body),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
        close,
    }))
}

/// Writes an answer in one write: head and body in two small packets
/// would wait on Nagle's algorithm once the connection is kept alive.
pub(crate) fn write_response(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    declared_length: usize,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {declared_length}\r\nconnection: {}\r\n",
        if close { "close" } else { "keep-alive" }
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("content-type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    conn.write_all(&out)?;
    conn.flush()
}
