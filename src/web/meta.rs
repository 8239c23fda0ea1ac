//! Where a request came from: the client's address (from the socket, or X-Forwarded-For
//! behind the configured number of trusted proxies) and its user agent.

use std::net::SocketAddr;

use crate::services::RequestMeta;

/// Client IP (from the socket, or X-Forwarded-For behind trusted proxies) and user agent.
pub fn client_meta(
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
    trusted_proxies: usize,
) -> RequestMeta {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    RequestMeta {
        ip: client_ip(&forwarded, peer.map(|p| p.ip()), trusted_proxies).map(|ip| ip.to_string()),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// The client's address behind `trusted` proxies, each of which appends the address it
/// received from to X-Forwarded-For: the entry `trusted` places from the right. Whatever
/// stands further left was written by the client and is ignored; a list shorter than that
/// was written by our proxies alone, so its first entry is good. Anything malformed falls
/// back to the socket's peer.
pub fn client_ip(
    forwarded: &[&str],
    peer: Option<std::net::IpAddr>,
    trusted: usize,
) -> Option<std::net::IpAddr> {
    if trusted == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    if entries.is_empty() || entries.len() > 64 {
        return peer;
    }
    let at = entries.len().saturating_sub(trusted);
    entries[at].parse().ok().or(peer)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        let peer = ip("10.0.0.1");
        // The client wrote "6.6.6.6" itself; our one proxy appended the real address.
        assert_eq!(
            client_ip(&["6.6.6.6, 203.0.113.7"], peer, 1),
            ip("203.0.113.7")
        );
        // Two proxies: the second appended the first's address.
        assert_eq!(
            client_ip(&["6.6.6.6, 203.0.113.7, 10.0.0.9"], peer, 2),
            ip("203.0.113.7")
        );
        // Several headers count as one list.
        assert_eq!(
            client_ip(&["6.6.6.6", "203.0.113.7"], peer, 1),
            ip("203.0.113.7")
        );
        // Not trusted: the socket's address whatever the header says.
        assert_eq!(client_ip(&["203.0.113.7"], peer, 0), peer);
        // Nothing, garbage or a list shorter than the proxies.
        assert_eq!(client_ip(&[], peer, 1), peer);
        assert_eq!(client_ip(&["not-an-ip"], peer, 1), peer);
        assert_eq!(client_ip(&["203.0.113.7"], peer, 2), ip("203.0.113.7"));
    }
}
