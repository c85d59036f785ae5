//! The HTTP side: `/metrics` in the format the scraper asks for, `/` a link page, 404 otherwise.
//!
//! One thread serves requests one at a time (`tiny_http` reads them in its own threads): a
//! scrape takes milliseconds and Prometheus scrapes a target with one request at a time, so
//! there is nothing to gain from serving several at once, and the exporter's state needs no
//! lock. [`handle`] is the whole routing and negotiation, with no socket, so it is tested alone.

use super::families::Format;
use super::Exporter;
use anyhow::{anyhow, Result};
use std::io;
use std::time::Instant;
use tiny_http::{Header, Response, Server};

/// A response before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// The format an `Accept` header asks for: OpenMetrics when it accepts
/// `application/openmetrics-text` (any version) at least as much as the text format, else the
/// Prometheus text format 0.0.4, which is also the answer to no `Accept` at all.
///
/// Prometheus sends `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`
/// and so gets OpenMetrics; `curl` (`*/*`) and node_exporter-style consumers get 0.0.4.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Prometheus;
    };
    let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        match media.as_str() {
            "application/openmetrics-text" => openmetrics = openmetrics.max(q),
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    if openmetrics > 0.0 && openmetrics >= text {
        Format::OpenMetrics
    } else {
        Format::Prometheus
    }
}

/// Answers one request: `GET /metrics` (a scrape), `GET /` (a link page), 404 for other paths,
/// 405 for other methods.
pub fn handle(
    exporter: &mut Exporter,
    method: &str,
    url: &str,
    accept: Option<&str>,
    now: Instant,
) -> Reply {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let text = |status, body: &str| Reply {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.to_owned(),
    };
    if method != "GET" && method != "HEAD" {
        return text(405, "only GET\n");
    }
    match path {
        "/metrics" => {
            let format = negotiate(accept);
            match exporter.render(format, now) {
                Ok(body) => Reply {
                    status: 200,
                    content_type: format.content_type(),
                    body,
                },
                Err(_) => text(500, "encoding the metrics failed\n"),
            }
        }
        "/" => Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: index_page(&exporter.settings().dir.display().to_string()),
        },
        _ => text(404, "not found: the metrics are at /metrics\n"),
    }
}

fn index_page(dir: &str) -> String {
    let dir = dir
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\n<html><head><title>procperf exporter</title></head><body>\n\
         <h1>procperf exporter</h1>\n\
         <p>Per-process, per-cgroup and per-command forecasts of the procperf kernel module, read from <code>{dir}</code>.</p>\n\
         <p><a href=\"/metrics\">/metrics</a></p>\n\
         </body></html>\n"
    )
}

/// Listens on `listen`; the errors say which address and what to do.
pub fn bind(listen: &str) -> Result<Server> {
    Server::http(listen).map_err(|e| {
        let kind = e.downcast_ref::<io::Error>().map(io::Error::kind);
        match kind {
            Some(io::ErrorKind::AddrInUse) => anyhow!(
                "cannot listen on {listen}: the address is already in use (another procperf exporter? choose another with --listen)"
            ),
            Some(io::ErrorKind::PermissionDenied) => anyhow!(
                "cannot listen on {listen}: permission denied (ports below 1024 need privileges; choose another with --listen)"
            ),
            Some(io::ErrorKind::AddrNotAvailable) => anyhow!(
                "cannot listen on {listen}: no such local address (choose another with --listen)"
            ),
            _ => anyhow!("cannot listen on {listen}: {e}"),
        }
    })
}

/// Serves until the process is stopped.
pub fn serve(mut exporter: Exporter, server: Server) -> Result<()> {
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| "?".to_owned(), |a| a.to_string());
    eprintln!(
        "procperf exporter: serving http://{addr}/metrics from {}",
        exporter.settings().dir.display()
    );
    for request in server.incoming_requests() {
        let accept = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Accept"))
            .map(|h| h.value.as_str().to_owned());
        let reply = handle(
            &mut exporter,
            request.method().as_str(),
            request.url(),
            accept.as_deref(),
            Instant::now(),
        );
        let header = Header::from_bytes("Content-Type", reply.content_type)
            .map_err(|()| anyhow!("bad Content-Type {:?}", reply.content_type))?;
        let response = Response::from_string(reply.body)
            .with_status_code(reply.status)
            .with_header(header);
        // A scraper that hung up is no error of ours.
        let _ = request.respond(response);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::{read, Settings};
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::path::PathBuf;

    #[test]
    fn negotiation_follows_the_accept_header() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(negotiate(None), Format::Prometheus);
        assert_eq!(negotiate(Some("*/*")), Format::Prometheus);
        assert_eq!(
            negotiate(Some("text/plain;version=0.0.4")),
            Format::Prometheus
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text; version=0.0.1")),
            Format::OpenMetrics
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text;q=0.3, text/plain;q=0.9")),
            Format::Prometheus
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text;q=0, */*")),
            Format::Prometheus
        );
        assert_eq!(
            negotiate(Some("Application/OpenMetrics-Text; Q=1")),
            Format::OpenMetrics
        );
        assert_eq!(negotiate(Some("garbage;;,=")), Format::Prometheus);
    }

    fn exporter(dir: PathBuf) -> Exporter {
        read::tests::minimal_dir(&dir);
        Exporter::start(Settings {
            dir,
            top: 5,
            max_groups: 5,
            cgroup_root: Some(PathBuf::from("/nonexistent/procperf-test")),
        })
        .unwrap()
    }

    #[test]
    fn routes_and_content_types() {
        let tmp = tempfile::tempdir().unwrap();
        let mut e = exporter(tmp.path().to_owned());
        let now = Instant::now();
        let r = handle(&mut e, "GET", "/metrics", None, now);
        assert_eq!(
            (r.status, r.content_type),
            (200, "text/plain; version=0.0.4; charset=utf-8")
        );
        assert!(
            r.body.contains("procperf_up 1.0\n") && !r.body.contains("# EOF"),
            "{}",
            r.body
        );
        let r = handle(
            &mut e,
            "GET",
            "/metrics?x=1",
            Some("application/openmetrics-text"),
            now,
        );
        assert_eq!(
            (r.status, r.content_type),
            (
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            )
        );
        assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
        let r = handle(&mut e, "GET", "/", None, now);
        assert_eq!(
            (r.status, r.content_type),
            (200, "text/html; charset=utf-8")
        );
        assert!(r.body.contains("<a href=\"/metrics\">"), "{}", r.body);
        assert_eq!(handle(&mut e, "GET", "/metric", None, now).status, 404);
        assert_eq!(handle(&mut e, "POST", "/metrics", None, now).status, 405);
    }

    #[test]
    fn serves_over_a_socket_and_reports_a_busy_port() {
        let tmp = tempfile::tempdir().unwrap();
        let e = exporter(tmp.path().to_owned());
        let server = bind("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap();
        let err = bind(&addr.to_string()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!("cannot listen on {addr}: the address is already in use (another procperf exporter? choose another with --listen)")
        );
        std::thread::spawn(move || serve(e, server));
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            b"GET /metrics HTTP/1.0\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n",
        )
        .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(
            body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"),
            "{body}"
        );
        assert!(
            body.contains(
                "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"
            ),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
    }
}
