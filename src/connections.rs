//! Serving connections within limits a slow or idle client cannot stretch: how long a client
//! may take to send a request's head and to wait between requests, how long an answer may wait
//! for the client to take it, and how many connections are open at once ([`Limits`]). The
//! body's deadline is the body limit's (`api::middleware::limit_body`), which reads every body
//! before a handler sees it.
//!
//! poem's `Server` has only an inactivity timeout, reset by every byte, so a client sending a
//! byte every few seconds kept its connection forever; hyper's own header timeout starts only
//! once hyper-util has read enough to tell HTTP/1 from HTTP/2, so a client that sends nothing (or
//! half a TLS handshake) was never timed out either, and it does not apply to HTTP/2. So each
//! connection is served here by hyper-util, as poem's `Server` did (HTTP/1.1, or HTTP/2 by ALPN
//! or prior knowledge, with poem's HTTP/2 settings), watched by a deadline that follows what the
//! connection is doing ([`Activity`]), and holds one of `max_connections` slots from its accept
//! to its close.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

/// Seconds a client has to send a request's head, by default.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Seconds a client has to send a request's body, by default.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// Seconds a connection may wait with nothing happening, by default.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// Connections open at once, by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

/// How long a client may take, and how many may be connected at once: `serve`'s flags, and
/// part of the [`Settings`](crate::settings::Settings) the tests start the app with.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Limits {
    /// Seconds a client has to send a request's whole head (request line and headers): from
    /// connecting (TLS handshake included), or from its first byte on a kept-alive connection.
    /// A client still sending is disconnected.
    #[arg(long = "header-timeout-secs", env = "ACCORD_HEADER_TIMEOUT_SECS",
          value_name = "SECONDS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body, from the end of its head: a body
    /// not in by then is answered 408 and its connection closed; no handler sees it.
    #[arg(long = "body-timeout-secs", env = "ACCORD_BODY_TIMEOUT_SECS",
          value_name = "SECONDS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request, and an answer for the
    /// client to read it, before the connection is closed.
    #[arg(long = "idle-timeout-secs", env = "ACCORD_IDLE_TIMEOUT_SECS",
          value_name = "SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
    /// Most connections open at once; more wait, unanswered, in the listen queue until one
    /// closes.
    #[arg(long = "max-connections", env = "ACCORD_MAX_CONNECTIONS", value_name = "COUNT",
          default_value_t = DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl Limits {
    /// How long a request's body may take to arrive, once its head has.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts {
            header: Duration::from_secs(self.header_timeout_secs),
            idle: Duration::from_secs(self.idle_timeout_secs),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
}

/// Serves `endpoint` on the connections `acceptor` yields, within `limits`, until `shutdown`
/// completes; then stops accepting, lets each connection finish what it is doing (within its
/// deadlines) for at most `grace`, and returns.
///
/// A connection is accepted only with a free slot: past `max_connections`, new connections wait
/// in the listen queue (the kernel's, up to its backlog) and are answered when one closes. The
/// deadlines bound how long any connection holds its slot without making progress, so slow
/// clients cannot keep others waiting for long.
pub async fn serve<A, E>(
    mut acceptor: A,
    endpoint: E,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    A: Acceptor,
    E: Endpoint + 'static,
{
    let endpoint: Arc<BoxEndpoint<'static, Response>> =
        Arc::new(endpoint.map_to_response().boxed());
    let timeouts = limits.timeouts();
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stopping, stop) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the slots are never closed"),
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = acceptor.accept() => accepted,
        };
        match accepted {
            Ok((io, local, remote, scheme)) => {
                let peer = Peer {
                    local,
                    remote,
                    scheme,
                };
                let conn = connection(io, peer, endpoint.clone(), timeouts, stop.clone());
                tokio::spawn(async move {
                    conn.await;
                    drop(slot);
                });
            }
            Err(e) => {
                // Out of file descriptors, say: wait a moment rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(acceptor);
    let _ = stopping.send(true);
    // Every connection holds a slot until it ends, so all slots free means all ended.
    let all = slots.acquire_many(limits.max_connections);
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
}

/// The addresses and scheme a request on a connection carries to the endpoint.
#[derive(Clone)]
struct Peer {
    local: LocalAddr,
    remote: RemoteAddr,
    scheme: Scheme,
}

/// Serves one connection until it ends, its deadline passes, or the server stops (then it
/// finishes what it is doing, within the same deadline).
async fn connection<Io>(
    io: Io,
    peer: Peer,
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) where
    Io: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let activity = Arc::new(Activity::new());
    let remote = peer.remote.clone();
    let io = TokioIo::new(Watched {
        io,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |req: hyper::Request<Incoming>| {
            let busy = Busy::begin(&activity);
            let endpoint = endpoint.clone();
            let peer = peer.clone();
            async move {
                let req = poem::Request::from((req, peer.local, peer.remote, peer.scheme));
                let resp: hyper::Response<BoxBody<Bytes, io::Error>> =
                    endpoint.get_response(req).await.into();
                Ok::<_, Infallible>(resp.map(|body| Answer { body, _busy: busy }))
            }
        }
    });
    // poem's `Server`'s HTTP/2 settings, so serving here changes nothing else.
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16384);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = activity.expired(timeouts) => {
            tracing::debug!(%remote, "connection too slow; closed");
            return;
        }
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn => {}
        () = activity.expired(timeouts) => {}
    }
}

/// What a connection is doing, for its deadline.
struct Activity {
    state: Mutex<State>,
    /// Told whenever the deadline may have moved.
    changed: Notify,
}

