//! HTTP/2 over the TLS listener, for clients that offer `h2` (browsers do). The
//! connection's first decrypted bytes are recorded, so the HTTP/2 fingerprint is known
//! when the first request is answered; faults become stream resets.

use crate::fingerprint::http2::akamai;
use crate::fingerprint::wire::Recording;
use crate::fingerprint::ConnectionPrint;
use crate::handler::{Action, App, Request, DRIP_PIECES};
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

pub(crate) async fn serve_h2<S>(
    stream: S,
    exit: Arc<str>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    print: Arc<ConnectionPrint>,
    recording: Recording,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok(mut conn) = h2::server::handshake(stream).await else {
        return;
    };
    let mut closing = false;
    loop {
        let next = tokio::select! {
            next = conn.accept() => next,
            _ = shutdown.changed(), if !closing => {
                closing = true;
                conn.graceful_shutdown();
                continue;
            }
        };
        let Some(Ok((request, respond))) = next else {
            return;
        };
        if print.http2.get().is_none() {
            let bytes = recording.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(fp) = akamai(&bytes) {
                let _ = print.http2.set(fp);
            }
        }
        let (exit, app, print) = (exit.clone(), app.clone(), print.clone());
        tokio::spawn(async move { answer(request, respond, &exit, &app, &print).await });
    }
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    exit: &str,
    app: &App,
    print: &ConnectionPrint,
) {
    let (parts, _body) = request.into_parts();
    let mut headers = Vec::with_capacity(parts.headers.len() + 1);
    if let Some(authority) = parts.uri.authority() {
        headers.push(("host".to_string(), authority.to_string()));
    }
    for (k, v) in &parts.headers {
        headers.push((
            k.as_str().to_string(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        ));
    }
    let req = Request {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string()),
        headers,
    };
    let r = app.handle_from(&req, exit, Some(print)).await;
    if r.action == Action::Reset {
        respond.send_reset(h2::Reason::INTERNAL_ERROR);
        return;
    }
    let declared = match r.action {
        Action::Truncate => r.body.len() + r.body.len().max(4096),
        _ => r.body.len(),
    };
    let mut builder = http::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        builder = builder.header(*k, v.as_str());
    }
    let Ok(response) = builder.header("content-length", declared).body(()) else {
        respond.send_reset(h2::Reason::INTERNAL_ERROR);
        return;
    };
    let end = r.head_only || r.body.is_empty();
    let Ok(mut send) = respond.send_response(response, end) else {
        return;
    };
    if end {
        return;
    }
    if r.action == Action::Truncate {
        let _ = send.send_data(r.body.slice(..r.body.len() / 2), false);
        send.send_reset(h2::Reason::CANCEL);
    } else if let Action::Drip(over) = r.action {
        let piece = r.body.len().div_ceil(DRIP_PIECES).max(1);
        let mut at = 0;
        while at < r.body.len() {
            tokio::time::sleep(over / DRIP_PIECES as u32).await;
            let end = (at + piece).min(r.body.len());
            if send
                .send_data(r.body.slice(at..end), end == r.body.len())
                .is_err()
            {
                return;
            }
            at = end;
        }
    } else {
        let _ = send.send_data(r.body, true);
    }
}