struct State {
    /// Requests whose head has arrived and whose answer is not yet handed over in full.
    busy: usize,
    /// No request yet: the first head is due within the header timeout of the connection's
    /// start (its TLS handshake included).
    fresh: bool,
    /// When the connection last became idle (its start, or the end of its last answer).
    idle_since: Instant,
    /// When the first byte since it became idle arrived: the head it begins is due within the
    /// header timeout of it.
    head_since: Option<Instant>,
    /// Since when the connection has been waiting for the client to take what it writes.
    write_stalled_since: Option<Instant>,
}

impl State {
    /// When the connection is closed if nothing changes; `None`: not while it is as it is (a
    /// request is being handled, or its answer written as fast as the client takes it).
    fn deadline(&self, t: Timeouts) -> Option<Instant> {
        if self.busy > 0 {
            return self.write_stalled_since.map(|since| since + t.idle);
        }
        if self.fresh {
            return Some(self.idle_since + t.header);
        }
        Some(match self.head_since {
            Some(since) => since + t.header,
            None => self.idle_since + t.idle,
        })
    }
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new(State {
                busy: 0,
                fresh: true,
                idle_since: Instant::now(),
                head_since: None,
                write_stalled_since: None,
            }),
            changed: Notify::new(),
        }
    }

    fn update(&self, change: impl FnOnce(&mut State) -> bool) {
        let moved = change(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
        if moved {
            // Stored if nobody waits, so the next wait sees the change.
            self.changed.notify_one();
        }
    }

    /// Bytes arrived from the client.
    fn received(&self) {
        self.update(|s| {
            let starts_a_head = s.busy == 0 && !s.fresh && s.head_since.is_none();
            if starts_a_head {
                s.head_since = Some(Instant::now());
            }
            starts_a_head
        });
    }

    /// A write to the client went through (`pending` false) or has to wait for it.
    fn wrote(&self, pending: bool) {
        self.update(|s| match (pending, s.write_stalled_since) {
            (true, None) => {
                s.write_stalled_since = Some(Instant::now());
                true
            }
            (false, Some(_)) => {
                s.write_stalled_since = None;
                true
            }
            _ => false,
        });
    }

    /// Completes when the connection's deadline has passed.
    async fn expired(&self, t: Timeouts) {
        loop {
            let deadline = self
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .deadline(t);
            match deadline {
                Some(at) if at <= Instant::now() => return,
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = self.changed.notified() => {}
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// A request in progress on a connection, from its head's arrival until its answer is handed
/// over in full (or dropped).
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: &Arc<Activity>) -> Busy {
        activity.update(|s| {
            s.busy += 1;
            s.fresh = false;
            s.head_since = None;
            true
        });
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.update(|s| {
            s.busy -= 1;
            if s.busy == 0 {
                s.idle_since = Instant::now();
                s.head_since = None;
                s.write_stalled_since = None;
            }
            true
        });
    }
}

/// An answer's body, keeping its request in progress until it is handed over in full (hyper
/// then drops it) or abandoned.
struct Answer {
    body: BoxBody<Bytes, io::Error>,
    _busy: Busy,
}

impl Body for Answer {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    /// The body's own, so an answer of known length keeps its `Content-Length`.
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket (after TLS, if any), telling its [`Activity`] what passes.
struct Watched<Io> {
    io: Io,
    activity: Arc<Activity>,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.received();
        }
        read
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let wrote = Pin::new(&mut self.io).poll_write(cx, buf);
        self.activity.wrote(wrote.is_pending());
        wrote
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let wrote = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.activity.wrote(wrote.is_pending());
        wrote
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        self.activity.wrote(flushed.is_pending());
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;

    #[test]
    fn every_limit_is_a_flag_with_an_environment_variable_and_a_description() {
        let cmd = Limits::augment_args(clap::Command::new("serve"));
        let flags: Vec<_> = cmd.get_arguments().collect();
        assert_eq!(flags.len(), 4);
        for flag in flags {
            let env = flag.get_env().and_then(|e| e.to_str()).unwrap_or_default();
            assert!(env.starts_with("ACCORD_"), "{flag:?}");
            let help = flag.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{env}");
        }
        let parse = |args: &[&str]| {
            let matches = Limits::augment_args(clap::Command::new("serve"))
                .try_get_matches_from(std::iter::once("serve").chain(args.iter().copied()))?;
            Limits::from_arg_matches(&matches)
        };
        assert_eq!(parse(&[]).unwrap(), Limits::default());
        let given = parse(&["--header-timeout-secs", "2", "--max-connections", "8"]).unwrap();
        assert_eq!((given.header_timeout_secs, given.max_connections), (2, 8));
        assert!(parse(&["--header-timeout-secs", "0"]).is_err());
        assert!(parse(&["--body-timeout-secs", "0"]).is_err());
        assert!(parse(&["--max-connections", "0"]).is_err());
    }

    #[test]
    fn the_deadline_follows_what_the_connection_is_doing() {
        let t = Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        };
        let start = Instant::now();
        let later = |s: u64| start + Duration::from_secs(s);
        let mut s = State {
            busy: 0,
            fresh: true,
            idle_since: start,
            head_since: None,
            write_stalled_since: None,
        };
        // A new connection has the header timeout for its first head, sending or not.
        assert_eq!(s.deadline(t), Some(later(10)));
        // A request in progress has no deadline here (its body has its own) …
        (s.busy, s.fresh) = (1, false);
        assert_eq!(s.deadline(t), None);
        // … unless its answer waits for a client that does not read it.
        s.write_stalled_since = Some(later(20));
        assert_eq!(s.deadline(t), Some(later(80)));
        // Idle between requests: the idle timeout, until a byte starts the next head.
        (s.busy, s.idle_since, s.write_stalled_since) = (0, later(30), None);
        assert_eq!(s.deadline(t), Some(later(90)));
        s.head_since = Some(later(40));
        assert_eq!(s.deadline(t), Some(later(50)));
    }
}
